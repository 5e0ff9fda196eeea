"""Every message the engine can give, word for word, in scripted sessions.

The messages are what the lesson teaches in words: the narration of each
micro-step, every teaching moment, every refusal and every divergence. Other
tests look for a phrase in them; here each one is pinned whole, with its kind
(which styles it in the app) and, for the micro-steps, the torch line shown
beside it, so a changed word is a reviewed change. (Mutation testing found
that a message could lose or garble most of its words unnoticed.)
"""

from __future__ import annotations

import re

import pytest

from bptui.lesson import Kind, LessonError, Stepper, seed_lesson
from bptui.lesson.files import load_lesson
from bptui.lesson.values import format_value


def said(stepper: Stepper) -> tuple[str, str]:
    message = stepper.snapshot().message
    assert message is not None
    return (message.kind.name, message.text)


def run(stepper: Stepper, script: list[tuple[str, str, str]]) -> None:
    """Take each action and compare the message it leaves, word for word."""
    for action, kind, text in script:
        if action != "-":
            getattr(stepper, action)()
        assert said(stepper) == (kind, text), action


def test_the_notes_lesson_step_by_step_and_out_of_order():
    """The note's first step with every refusal and teaching moment on the way, and the torch
    line each micro-step ran."""
    s = Stepper(seed_lesson())
    script = [
        (
            "-",
            "STEP",
            "Ready. Press space (or →) to compute the first node of the forward pass.",
            None,
        ),
        ("undo", "REFUSED", "Nothing to undo: this is the start.", None),
        (
            "update",
            "TEACH",
            "w.grad is None: no backward pass has run yet, so there is no "
            "gradient to update with (in torch, `w.grad.data` fails: 'NoneType' object has no "
            "attribute 'data'). Run the forward pass (f) and the backward pass (b) first.",
            None,
        ),
        (
            "zero",
            "REFUSED",
            "w.grad is None: there is nothing to zero yet. torch creates w.grad "
            "in the first backward pass.",
            None,
        ),
        (
            "backward",
            "REFUSED",
            "There is no loss to differentiate yet: finish the forward pass first (f or F).",
            None,
        ),
        ("forward", "STEP", "Forward: ŷ = x_val * w = 1.", "ŷ = x_val * w"),
        ("forward", "STEP", "Forward: r = ŷ - y_val = -1.", "r = ŷ - y_val"),
        (
            "forward",
            "STEP",
            "Forward: loss = r ** 2 = 1. The forward pass is done: press b for the backward pass.",
            "loss = r ** 2",
        ),
        (
            "forward",
            "REFUSED",
            "The forward pass is complete: the loss is computed. Press b to "
            "start the backward pass.",
            "loss = r ** 2",
        ),
        (
            "backward",
            "STEP",
            "Backward through loss: ∂loss/∂r = -2.",
            "PowBackward0: ∂loss/∂loss → its inputs",
        ),
        (
            "forward",
            "REFUSED",
            "The backward pass is half done: finish it (b or B) before the next forward pass.",
            "PowBackward0: ∂loss/∂loss → its inputs",
        ),
        (
            "backward",
            "STEP",
            "Backward through r: ∂loss/∂ŷ = -2.",
            "SubBackward0: ∂loss/∂r → its inputs",
        ),
        (
            "backward",
            "STEP",
            "backward() finished: AccumulateGrad wrote w.grad = -2. Press u to update.",
            "l.backward()",
        ),
        (
            "update",
            "STEP",
            "Updated: w = 1.02. Press z to zero the gradient.",
            "w.data = w.data - a * w.grad.data",
        ),
        (
            "backward",
            "TEACH",
            "torch: RuntimeError: Trying to backward through the graph a "
            "second time (or directly access saved tensors after they have already been freed). "
            "backward() frees what the graph saved, so it runs once per graph; the next forward "
            "pass (f) builds a new one.",
            "w.data = w.data - a * w.grad.data",
        ),
        (
            "update",
            "REFUSED",
            "The parameters were already updated with this gradient. Press z "
            "to zero the gradient, or f to go on without zeroing and watch it accumulate.",
            "w.data = w.data - a * w.grad.data",
        ),
        ("undo", "STEP", "Undid one micro-step (update).", "l.backward()"),
        (
            "zero",
            "TEACH",
            "The gradient was zeroed before the update: the update now has "
            "nothing to move the parameters with (grad = 0), and this sample's step is lost.",
            "w.grad.data.zero_()",
        ),
        (
            "update",
            "STEP",
            "Updated: w = 1. Press z to zero the gradient.",
            "w.data = w.data - a * w.grad.data",
        ),
        ("zero", "STEP", "Gradient zeroed. Next sample: press space.", "w.grad.data.zero_()"),
        ("forward", "STEP", "Forward: ŷ = x_val * w = 2.", "ŷ = x_val * w"),
        (
            "update",
            "REFUSED",
            "This sample's gradient is not computed yet (w.grad = 0 is left "
            "from before). Finish the forward and backward passes (F, then B), then update.",
            "ŷ = x_val * w",
        ),
    ]
    for action, kind, text, source in script:
        if action != "-":
            getattr(s, action)()
        assert said(s) == (kind, text), action
        assert s.snapshot().last_source == source, action


def test_skipping_steps_and_accumulation():
    """f after the backward pass skips the update, f after the update skips zeroing, and the
    next backward pass says what it added to what."""
    s = Stepper(seed_lesson())
    s.finish_forward()
    s.finish_backward()
    run(
        s,
        [
            (
                "forward",
                "TEACH",
                "Skipped the update: the parameters stay as they are, and w.grad = "
                "-2 is kept (not zeroed), so the next backward() adds to it.",
            ),
            (
                "finish_forward",
                "STEP",
                "Forward: loss = r ** 2 = 4. The forward pass is done: press "
                "b for the backward pass.",
            ),
            (
                "finish_backward",
                "TEACH",
                "The gradient was not zeroed, so backward() added to it: "
                "w.grad = -2 (old) + -8 (this backward) = -10. torch accumulates gradients on purpose; "
                "call w.grad.data.zero_() after each update to start every step from 0.",
            ),
            ("update", "STEP", "Updated: w = 1.1. Press z to zero the gradient."),
            (
                "forward",
                "TEACH",
                "Skipped zeroing the gradient: w.grad = -10 is kept, so the next "
                "backward() adds the new gradient to it. This is torch's accumulation.",
            ),
            (
                "zero",
                "TEACH",
                "Zeroed the gradient before this sample's backward pass: the next "
                "backward() starts from 0. This is what optimizer.zero_grad() at the top of a training "
                "loop does.",
            ),
        ],
    )


def test_modes_edits_and_reset():
    """Each mode on and off, the batch run's waiting update, an edit, its undo and reset."""
    s = Stepper(seed_lesson())
    run(
        s,
        [
            (
                "toggle_skip_zero",
                "TEACH",
                "Skip-zero mode on: the gradient is never zeroed, so every "
                "backward() adds to it and the updates grow. The plot shows the run that zeroes, for "
                "comparison.",
            ),
            (
                "train_step",
                "TEACH",
                "Skipped zeroing the gradient: w.grad = -2 is kept, so the next "
                "backward() adds the new gradient to it. This is torch's accumulation.",
            ),
            (
                "toggle_skip_zero",
                "TEACH",
                "Skip-zero mode off: the gradient is zeroed after every update again.",
            ),
            (
                "toggle_batch",
                "TEACH",
                "Batch mode on: backward() runs for every sample and the "
                "gradients add up; one update per epoch uses the gradient of the summed loss "
                "(full-batch gradient descent). The plot shows per-sample SGD for comparison.",
            ),
            (
                "finish_forward",
                "STEP",
                "Forward: loss = r ** 2 = 3.8416. The forward pass is done: "
                "press b for the backward pass.",
            ),
            (
                "finish_backward",
                "STEP",
                "backward() finished: AccumulateGrad wrote w.grad = -9.84. Batch mode: the update "
                "waits for the epoch's last sample; space goes on to the next sample.",
            ),
            (
                "next",
                "STEP",
                "Batch mode: w.grad = -9.84 holds the gradients added up since it was last "
                "zeroed; the update waits for the last sample of the epoch.",
            ),
            (
                "toggle_batch",
                "TEACH",
                "Batch mode off: one update per sample again (per-sample SGD).",
            ),
            (
                "toggle_sum_loss",
                "TEACH",
                "The note's pitfall: `sum += l` adds the loss tensor, not "
                "its number, so the sum's graph keeps every step's graph alive and memory only grows. "
                "Watch the count in the tensor panel; `sum += l.item()` keeps a number.",
            ),
            (
                "train_step",
                "TEACH",
                "The gradient was not zeroed, so backward() added to it: "
                "w.grad = -9.84 (old) + -17.64 (this backward) = -27.48. torch accumulates gradients "
                "on purpose; call w.grad.data.zero_() after each update to start every step from 0.",
            ),
            ("train_step", "STEP", "Gradient zeroed. Next sample: press space."),
            (
                "toggle_sum_loss",
                "TEACH",
                "sum += l.item() again: the 7 autograd nodes the sum kept alive are freed.",
            ),
            ("reset", "STEP", "Back to the start. (← undoes the reset.)"),
        ],
    )
    assert s.edit(lr=0.1, params={"w": 3.0}, x=[1.0, 2.0, 4.0], y=[2.0, 4.0, 8.0])
    assert said(s) == (
        "TEACH",
        "Changed lr 0.01 → 0.1, w 1 → 3, the data. The history so far stays.",
    )
    run(s, [("undo", "STEP", "Undid one micro-step (edit).")])
    assert s.edit(lr=0.01, params={"w": 1.0})
    assert said(s) == ("TEACH", "Nothing changed. The history so far stays.")
    s.forward()
    assert not s.edit(lr=0.2)
    assert said(s) == (
        "REFUSED",
        "Values can change at the start of a training step: finish this one first (s), then edit.",
    )


def test_the_end_and_divergence():
    """The finished lesson, a too-large learning rate, a logarithm of a negative number and the
    NaN update after it."""
    s = Stepper(seed_lesson().with_values(epochs=2))
    s.run_to_end()
    run(
        s,
        [
            (
                "next",
                "REFUSED",
                "The lesson is finished (2 epochs). Press r to start again, or ← to step back.",
            )
        ],
    )
    s = Stepper(seed_lesson().with_values(epochs=1, x=[1.0], y=[2.0]))
    s.train_step()
    assert said(s) == (
        "STEP",
        "Gradient zeroed. The lesson is done: 1 epoch trained, w = 1.02. "
        ": goes to any step, ← steps back, r starts again.",
    )
    run(
        s,
        [
            (
                "next",
                "REFUSED",
                "The lesson is finished (1 epoch). Press r to start again, or ← to step back.",
            )
        ],
    )
    s = Stepper(seed_lesson().with_values(lr=1.0))
    while s.next() and said(s)[0] != Kind.DIVERGED.name:
        pass
    assert said(s) == (
        "DIVERGED",
        "Diverged: loss = inf, w = 3.349813e+19. Each update "
        "overshoots the minimum by more than the last, so the numbers grow until "
        "they overflow float32. The learning rate 1 is too large for this data; "
        "try a smaller one.",
    )
    s = Stepper(load_lesson("affine").with_values(lr=1.0))
    while s.next() and said(s)[0] != Kind.DIVERGED.name:
        pass
    assert said(s) == (
        "DIVERGED",
        "Diverged: loss = inf, w = 1.738591e+19, b = 5.715591e+18. "
        "Each update overshoots the minimum by more than the last, so the "
        "numbers grow until they overflow float32. The learning rate 1 is too "
        "large for this data; try a smaller one.",
    )
    lesson = load_lesson(None, overrides={"model": "log(x * w)"})
    s = Stepper(lesson.with_values(x=[-1.0, 2.0], y=[1.0, 2.0]))
    s.finish_forward()
    assert said(s) == (
        "DIVERGED",
        "ŷ = nan for inputs -1: the logarithm is only defined for "
        "positive numbers. torch does not stop: the NaN or inf flows on through "
        "the graph and the gradients. Change the data, the model or the initial "
        "values.",
    )
    s.finish_backward()
    run(
        s,
        [
            (
                "update",
                "DIVERGED",
                "Updated with a gradient that is not finite: now w = nan. "
                "Once a parameter is NaN or inf, every later step is too; undo (←) or reset (r).",
            )
        ],
    )


def test_edits_say_exactly_what_changed_and_take_effect():
    """Each kind of change is named alone; new data is what the next steps train on; a lesson
    made shorter than the current sample goes on at its last sample; bad values are named."""
    s = Stepper(seed_lesson())
    s.train_step()
    assert s.edit(params={"w": 3.0})
    assert said(s) == ("TEACH", "Changed w 1.02 → 3. The history so far stays.")
    assert s.edit(lr=0.05)
    assert said(s) == ("TEACH", "Changed lr 0.01 → 0.05. The history so far stays.")
    assert s.edit(y=[1.0, 1.0, 1.0])
    assert said(s) == ("TEACH", "Changed the data. The history so far stays.")
    assert s.edit(x=[5.0, 6.0, 7.0])
    assert said(s) == ("TEACH", "Changed the data. The history so far stays.")
    assert s.edit(params={"w": 3.0}, lr=0.05)
    assert said(s) == ("TEACH", "Nothing changed. The history so far stays.")
    s.train_step()
    record = s.records[-1]
    assert (record.x, record.y, record.params["w"]) == (6.0, 1.0, 3.0)
    assert record.params_after["w"] == pytest.approx(3.0 - 0.05 * 2 * (6.0 * 3.0 - 1.0) * 6.0)
    # At sample 3 of 3, data of two samples: the step goes on at the last of them.
    assert s.edit(x=[1.0, 2.0], y=[2.0, 4.0])
    snap = s.snapshot()
    assert (snap.sample, snap.n_samples, snap.x, snap.y) == (2, 2, 2.0, 4.0)
    for bad, why in (
        ({"q": 1.0}, "unknown parameter 'q'"),
        ({"w": float("nan")}, "w must be a finite number"),
    ):
        with pytest.raises(LessonError) as error:
            s.edit(params=bad)
        assert str(error.value) == why
    with pytest.raises(LessonError) as error:
        Stepper(load_lesson("matrix")).edit(params={"W": 1.0})
    assert str(error.value) == "W is a matrix: change it in the lesson file"


def test_vectors_in_messages():
    """Gradients of vectors and matrices read as nested lists in the messages."""
    s = Stepper(load_lesson("matrix"))
    s.finish_forward()
    s.finish_backward()
    run(
        s,
        [
            (
                "-",
                "STEP",
                "backward() finished: AccumulateGrad wrote W.grad = [[-2.4, -4.8, -7.2], "
                "[0.8, 1.6, 2.4]], b.grad = [-2.4, 0.8]. Press u to update.",
            ),
            (
                "forward",
                "TEACH",
                "Skipped the update: the parameters stay as they are, and W.grad = "
                "[[-2.4, -4.8, -7.2], [0.8, 1.6, 2.4]], b.grad = [-2.4, 0.8] is kept (not zeroed), so "
                "the next backward() adds to it.",
            ),
            (
                "finish_forward",
                "STEP",
                "Forward: loss = torch.sum(r²) = 0.8199999. The forward "
                "pass is done: press b for the backward pass.",
            ),
            (
                "finish_backward",
                "TEACH",
                "The gradient was not zeroed, so backward() added to it: "
                "W.grad was [[-2.4, -4.8, -7.2], [0.8, 1.6, 2.4]], now [[-2.4, -4.6, -7.4], "
                "[0.8, -0.1999999, 4.2]]; b.grad was [-2.4, 0.8], now [-2.2, -0.9999999]. torch "
                "accumulates gradients on purpose; call w.grad.data.zero_() after each update to start "
                "every step from 0.",
            ),
        ],
    )


def test_reset_after_an_edit_brings_the_lessons_values_back():
    """r after an edit: the lesson's own learning rate and data again, and its program text."""
    s = Stepper(seed_lesson())
    program = s.program.lines
    s.edit(lr=0.5, x=[1.0, 1.0, 1.0])
    assert s.program.lines != program
    run(s, [("reset", "STEP", "Back to the start. (← undoes the reset.)")])
    assert (s.lesson.lr, s.lesson.x) == (0.01, (1.0, 2.0, 3.0))
    assert s.program.lines == program
    s.train_step()
    assert s.records[0].params_after == {"w": 1.0199999809265137}


def test_a_logarithm_out_of_range_after_some_steps_is_still_named():
    """After training steps a NaN from log is still the logarithm's fault, not divergence."""
    lesson = load_lesson(None, overrides={"model": "log(x * w)"})
    s = Stepper(lesson.with_values(x=[2.0, -1.0], y=[1.0, 1.0]))
    s.train_step()
    s.finish_forward()
    assert said(s) == (
        "DIVERGED",
        "ŷ = nan for inputs -1.006137: the logarithm is only "
        "defined for positive numbers. torch does not stop: the NaN or inf flows "
        "on through the graph and the gradients. Change the data, the model or "
        "the initial values.",
    )


def test_a_finished_pass_keeps_its_narration_over_a_step_message():
    """F in batch mode, where the next forward pass first leaves the sample with a batch note:
    the message is the forward pass's narration (a step message does not outlive the run)."""
    s = Stepper(seed_lesson())
    s.toggle_batch()
    s.finish_forward()
    s.finish_backward()
    run(
        s,
        [
            (
                "finish_forward",
                "STEP",
                "Forward: loss = r ** 2 = 4. The forward pass is done: "
                "press b for the backward pass.",
            )
        ],
    )


@pytest.mark.parametrize(
    ("model", "values", "text"),
    [
        ("w / x", {"x": [0.0, 1.0], "y": [1.0, 1.0]}, "ŷ = inf for inputs 1, 0: division by zero."),
        (
            "exp(x * w)",
            {"x": [100.0, 1.0], "y": [1.0, 1.0]},
            "ŷ = inf for inputs 100: float32 overflows above about 3.4e38.",
        ),
        (
            "w ** 0.5",
            {"init": {"w": -1.0}},
            "ŷ = nan for inputs -1, 0.5: the power is out of range (overflow, or a fractional "
            "power of a negative number).",
        ),
        (
            "x * w",
            {"x": [1e30, 1.0], "y": [1.0, 1.0], "init": {"w": 1e30}},
            "ŷ = inf for inputs 1e+30, 1e+30: the result is out of float32's range.",
        ),
        (
            "log(w) + x",
            {"init": {"w": 0.0}},
            "z1 = -inf for inputs 0: the logarithm is only defined for positive numbers.",
        ),
    ],
)
def test_a_value_out_of_range_names_the_operation_and_its_inputs(model, values, text):
    """The first forward pass whose loss is inf or NaN names the first operation that made it
    and why, then says that torch carries on."""
    lesson = load_lesson(None, overrides={"model": model}).with_values(**values)
    s = Stepper(lesson)
    s.finish_forward()
    assert said(s) == (
        "DIVERGED",
        text + " torch does not stop: the NaN or inf flows on "
        "through the graph and the gradients. Change the data, the model or the "
        "initial values.",
    )


def test_a_model_that_does_not_fit_the_datas_shapes(tmp_path):
    """W is 2×3 but x has 4 numbers: a lesson error naming torch's first line of complaint."""
    path = tmp_path / "bad.toml"
    path.write_text(
        'model = "W @ x + b"\nx = [[1.0, 2.0, 3.0, 4.0]]\ny = [[1.0, 0.0]]\n'
        "lr = 0.1\nepochs = 1\n[init]\nW = [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]\n"
        "b = [0.0, 0.0]\n",
        encoding="utf-8",
    )
    with pytest.raises(LessonError) as error:
        Stepper(load_lesson(str(path)))
    assert str(error.value) == (
        "the model does not fit the data's shapes: size mismatch, got input (2), mat (2x3), vec (4)"
    )


def test_what_comes_next_is_the_modes_next_step():
    """In skip-zero mode an update does not ask for z, and in batch mode a finished
    backward pass before the epoch's last sample does not ask for u: each names
    the step the mode takes instead."""
    s = Stepper(seed_lesson())
    s.toggle_skip_zero()
    s.finish_forward()
    s.finish_backward()
    run(
        s,
        [
            (
                "update",
                "STEP",
                "Updated: w = 1.02. Skip-zero mode: the gradient is not zeroed; space goes on "
                "to the next sample, whose backward() adds to it.",
            ),
            (
                "toggle_skip_zero",
                "TEACH",
                "Skip-zero mode off: the gradient is zeroed after every update again.",
            ),
            ("zero", "STEP", "Gradient zeroed. Next sample: press space."),
            (
                "toggle_batch",
                "TEACH",
                "Batch mode on: backward() runs for every sample and the "
                "gradients add up; one update per epoch uses the gradient of the summed loss "
                "(full-batch gradient descent). The plot shows per-sample SGD for comparison.",
            ),
            (
                "finish_forward",
                "STEP",
                "Forward: loss = r ** 2 = 3.8416. The forward pass is "
                "done: press b for the backward pass.",
            ),
            (
                "finish_backward",
                "STEP",
                "backward() finished: AccumulateGrad wrote w.grad = -7.84. Batch mode: the update "
                "waits for the epoch's last sample; space goes on to the next sample.",
            ),
            (
                "next",
                "STEP",
                "Batch mode: w.grad = -7.84 holds the gradients added up since it was last "
                "zeroed; the update waits for the last sample of the epoch.",
            ),
        ],
    )


def test_a_whole_step_names_the_cause_of_a_nan_not_the_learning_rate():
    """s and e over a logarithm of a negative number say what F says (the logarithm), the
    steps after it say the parameter is already NaN, and neither blames the learning rate."""
    lesson = load_lesson(None, overrides={"model": "log(x * w)"}).with_values(init={"w": -1.0})
    s = Stepper(lesson)
    cause = (
        "DIVERGED",
        "ŷ = nan for inputs -1: the logarithm is only defined for positive numbers. torch "
        "does not stop: the NaN or inf flows on through the graph and the gradients. Change "
        "the data, the model or the initial values.",
    )
    still = (
        "DIVERGED",
        "w = nan since an earlier step: a parameter that is NaN or inf stays so in every "
        "later update, whatever the loss. Undo (←) back to where it happened, or reset (r).",
    )
    run(s, [("train_step", *cause), ("train_step", *still), ("finish_epoch", *still)])
    s = Stepper(lesson)
    run(s, [("finish_epoch", *cause), ("finish_epoch", *still)])
    # Division by zero: the next step's loss is finite (2 / inf = 0) but w stays inf.
    lesson = load_lesson(None, overrides={"model": "x / w"}).with_values(init={"w": 0.0})
    s = Stepper(lesson)
    s.train_step()
    assert "division by zero" in said(s)[1]
    run(s, [("train_step", "DIVERGED", still[1].replace("nan", "inf", 1))])


def test_a_gradient_out_of_range_is_not_blamed_on_the_learning_rate():
    """√w at w = 0: the loss is finite, the derivative is not."""
    lesson = load_lesson(None, overrides={"model": "w ** 0.5"}).with_values(init={"w": 0.0})
    run(
        Stepper(lesson),
        [
            (
                "train_step",
                "DIVERGED",
                "The loss is finite but the gradient is not (w.grad = -inf): a local derivative "
                "is out of range here (the chain rule shows which), so the update made w = inf. "
                "Once a parameter is NaN or inf, every later step is too; undo (←) or reset (r).",
            )
        ],
    )


def test_the_divergence_message_quotes_the_values_as_they_are_now():
    """After e, the message's loss and w are the ones the panels show, not those of the
    step inside the run where the loss first overflowed."""
    s = Stepper(seed_lesson().with_values(lr=1.0))
    for _ in range(12):
        s.finish_epoch()
    w = s.snapshot().param("w").data
    loss = s.records[-1].loss
    assert said(s) == (
        "DIVERGED",
        f"Diverged: loss = {format_value(loss)}, w = {format_value(w)}. Each update overshoots "
        "the minimum by more than the last, so the numbers grow until they overflow float32. "
        "The learning rate 1 is too large for this data; try a smaller one.",
    )
    assert format_value(w) == "-8.064241e+24"  # the run went on past the overflow


def test_an_interface_that_can_edit_points_at_its_edit_key():
    """With an ``edit`` label (the app's E) the fixes name it; no sentence names an option."""
    s = Stepper(seed_lesson().with_values(lr=1.0), labels={"edit": "E"})
    s.run_to_end()
    assert said(s)[1].endswith("try a smaller one (E changes it at the start of a step).")
    lesson = load_lesson(None, overrides={"model": "log(x * w)"}).with_values(init={"w": -1.0})
    s = Stepper(lesson, labels={"edit": "E"})
    s.finish_forward()
    assert said(s)[1].endswith(
        "Change the data, the model or the initial values (E changes the data and the "
        "parameters at the start of a step)."
    )


def test_no_engine_sentence_names_a_command_line_option():
    """The same sentences serve the app, where ``--lr`` means nothing: none names an option
    (the app's own words for fixes come through its labels, e.g. ``edit``)."""
    from pathlib import Path

    from bptui.lesson import narration, teaching

    for module in (teaching, narration):
        source = Path(module.__file__).read_text(encoding="utf-8")
        assert not re.search(r"--[a-z]", source)
    assert not any(key.endswith("_option") for key in teaching.LABELS)


def test_zeroing_a_gradient_that_is_zero_mid_step_says_the_step_goes_on():
    """After a whole step w.grad is 0; zeroing it again in the next sample's forward pass
    changes nothing, and the message must not announce the next sample (it used to say
    "Gradient zeroed. Next sample: press space." with the forward pass half done)."""
    s = Stepper(seed_lesson())
    s.train_step()
    s.next()
    run(
        s,
        [
            (
                "zero",
                "STEP",
                "The gradient was 0 already: zero_() changed nothing, and this sample's step "
                "goes on where it was.",
            ),
        ],
    )
    assert s.snapshot().phase.name == "FORWARD"
