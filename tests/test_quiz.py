"""Quiz mode (``--quiz``, ``Q``): a single micro-step that reveals a value asks for a
prediction first; enter scores it, esc skips it, and undo un-asks it.

Pilot tests drive the app on the note's lesson (x=1, w=1, y=2: ŷ = 1, r = -1, loss = 1,
∂loss/∂r = -2, ∂loss/∂ŷ = -2, ∂loss/∂w = -2, w after = 1.02) and check both the score
and what the screen shows while a question is open and after it.
"""

from __future__ import annotations

import pytest
from test_app import drawn, screen_text, shown, wait_for
from test_app_classroom import FakeServer
from textual.widgets import Input

from bptui.app.main import BptuiApp
from bptui.app.panels.graph import GraphPanel
from bptui.app.panels.message import MessageBar
from bptui.app.panels.status import StatusBar
from bptui.app.quiz import is_right, question_for, read_number
from bptui.app.screens.quiz_prompt import QuizPrompt
from bptui.app.settings import Settings
from bptui.cli import build_parser, settings_from_args
from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper
from bptui.lesson.files import load_lesson
from bptui.lesson.spec import Lesson

SIZE = (80, 24)


def quiz_app(lesson: Lesson | None = None, quiz: bool = True) -> BptuiApp:
    lesson = lesson or seed_lesson()
    return BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(quiz=quiz))


def asking(app: BptuiApp) -> bool:
    prompt = next(iter(app.query(QuizPrompt)), None)  # mounted at the first question
    return prompt is not None and prompt.display and app.session.quiz.asking is not None


def prompt_text(app: BptuiApp) -> str:
    return screen_text(app, app.query_one(QuizPrompt))


async def answer(pilot, app: BptuiApp, text: str | None) -> None:  # type: ignore[no-untyped-def]
    """Type ``text`` and enter (None: esc), then wait for the step to be drawn."""
    if text is None:
        await pilot.press("escape")
    else:
        await pilot.press(*text, "enter")
    await wait_for(pilot, lambda: not asking(app) and drawn(app))


async def ask(pilot, app: BptuiApp, key: str = "space") -> None:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    await wait_for(pilot, lambda: asking(app))


def score(app: BptuiApp) -> str:
    status = shown(app, StatusBar)
    return status[status.index("quiz") :].split()[1]


# --------------------------------------------------------------- the pieces


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("-2", -2.0),
        (" 0.5 ", 0.5),
        ("1e-3", 0.001),
        ("\u22122", -2.0),  # a Unicode minus
        ("\uff0d\uff12", -2.0),  # full-width, from a Chinese input method
        ("2/3", 2 / 3),
        ("-1 / 4", -0.25),
        (".5", 0.5),
    ],
)
def test_read_number_accepts_the_ways_a_number_is_typed(typed: str, value: float):
    assert read_number(typed) == pytest.approx(value)


@pytest.mark.parametrize(
    "typed", ["", "abc", "2*3", "1/0", "nan", "inf", "1_000", "__import__('os')", "1/2/3", "/2"]
)
def test_read_number_refuses_anything_else(typed: str):
    assert read_number(typed) is None


def test_right_within_one_percent_or_a_thousandth_near_zero():
    assert is_right(1.0099, 1.0) and not is_right(1.02, 1.0)
    assert is_right(-198.1, -200.0) and not is_right(-196.0, -200.0)
    assert is_right(0.0009, 0.0) and not is_right(0.002, 0.0)


def test_each_micro_step_of_the_note_asks_its_value():
    """Forward nodes, the gradients backward reaches, the updated weight; zeroing asks
    nothing. The values and the ways they are computed are torch's."""
    stepper = Stepper(seed_lesson())
    asked = []
    for _ in range(8):
        before = stepper.snapshot()
        stepper.next()
        question = question_for(before, stepper.snapshot())
        asked.append(None if question is None else (question.name, question.value, question.how))
    assert asked[:3] == [
        ("ŷ", 1.0, "ŷ = x_val * w, with x = 1, w = 1: ŷ = 1"),
        ("r", -1.0, "r = ŷ - y_val, with ŷ = 1, y = 2: r = -1"),
        ("loss", 1.0, "loss = r ** 2, with r = -1: loss = 1"),
    ]
    assert asked[3] == ("∂loss/∂r", -2.0, "∂loss/∂r = 2r = -2")
    assert asked[4] == ("∂loss/∂ŷ", -2.0, "∂loss/∂ŷ = ∂loss/∂r · ∂r/∂ŷ = -2 · 1 = -2")
    assert asked[5] == ("∂loss/∂w", -2.0, "∂loss/∂w = ∂loss/∂ŷ · ∂ŷ/∂w = -2 · x = -2 · 1 = -2")
    name, value, how = asked[6]  # type: ignore[misc]
    assert (name, value) == ("w", pytest.approx(1.02))
    assert how == "w = w − lr · w.grad = 1 − 0.01 · (-2) = 1.02"
    assert asked[7] is None  # zero_(): nothing to predict


def test_a_vector_value_is_not_asked_but_the_scalar_loss_is():
    """The layer lesson: z (a vector) is shown without a question; the loss is asked."""
    stepper = Stepper(load_lesson("layer"))
    names = []
    while stepper.snapshot().phase.value == "forward":
        before = stepper.snapshot()
        stepper.next()
        question = question_for(before, stepper.snapshot())
        names.append(None if question is None else question.name)
    assert None in names and names[-1] == "loss"


# ----------------------------------------------------------------- the app


async def test_a_right_prediction_scores_and_then_shows_the_step():
    app = quiz_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        assert score(app) == "0/0"
        await ask(pilot, app)
        # The step is taken, but the screen still shows the state before it.
        assert app.stepper is not None and app.stepper.micro_steps == 1
        assert "ŷ=" not in shown(app, GraphPanel)
        assert "Predict ŷ = x_val * w =" in prompt_text(app)
        assert "Forward:" not in screen_text(app)  # the engine's message would tell
        await answer(pilot, app, "1")
        assert "Right: ŷ = 1 (you said 1)." in shown(app, MessageBar)
        assert "ŷ=1" in shown(app, GraphPanel)
        assert score(app) == "1/1"


async def test_the_prompt_is_built_at_the_first_question():
    """The prompt's widgets are not built until a question is asked (a seventh of the
    first frame's work, for a quiz most sessions never turn on); the first question
    builds it, and the answer typed at once is the answer."""
    app = quiz_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        assert not app.query(QuizPrompt)
        await pilot.press("space", "1", "enter")
        await wait_for(
            pilot, lambda: not asking(app) and drawn(app) and "ŷ=1" in shown(app, GraphPanel)
        )
        assert score(app) == "1/1"
        assert app.stepper is not None and app.stepper.micro_steps == 1


async def test_a_wrong_prediction_shows_torchs_value_and_how():
    app = quiz_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        await ask(pilot, app)
        await answer(pilot, app, "2")
        text = shown(app, MessageBar)
        assert "Not quite: you said 2, torch says ŷ = x_val * w, with x = 1, w = 1: ŷ = 1" in text
        assert score(app) == "0/1"
        # b after the forward pass: a gradient, with its chain-rule product.
        await pilot.press("F")
        await wait_for(pilot, lambda: drawn(app))
        assert not asking(app) and score(app) == "0/1"  # F takes many steps: not asked
        await ask(pilot, app, "b")
        assert "Predict ∂loss/∂r" in prompt_text(app)
        await answer(pilot, app, "-2")
        await ask(pilot, app, "b")
        await answer(pilot, app, "3")
        assert "∂loss/∂ŷ = ∂loss/∂r · ∂r/∂ŷ = -2 · 1 = -2" in shown(app, MessageBar)
        assert score(app) == "1/3"


async def test_escape_skips_without_scoring():
    app = quiz_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        await ask(pilot, app)
        await answer(pilot, app, None)
        assert "Skipped (not scored): ŷ = 1." in shown(app, MessageBar)
        assert "ŷ=1" in shown(app, GraphPanel)
        assert score(app) == "0/0"


async def test_a_non_number_is_refused_and_the_question_stays():
    app = quiz_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        await ask(pilot, app)
        await pilot.press(*"abc", "enter")
        await pilot.pause(0.1)
        assert asking(app)
        assert '"abc" is not a number' in prompt_text(app)
        assert "ŷ=" not in shown(app, GraphPanel) and score(app) == "0/0"
        # The keys typed went to the answer, not to the app (no step, no undo).
        assert app.stepper is not None and app.stepper.micro_steps == 1
        await pilot.press(*["backspace"] * 3)
        assert app.query_one(Input).value == ""
        app.query_one(Input).value = "\u22121/1"  # a Unicode minus (as pasted): -1, wrong
        await answer(pilot, app, "")
        assert score(app) == "0/1" and "ŷ=1" in shown(app, GraphPanel)


async def test_undo_un_asks():
    app = quiz_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        await ask(pilot, app)
        await answer(pilot, app, "1")
        await ask(pilot, app)
        await answer(pilot, app, "5")
        assert score(app) == "1/2"
        # The score itself, not the status bar: it reads "Epoch 1/100" as well.
        await pilot.press("left")
        await wait_for(pilot, lambda: drawn(app) and app.stepper.micro_steps == 1)
        assert score(app) == "1/1"  # only the answer of the step undone is un-asked
        assert not asking(app)  # undo never asks
        await pilot.press("left")
        await wait_for(pilot, lambda: drawn(app) and app.stepper.micro_steps == 0)
        assert score(app) == "0/0"
        # Asked again on the way forward, and scored afresh.
        await ask(pilot, app)
        await answer(pilot, app, "1")
        assert score(app) == "1/1"


async def test_Q_turns_the_quiz_on_and_off():
    app = quiz_app(quiz=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        assert "quiz" not in shown(app, StatusBar)
        await pilot.press("space")
        await wait_for(pilot, lambda: drawn(app))
        assert not asking(app) and "ŷ=1" in shown(app, GraphPanel)
        await pilot.press("Q")
        await wait_for(pilot, lambda: "Quiz on" in shown(app, MessageBar))
        assert score(app) == "0/0"
        await ask(pilot, app)
        assert "Predict r = ŷ - y_val" in prompt_text(app)
        await answer(pilot, app, "-1")
        assert score(app) == "1/1"
        await pilot.press("Q")
        await wait_for(pilot, lambda: "Quiz off" in shown(app, MessageBar))
        await pilot.press("space")
        await wait_for(pilot, lambda: drawn(app) and "loss=1" in shown(app, GraphPanel))
        assert not asking(app)
        assert score(app) == "1/1"  # the answers given stay counted


async def test_a_follower_is_not_asked_and_the_teacher_sends_once_revealed():
    """A student following the teacher sees the teacher's steps at once, and is asked only
    when exploring alone; the teacher's own
    session starts without the quiz, and with Q on its step reaches the class when the
    teacher's screen reveals it."""
    server = FakeServer("student")
    app = quiz_app()
    app.session.link = server.link
    async with app.run_test(size=SIZE) as pilot:
        server.send({"t": "class", "teacher": True, "students": 1})
        server.send({"t": "cmd", "c": {"a": "next"}})
        await wait_for(pilot, lambda: drawn(app) and "ŷ=1" in shown(app, GraphPanel))
        assert not asking(app)
        # Exploring alone (t): their own steps are asked, and news from the class
        # (which redraws the status bar) does not reveal the step meanwhile.
        await pilot.press("t")
        await ask(pilot, app)
        server.send({"t": "class", "teacher": True, "students": 2})
        await pilot.pause(0.2)
        assert "r=-1" not in shown(app, GraphPanel) and asking(app)
        await answer(pilot, app, "-1")
        assert "r=-1" in shown(app, GraphPanel) and score(app) == "1/1"
    teacher = FakeServer("teacher")
    app = quiz_app()
    app.session.link = teacher.link
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        await pilot.press("space")
        await wait_for(pilot, lambda: drawn(app) and "ŷ=1" in shown(app, GraphPanel))
        assert not asking(app)
        assert teacher.received() == [{"t": "cmd", "c": {"a": "next"}}]
        await pilot.press("Q")
        await ask(pilot, app)
        await pilot.pause(0.1)
        assert teacher.received() == []  # not yet: the room is predicting
        await answer(pilot, app, "-1")
        await pilot.pause(0.1)
        assert teacher.received() == [{"t": "cmd", "c": {"a": "next"}}]


def test_quiz_on_the_command_line_and_for_every_student_of_serve():
    parser = build_parser()
    assert settings_from_args(parser.parse_args(["--quiz"])).quiz is True
    assert settings_from_args(parser.parse_args([])).quiz is False
    assert settings_from_args(parser.parse_args(["serve", "--quiz"])).quiz is True
    assert Settings.from_header(Settings(quiz=True).to_header()).quiz is True
