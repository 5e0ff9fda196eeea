"""``o``: the lesson picker, alone (no class): it lists the lessons, opens the one
chosen from its start, and ``esc`` leaves the lesson as it was, at 80×24 and
120×40. In Chinese: tests/test_i18n_app.py; in a class: tests/test_class_lessons.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_app import drawn, make_app, press, screen_text, shown, wait_for

from bptui.app.main import BptuiApp
from bptui.app.panels.code import CodePanel
from bptui.app.panels.message import MessageBar
from bptui.app.screens.lessons import LessonPicker
from bptui.lesson.engine import Stepper
from bptui.lesson.files import builtin_names, builtin_path, load_lesson, seed_lesson

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def picker(app: BptuiApp) -> LessonPicker:
    assert isinstance(app.screen, LessonPicker)
    return app.screen


async def choose(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    """Move the picker's cursor to the lesson called ``name`` with the arrow keys; enter."""
    app = pilot.app
    names = [c.name for c in picker(app).choices]
    await pilot.press(*["down"] * names.index(name))
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.stepper.lesson.name == name and drawn(app))
    await wait_for(pilot, lambda: app.snapshot.lesson == app.stepper.snapshot().lesson)


@pytest.mark.parametrize("size", SIZES)
async def test_o_lists_the_lessons_and_opens_the_one_chosen_from_its_start(
    size: tuple[int, int],
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await press(pilot, "s", "s")  # two training steps into the note's lesson
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonPicker))
        await wait_for(pilot, lambda: "A neuron" in screen_text(app))
        text = screen_text(app)
        assert "Linear model" in text and "(open now)" in text
        assert [c.name for c in picker(app).choices] == builtin_names()
        await choose(pilot, "neuron")
        assert not isinstance(app.screen, LessonPicker)
        stepper = app.stepper
        assert stepper is not None and stepper.lesson == load_lesson("neuron")
        assert stepper.micro_steps == 0 and app.snapshot is not None
        assert not app.snapshot.can_undo  # the last lesson's steps are not kept
        assert app.session.lesson == load_lesson("neuron")
        await wait_for(pilot, lambda: "Now: A neuron" in shown(app, MessageBar))
        await wait_for(pilot, lambda: "x_val, w, b, y_val" in shown(app, CodePanel))
        await press(pilot, "space")  # and it steps as the new lesson
        assert stepper.micro_steps == 1


async def test_esc_closes_the_picker_and_the_lesson_goes_on() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "s")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonPicker))
        await pilot.press("down", "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, LessonPicker))
        assert app.stepper is not None and app.stepper.lesson == seed_lesson()
        assert app.stepper.steps_done == 1


async def test_a_lesson_file_started_with_is_listed_first_and_opens_again(
    tmp_path: Path,
) -> None:
    """A teacher's own file is on the shelf as it was loaded, not by its path."""
    path = tmp_path / "mine.toml"
    text = builtin_path("affine").read_text(encoding="utf-8")
    path.write_text(text.replace("title = ", 'title = "My lesson" #', 1), encoding="utf-8")
    lesson = load_lesson(str(path))
    app = BptuiApp(lesson, stepper=Stepper(lesson))
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "s")
        await pilot.press("o")
        await wait_for(pilot, lambda: "(started with)" in screen_text(app))
        assert picker(app).choices[0].name == "" and picker(app).choices[0].lesson == lesson
        await choose(pilot, "linear")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonPicker))
        await pilot.press("home", "enter")
        await wait_for(pilot, lambda: app.stepper is not None and app.stepper.lesson == lesson)
        assert app.stepper.steps_done == 0
