"""Ways of training that teach: skip-zero, batch and sum += l modes, and mid-lesson edits.

Each mode is checked against a plain torch loop written the way a student would
write that variant, and each is undoable like any other step.
"""

from __future__ import annotations

import pytest
import torch
from test_app import SIZE, make_app, message, press, shown, wait_for

from bptui.app.panels.message import MessageBar
from bptui.app.panels.status import StatusBar
from bptui.app.panels.tensor import TensorPanel
from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper
from bptui.lesson.snapshot import Kind, Phase
from bptui.lesson.spec import LessonError


def plain_loop(lesson, *, zero=True, batch=False):
    """The note's loop; without zeroing, or with one update per epoch (gradients summed)."""
    w = torch.Tensor([dict(lesson.params)["w"]])
    w.requires_grad = True
    rows = []
    for _ in range(lesson.epochs):
        for i, (x_val, y_val) in enumerate(zip(lesson.x, lesson.y, strict=True)):
            loss = (x_val * w - y_val) ** 2
            before = w.item()
            loss.backward()
            grad = w.grad.item()
            last = i == len(lesson.x) - 1
            if not batch or last:
                w.data = w.data - lesson.lr * w.grad.data
                if zero:
                    w.grad.data.zero_()
            rows.append((before, loss.item(), grad, w.item()))
    return rows


def records_of(stepper):
    return [(r.params["w"], r.loss, r.grads["w"], r.params_after["w"]) for r in stepper.records]


def test_skip_zero_mode_accumulates_exactly_as_torch():
    """Never zeroing: every step's gradient and weight equal the plain loop without zero_()."""
    lesson = seed_lesson().with_values(epochs=3)
    stepper = Stepper(lesson)
    assert stepper.toggle_skip_zero()
    stepper.run_to_end()
    assert records_of(stepper) == plain_loop(lesson, zero=False)
    assert [r.grads["w"] for r in stepper.records[:3]] == [
        -2.0,
        -9.84000015258789,
        -25.70880126953125,
    ]


def test_batch_mode_updates_once_per_epoch_with_the_summed_gradient():
    """Batch mode: backward for every sample, the update after the last, as the plain loop."""
    lesson = seed_lesson().with_values(epochs=4)
    stepper = Stepper(lesson)
    stepper.toggle_batch()
    stepper.run_to_end()
    assert records_of(stepper) == plain_loop(lesson, batch=True)
    assert stepper.records[0].params_after == {"w": 1.0}  # no update after sample 1


def test_sum_loss_mode_counts_the_nodes_the_sum_keeps_alive():
    """sum += l: the sum equals the losses added up, and the kept-node count grows by the
    loss graph's 3 nodes plus one AddBackward0 per step; turning it off frees them."""
    stepper = Stepper(seed_lesson())
    stepper.toggle_sum_loss()
    counts = []
    for _ in range(4):
        stepper.train_step()
        counts.append(stepper.snapshot().kept_nodes)
    assert counts == [3, 7, 11, 15]
    snap = stepper.snapshot()
    total = torch.tensor(0.0)
    for record in stepper.records:
        total = total + record.loss
    assert snap.loss_sum == pytest.approx(total.item(), rel=1e-6)
    stepper.toggle_sum_loss()
    snap = stepper.snapshot()
    assert (snap.loss_sum, snap.kept_nodes, snap.modes.sum_loss) == (None, 0, False)
    assert snap.message is not None and "freed" in snap.message.text


def test_modes_are_undoable():
    """Undoing a mode switch restores the mode; undo through skipped zeroing restores grads."""
    stepper = Stepper(seed_lesson())
    stepper.toggle_skip_zero()
    stepper.run_epochs(1)
    grad = stepper.snapshot().param("w").grad
    for _ in range(stepper.micro_steps - 1):
        stepper.undo()
    assert stepper.snapshot().modes.skip_zero
    stepper.undo()
    snap = stepper.snapshot()
    assert not snap.modes.skip_zero and snap.micro_steps == 0 and grad == -25.70880126953125


def test_edit_changes_values_from_this_step_and_undo_restores_them():
    """An edit at a step's start changes lr and w from there on; the history stays; undo
    brings the old lesson back; an edit mid-step is refused; bad values raise LessonError."""
    stepper = Stepper(seed_lesson())
    stepper.train_step()
    assert stepper.edit(lr=0.1, params={"w": 3.0})
    stepper.train_step()
    first, second = stepper.records
    assert first.params_after == {"w": 1.0199999809265137}
    assert second.params == {"w": 3.0}
    assert second.params_after["w"] == torch.tensor([3.0 - 0.1 * 8.0]).item()
    for _ in range(9):
        stepper.undo()
    assert stepper.lesson.lr == 0.01 and stepper.snapshot().param("w").data == 1.0199999809265137
    stepper.forward()
    assert not stepper.edit(lr=0.5)
    assert stepper.snapshot().message.kind is Kind.REFUSED
    with pytest.raises(LessonError):
        stepper.edit(lr=-1.0)
    with pytest.raises(LessonError):
        stepper.edit(params={"q": 1.0})


async def test_mode_keys_in_the_app():
    """Z, m and l switch the modes on and off: the status bar shows each one's badge only while
    it is on, the tensor panel the sum's kept nodes; in skip-zero mode the plot gets the
    zeroing run beside it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "Z")
        await wait_for(pilot, lambda: "no zero" in shown(app, StatusBar))
        assert app.snapshot.modes.skip_zero and message(app).startswith("Skip-zero mode on")
        await press(pilot, "l", "s", "s")
        await wait_for(pilot, lambda: "keeps" in shown(app, TensorPanel))
        reference = app.stepper.comparison(app.snapshot)
        assert reference is not None and reference[0] == "with zeroing"
        assert len(reference[1]) == len(reference[2]) == 2
        await press(pilot, "Z")
        await wait_for(pilot, lambda: "no zero" not in shown(app, StatusBar))
        assert not app.snapshot.modes.skip_zero and message(app).startswith("Skip-zero mode off")
        await press(pilot, "m")
        await wait_for(pilot, lambda: "batch" in shown(app, StatusBar))
        assert app.snapshot.modes.batch and message(app).startswith("Batch mode on")
        await press(pilot, "m")
        await wait_for(pilot, lambda: "batch" not in shown(app, StatusBar))
        assert not app.snapshot.modes.batch and message(app).startswith("Batch mode off")
        await press(pilot, "l")
        await wait_for(pilot, lambda: "keeps" not in shown(app, TensorPanel))
        assert not app.snapshot.modes.sum_loss and "freed" in message(app)
        assert "sum" not in shown(app, StatusBar)


async def test_edit_form_in_the_app():
    """E at a step's start opens the form; a bad value keeps it open with the reason; a good
    one applies; E mid-step explains that the step must finish first."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "E")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "EditScreen")
        app.screen.query_one("#edit-lr").value = "fast"
        await press(pilot, "enter")
        error = app.screen.query_one("#edit-error")
        await wait_for(pilot, lambda: "not a number" in str(error.render()))
        app.screen.query_one("#edit-lr").value = "0.05"
        await press(pilot, "enter")
        await wait_for(pilot, lambda: app.stepper.lesson.lr == 0.05)
        await press(pilot, "f", "E")
        bar = lambda: " ".join(shown(app, MessageBar).split())  # noqa: E731
        await wait_for(pilot, lambda: "start of a training step" in bar())
        assert app.stepper.snapshot().phase is Phase.FORWARD


def test_each_mode_switch_changes_only_its_own_mode_and_is_a_step():
    """Every combination: toggling one mode leaves the other two as they were; each toggle is
    a logged micro-step (it returns True, counts, and undo takes it back)."""
    import itertools

    toggles = ("toggle_skip_zero", "toggle_batch", "toggle_sum_loss")
    fields = ("skip_zero", "batch", "sum_loss")
    for start in itertools.product((False, True), repeat=3):
        for which, field in zip(toggles, fields, strict=True):
            stepper = Stepper(seed_lesson())
            for on, toggle in zip(start, toggles, strict=True):
                if on:
                    assert getattr(stepper, toggle)() is True
            before = stepper.modes
            steps = stepper.micro_steps
            assert getattr(stepper, which)() is True
            after = stepper.modes
            assert stepper.micro_steps == steps + 1
            for name in fields:
                assert getattr(after, name) is (
                    (not getattr(before, name)) if name == field else getattr(before, name)
                ), (start, which, name)
            assert stepper.undo() and stepper.modes == before


def test_undo_in_sum_loss_mode_keeps_the_sum_across_checkpoints():
    """Undo restores a checkpoint and replays from it: the summed loss and its node count come
    back as they were at every step, also after many steps (several checkpoints)."""
    from bptui.lesson.engine import CHECKPOINT_EVERY

    stepper = Stepper(seed_lesson())
    stepper.toggle_sum_loss()
    seen = []
    for _ in range(2 * CHECKPOINT_EVERY + 1):
        stepper.train_step()
        snap = stepper.snapshot()
        seen.append((snap.micro_steps, snap.loss_sum, snap.kept_nodes))
    assert seen[-1][1] > seen[0][1] > 0
    for micro_steps, loss_sum, kept in reversed(seen[:-1]):
        while stepper.micro_steps > micro_steps:
            assert stepper.undo()
        snap = stepper.snapshot()
        assert (snap.loss_sum, snap.kept_nodes) == (loss_sum, kept), micro_steps
