"""The snapshot's plain fields, micro-step by micro-step, as the panels read them.

The panels draw what the snapshot says: which node was just computed (the
highlight), each node's kind and label, the phase's progress (``FWD 2/3``), the
loss's ``grad_fn``, the current point of the plot, the chain's labels. Mutation
testing found each of these could be wrong while every engine test passed (only
pictures and Pilot tests looked at some of them).
"""

from __future__ import annotations

import pytest
from test_verified import assert_all_verified

from bptui.lesson import Phase, Stepper, seed_lesson
from bptui.lesson.files import load_lesson


def test_the_notes_step_in_the_snapshot():
    s = Stepper(seed_lesson())
    snap = s.snapshot()
    assert [(n.name, n.label, n.kind, n.op, n.symbol) for n in snap.nodes] == [
        ("x", "x", "data", None, None),
        ("w", "w", "param", None, None),
        ("y", "y", "data", None, None),
        ("yhat", "ŷ", "op", "mul", "×"),
        ("r", "r", "op", "sub", "−"),
        ("loss", "loss", "op", "pow", "^"),
    ]
    assert [n.args for n in snap.nodes if n.kind == "op"] == [("x", "w"), ("ŷ", "y"), ("r", "2")]
    assert [n.inputs for n in snap.nodes if n.kind == "op"] == [
        ("x", "w"),
        ("yhat", "y"),
        ("r", None),
    ]
    assert (snap.phase, snap.phase_step, snap.phase_steps) == (Phase.FORWARD, 0, 3)
    assert snap.current_point is None and snap.loss_grad_fn is None
    assert not any(n.current for n in snap.nodes)
    for i, name in enumerate(("yhat", "r", "loss"), start=1):
        s.forward()
        snap = s.snapshot()
        assert [n.name for n in snap.nodes if n.current] == [name]
        assert (snap.phase_step, snap.phase_steps) == ((i, 3) if i < 3 else (0, 3))
    assert snap.phase is Phase.BACKWARD
    assert snap.loss_grad_fn == "PowBackward0" and snap.node("loss").grad_fn == "PowBackward0"
    assert snap.current_point == (1.0, 1.0)
    for i, name in enumerate(("loss", "r", "yhat"), start=1):
        s.backward()
        snap = s.snapshot()
        if i < 3:
            assert [n.name for n in snap.nodes if n.current] == [name]
            assert (snap.phase_step, snap.phase_steps) == (i, 3)
    assert (snap.phase, snap.phase_step, snap.phase_steps) == (Phase.UPDATE, 0, 1)
    (chain,) = snap.chains
    assert (chain.param, chain.label, chain.loss_label) == ("w", "w", "loss")
    s.update()
    snap = s.snapshot()
    assert (snap.phase, snap.phase_step, snap.phase_steps) == (Phase.ZERO, 0, 1)
    assert [n.name for n in snap.nodes if n.current] == ["w"]  # the update touched w
    assert snap.current_point == (1.0, 1.0)  # w before the update, this sample's loss


def test_labels_of_a_lesson_with_its_own_names():
    """The node lesson calls its loss L and its output z: the views use those labels."""
    s = Stepper(load_lesson("node"))
    s.finish_forward()
    s.finish_backward()
    snap = s.snapshot()
    assert [(c.param, c.label, c.loss_label) for c in snap.chains] == [
        ("w", "w", "L"),
        ("x", "x", "L"),
    ]
    assert [(n.name, n.label) for n in snap.nodes if n.kind == "op"] == [
        ("yhat", "z"),
        ("loss", "L"),
    ]
    assert [(n.label, n.kind) for n in snap.nodes if n.kind != "op"] == [
        ("x", "data"),
        ("w", "param"),
    ]


@pytest.mark.parametrize("name", ["linear", "two-layer", "node", "collapse"])
def test_chains_stay_verified_after_the_update(name):
    """The chain panel still shows the step's chain after the update: its finite difference and
    its hand formulas are taken at the values the loss was computed with, so it still agrees.
    (Before, a formula with a parameter in it, ∂z4/∂z3 = w2, was worked out with the updated
    w2, and two-layer's chain panel showed ✗ after every update.)"""
    s = Stepper(load_lesson(name))
    s.finish_forward()
    s.finish_backward()
    s.update()
    assert s.phase is Phase.ZERO
    assert_all_verified(s.snapshot())
