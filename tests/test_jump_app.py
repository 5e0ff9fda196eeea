"""The time-travel keys in the app: U, `:` (with its prompt), Home and End, each
undone by one ←, sent to a class as commands a follower replays exactly."""

from __future__ import annotations

import dataclasses

from test_app import make_app, press, shown, wait_for
from test_app_classroom import SIZE, classroom_app, command
from textual import events
from textual.containers import Vertical
from textual.widgets import Input

from bptui import glyphs
from bptui.app.panels.message import MessageBar
from bptui.app.screens.jump import MAX_FORWARD, JumpScreen, read_step
from bptui.lesson import Phase, seed_lesson
from bptui.lesson.engine import Stepper
from bptui.lesson.files import load_lesson


def same(a, b) -> bool:
    """Two snapshots equal in every field but the message and can_undo."""
    return repr(dataclasses.replace(a, message=None, can_undo=None)) == repr(
        dataclasses.replace(b, message=None, can_undo=None)
    )


def after_steps(n: int) -> Stepper:
    s = Stepper(seed_lesson())
    for _ in range(n):
        s.train_step()
    return s


async def test_U_undoes_a_whole_training_step_and_left_brings_it_back() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s", "s", "F", "b")
        mid = app.snapshot
        await press(pilot, "U")
        snap = app.snapshot
        assert snap.steps_done == 2 and snap.phase is Phase.FORWARD and snap.phase_step == 0
        assert same(snap, after_steps(2).snapshot())
        assert "Back to the start of a training step" in shown(app, MessageBar)
        await press(pilot, "U")
        assert same(app.snapshot, after_steps(1).snapshot())
        await press(pilot, "left")
        assert same(app.snapshot, after_steps(2).snapshot())
        await press(pilot, "left")
        assert same(app.snapshot, mid)
        assert "Undid the jump" in shown(app, MessageBar)


async def test_colon_asks_for_a_step_and_goes_there() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s", "f")
        here = app.snapshot
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, JumpScreen))
        assert "Go to step" in app.screen.query_one("#jump-title").render().plain  # type: ignore[attr-defined]
        await pilot.press("2", "0", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, JumpScreen))
        await wait_for(pilot, lambda: app.snapshot.steps_done == 20)
        assert same(app.snapshot, after_steps(20).snapshot())
        assert "Jumped: at step 20" in shown(app, MessageBar)
        await pilot.press("colon", "3", "enter")
        await wait_for(pilot, lambda: app.snapshot.steps_done == 3)
        assert same(app.snapshot, after_steps(3).snapshot())
        await press(pilot, "left")
        assert same(app.snapshot, after_steps(20).snapshot())
        await press(pilot, "left")
        assert same(app.snapshot, here)


async def test_colon_refuses_bad_input_in_its_line_and_escape_cancels() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s")
        steps = app.stepper.micro_steps
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, JumpScreen))
        error = app.screen.query_one("#jump-error")
        for typed, says in (
            ("abc", "'abc' is not a step number"),
            ("-3", "'-3' is not a step number"),
            ("301", "The lesson has 300 training steps"),
            ("", "Type a step number from 0"),
        ):
            app.screen.query_one("#jump-input").value = typed  # type: ignore[attr-defined]
            await pilot.press("enter")
            await pilot.pause(0.05)
            assert isinstance(app.screen, JumpScreen)
            assert says in error.render().plain  # type: ignore[attr-defined]
        await pilot.press("enter", "enter")  # a burst: still one prompt, no crash
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, JumpScreen))
        await pilot.pause(0.05)
        assert "No jump (cancelled)" in shown(app, MessageBar)
        assert app.stepper.micro_steps == steps


async def test_colon_goes_to_the_start_and_to_the_last_step_exactly() -> None:
    """The edges of the range the prompt takes: 0 (the start) and 300, the seed lesson's
    last step (301 is refused above)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s")
        for typed, steps in (("300", 300), ("0", 0)):
            await pilot.press("colon")
            await wait_for(pilot, lambda: isinstance(app.screen, JumpScreen))
            await pilot.press(*typed, "enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, JumpScreen))
            await wait_for(pilot, lambda: app.snapshot.steps_done == steps)  # noqa: B023
            assert f"Jumped: at step {steps}" in shown(app, MessageBar)
        assert same(app.snapshot, Stepper(seed_lesson()).snapshot())
        await press(pilot, "left")
        assert same(app.snapshot, after_steps(300).snapshot())
        assert app.snapshot.finished


def test_the_forward_cap_at_its_edge_counts_from_here() -> None:
    """MAX_FORWARD steps ahead is taken, one more is not; from step 2 as from the start."""
    stepper = Stepper(seed_lesson().with_values(epochs=10_000))
    snap = stepper.snapshot()
    assert read_step(str(MAX_FORWARD), snap) == MAX_FORWARD
    assert isinstance(read_step(str(MAX_FORWARD + 1), snap), str)
    stepper.train_step()
    stepper.train_step()
    snap = stepper.snapshot()
    assert read_step(str(MAX_FORWARD + 2), snap) == MAX_FORWARD + 2
    refused = read_step(str(MAX_FORWARD + 3), snap)
    assert refused == (
        "A jump forward computes every step: at most 5,000 at a time (up to step 5,002 from here)."
    )
    assert read_step("0", snap) == 0  # back: no cap
    assert read_step("30,001", snap) == (
        "The lesson has 30,000 training steps: type a number from 0 to 30,000."
    )


async def test_a_jump_forward_is_capped() -> None:
    lesson = seed_lesson().with_values(epochs=10_000)
    app = make_app(lesson)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, JumpScreen))
        app.screen.query_one("#jump-input").value = str(MAX_FORWARD + 1)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert "at most 5,000 at a time" in app.screen.query_one("#jump-error").render().plain  # type: ignore[attr-defined]
        assert app.stepper.micro_steps == 0


async def test_home_goes_to_the_start_and_end_to_the_end_of_the_epoch() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s", "s", "s", "s", "F")
        here = app.snapshot
        await press(pilot, "home")
        assert same(app.snapshot, Stepper(seed_lesson()).snapshot())
        assert app.snapshot.can_undo and app.check_action("undo", ()) is True
        await press(pilot, "left")
        assert same(app.snapshot, here)
        await press(pilot, "end")  # step 5 of 3-sample epochs: epoch 2 ends at step 6
        assert same(app.snapshot, after_steps(6).snapshot())
        await press(pilot, "left")
        assert same(app.snapshot, here)


async def test_the_teachers_jumps_are_sent_and_replay_exactly() -> None:
    app, server = classroom_app("teacher")
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s", "s", "s", "f", "U", "end", "home", "left")
        await pilot.press("colon", "1", "2", "enter")
        await wait_for(pilot, lambda: app.snapshot.steps_done == 12)
        await press(pilot, "U")
        await pilot.pause()
        commands = [m["c"] for m in server.received() if m.get("t") == "cmd"]
        assert commands[4:] == [
            {"a": "undo_step"},
            {"a": "jump_end"},
            {"a": "jump_start"},
            {"a": "undo"},
            {"jump": 12},
            {"a": "undo_step"},
        ]
        follower = make_app()
        follower.session.replay(tuple(command(body) for body in commands))
        assert same(follower.stepper.snapshot(), app.stepper.snapshot())
        assert same(app.stepper.snapshot(), after_steps(11).snapshot())


async def test_the_prompt_is_a_bar_at_the_bottom_that_says_the_range() -> None:
    """The prompt names its range and where the lesson is now, on a bar across the
    bottom of the screen with the lesson still in view above it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s")
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, JumpScreen))
        title = app.screen.query_one("#jump-title").render().plain  # type: ignore[attr-defined]
        assert title == "Go to step: 0 = the start, 300 = the end, now 1 · enter goes · esc cancels"
        assert app.screen.query_one(Input).placeholder == "step number"
        assert app.screen.query_one("#jump-error").render().plain == ""  # type: ignore[attr-defined]
        box = app.screen.query_one(Vertical).region
        width, height = SIZE
        assert (box.x, box.width, box.bottom) == (0, width, height)
        assert 3 <= box.height <= 5
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, JumpScreen))
        await pilot.pause(0.05)
        assert app.query_one(MessageBar).text == "No jump (cancelled)."


async def test_two_enters_at_once_jump_once() -> None:
    """A step number and two enters arriving together (a paste): one jump, and the
    lesson's screen stays."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s")
        main = app.screen
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, JumpScreen))
        screen = app.screen
        screen.query_one("#jump-input").value = "5"  # type: ignore[attr-defined]
        value = screen.query_one("#jump-input").value  # type: ignore[attr-defined]
        screen.post_message(Input.Submitted(screen.query_one(Input), value))
        screen.post_message(Input.Submitted(screen.query_one(Input), value))
        await wait_for(pilot, lambda: app.snapshot.steps_done == 5)
        await pilot.pause(0.1)
        assert app.screen is main and len(app.screen_stack) == 1
        await press(pilot, "left")
        assert app.snapshot.steps_done == 1  # one jump to undo, not two


def test_read_step_reads_separators_and_says_what_is_wrong_word_for_word() -> None:
    """Commas and underscores between digits are read past; up to nine digits are a
    number (past the end: the lesson's length), more are not; a long entry is quoted
    to its first 12 characters, with '...' in ASCII mode."""
    snap = Stepper(seed_lesson()).snapshot()
    assert read_step("2_0", snap) == 20
    assert read_step(" 1,0 ", snap) == 10
    whole = "type a whole number from 0 to 300."
    assert read_step("", snap) == (
        "Type a step number from 0 (the start) to 300, then enter; esc cancels."
    )
    assert read_step("123456789", snap) == (
        "The lesson has 300 training steps: type a number from 0 to 300."
    )
    assert read_step("1234567890", snap) == f"'1234567890' is not a step number: {whole}"
    assert read_step("abcdefghijkl", snap) == f"'abcdefghijkl' is not a step number: {whole}"
    assert read_step("abcdefghijklm", snap) == f"'abcdefghijkl…' is not a step number: {whole}"
    glyphs.set_ascii(True)
    try:
        said = read_step("abcdefghijklm", snap)
    finally:
        glyphs.set_ascii(False)
    assert said == f"'abcdefghijkl...' is not a step number: {whole}"


async def test_colon_before_the_first_frame_does_nothing() -> None:
    """Keys pressed while the first frame is still to be drawn (the engine is there,
    its snapshot not yet): no prompt, no error."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s")
        app.snapshot = None
        app.action_jump()
        await pilot.pause(0.1)
        assert not isinstance(app.screen, JumpScreen)


async def test_a_newline_in_the_step_prompt_goes_as_enter_does() -> None:
    """`:30` enter typed before the app has the terminal reaches it as `:30` and a
    newline (the terminal's line editing turns the enter into one): it jumps."""
    app = make_app(seed_lesson())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None, 30)
        await pilot.press("colon", "3", "0")
        await wait_for(pilot, lambda: isinstance(app.screen, JumpScreen))
        app.post_message(events.Key("ctrl+j", "\n"))
        await wait_for(pilot, lambda: app.stepper is not None and app.stepper.steps_done == 30)
        assert not isinstance(app.screen, JumpScreen)


def test_a_one_step_lesson_says_one_training_step() -> None:
    """node has one training step: `:300` says so in the singular."""
    snap = Stepper(load_lesson("node")).snapshot()
    assert read_step("300", snap) == ("The lesson has 1 training step: type a number from 0 to 1.")
