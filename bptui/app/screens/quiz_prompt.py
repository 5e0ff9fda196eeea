"""The quiz's prompt: the question on the message line, the answer typed, a hint.

The quiz itself (what a step reveals, the score) is :mod:`bptui.app.quiz`; this
widget only asks and hands the answer back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Static

from ...i18n import _
from ..panels.message import MessageBar
from ..quiz import Question


class QuizPrompt(Vertical):
    """The message line as a prompt: the question, the answer typed, and a hint."""

    BINDINGS: ClassVar[list[Binding]] = [Binding("escape", "skip", "Skip")]  # type: ignore[assignment]
    DEFAULT_CSS = """
    QuizPrompt { dock: bottom; height: 2; padding: 0 1; background: $boost; display: none; }
    QuizPrompt Horizontal { height: 1; }
    QuizPrompt #quiz-question {
        width: auto; max-width: 80%; text-style: bold; text-wrap: nowrap; text-overflow: ellipsis;
    }
    #quiz-answer { border: none; height: 1; padding: 0 1; width: 1fr; background: $surface; }
    QuizPrompt #quiz-hint { height: 1; color: $text-muted; }
    QuizPrompt.-error #quiz-hint { color: $error; }
    """

    def __init__(self, on_answer: Callable[[str | None], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Told the answer typed (None: skipped) at once, before any key typed after it.
        self._on_answer = on_answer

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static(id="quiz-question")
            # Disabled while no question is open: it must never take the keys' focus.
            yield Input(id="quiz-answer", disabled=True)
        yield Static(id="quiz-hint")

    def ask(self, question: Question) -> None:
        """The question in place of the message line."""
        self.screen.query_one(MessageBar).display = False
        self.query_one("#quiz-question", Static).update(f"{question.prompt} =")
        answer = self.query_one(Input)
        answer.value = ""
        answer.disabled = False
        self.hint(_("Type your prediction, enter checks it, esc skips."), error=False)
        self.display = True
        answer.focus()

    def close(self) -> None:
        """The question is closed: the message line is back."""
        self.query_one(Input).disabled = True
        self.display = False
        self.screen.query_one(MessageBar).display = True

    def hint(self, text: str, error: bool = True) -> None:
        self.set_class(error, "-error")
        self.query_one("#quiz-hint", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._on_answer(event.value)

    def action_skip(self) -> None:
        self._on_answer(None)


class Keys(Protocol):
    """The app's keys, held while something opens (the app's ``KeyHold``)."""

    def hold(self, reason: str) -> None: ...
    def release(self, reason: str) -> None: ...


def ask(
    parent: Widget, question: Question, on_answer: Callable[[str | None], None], keys: Keys
) -> None:
    """Ask ``question`` in the prompt at the end of ``parent``, mounted at the first
    question: most sessions never ask one, and its five widgets were a seventh of
    the app's work to its first frame. Keys typed while it mounts are held, and
    are the answer's once it is open."""
    prompt = next(iter(parent.query(QuizPrompt)), None)
    if prompt is not None:
        prompt.ask(question)
        return
    keys.hold("quiz")
    prompt = QuizPrompt(on_answer, id="quiz")
    mounting = parent.mount(prompt)

    async def open_and_ask() -> None:
        await mounting
        prompt.ask(question)
        keys.release("quiz")

    parent.call_next(open_and_ask)
