"""The lesson session on its own, without an app: the engine, the commands, the
narration and the quiz are a plain object a test can drive in a few lines."""

from __future__ import annotations

import socket
from pathlib import Path

from bptui.app.classlink import ClassLink
from bptui.app.keymap import ENGINE_LABELS
from bptui.app.quiz import Question
from bptui.app.session import LessonSession
from bptui.app.settings import Settings
from bptui.classroom.protocol import Jump, Open, Step
from bptui.lesson import Stepper, seed_lesson
from bptui.lesson.files import load_lesson
from bptui.lesson.snapshot import Kind


def session(settings: Settings | None = None) -> LessonSession:
    lesson = seed_lesson()
    made = LessonSession(lesson, settings=settings)
    made.engine_ready(Stepper(lesson, labels=ENGINE_LABELS))
    return made


def test_commands_step_the_engine_and_a_replay_gets_to_the_same_place() -> None:
    lesson = session()
    log = (Step("train_step"), Open("affine"), Step("next", 3), Jump(5), Step("undo"))
    for command in log:
        lesson.run_command(command)
    again = session()
    again.replay(log)
    assert lesson.stepper is not None and again.stepper is not None
    assert again.stepper.lesson == lesson.stepper.lesson == load_lesson("affine")
    assert again.stepper.snapshot().params == lesson.stepper.snapshot().params
    assert again.stepper.micro_steps == lesson.stepper.micro_steps
    assert lesson.lesson == again.lesson == load_lesson("affine")


def test_a_follower_does_not_open_a_lesson_of_their_own() -> None:
    """Called back while the picker was open: the choice is dropped, the class's kept."""
    ours, theirs = socket.socketpair()
    lesson = session()
    lesson.link = ClassLink(ours, "student")
    lesson.open_picked("affine")
    assert lesson.stepper is not None and lesson.stepper.lesson == seed_lesson()
    lesson.link.set_following(False)
    lesson.open_picked("affine")
    assert lesson.stepper.lesson == lesson.lesson == load_lesson("affine")
    theirs.close()
    ours.close()


def test_the_narration_says_each_micro_step_and_an_undo_once(tmp_path: Path) -> None:
    said = tmp_path / "said.txt"
    lesson = session(Settings(narrate=str(said)))
    lesson.run_command(Step("finish_forward"))
    lesson.run_command(Step("undo"))
    lesson.close()
    lines = said.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("forward: ") and len(lines) >= 3
    assert lines[-1].startswith("undo")  # one line for the key, not a line per replay


def test_the_quiz_holds_a_step_until_it_is_answered() -> None:
    lesson = session(Settings(quiz=True))
    asked = lesson.quiz.take("next", drawn=True)
    assert isinstance(asked, Question) and asked.value == 1.0  # ŷ = x·w = 1·1
    assert lesson.quiz.holds() and lesson.quiz.take("next", drawn=True) is False
    assert lesson.quiz.answer("two") == (
        '"two" is not a number: type e.g. -2, 0.5, 1e-3 or 2/3 (esc skips).'
    )
    verdict = lesson.quiz.answer("1")
    assert verdict is not None and not isinstance(verdict, str)
    assert verdict.kind is Kind.STEP and not lesson.quiz.holds()
    assert lesson.quiz.tally() == (1, 1)
    lesson.run_command(Step("undo"))  # undoing the step un-asks its question
    assert lesson.quiz.tally() == (0, 0)
