"""Undo gives back exactly the state before the last micro-step, whatever came before.

Snapshots are compared whole (every field of every nested view), except the
``message``, which narrates the undo itself. Floats are compared by ``repr``, so
NaN equals NaN and 0.0 differs from -0.0.
"""

from __future__ import annotations

import dataclasses
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from bptui.lesson import Kind, Phase, Stepper, seed_lesson
from bptui.lesson.engine import CHECKPOINT_EVERY


def norm(value) -> str:
    """A snapshot (or any value) as text that compares NaN-safely, the message left out.

    Dataclass reprs list every field, and float reprs round-trip: ``nan`` equals
    ``nan``, and ``0.0`` differs from ``-0.0``.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.replace(value, message=None)
    return repr(value)


def check_history(s: Stepper) -> None:
    """The plot's history is the records' (w before the update, loss), in order."""
    snap = s.snapshot()
    records = s.records
    assert snap.steps_done == len(records)
    assert norm(snap.history_w) == norm(tuple(r.params["w"] for r in records))
    assert norm(snap.history_loss) == norm(tuple(r.loss for r in records))


#: The seed lesson, a short one whose end is reachable, and one that diverges
#: to inf and NaN within a few steps.
LESSONS = [
    seed_lesson(),
    seed_lesson().with_values(epochs=2),
    seed_lesson().with_values(x=(10.0, -10.0), y=(1.0, 2.0), lr=0.5, epochs=20),
]
SINGLE = ("forward", "backward", "update", "zero", "next", "reset")
#: Compound commands, and when each stops: the shadow stepper takes natural
#: micro-steps (``next()``) while ``more(stepper, epoch, sample)`` holds.
COMPOUND = {
    "train_step": (lambda t: t.train_step(), lambda t, e, i: (t.epoch, t.sample) == (e, i)),
    "finish_epoch": (lambda t: t.finish_epoch(), lambda t, e, i: t.epoch == e),
    "run_epochs": (lambda t: t.run_epochs(3), lambda t, e, i: t.epoch < e + 3),
}
# train_step twice: runs get past the first undo checkpoints more often.
ACTIONS = (*SINGLE, *COMPOUND, "train_step", "undo")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(range(len(LESSONS))), st.lists(st.sampled_from(ACTIONS), max_size=40))
def test_undo_restores_the_snapshot_before_each_micro_step(which, actions):
    """After any sequence, each undo gives back the snapshot taken at that micro-step count.

    A shadow stepper runs the same actions with compound ones spelled out as
    ``next()`` calls, so ``seen[n]``, the snapshot when ``n`` micro-steps were
    logged, is known for every ``n``. Every undo in the sequence, then undoing
    all the way back, must return to these; refused actions must change nothing.
    """
    s = Stepper(LESSONS[which])
    shadow = Stepper(LESSONS[which])
    start = norm(s.snapshot())
    seen = {0: start}

    def forget_after(n: int) -> None:
        for k in [k for k in seen if k > n]:
            del seen[k]

    for action in actions:
        n0 = s.micro_steps
        before = norm(s.snapshot())
        if action == "undo":
            if n0 == 0:
                assert not s.undo() and not shadow.undo()
                assert norm(s.snapshot()) == before
            else:
                assert s.undo() and shadow.undo()
                assert s.micro_steps == n0 - 1
                assert norm(s.snapshot()) == seen[n0 - 1]
            forget_after(s.micro_steps)
            check_history(s)
            continue
        changed = COMPOUND[action][0](s) if action in COMPOUND else getattr(s, action)()
        if not changed:
            assert s.message is not None and s.message.kind is not Kind.STEP
            assert s.micro_steps == n0
            assert norm(s.snapshot()) == before, action
            continue
        forget_after(n0)
        if action in SINGLE:
            assert s.micro_steps == n0 + 1, action
            assert getattr(shadow, action)()
        else:  # a compound command is natural micro-steps up to a boundary
            more = COMPOUND[action][1]
            epoch, sample = shadow.epoch, shadow.sample
            while shadow.phase is not Phase.DONE and more(shadow, epoch, sample):
                assert shadow.next()
                seen[shadow.micro_steps] = norm(shadow.snapshot())
        assert shadow.micro_steps == s.micro_steps
        seen[s.micro_steps] = norm(s.snapshot())
        assert norm(shadow.snapshot()) == seen[s.micro_steps]
        check_history(s)
    while s.micro_steps:
        n = s.micro_steps
        assert s.undo()
        assert s.micro_steps == n - 1
        assert norm(s.snapshot()) == seen[n - 1], n - 1
    check_history(s)
    assert norm(s.snapshot()) == start
    assert not s.undo()
    assert s.message.kind is Kind.REFUSED and "Nothing to undo" in s.message.text


def test_undo_each_kind_of_micro_step():
    """Undo of forward, backward, update and zero, one by one, for three training steps."""
    s = Stepper(seed_lesson())
    for _ in range(3 * 8):
        before = norm(s.snapshot())
        assert s.next()
        after = norm(s.snapshot())
        assert after != before
        assert s.undo()
        assert s.message.kind is Kind.STEP and "Undid" in s.message.text
        assert norm(s.snapshot()) == before
        assert s.next()
        assert norm(s.snapshot()) == after


def test_undo_to_the_start_restores_the_initial_snapshot():
    """Undoing every micro-step of a run past several checkpoints gives the fresh stepper back."""
    s = Stepper(seed_lesson())
    start = norm(s.snapshot())
    for _ in range(2 * CHECKPOINT_EVERY + 3):
        s.train_step()
    s.finish_forward()
    s.backward()
    n = s.micro_steps
    for _ in range(n):
        assert s.undo()
    assert s.micro_steps == 0 and s.records == ()
    assert norm(s.snapshot()) == start
    assert s.params["w"].grad is None
    assert not s.undo()
    assert s.message.kind is Kind.REFUSED and "Nothing to undo" in s.message.text
    assert norm(s.snapshot()) == start


def test_undo_past_the_start_is_refused():
    """A fresh stepper has nothing to undo: refused, with a message, nothing changed."""
    s = Stepper(seed_lesson())
    start = norm(s.snapshot())
    assert s.undo() is False
    assert s.message is not None and s.message.kind is Kind.REFUSED
    assert "undo" in s.message.text.lower()
    assert norm(s.snapshot()) == start and s.micro_steps == 0


def test_undo_of_reset_brings_the_history_back():
    """Reset is undoable: the records, the plot's history and every tensor come back."""
    s = Stepper(seed_lesson())
    for _ in range(CHECKPOINT_EVERY + 4):  # past a checkpoint: undo replays from it
        s.train_step()
    s.finish_forward()
    s.backward()
    before = norm(s.snapshot())
    records = [r.to_dict() for r in s.records]
    assert s.reset()
    snap = s.snapshot()
    assert snap.steps_done == 0 and snap.history_w == () and snap.phase is Phase.FORWARD
    assert s.undo()
    assert [r.to_dict() for r in s.records] == records
    check_history(s)
    assert len(s.snapshot().history_w) == CHECKPOINT_EVERY + 4
    assert norm(s.snapshot()) == before


def test_undo_of_reset_after_new_steps():
    """Steps taken after a reset are undone, then the reset, then the old run continues."""
    s = Stepper(seed_lesson())
    for _ in range(CHECKPOINT_EVERY + 2):
        s.train_step()
    before = norm(s.snapshot())
    s.reset()
    for _ in range(3):
        s.train_step()
    s.snapshot()
    for _ in range(3 * 8 + 1):
        assert s.undo()
    check_history(s)
    assert norm(s.snapshot()) == before


def test_history_after_undo_and_a_different_path():
    """After undo, another path to the same step count shows its own history, not a stale one."""
    s = Stepper(seed_lesson())
    for _ in range(3):
        s.train_step()
    assert s.snapshot().history_w == (1.0, 1.0199999809265137, 1.0983999967575073)
    for _ in range(3 * 8):
        s.undo()
    # Now skip zero-grad: the gradient accumulates, and the trajectory differs.
    for _ in range(2):
        s.finish_forward()  # the second time, this skips zeroing the first gradient
        s.finish_backward()
        s.update()
    s.finish_forward()
    s.finish_backward()
    s.update()
    s.zero()
    assert s.steps_done == 3
    check_history(s)
    assert s.snapshot().history_w[2] != 1.0983999967575073  # w after an accumulated grad


def test_undo_past_a_forward_that_began_the_next_sample():
    """``f`` right after an update skips zeroing: one action ends the step and runs the
    next sample's first op. When that is the step a checkpoint falls on, undo must
    still give back every snapshot on the way (it used to lose that op on replay)."""
    s = Stepper(seed_lesson())
    seen = {0: norm(s.snapshot())}

    def act(step) -> None:  # type: ignore[no-untyped-def]
        assert step()
        seen[s.micro_steps] = norm(s.snapshot())

    for _ in range(8 * (CHECKPOINT_EVERY - 1) + 7):  # to the 8th step's zero_()
        act(s.next)
    assert s.phase is Phase.ZERO
    act(s.forward)  # no zero_(): the next sample begins, with its first op
    for _ in range(10):
        act(s.next)
    while s.micro_steps:
        n = s.micro_steps
        assert s.undo()
        assert norm(s.snapshot()) == seen[n - 1], n - 1
    check_history(s)


def test_an_old_snapshot_keeps_its_history_through_undo_and_a_new_path():
    """Snapshots hold views of the engine's history, not copies: one taken before
    an undo still shows the steps it was taken after, once the engine has gone
    back and taken other steps (and its length is its own, not the engine's)."""
    s = Stepper(seed_lesson())
    for _ in range(3):
        s.train_step()
    old = s.snapshot()
    kept = tuple(old.history_w), tuple(old.history_loss)
    for _ in range(2 * 8):
        s.undo()
    s.edit(lr=0.05)
    for _ in range(6):
        s.train_step()
    assert len(s.snapshot().history_w) == 7
    assert (tuple(old.history_w), tuple(old.history_loss)) == kept
    assert len(old.history_w) == 3 and old.history_w[-1] == kept[0][-1]
    assert s.snapshot().history_w[2] != kept[0][2]  # the new path really differs


def test_undo_in_a_diverged_run():
    """Undo restores inf and NaN values exactly, all the way back from a diverged end."""
    s = Stepper(seed_lesson().with_values(x=(10.0,), y=(1.0,), lr=0.5, epochs=30))
    seen = [norm(s.snapshot())]
    while s.next():
        seen.append(norm(s.snapshot()))
    snap = s.snapshot()
    assert snap.finished and math.isnan(snap.param("w").data)
    assert math.isinf(snap.history_loss[20]) and math.isnan(snap.history_loss[-1])
    for n in range(len(seen) - 2, -1, -1):
        assert s.undo()
        assert norm(s.snapshot()) == seen[n], n
