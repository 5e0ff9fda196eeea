"""The quiz's prompt: the question on the message line, the answer typed, a hint.

The quiz itself (what a step reveals, the score) is :mod:`bptui.app.quiz`; this
widget only asks and hands the answer back. On the teacher's screen in a class it
shows instead the class's answers as they arrive (:func:`~bptui.app.classquiz.tally_lines`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from ...i18n import _
from ..panels.message import MessageBar


class QuizPrompt(Vertical):
    """The message line as a prompt: the question, the answer typed, and a hint."""

    BINDINGS: ClassVar[list[Binding]] = [Binding("escape", "skip", "Skip")]  # type: ignore[assignment]
    DEFAULT_CSS = """
    QuizPrompt { dock: bottom; height: auto; padding: 0 1; background: $boost; display: none; }
    QuizPrompt Horizontal { height: 1; }
    QuizPrompt #quiz-question {
        width: auto; max-width: 80%; text-style: bold; text-wrap: nowrap; text-overflow: ellipsis;
    }
    #quiz-answer { border: none; height: 1; padding: 0 1; width: 1fr; background: $surface; }
    QuizPrompt #quiz-hint { height: auto; color: $text-muted; }
    QuizPrompt.-tally #quiz-hint { color: $text; }
    QuizPrompt.-error #quiz-hint { color: $error; }
    """

    def __init__(self, on_answer: Callable[[str | None], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Told the answer typed (None: skipped) at once, before any key typed after it.
        self._on_answer = on_answer
        #: The class's answers shown (the teacher's), to draw only what changed.
        self._tallied: list[str] = []

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static(id="quiz-question")
            # Disabled while no question is open: it must never take the keys' focus.
            yield Input(id="quiz-answer", disabled=True)
        yield Static(id="quiz-hint")

    def ask(self, prompt: str) -> None:
        """The question in place of the message line."""
        self.screen.query_one(MessageBar).display = False
        self.remove_class("-tally")
        self.query_one("#quiz-question", Static).update(f"{prompt} =")
        answer = self.query_one(Input)
        answer.display = True
        answer.value = ""
        answer.disabled = False
        self.hint(_("Type your prediction, enter checks it, esc skips."), error=False)
        self.display = True
        answer.focus()

    def tally(self, lines: list[str]) -> None:
        """The class's answers in place of the message line: the question, then the
        rest (the teacher types nothing: their next stepping key reveals)."""
        if self.display and self.has_class("-tally") and lines == self._tallied:
            return  # the same answers: nothing to lay out again
        self._tallied = lines
        self.screen.query_one(MessageBar).display = False
        self.set_class(True, "-tally")
        self.query_one("#quiz-question", Static).update(Text(lines[0]))
        answer = self.query_one(Input)
        answer.disabled, answer.display = True, False
        self.set_class(False, "-error")
        self.query_one("#quiz-hint", Static).update(Text("\n".join(lines[1:])))
        self.display = True

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
