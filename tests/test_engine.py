"""The engine against a torch oracle: the note's plain loop, run beside the stepper.

The stepper must give torch's own float32 numbers, in the same order of
operations as the note's program, so every comparison here is exact (``==`` on
Python floats from ``.item()``, NaN equal to NaN, the sign of zero checked).
"""

from __future__ import annotations

import math
import struct

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bptui.lesson import Kind, Phase, Stepper, seed_lesson
from bptui.lesson.engine import CHECKPOINT_EVERY


def same(a: float | None, b: float | None) -> bool:
    """Bit-for-bit equality of two floats as Python sees them (NaN == NaN, 0.0 != -0.0)."""
    if a is None or b is None:
        return a is b
    if a != a or b != b:
        return a != a and b != b
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def f32(value: float) -> float:
    """``value`` rounded to the nearest float32."""
    return struct.unpack("f", struct.pack("f", value))[0]


finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
data = st.integers(1, 5).flatmap(
    lambda n: st.tuples(
        st.lists(finite, min_size=n, max_size=n), st.lists(finite, min_size=n, max_size=n)
    )
)
lessons = st.builds(
    lambda xy, w0, lr, epochs: seed_lesson().with_values(
        x=xy[0], y=xy[1], init={"w": w0}, lr=lr, epochs=epochs
    ),
    data,
    st.floats(-5, 5, allow_nan=False),
    st.floats(1e-4, 0.1, allow_nan=False),
    st.integers(1, 3),
)


def oracle_records(lesson, zero_grad: bool = True):
    """The note's program on ``lesson``.

    Per step: (w before, ŷ, r, loss, ∂l/∂r, ∂l/∂ŷ, w.grad, w after, ∂l/∂w), where
    ∂l/∂w is what this sample's backward passes to w (a hook sees it before
    AccumulateGrad adds it to ``w.grad``).
    """
    w = torch.Tensor([lesson.params[0][1]])
    w.requires_grad = True
    passed: list[float] = []
    w.register_hook(lambda g: passed.append(g.item()))
    a = lesson.lr
    out = []
    for _ in range(lesson.epochs):
        for x_val, y_val in zip(lesson.x, lesson.y, strict=False):
            before = w.item()
            yhat = x_val * w
            r = yhat - y_val
            l = r**2  # noqa: E741 - the note's name
            yhat.retain_grad()
            r.retain_grad()
            l.backward()
            grad = w.grad.item()
            w.data = w.data - a * w.grad.data
            out.append(
                (
                    before,
                    yhat.item(),
                    r.item(),
                    l.item(),
                    r.grad.item(),
                    yhat.grad.item(),
                    grad,
                    w.item(),
                    passed[-1],
                )
            )
            if zero_grad:
                w.grad.data.zero_()
    return out


@settings(max_examples=50, deadline=None)
@given(lessons)
def test_micro_steps_match_the_notes_loop_bit_for_bit(lesson):
    """Every micro-step by ``next()`` shows the value torch's plain loop computes, exactly.

    Checks node values after each forward step, node gradients after each backward
    step, ``w.grad`` after ``backward()``, ``w`` after the update and 0 after the
    zeroing, for random data, initial w, learning rate and epochs (divergence included).
    """
    s = Stepper(lesson)
    expected = oracle_records(lesson)
    for step, (before, yhat, r, loss, dr, dyhat, grad, after, dw) in enumerate(expected):
        assert (s.phase, s.epoch, s.sample) == (
            Phase.FORWARD,
            step // lesson.n_samples,
            step % lesson.n_samples,
        )
        for name, value in (("yhat", yhat), ("r", r), ("loss", loss)):
            assert s.next()
            snap = s.snapshot()
            assert same(snap.node(name).value, value), (step, name)
        assert snap.phase is Phase.BACKWARD
        assert same(snap.loss, loss) and same(snap.residual, r)
        assert same(snap.param("w").data, before)
        for name, value in (("r", dr), ("yhat", dyhat), ("w", dw)):
            assert s.next()
            snap = s.snapshot()
            assert same(snap.node(name).grad, value), (step, name)
        assert snap.phase is Phase.UPDATE
        assert same(snap.param("w").grad, grad)
        chain = snap.chains[0]
        assert same(chain.torch_grad, dw) and same(chain.param_grad, grad)
        if math.isfinite(grad) and chain.product is not None and math.isfinite(chain.product):
            # Torch multiplies the same float32 factors; the chain's product is exact
            # in float64, so rounding it to float32 must give torch's gradient.
            assert f32(chain.product) == grad
            # The float64 finite difference of the loss agrees to its own accuracy.
            assert chain.agree is True, chain
        assert s.next()
        assert same(s.snapshot().param("w").data, after)
        assert s.next()
        snap = s.snapshot()
        assert snap.param("w").grad == 0.0 and snap.steps_done == step + 1
    assert s.phase is Phase.DONE and not s.next()
    records = s.records
    assert len(records) == len(expected)
    for record, (before, yhat, r, loss, _dr, _dyhat, grad, after, _dw) in zip(
        records, expected, strict=False
    ):
        assert same(record.params["w"], before)
        assert same(record.loss, loss) and same(record.nodes["loss"], loss)
        assert same(record.nodes["yhat"], yhat) and same(record.nodes["r"], r)
        assert same(record.grads["w"], grad)
        assert same(record.params_after["w"], after)
    snap = s.snapshot()
    assert all(same(a, e[0]) for a, e in zip(snap.history_w, expected, strict=True))
    assert all(same(a, e[3]) for a, e in zip(snap.history_loss, expected, strict=True))


@settings(max_examples=40, deadline=None)
@given(lessons)
def test_run_to_end_equals_stepping(lesson):
    """``run_to_end`` gives the same records as the oracle (the trace path, no snapshots)."""
    s = Stepper(lesson)
    assert s.run_to_end()
    got = [(r.params["w"], r.loss, r.grads["w"], r.params_after["w"]) for r in s.records]
    want = [(e[0], e[3], e[6], e[7]) for e in oracle_records(lesson)]
    assert len(got) == len(want)
    for g, e in zip(got, want, strict=False):
        assert all(same(a, b) for a, b in zip(g, e, strict=False)), (g, e)


def test_seed_lesson_at_known_points():
    """The worked example of the note: ŷ = 1, r = −1, loss = 1, w.grad = −2, w = 1.02."""
    s = Stepper(seed_lesson())
    snap = s.snapshot()
    assert snap.loss is None and snap.param("w").grad is None and snap.micro_steps == 0
    for _ in range(3):
        assert s.next()
    snap = s.snapshot()
    assert snap.phase is Phase.BACKWARD
    assert (snap.loss, snap.residual, snap.node("yhat").value) == (1.0, -1.0, 1.0)
    assert snap.param("w").grad is None  # backward has not run yet
    for _ in range(3):
        assert s.next()
    snap = s.snapshot()
    assert snap.phase is Phase.UPDATE and snap.param("w").grad == -2.0
    assert s.next()
    snap = s.snapshot()
    assert snap.phase is Phase.ZERO and snap.param("w").data == 1.0199999809265137
    assert snap.param("w").grad == -2.0
    assert s.next()
    snap = s.snapshot()
    assert snap.param("w").grad == 0.0 and snap.param("w").data == 1.0199999809265137
    assert (snap.phase, snap.epoch, snap.sample, snap.steps_done) == (Phase.FORWARD, 1, 2, 1)
    assert (snap.x, snap.y) == (2.0, 4.0)


def test_seed_chain_rule_factors_agree():
    """The chain for w is ∂loss/∂r · ∂r/∂ŷ · ∂ŷ/∂w = 2r · 1 · x = −2; formulas agree with torch."""
    s = Stepper(seed_lesson())
    s.finish_forward()
    before = s.snapshot()
    assert all(f.value is None and f.agrees is None for f in before.factors)
    assert before.chains[0].product is None and before.chains[0].torch_grad is None
    s.finish_backward()
    snap = s.snapshot()
    (chain,) = snap.chains
    (path,) = chain.paths
    assert [(f.out, f.wrt, f.formula, f.value) for f in path] == [
        ("loss", "r", "2r", -2.0),
        ("r", "yhat", "1", 1.0),
        ("yhat", "w", "x", 1.0),
    ]
    assert chain.product == -2.0 == chain.torch_grad == chain.param_grad
    assert chain.finite_diff == pytest.approx(-2.0, rel=1e-6)
    assert chain.agree is True
    assert snap.factors and all(f.agrees is True for f in snap.factors)


def test_chains_agree_over_the_seed_run():
    """Over three epochs: product of factors, torch's grad and the finite difference agree."""
    s = Stepper(seed_lesson())
    for _ in range(3 * 3):
        s.finish_forward()
        s.finish_backward()
        snap = s.snapshot()
        (chain,) = snap.chains
        assert f32(chain.product) == snap.param("w").grad == chain.torch_grad
        assert chain.agree is True
        assert all(f.agrees is True for f in snap.factors)
        s.update()
        s.zero()


def test_factor_agreement_can_fail():
    """``FactorView.agrees``/``ChainView.agree`` are real checks: a wrong number reads False."""
    s = Stepper(seed_lesson())
    s.finish_forward()
    s.finish_backward()
    snap = s.snapshot()
    factor = snap.factors[0]
    import dataclasses

    assert dataclasses.replace(factor, value=factor.value + 0.5).agrees is False
    assert dataclasses.replace(factor, value=math.nan).agrees is False
    chain = snap.chains[0]
    assert dataclasses.replace(chain, finite_diff=chain.finite_diff + 1.0).agree is False


def test_finish_forward_and_backward():
    """F completes the forward pass, B the backward pass; B is refused before F."""
    s = Stepper(seed_lesson())
    assert s.finish_forward()
    snap = s.snapshot()
    assert snap.phase is Phase.BACKWARD and snap.phase_step == 0 and snap.micro_steps == 3
    assert snap.loss == 1.0
    assert s.finish_backward()
    snap = s.snapshot()
    assert snap.phase is Phase.UPDATE and snap.micro_steps == 6
    assert snap.param("w").grad == -2.0 and snap.graph_freed
    # Finishing a pass halfway through it.
    s2 = Stepper(seed_lesson())
    s2.forward()
    assert s2.finish_forward() and s2.phase is Phase.BACKWARD and s2.micro_steps == 3
    s2.backward()
    assert s2.finish_backward() and s2.phase is Phase.UPDATE and s2.micro_steps == 6
    # Refused when the pass is already done: nothing changes.
    assert not s2.finish_backward() and s2.micro_steps == 6


def test_train_step_and_epochs():
    """train_step, finish_epoch, run_epochs and run_to_end land on the right (epoch, sample)."""
    s = Stepper(seed_lesson())
    assert s.train_step()
    assert (s.phase, s.epoch, s.sample, s.steps_done, s.micro_steps) == (Phase.FORWARD, 0, 1, 1, 8)
    s.forward()  # part way into a step: train_step finishes this step only
    assert s.train_step()
    assert (s.phase, s.epoch, s.sample, s.steps_done, s.micro_steps) == (Phase.FORWARD, 0, 2, 2, 16)
    assert s.finish_epoch()
    assert (s.phase, s.epoch, s.sample, s.steps_done) == (Phase.FORWARD, 1, 0, 3)
    assert s.finish_epoch()
    assert (s.epoch, s.sample, s.steps_done) == (2, 0, 6)
    assert s.run_epochs(3)
    assert (s.phase, s.epoch, s.sample, s.steps_done) == (Phase.FORWARD, 5, 0, 15)
    s.train_step()  # mid-epoch: run_epochs(1) stops at the next boundary
    assert s.run_epochs(1)
    assert (s.epoch, s.sample, s.steps_done) == (6, 0, 18)
    assert s.snapshot().epoch == 7  # 1-based in the snapshot
    assert s.run_to_end()
    snap = s.snapshot()
    assert s.phase is Phase.DONE and snap.finished and snap.steps_done == 300
    assert snap.micro_steps == 300 * 8 and snap.epoch == 100
    # run_epochs past the end stops at the end.
    s2 = Stepper(seed_lesson().with_values(epochs=4))
    assert s2.run_epochs(10)
    assert s2.phase is Phase.DONE and s2.steps_done == 12


def test_compound_steps_equal_single_steps():
    """A run by compound commands reaches the very state that single micro-steps reach."""
    a = Stepper(seed_lesson().with_values(epochs=5))
    b = Stepper(seed_lesson().with_values(epochs=5))
    a.finish_epoch()
    a.run_epochs(2)
    a.train_step()
    a.finish_forward()
    a.finish_backward()
    while b.micro_steps < a.micro_steps:
        assert b.next()
    sa, sb = a.snapshot(), b.snapshot()
    assert sa.params == sb.params and sa.nodes == sb.nodes and sa.history_w == sb.history_w
    assert [r.to_dict() for r in a.records] == [r.to_dict() for r in b.records]


def test_finished_lesson_refuses_every_action():
    """After the last epoch every action is refused with a message and changes nothing."""
    s = Stepper(seed_lesson().with_values(epochs=1))
    assert s.run_to_end()
    done = s.snapshot()
    for act in (
        s.next,
        s.forward,
        s.backward,
        s.update,
        s.zero,
        s.finish_forward,
        s.finish_backward,
        s.train_step,
        s.finish_epoch,
        s.run_to_end,
        lambda: s.run_epochs(1),
    ):
        assert act() is False
        assert s.message is not None and s.message.kind is Kind.REFUSED
        assert "finished" in s.message.text
        assert s.micro_steps == done.micro_steps and s.steps_done == 3
    assert s.snapshot().params == done.params
    # Reset still works.
    assert s.reset() and s.phase is Phase.FORWARD and s.steps_done == 0


def test_checkpoint_interval_does_not_change_numbers():
    """A run that crosses several undo checkpoints gives the oracle's numbers; undoing it
    micro-step by micro-step back to the start, across every checkpoint, restores each
    state it passed through exactly; running on from the middle gives the oracle's again."""
    lesson = seed_lesson().with_values(epochs=CHECKPOINT_EVERY + 2)
    want = [e[7] for e in oracle_records(lesson)]
    s = Stepper(lesson)

    def state():
        snap = s.snapshot()
        return (
            snap.micro_steps,
            snap.phase,
            snap.epoch,
            snap.sample,
            snap.steps_done,
            snap.params,
            snap.loss,
            snap.nodes,
            tuple(snap.history_w),
        )

    states = [state()]
    while s.next():
        states.append(state())
    assert [r.params_after["w"] for r in s.records] == want
    assert len(want) >= 3 * CHECKPOINT_EVERY  # the run crosses three checkpoints or more
    for expected in reversed(states[:-1]):
        assert s.undo()
        got = state()
        assert got == expected, expected[0]
    assert not s.undo() and s.micro_steps == 0
    half = len(states) // 2 + 3  # mid-step, between two checkpoints
    for _ in range(half):
        s.next()
    assert state() == states[half]
    s.run_to_end()
    assert [r.params_after["w"] for r in s.records] == want
