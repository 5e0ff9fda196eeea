"""Which parameter an update asks about: the first that changed and is a number, and
none whose new value is not a number to predict (the quiz's question_for, without the
app; test_quiz.py has the note's lesson step by step and the app)."""

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
