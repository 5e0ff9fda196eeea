"""What the quiz asks on models the built-in lessons do not have: an update asks the
first parameter that moved and is a number, none that overflowed; backward passes over a
constant input, and a gradient reached by a second path is asked as a sum (the quiz's
question_for, without the app; test_quiz.py has the note's lesson and the app)."""

from __future__ import annotations

from bptui.app.quiz import Question, question_for
from bptui.lesson.engine import Stepper
from bptui.lesson.files import load_lesson
from bptui.lesson.snapshot import Kind


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
