"""Time travel: a whole-step undo (U), a jump to a chosen step (:, Home), the rest of
an epoch as one jump (End), each undone by one press of ←.

A jump to step N must give exactly the state that N training steps give, and
undoing a jump must give back exactly the state before it. Snapshots are
compared whole (every field, floats by ``repr``), except the message and
``can_undo`` (a jump to the start can be undone; a fresh stepper cannot).
"""

from __future__ import annotations

import dataclasses
import gc
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptui.lesson import Kind, Phase, Stepper, seed_lesson
from bptui.lesson.engine import CHECKPOINT_EVERY
from bptui.lesson.files import builtin_names, load_lesson
from bptui.lesson.timeline import BLOCK, OLD_SPACING, RECENT


def norm(snap) -> str:
    return repr(dataclasses.replace(snap, message=None, can_undo=None))


def stepped(lesson, n: int, modes: str = "", edits=None) -> Stepper:
    """A fresh stepper after ``n`` training steps (``s`` pressed ``n`` times)."""
    s = Stepper(lesson)
    toggle(s, modes)
    for i in range(n):
        if edits and i in edits:
            assert s.edit(**edits[i])
        s.train_step()
    return s


def toggle(s: Stepper, modes: str) -> None:
    for mode in modes:
        {"Z": s.toggle_skip_zero, "m": s.toggle_batch, "l": s.toggle_sum_loss}[mode]()


def total_steps(lesson, modes: str = "") -> int:
    s = Stepper(lesson)
    toggle(s, modes)
    s.run_to_end()
    return s.steps_done


LESSONS = builtin_names()


@pytest.mark.parametrize("name", LESSONS)
@pytest.mark.parametrize("modes", ["", "Z", "m", "l"])
def test_a_jump_to_step_n_is_n_training_steps(name: str, modes: str) -> None:
    """Forward jumps (computed) and backward jumps (restored), in every lesson and
    mode, land on the state that stepping gives; so does the end of the lesson."""
    lesson = load_lesson(name).with_values(epochs=4)
    last = total_steps(lesson, modes)
    s = Stepper(lesson)
    toggle(s, modes)
    for n in (3, CHECKPOINT_EVERY * 2 + 1, 1, last, 2, last - 1, 0):
        n = max(0, min(n, last))
        changed = s.jump_to(n)
        assert changed or s.message.kind is Kind.REFUSED
        assert s.steps_done == n
        # Step 0 is the lesson's start, before the modes were switched on.
        want = Stepper(lesson)
        if n:
            toggle(want, modes)
            for _ in range(n):
                want.train_step()
        assert norm(s.snapshot()) == norm(want.snapshot()), (name, modes, n)


def test_jumps_after_an_edit_land_on_the_run_as_it_was() -> None:
    """A backward jump restores the state of that moment of the run, before or after
    an edit of the learning rate and the parameter; a forward jump computes."""
    lesson = seed_lesson()
    seen = {}
    s = Stepper(lesson)
    for i in range(20):
        seen[s.steps_done] = norm(s.snapshot())
        if i == 7:  # a jump to step 7 lands where step 7 ended: before the edit
            assert s.edit(lr=0.05, params={"w": 3.0})
        s.train_step()
    end = norm(s.snapshot())
    for n in (12, 8, 7):  # backward: restored, after the edit and before it
        assert s.jump_to(n)
        assert norm(s.snapshot()) == seen[n], n
    assert s.lesson.lr == lesson.lr
    # Forward from step 7 (before the edit): computed, so without the edit.
    assert s.jump_to(10)
    assert norm(s.snapshot()) == norm(stepped(lesson, 10).snapshot())
    for n in (7, 8, 12):  # each undo takes one jump back
        assert s.undo()
        assert norm(s.snapshot()) == seen[n], n
    assert s.undo()
    assert norm(s.snapshot()) == end
    # Forward after the edit: computed with the edited values.
    assert s.jump_to(15) and s.jump_to(19)
    assert norm(s.snapshot()) == seen[19]


def test_undo_step_goes_to_this_steps_start_then_the_previous_one() -> None:
    """U mid-step: back to this step's start; at a start: the previous step's."""
    lesson = seed_lesson()
    s = stepped(lesson, 5)
    s.finish_forward()
    s.backward()
    mid = norm(s.snapshot())
    assert s.undo_step()
    assert s.phase is Phase.FORWARD and s.steps_done == 5
    assert norm(s.snapshot()) == norm(stepped(lesson, 5).snapshot())
    assert s.message.kind is Kind.STEP and "undoes the jump" in s.message.text
    assert s.undo_step()
    assert norm(s.snapshot()) == norm(stepped(lesson, 4).snapshot())
    assert s.undo()  # ← takes the second U back as one
    assert norm(s.snapshot()) == norm(stepped(lesson, 5).snapshot())
    assert s.undo()
    assert norm(s.snapshot()) == mid
    assert s.message.text.startswith("Undid the jump")
    fresh = Stepper(lesson)
    assert not fresh.undo_step() and "Nothing to undo" in fresh.message.text


def test_undo_step_at_the_start_after_a_reset_is_refused_with_a_message() -> None:
    s = stepped(seed_lesson(), 3)
    s.reset()
    before = norm(s.snapshot())
    assert not s.undo_step()
    assert s.message.kind is Kind.REFUSED and "undoes the reset" in s.message.text
    assert norm(s.snapshot()) == before


def test_home_and_end_and_bad_steps() -> None:
    lesson = seed_lesson()
    s = stepped(lesson, 4)
    s.forward()
    here = norm(s.snapshot())
    assert s.jump_to_start()
    assert norm(s.snapshot()) == norm(Stepper(lesson).snapshot())
    assert s.snapshot().can_undo
    assert s.undo() and norm(s.snapshot()) == here
    assert s.jump_to_epoch_end()  # 4 steps + a forward op: epoch 2 runs to step 6
    assert s.steps_done == 6 and s.epoch == 2
    assert norm(s.snapshot()) == norm(stepped(lesson, 6).snapshot())
    assert s.undo() and norm(s.snapshot()) == here
    for bad in (-1,):
        assert not s.jump_to(bad)
        assert s.message.kind is Kind.REFUSED and f"no step {bad}" in s.message.text
        assert norm(s.snapshot()) == here
    s.run_to_end()
    assert not s.jump_to(10**6) and "ends at step 300" in s.message.text
    assert not s.jump_to_epoch_end() and "finished" in s.message.text
    assert not s.jump_to(300) and "Already at step 300" in s.message.text


def test_a_long_jump_back_and_its_undo_replay_only_from_the_nearest_checkpoint() -> None:
    """Going back 2,000 steps and undoing it replays a few steps, not 2,000: the
    micro-steps run are counted through the engine's own entry point."""
    s = stepped(seed_lesson().with_values(epochs=1000), 2000)
    here = norm(s.snapshot())
    calls = 0
    do = s._machine.do

    def counting(entry):
        nonlocal calls
        calls += 1
        return do(entry)

    s._machine.do = counting
    assert s.jump_to(3)
    assert s.undo()
    assert norm(s.snapshot()) == here
    assert calls <= 4 * CHECKPOINT_EVERY * 8


SINGLE = ("next", "forward", "backward", "update", "zero", "reset")
MODES = ("toggle_skip_zero", "toggle_batch", "toggle_sum_loss")
JUMPS = ("undo_step", "jump_to_start", "jump_to_epoch_end", "jump", "edit")
ACTIONS = (*SINGLE, *MODES, *JUMPS, "undo", "undo", "train_step")


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from([0, 1]),
    st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 25)), max_size=40),
)
def test_every_unit_is_undone_by_one_undo(which: int, actions) -> None:
    """Any mix of micro-steps, modes, edits, jumps and whole-step undos: each undo
    gives back exactly the state before the last unit (a micro-step or a jump)."""
    lesson = [seed_lesson().with_values(epochs=3), load_lesson("two-layer").with_values(epochs=2)]
    s = Stepper(lesson[which])
    stack = []
    for action, n in actions:
        before = norm(s.snapshot())
        if action == "undo":
            if stack:
                assert s.undo()
                assert norm(s.snapshot()) == stack.pop()
            else:
                assert not s.undo()
            continue
        if action == "jump":
            changed = s.jump_to(n)
        elif action == "edit":
            changed = s.can_edit() and s.edit(lr=0.001 * (n + 1))
        elif action == "train_step":
            m = s.micro_steps
            changed = s.train_step()
            if changed:  # its micro-steps are undone one by one: not one unit
                while s.micro_steps > m:
                    assert s.undo()
                assert norm(s.snapshot()) == before
                continue
        else:
            changed = getattr(s, action)()
        if changed:
            stack.append(before)
        else:
            assert norm(s.snapshot()) == before, action
    while stack:
        assert s.undo()
        assert norm(s.snapshot()) == stack.pop()
    assert not s.undo()


def test_long_runs_jump_exactly_through_packed_records_and_thinned_checkpoints() -> None:
    """Past several packed blocks of records and the recent window of checkpoints:
    jumps back land exactly, the records read back exactly, and undoing every
    jump gives back the end of the run."""
    lesson = seed_lesson().with_values(epochs=1000)
    run = 5 * BLOCK + 37
    targets = (700, run - 1, 5, BLOCK, 3 * BLOCK + 1)
    ref = Stepper(lesson)
    seen = {}
    for n in range(run):
        if n in targets:
            seen[n] = norm(ref.snapshot())
        ref.train_step()
    records = [repr(r.to_dict()) for r in ref.records]
    s = Stepper(lesson)
    assert s.jump_to(run)
    end = norm(s.snapshot())
    assert end == norm(ref.snapshot())
    assert len(s._timeline.checkpoints) < RECENT + run * CHECKPOINT_EVERY // OLD_SPACING + 2
    assert [repr(r.to_dict()) for r in s.records] == records
    for n in targets:
        assert s.jump_to(n)
        assert norm(s.snapshot()) == seen[n], n
        assert [repr(r.to_dict()) for r in s.records] == records[:n]
    for _ in targets:
        assert s.undo()
    assert norm(s.snapshot()) == end
    assert [repr(r.to_dict()) for r in s.records] == records
    # ← one micro-step at a time, into a packed block, also restores exactly.
    assert s.jump_to(BLOCK)
    s.finish_forward()
    s.undo()
    s.undo()
    s.undo()
    assert norm(s.snapshot()) == seen[BLOCK]


def test_autoplay_leaves_little_undo_history() -> None:
    """Natural micro-steps (autoplay) keep a compact history: records packed in
    blocks, a byte of undo log per micro-step, thinned checkpoints. It was 113
    bytes a micro-step on the seed lesson; a broken packing shows here."""
    s = Stepper(seed_lesson().with_values(epochs=50_000))
    for _ in range(500):
        s.next()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(3 * BLOCK * 8):
            s.next()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown / (3 * BLOCK * 8) < 30


def test_a_backward_jump_undone_brings_back_exactly_the_checkpoints_it_cut() -> None:
    """What a jump back cut comes back when it is undone: the same checkpoints, none
    lost (a later undo far back would replay longer) and none twice."""
    s = stepped(seed_lesson(), 60)
    s.finish_forward()
    before = [c.index for c in s._timeline.checkpoints]
    assert len(before) > 3
    for n in (40, 3, 0):
        assert s.jump_to(n)
        assert s.undo()
        assert [c.index for c in s._timeline.checkpoints] == before, n


def test_step_0_after_two_resets_is_just_after_the_last_reset() -> None:
    """Home and U after a second reset go back to that reset, not to the first."""
    s = Stepper(seed_lesson())
    s.train_step()
    s.reset()
    s.train_step()
    s.reset()
    at_reset, start = s.micro_steps, norm(s.snapshot())
    s.train_step()
    s.forward()
    assert s.jump_to(0)
    assert s.micro_steps == at_reset and norm(s.snapshot()) == start
    assert s.undo()
    s.forward()
    assert s.undo_step() and s.undo_step()
    assert s.micro_steps == at_reset and norm(s.snapshot()) == start


def test_a_streamed_run_keeps_its_last_record_and_only_the_first_checkpoint() -> None:
    """``bptui trace`` streams a run: behind it stay the last record (for the summary)
    and the lesson's start, however many steps."""
    s = Stepper(seed_lesson().with_values(epochs=30))
    streamed = list(s.stream_records())
    assert [r.step for r in streamed] == list(range(1, 91))
    assert s.last_record() == streamed[-1]
    assert s.records == (streamed[-1],)
    assert [c.index for c in s._timeline.checkpoints] == [0]


def test_checkpoints_are_taken_every_few_steps_and_after_a_reset_or_an_edit() -> None:
    """One checkpoint at the start, one every CHECKPOINT_EVERY steps, one after a reset
    and one after an edit, each of which starts the count again. (Where they are
    decides how far an undo replays: fewer or misplaced ones give the same states.)"""
    s = Stepper(seed_lesson())
    per = 8  # micro-steps in one of the seed lesson's training steps
    every = CHECKPOINT_EVERY * per
    for _ in range(2 * CHECKPOINT_EVERY + 3):
        s.train_step()
    assert [c.index for c in s._timeline.checkpoints] == [0, every, 2 * every]
    s.reset()
    at_reset = len(s._timeline.log)
    s.train_step()
    assert s.edit(lr=0.05)
    at_edit = len(s._timeline.log)
    for _ in range(CHECKPOINT_EVERY):
        s.train_step()
    assert at_edit == at_reset + per + 1
    assert [c.index for c in s._timeline.checkpoints] == [
        0, every, 2 * every, at_reset, at_edit, at_edit + every,
    ]  # fmt: skip


def test_old_checkpoints_are_thinned_to_one_per_old_spacing() -> None:
    """Behind the RECENT newest checkpoints, the old ones are kept only OLD_SPACING
    logged actions apart, counted from the lesson's start."""
    s = Stepper(seed_lesson().with_values(epochs=1000))
    assert s.jump_to(1200)
    end = len(s._timeline.log)
    every = CHECKPOINT_EVERY * 8
    assert end == 1200 * 8
    recent = list(range(end - (RECENT - 1) * every, end + 1, every))
    kept = [c.index for c in s._timeline.checkpoints]
    assert kept == [0, OLD_SPACING, 2 * OLD_SPACING, *recent]


def test_after_an_undo_checkpoints_keep_their_rhythm() -> None:
    """An undo restores a checkpoint and replays from it: the count towards the next
    checkpoint goes on from that checkpoint, as if nothing had been undone."""
    s = stepped(seed_lesson(), 20)
    assert s.undo()  # into step 20: the first train_step finishes it again
    for _ in range(21):
        s.train_step()
    assert s.steps_done == 40
    every = CHECKPOINT_EVERY * 8
    assert [c.index for c in s._timeline.checkpoints] == list(range(0, 40 * 8 + 1, every))


def test_a_jump_back_past_a_thinned_checkpoint_replays_the_edit_it_held() -> None:
    """An edit takes a checkpoint; once thinning has dropped it, a jump back to just
    after the edit replays the edit itself from the undo log."""
    lesson = seed_lesson().with_values(epochs=1000)
    s = stepped(lesson, 10)
    assert s.edit(lr=0.05, params={"w": 3.0})
    edit_at = len(s._timeline.log)
    assert s.jump_to(1200)
    assert edit_at not in [c.index for c in s._timeline.checkpoints]
    assert s.jump_to(12)
    assert norm(s.snapshot()) == norm(
        stepped(lesson, 12, edits={10: {"lr": 0.05, "params": {"w": 3.0}}}).snapshot()
    )


def test_records_share_one_tuple_of_factor_names() -> None:
    """A finished step's row holds an index into the timeline's factor-name tuples,
    not the names: twenty steps with the same factors add one tuple, not twenty."""
    s = stepped(seed_lesson(), 20)
    assert s._timeline._layout_names == [("dloss/dr", "dr/dyhat", "dyhat/dw")]
    assert set(s.records[0].factors) == {"dloss/dr", "dr/dyhat", "dyhat/dw"}
