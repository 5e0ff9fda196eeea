"""Teaching moments: the mistakes a student can make, and what torch does about them.

Each is a feature: the engine either refuses with a message and changes nothing,
or does exactly what torch does (accumulating gradients, its own RuntimeError,
overflow to inf and NaN) and says so.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from bptui.lesson import Kind, Phase, Stepper, seed_lesson


def state(s: Stepper) -> tuple[str, int]:
    """The whole snapshot but its message (as a repr: NaN-safe), and the micro-step count."""
    return repr(dataclasses.replace(s.snapshot(), message=None)), s.micro_steps


def assert_refused(s: Stepper, act, kind: Kind = Kind.REFUSED, *words: str) -> str:
    """``act`` returns False, leaves a message of ``kind`` with ``words``, changes nothing."""
    before = state(s)
    assert act() is False
    assert s.message is not None and s.message.kind is kind, s.message
    for word in words:
        assert word in s.message.text, (word, s.message.text)
    assert state(s) == before
    return s.message.text


def accumulating_loop(epochs: int = 1) -> list[float]:
    """The note's program without ``w.grad.data.zero_()``: w.grad after each backward."""
    x_data, y_data = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
    a = 0.01
    w = torch.Tensor([1.0])
    w.requires_grad = True
    grads = []
    for _ in range(epochs):
        for x_val, y_val in zip(x_data, y_data, strict=False):
            l = (x_val * w - y_val) ** 2  # noqa: E741 - the note's name
            l.backward()
            grads.append(w.grad.item())
            w.data = w.data - a * w.grad.data
    return grads


def test_update_before_any_backward_is_refused():
    """Before the first backward ``w.grad`` is None: update explains that, and changes nothing."""
    s = Stepper(seed_lesson())
    text = assert_refused(s, s.update, Kind.TEACH, "None", "w.grad")
    assert "backward" in text
    s.finish_forward()  # still no backward: still None
    assert_refused(s, s.update, Kind.TEACH, "None")
    assert s.params["w"].grad is None


def test_update_in_the_middle_of_a_later_step_is_refused():
    """Once w.grad exists, updating before this sample's backward names the stale gradient."""
    s = Stepper(seed_lesson())
    s.train_step()
    s.forward()
    assert_refused(s, s.update, Kind.REFUSED, "w.grad = 0")
    s.finish_forward()
    s.finish_backward()
    assert s.update()
    assert_refused(s, s.update, Kind.REFUSED, "already updated")


def test_zero_before_any_backward_is_refused():
    """There is no gradient to zero before the first backward."""
    s = Stepper(seed_lesson())
    assert_refused(s, s.zero, Kind.REFUSED, "None")


def test_skipping_zero_grad_accumulates_like_torch():
    """forward() from the ZERO phase skips zeroing; backward() then adds to w.grad, as torch does.

    First-epoch gradients are −2, −9.84, −25.7088 (in float32), exactly those of
    the note's loop run without ``zero_()``.
    """
    expected = accumulating_loop()
    assert expected == pytest.approx([-2.0, -9.84, -25.7088], rel=1e-6)
    s = Stepper(seed_lesson())
    got = []
    for i in range(3):
        assert s.finish_forward()
        if i:  # its first forward() skipped the zeroing, and said so
            assert s.message.kind is Kind.TEACH and "Skipped zeroing" in s.message.text
        assert s.finish_backward()
        got.append(s.snapshot().param("w").grad)
        if i:
            assert s.message.kind is Kind.TEACH and "not zeroed" in s.message.text
        assert s.update()
        assert s.phase is Phase.ZERO
    assert got == expected
    # The records hold the accumulated gradient, and the weights it moved to.
    assert [r.grads["w"] for r in s.records] == expected[:2]


def test_skip_zero_message_and_chain():
    """The skip is announced, and the chain view tells this sample's gradient from w.grad."""
    s = Stepper(seed_lesson())
    s.finish_forward()
    s.finish_backward()
    s.update()
    assert s.forward()
    assert s.message.kind is Kind.TEACH and "Skipped zeroing" in s.message.text
    assert "w.grad = -2" in s.message.text
    assert s.phase is Phase.FORWARD and s.sample == 1 and s.steps_done == 1
    s.finish_forward()
    s.finish_backward()
    (chain,) = s.snapshot().chains
    assert chain.torch_grad == pytest.approx(-7.84, rel=1e-6)  # this sample's own
    assert chain.param_grad == chain.torch_grad + -2.0  # what torch holds in w.grad


def test_skipping_zero_grad_for_whole_run_matches_torch():
    """Never zeroing, for three epochs: every accumulated w.grad equals the torch loop's."""
    epochs = 3
    s = Stepper(seed_lesson().with_values(epochs=epochs))
    while s.phase is not Phase.DONE:
        assert s.finish_forward()
        assert s.finish_backward()
        assert s.update()
        if s.steps_done == 3 * epochs - 1:
            assert s.forward()  # the last step: skipping the zeroing ends the lesson
    assert [r.grads["w"] for r in s.records] == accumulating_loop(epochs)


def test_second_backward_gives_torchs_runtime_error():
    """backward() on a freed graph: torch's own RuntimeError text, and nothing changes."""
    w = torch.Tensor([1.0])
    w.requires_grad = True
    l = (1.0 * w - 2.0) ** 2  # noqa: E741
    l.backward()
    with pytest.raises(RuntimeError) as error:
        l.backward()
    torch_text = str(error.value).split(". ")[0]
    assert "Trying to backward through the graph a second time" in torch_text

    s = Stepper(seed_lesson())
    s.finish_forward()
    s.finish_backward()
    text = assert_refused(s, s.backward, Kind.TEACH, "RuntimeError", torch_text)
    assert "Trying to backward through the graph a second time" in text
    assert s.snapshot().param("w").grad == -2.0
    # Also after the update, before the zeroing.
    s.update()
    assert_refused(s, s.backward, Kind.TEACH, "Trying to backward through the graph")
    assert s.snapshot().param("w").data == 1.0199999809265137


def test_backward_before_forward_is_complete_is_refused():
    """No loss yet, nothing to differentiate: refused at every point of the forward pass."""
    s = Stepper(seed_lesson())
    for _ in range(3):
        assert_refused(s, s.backward, Kind.REFUSED, "forward pass")
        assert_refused(s, s.finish_backward, Kind.REFUSED, "forward pass")
        assert s.forward()
    assert s.backward()


def test_forward_during_backward_is_refused():
    """The next forward pass waits until the backward pass has run."""
    s = Stepper(seed_lesson())
    s.finish_forward()
    assert_refused(s, s.forward, Kind.REFUSED, "backward")
    s.backward()
    assert_refused(s, s.forward, Kind.REFUSED, "backward")


def test_zero_before_update_loses_the_step():
    """Zeroing before the update is allowed and explained: the update then moves nothing."""
    s = Stepper(seed_lesson())
    s.finish_forward()
    s.finish_backward()
    assert s.zero()
    assert s.message.kind is Kind.TEACH and "before the update" in s.message.text
    assert s.update()
    assert s.snapshot().param("w").data == 1.0


def test_too_large_learning_rate_diverges_without_exceptions():
    """lr = 1: the numbers overflow float32 to inf, then NaN, with DIVERGED messages, no error."""
    s = Stepper(seed_lesson().with_values(lr=1.0, epochs=30))
    kinds = set()
    while s.next():
        if s.message is not None:
            kinds.add(s.message.kind)
        s.snapshot()  # every view of a diverged state must build, too
    assert Kind.DIVERGED in kinds
    assert s.phase is Phase.DONE
    losses = [r.loss for r in s.records]
    assert any(math.isinf(v) for v in losses) and math.isnan(losses[-1])
    assert math.isnan(s.snapshot().param("w").data)
    first = next(i for i, v in enumerate(losses) if not math.isfinite(v))
    assert all(math.isfinite(v) for v in losses[:first]) and first > 10

    t = Stepper(seed_lesson().with_values(lr=1.0, epochs=30))
    assert t.run_to_end()
    assert t.message.kind is Kind.DIVERGED and "Diverged" in t.message.text
    assert "The learning rate 1 is too large for this data; try a smaller one." in t.message.text


def test_diverged_message_when_the_loss_overflows():
    """The forward pass that first yields an infinite loss says so at once."""
    s = Stepper(seed_lesson().with_values(lr=1.0, epochs=30))
    while True:
        s.finish_forward()
        if not math.isfinite(s.snapshot().loss):
            break
        s.finish_backward()
        s.update()
        s.zero()
    assert s.message.kind is Kind.DIVERGED
    assert "loss = inf" in s.message.text


def test_actions_after_the_lesson_finished_are_refused():
    """At the end, every step is refused with a message; undo and reset still work."""
    s = Stepper(seed_lesson().with_values(epochs=1))
    s.run_to_end()
    for act in (
        s.next,
        s.forward,
        s.backward,
        s.update,
        s.zero,
        s.train_step,
        s.finish_epoch,
        s.run_to_end,
        s.finish_forward,
        s.finish_backward,
    ):
        assert_refused(s, act, Kind.REFUSED, "finished")
    assert s.undo() and s.phase is Phase.ZERO
    assert s.next() and s.phase is Phase.DONE
