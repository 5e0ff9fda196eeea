"""Quiz mode (``--quiz``, ``Q``): a single micro-step that reveals a value asks for a
prediction first; enter scores it, esc skips it, and undo un-asks it.

Pilot tests drive the app on the note's lesson (x=1, w=1, y=2: ŷ = 1, r = -1, loss = 1,
∂loss/∂r = -2, ∂loss/∂ŷ = -2, ∂loss/∂w = -2, w after = 1.02) and check both the score
and what the screen shows while a question is open and after it.
"""

from __future__ import annotations

import pytest
from test_app import drawn, screen_text, shown, wait_for
from test_app_classroom import FakeServer, classroom_app
from textual.pilot import Pilot
from textual.widgets import Input

from bptui.app.main import BptuiApp
from bptui.app.panels.graph import GraphPanel
from bptui.app.panels.message import MessageBar
from bptui.app.panels.status import StatusBar
from bptui.app.quiz import is_right, not_a_number, question_for, read_number
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
    return app.query_one(QuizPrompt).display and app.session.quiz.asking is not None


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
        await pilot.press("enter")  # nothing typed: asked for a number, still open
        await wait_for(pilot, lambda: "Type a number first" in prompt_text(app))
        assert asking(app) and score(app) == "0/0"
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
        said = " ".join(shown(app, MessageBar).split())
        assert said.startswith(
            "Quiz on: before a step shows a value, type your prediction and press enter "
            "(esc skips). Q turns it off."
        )
        assert score(app) == "0/0"
        await ask(pilot, app)
        assert "Predict r = ŷ - y_val" in prompt_text(app)
        await answer(pilot, app, "-1")
        assert score(app) == "1/1"
        await pilot.press("Q")
        await wait_for(pilot, lambda: "Quiz off" in shown(app, MessageBar))
        said = " ".join(shown(app, MessageBar).split())
        assert said.startswith("Quiz off: steps show their values at once. Q turns it on again.")
        await pilot.press("space")
        await wait_for(pilot, lambda: drawn(app) and "loss=1" in shown(app, GraphPanel))
        assert not asking(app)
        assert score(app) == "1/1"  # the answers given stay counted


async def test_a_follower_is_not_asked_and_the_teacher_asks_the_class():
    """A student following the teacher sees the teacher's steps at once, and is asked only
    when exploring alone; the teacher's own session starts without the quiz, and with Q
    on its step is the class's question: posed through the server, the answers tallied on
    the teacher's screen, and the step reaches the class when the teacher reveals it."""
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
        # The class is asked: the question goes to the server with torch's value (it
        # stays there), the step is held, and the teacher's screen waits for answers.
        got: list[dict[str, object]] = []
        await wait_for(pilot, lambda: got.extend(teacher.received()) or got)
        assert got == [
            {
                "t": "pose",
                "name": "r",
                "prompt": "Predict r = ŷ - y_val",
                "words": [2, ["r = ŷ - y_val"]],  # for each student's own language
                "value": -1.0,
            }
        ]
        assert "Class question: Predict r = ŷ - y_val" in prompt_text(app)
        assert "-1" not in prompt_text(app)  # the teacher's screen may be projected
        teacher.send({"t": "tally", "q": 1, "name": "r", "n": [5, 4, 3], "wrong": [[-2.0, 1]]})
        await wait_for(pilot, lambda: "answered 4 of 5" in prompt_text(app))
        text = prompt_text(app)
        assert "right 3 · wrong 1 · not answered 1" in text and "wrong -2" in text
        # The teacher's next stepping key reveals: the held step first, then the reveal.
        await pilot.press("space")
        await wait_for(pilot, lambda: not asking(app) and drawn(app))
        await pilot.pause(0.1)
        assert teacher.received() == [{"t": "cmd", "c": {"a": "next"}}, {"t": "reveal"}]
        assert "r=-1" in shown(app, GraphPanel)
        assert "r = -1: 3 of 5 right, 1 wrong, 1 not answered." in shown(app, MessageBar)
        # The teacher answered nothing: no score of theirs ("quiz 0/0") on the status bar.
        assert shown(app, StatusBar).rstrip().endswith("· quiz on")


async def pose(pilot: Pilot[int], app: BptuiApp, teacher: FakeServer) -> list[dict[str, object]]:
    """The teacher turns the quiz on and steps: the question is posed to the class, and
    the messages the teacher's app has sent so far (the pose) are returned."""
    await pilot.press("Q")
    await ask(pilot, app)
    got: list[dict[str, object]] = []
    await wait_for(pilot, lambda: got.extend(teacher.received()) or got)
    assert [m["t"] for m in got] == ["pose"]
    return got


async def test_another_lesson_reveals_the_class_question_first():
    """``o`` with a class question open: the held step and the reveal reach the class
    before the other lesson, so no follower takes the old lesson's step in the new one."""
    app, teacher = classroom_app("teacher")  # the teacher's quiz: off until Q
    async with app.run_test(size=SIZE) as pilot:
        got = await pose(pilot, app, teacher)
        await pilot.press("o")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "LessonPicker")
        assert not asking(app)
        await pilot.press("end", "enter")
        await wait_for(pilot, lambda: app.stepper is not None and app.stepper.micro_steps == 0)
        await wait_for(pilot, lambda: got.extend(teacher.received()) or len(got) == 4)
        opened = got[3]["c"]
        assert got[1:3] == [{"t": "cmd", "c": {"a": "next"}}, {"t": "reveal"}]
        assert isinstance(opened, dict) and set(opened) == {"open"}
        assert app.stepper.lesson.name == opened["open"] or opened["open"] == ""


async def test_a_jump_reveals_the_class_question_first():
    """``:`` with a class question open: the held step and the reveal reach the class
    before the jump, so every follower lands where the teacher does (the jump is to a
    step number; the held step sent after it would move them one micro-step past)."""
    app, teacher = classroom_app("teacher")  # the teacher's quiz: off until Q
    async with app.run_test(size=SIZE) as pilot:
        got = await pose(pilot, app, teacher)
        await pilot.press("colon")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "JumpScreen")
        assert not asking(app)
        await pilot.press("2", "enter")
        await wait_for(pilot, lambda: app.stepper is not None and app.stepper.steps_done == 2)
        await wait_for(pilot, lambda: got.extend(teacher.received()) or len(got) >= 4)
        assert got[1:4] == [
            {"t": "cmd", "c": {"a": "next"}},
            {"t": "reveal"},
            {"t": "cmd", "c": {"jump": 2}},
        ]


async def test_a_follower_with_an_app_of_their_own_answers_the_class_question():
    """The teacher's question reaches a follower's app without torch's value; they answer
    in the quiz's prompt (a hint if it is not a number), and the reveal tells them."""
    server = FakeServer("student")
    app = quiz_app(quiz=False)
    app.session.link = server.link
    async with app.run_test(size=SIZE) as pilot:
        server.send({"t": "class", "teacher": True, "students": 1})
        await wait_for(pilot, lambda: drawn(app))
        server.send({"t": "ask", "q": 7, "name": "ŷ", "prompt": "Predict ŷ = x_val * w"})
        await wait_for(pilot, lambda: app.query_one(QuizPrompt).display)
        assert "Predict ŷ = x_val * w =" in prompt_text(app)
        await pilot.press("a", "enter")
        await wait_for(pilot, lambda: "is not a number" in prompt_text(app))
        await pilot.press("backspace", *"0.5", "enter")
        await wait_for(pilot, lambda: not app.query_one(QuizPrompt).display)
        answers = [m for m in server.received() if m["t"] == "answer"]
        assert answers == [{"t": "answer", "q": 7, "value": 0.5}]
        assert "You said 0.5" in shown(app, MessageBar)
        # The reveal: the teacher's step, then torch's value and the verdict.
        server.send({"t": "cmd", "c": {"a": "next"}})
        server.send({"t": "revealed", "q": 7, "value": 1.0, "answer": 0.5})
        await wait_for(pilot, lambda: "Not quite" in shown(app, MessageBar))
        assert "torch says ŷ = 1" in shown(app, MessageBar)
        assert "ŷ=1" in shown(app, GraphPanel)
        # Not answered is not wrong.
        server.send({"t": "ask", "q": 8, "name": "r", "prompt": "Predict r = ŷ - y_val"})
        await wait_for(pilot, lambda: app.query_one(QuizPrompt).display)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.query_one(QuizPrompt).display)
        server.send({"t": "revealed", "q": 8, "value": -1.0})
        await wait_for(pilot, lambda: "Not answered (not scored): r = -1" in shown(app, MessageBar))
        # A teacher who leaves before revealing withdraws the question.
        server.send({"t": "ask", "q": 9, "name": "loss", "prompt": "Predict loss = r ** 2"})
        await wait_for(pilot, lambda: app.query_one(QuizPrompt).display)
        server.send({"t": "withdrawn", "q": 9})
        await wait_for(pilot, lambda: not app.query_one(QuizPrompt).display)
        assert "The teacher left before revealing" in shown(app, MessageBar)


def test_quiz_on_the_command_line_and_for_every_student_of_serve():
    parser = build_parser()
    assert settings_from_args(parser.parse_args(["--quiz"])).quiz is True
    assert settings_from_args(parser.parse_args([])).quiz is False
    assert settings_from_args(parser.parse_args(["serve", "--quiz"])).quiz is True
    assert Settings.from_header(Settings(quiz=True).to_header()).quiz is True


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_an_answer_typed_in_one_burst_with_the_step_is_checked(
    size: tuple[int, int],
) -> None:
    """space 1 enter arriving together (a quick typist; over SSH one packet carries
    them): the 1 is the answer. It went to the lesson, before the prompt had the
    focus, and the empty answer was refused."""
    from textual import events

    app = quiz_app()
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: drawn(app) and not app.keys.holding())
        for key, character in (("space", " "), ("1", "1"), ("enter", "\r")):
            app.post_message(events.Key(key, character))  # as the driver posts them
        await wait_for(pilot, lambda: app.session.quiz.tally() != (0, 0))
        assert app.session.quiz.tally() == (1, 1), screen_text(app)  # ŷ = x·w = 1: right


def test_the_hint_quotes_what_was_typed_cut_to_eight_characters():
    """The hint for what is not a number quotes it, cut to seven characters and … past
    eight (the prompt is one line); with nothing typed, it asks for a number."""
    hint = " is not a number: type e.g. -2, 0.5, 1e-3 or 2/3 (esc skips)."
    assert not_a_number("  abc ") == '"abc"' + hint
    assert not_a_number("abcdefgh") == '"abcdefgh"' + hint  # eight: whole
    assert not_a_number("abcdefghi") == '"abcdefg…"' + hint  # nine: seven and …
    assert not_a_number("   ") == "Type a number first: e.g. -2, 0.5, 1e-3 or 2/3 (esc skips)."
