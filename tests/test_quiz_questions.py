"""The quiz without the app. What it asks on models the built-in lessons do not have:
an update asks the first parameter that moved and is a number, none that overflowed;
backward passes over a constant input, and a gradient reached by a second path is asked
as a sum. And a session of one around a stepper: answers, the held step, a teaching
moment after the verdict (test_quiz.py has the note's lesson in the app)."""

from __future__ import annotations

from bptui.app.quiz import Question, Quiz, question_for
from bptui.app.settings import Settings
from bptui.classroom.commands import Step
from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper
from bptui.lesson.files import load_lesson
from bptui.lesson.snapshot import Kind, Message


def _update_question(stepper: Stepper) -> Question | None:
    """The question of the update micro-step after a whole forward and backward pass."""
    assert stepper.finish_forward() and stepper.finish_backward()
    before = stepper.snapshot()
    assert stepper.next()
    return question_for(before, stepper.snapshot())


def test_an_update_asks_the_first_parameter_that_moved():
    """w·x + b at x = 0: w's gradient is 0, so w stays 1 and b is asked, not w."""
    lesson = load_lesson(None, overrides={"model": "w * x + b"})
    asked = _update_question(Stepper(lesson.with_values(x=[0.0], y=[2.0], epochs=1)))
    assert asked is not None
    assert (asked.name, asked.how) == ("b", "b = b − lr · b.grad = 1 − 0.01 · (-2) = 1.02")


def test_an_update_asks_a_number_after_a_vector():
    """sum(W·x) + b: W is a vector (shown, not asked); b after it is a number, asked."""
    lesson = load_lesson(None, overrides={"model": "sum(W * x) + b"}).with_values(
        x=[[1.0, 2.0]], y=[1.0], init={"W": [0.5, -0.5], "b": 0.0}, epochs=1
    )
    asked = _update_question(Stepper(lesson))
    assert asked is not None
    assert (asked.name, asked.how) == ("b", "b = b − lr · b.grad = 0 − 0.01 · (-3) = 0.03")


def test_an_update_that_overflows_asks_nothing():
    """A learning rate of 3e38: w = 1 − 3e38 · 2 is -inf in float32, no number to
    predict; the step says it diverged instead."""
    lesson = load_lesson(None, overrides={"model": "x * w"})
    stepper = Stepper(lesson.with_values(x=[1.0], y=[0.0], lr=3e38, epochs=1))
    assert _update_question(stepper) is None
    assert stepper.message is not None and stepper.message.kind is Kind.DIVERGED


def _backward_questions(model: str, x: float, y: float) -> list[tuple[str, str] | None]:
    """What each micro-step of the first backward pass asks: (name, how), or None."""
    stepper = Stepper(load_lesson(None, overrides={"model": model}).with_values(x=[x], y=[y]))
    assert stepper.finish_forward()
    asked: list[tuple[str, str] | None] = []
    while stepper.snapshot().phase.value == "backward":
        before = stepper.snapshot()
        assert stepper.next()
        question = question_for(before, stepper.snapshot())
        asked.append(None if question is None else (question.name, question.how))
    return asked


def test_a_constant_input_is_passed_over_for_the_next():
    """2·(x·w): the constant 2 is the product's first input, with no gradient; z1 after
    it is asked."""
    assert _backward_questions("2 * (x * w)", 1.0, 0.0) == [
        ("∂loss/∂r", "∂loss/∂r = 2r = 4"),
        ("∂loss/∂ŷ", "∂loss/∂ŷ = ∂loss/∂r · ∂r/∂ŷ = 4 · 1 = 4"),
        ("∂loss/∂z1", "∂loss/∂z1 = ∂loss/∂ŷ · ∂ŷ/∂z1 = 4 · 2 = 8"),
        ("∂loss/∂w", "∂loss/∂w = ∂loss/∂z1 · ∂z1/∂w = 8 · x = 8 · 1 = 8"),
    ]


def test_a_second_path_adds_to_a_gradient_and_adding_nothing_asks_nothing():
    """x·w + w: w has ∂loss/∂ŷ from the sum already; the product adds its path to it,
    and the question shows the sum. At x = 0 the product adds 0: nothing to ask."""
    asked = _backward_questions("x * w + w", 1.0, 0.0)
    assert asked[-1] == (
        "∂loss/∂w",
        "∂loss/∂w = 4 + ∂loss/∂z1 · ∂z1/∂w = 4 + 4 · x = 4 + 4 · 1 = 8",
    )
    asked = _backward_questions("x * w + w", 0.0, 2.0)
    assert asked[-2] == ("∂loss/∂z1", "∂loss/∂z1 = ∂loss/∂ŷ · ∂ŷ/∂z1 = -2 · 1 = -2")
    assert asked[-1] is None


# ------------------------------------------------------------- the quiz without the app
class Alone:
    """A session of one (no class) around a stepper, for the quiz without the app."""

    def __init__(self, stepper: Stepper) -> None:
        self.stepper, self.link, self.settings = stepper, None, Settings(quiz=True)
        self.sent: list[Step] = []

    def following(self) -> bool:
        return False

    def apply_command(self, command: Step) -> None:
        assert getattr(self.stepper, command.action)()

    def send_command(self, command: Step) -> None:
        self.sent.append(command)


def test_an_answer_again_at_the_same_step_replaces_the_first_and_the_step_goes_once():
    """Answered, undone and answered again before the score is read: one answer counts,
    the last. The step is held while asked and sent (to a class, if any) once answered."""
    session = Alone(Stepper(seed_lesson()))
    quiz = Quiz(session)
    assert isinstance(quiz.take("next", drawn=True), Question) and session.sent == []
    assert quiz.answer("5") == Message(
        Kind.TEACH, "Not quite: you said 5, torch says ŷ = x_val * w, with x = 1, w = 1: ŷ = 1."
    )
    assert session.sent == [Step("next")]
    assert session.stepper.undo()
    assert isinstance(quiz.take("next", drawn=True), Question)
    assert quiz.answer("1") == Message(Kind.STEP, "Right: ŷ = 1 (you said 1).")
    assert quiz.tally() == (1, 1)


def test_a_teaching_moment_of_the_step_is_said_after_the_verdict():
    """Skip-zero mode: the backward step that adds to w.grad says so, after the verdict
    on ∂loss/∂w (this sample's gradient), and the message takes the teaching kind."""
    stepper = Stepper(seed_lesson())
    assert stepper.toggle_skip_zero() and stepper.train_step() and stepper.finish_forward()
    quiz = Quiz(Alone(stepper))
    for name in ("∂loss/∂r", "∂loss/∂ŷ"):
        asked = quiz.take("backward", drawn=True)
        assert isinstance(asked, Question) and asked.name == name
        quiz.answer(None)
    asked = quiz.take("backward", drawn=True)
    assert isinstance(asked, Question) and asked.name == "∂loss/∂w"
    said = quiz.answer("-7.84")
    assert said == Message(
        Kind.TEACH,
        "Right: ∂loss/∂w = -7.84 (you said -7.84).  The gradient was not zeroed, so "
        "backward() added to it: w.grad = -2 (old) + -7.84 (this backward) = -9.84. torch "
        "accumulates gradients on purpose; call w.grad.data.zero_() after each update to "
        "start every step from 0.",
    )


def test_a_step_that_asks_nothing_goes_at_once():
    """Zeroing the gradient reveals no number: the step is taken and sent (to a class, if
    any) at once, and nothing is held."""
    stepper = Stepper(seed_lesson())
    assert stepper.finish_forward() and stepper.finish_backward() and stepper.update()
    session = Alone(stepper)
    quiz = Quiz(session)
    assert quiz.take("next", drawn=True) is True
    assert session.sent == [Step("next")] and not quiz.holds()
