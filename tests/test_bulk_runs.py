"""A run of whole steps against the same micro-steps taken one at a time.

``run_to_end``, epochs and jumps forward take a lean path (each backward function
called once, a step's micro-steps in a row; see ``StepMachine.run``). What it
leaves must be exactly what stepping leaves: the records bit for bit, the undo
log, and the state an undo rebuilds. Every built-in lesson, in every mode; NaN
and the sign of zero compared through ``repr``.
"""

from __future__ import annotations

import pytest

from bptui.lesson import Stepper
from bptui.lesson.files import describe_builtins, load_lesson
from bptui.lesson.snapshot import NodeView

LESSONS = [name for name, _title, _path in describe_builtins()]
MODES = ("plain", "skip_zero", "batch", "sum_loss")


def stepper(name: str, mode: str, lr_times: float = 1.0) -> Stepper:
    lesson = load_lesson(name)
    lesson = lesson.with_values(epochs=min(lesson.epochs, 6), lr=lesson.lr * lr_times)
    s = Stepper(lesson)
    if mode != "plain":
        assert getattr(s, f"toggle_{mode}")()
    return s


def state(s: Stepper) -> tuple[object, ...]:
    """Everything a run leaves behind but its message."""
    snap = s.snapshot()
    return (
        repr([r.to_dict() for r in s.records]),
        repr([list(h) for h in s.history()]),
        s.micro_steps,
        repr((snap.nodes, snap.phase, snap.epoch, snap.sample)),
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", LESSONS)
def test_a_run_to_the_end_leaves_what_stepping_leaves(name: str, mode: str) -> None:
    run, stepped = stepper(name, mode), stepper(name, mode)
    assert run.run_to_end()
    while stepped.next():
        pass
    assert state(run) == state(stepped)
    # Undo replays micro-steps one at a time, mid-step too: the log must be the same.
    for _ in range(min(run.micro_steps, 9)):
        assert run.undo() and stepped.undo()
        assert state(run) == state(stepped)


@pytest.mark.parametrize("name", LESSONS)
def test_a_diverging_run_says_what_stepping_says(name: str) -> None:
    """The run's kept message (the first divergence) and records, at a learning rate
    that blows up."""
    run, stepped = stepper(name, "plain", 1000.0), stepper(name, "plain", 1000.0)
    run.finish_epoch()
    important = None
    while stepped.epoch == 0 and stepped.next():
        message = stepped.message
        if (
            message is not None
            and message.kind.name != "STEP"
            and (important is None or important.kind.name != "DIVERGED")
        ):
            important = message
    assert state(run) == state(stepped)
    assert (run.message is None) == (important is None)
    if important is not None:
        assert run.message is not None and run.message.kind is important.kind


def test_a_run_watched_step_by_step_shows_every_gradient_passed_down() -> None:
    """With ``after_step`` set (the app narrating a compound command) nothing is
    lean: the gradient each operation passes down is there after each backward."""
    watched, stepped = stepper("two-layer", "plain"), stepper("two-layer", "plain")
    seen: list[tuple[NodeView, ...]] = []
    watched.after_step = lambda: seen.append(watched.snapshot().nodes)
    watched.train_step()
    expected = []
    while stepped.steps_done == 0 and stepped.next():
        expected.append(stepped.snapshot().nodes)
    assert repr(seen) == repr(expected)
    passed_down = [n.grad for nodes in seen for n in nodes if n.kind == "op"]
    assert any(grad is not None for grad in passed_down)
