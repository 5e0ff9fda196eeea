"""The quiz's questions on the screen: one's own, the class's, and their answers.

The quiz decides what a step asks (:mod:`bptui.app.quiz`) and the class
question where it goes (:mod:`bptui.app.classquiz`); :class:`Prompting` puts
them in the quiz's prompt (:class:`~bptui.app.screens.quiz_prompt.QuizPrompt`):
a question to type an answer to; on the teacher's screen in a class, the
class's answers as they arrive, until the teacher's next stepping key reveals;
on a follower's, the teacher's question, then torch's value and their verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..glyphs import shown
from ..i18n import N_, _
from ..lesson.snapshot import Kind, Message
from .classquiz import tally_lines
from .quiz import Question, said
from .screens.quiz_prompt import QuizPrompt

if TYPE_CHECKING:
    from textual.app import App

    from ..classroom.protocol import Message as ClassMessage
    from .session import LessonSession


WITHDRAWN = N_("The teacher left before revealing the question: it counts for no one.")


class Holding(Protocol):
    """The app's keys held while something opens (:class:`~bptui.app.keyhold.KeyHold`)."""

    def hold(self, reason: str) -> None: ...

    def release(self, reason: str) -> None: ...


class Prompting:
    """The app's quiz prompt: asks, shows the class's tally, takes the answers."""

    def __init__(
        self,
        app: App[Any],
        session: LessonSession,
        keys: Holding,
        stop: Callable[[], None],
        draw: Callable[[], None],
    ) -> None:
        self._app = app
        self._session = session
        #: The app's keys, held while the prompt takes the focus.
        self._keys = keys
        #: Stops autoplay (a question waits for an answer).
        self._stop = stop
        #: Asks for a frame (throttled by the app).
        self._draw = draw
        session.class_question.listener = self._heard

    def _prompt(self) -> QuizPrompt:
        return self._app.query_one(QuizPrompt)

    def _note(self, message: Message) -> None:
        """``message`` on the message line until the next step replaces it."""
        self._session.note = message
        self._draw()

    def ask(self, question: Question) -> None:
        """Keep the screen at the state before the step, and ask what it revealed: the
        class, on the teacher's screen in a class; else whoever is at the keyboard."""
        self._stop()
        if self._session.class_question.pose(question):
            self._show_tally()
        else:
            self._ask(question.prompt)

    def _ask(self, prompt: str) -> None:
        """The prompt opens; the keys typed after the one that asked go to the answer.

        Textual moves the focus once the keys already on their way are handled, so
        space 1 enter typed in one burst (a quick typist; over SSH, where a packet
        carries them together) lost the 1 to the lesson and checked an empty
        answer. The keys are held until the answer has the focus, then sent to it.
        """
        self._keys.hold("prompt")
        self._prompt().ask(prompt)
        self._app.call_after_refresh(self._keys.release, "prompt")

    def _show_tally(self) -> None:
        question = self._session.class_question
        if question.posed is not None:
            width = self._app.size.width
            self._prompt().tally(tally_lines(question.posed.prompt, question.tally(), width))

    def reveal(self) -> None:
        """The teacher's stepping key with a class question open: it is revealed."""
        if self._session.class_question.posed is None:
            return
        self._session.quiz.release()  # the held step goes to the class first
        said = self._session.class_question.reveal()
        self._close()
        if said is not None:
            self._note(said)

    def _close(self) -> None:
        self._prompt().close()
        self._app.set_focus(None)

    def toggle(self) -> None:
        """Q: the quiz on or off (an open question is skipped, or the class's revealed)."""
        self.settle()
        self._note(self._session.quiz.toggle())

    def settle(self) -> None:
        """No question stays open: the class's is revealed, the quiz's own skipped.
        Before another lesson (``o``), a jump (``:``) or an edit (``E``): the held step,
        sent after them, would land in the wrong place on every follower's screen."""
        if self._session.class_question.posed is not None:
            self.reveal()
        elif self._session.quiz.asking is not None:
            self.answer(None)

    def answer(self, text: str | None) -> None:
        """The answer typed in the prompt (None: skipped): the class's question's, or
        the quiz's own (whose step is then drawn)."""
        question = self._session.class_question
        if question.asked is not None and self._session.quiz.asking is None:
            said = question.answer(text)
            if isinstance(said, str):  # not a number: the question stays open
                self._prompt().hint(said)
                return
            self._close()
            self._note(said)
            return
        verdict = self._session.quiz.answer(text)
        if verdict is None:
            return
        if isinstance(verdict, str):  # not a number: the question stays open
            self._prompt().hint(verdict)
            return
        self._close()
        self._note(verdict)

    def _heard(self, message: ClassMessage) -> None:
        """A class question's message: asked, tallied, revealed."""
        from ..classroom.protocol import Ask, Revealed, Tally, Withdrawn  # a class's only

        if isinstance(message, Tally):
            self._show_tally()
        elif isinstance(message, Ask) and self._session.following():
            if self._session.quiz.asking is None:
                self._stop()
                # In the student's language (the teacher's text if it came without words).
                prompt = message.prompt if message.words is None else said(message.words)
                self._ask(shown(prompt))  # in ASCII mode, spelled in ASCII
        elif isinstance(message, Revealed | Withdrawn):
            if self._session.quiz.asking is None and self._prompt().display:
                self._close()
            if isinstance(message, Revealed):
                self._note(self._session.class_question.verdict(message))
            else:
                self._note(Message(Kind.STEP, _(WITHDRAWN)))
