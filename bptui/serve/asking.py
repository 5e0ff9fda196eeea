"""A class question on a view-group member's screen: their prompt and their typing.

A member watches the group's app, which draws for everyone and hears no one, so
it cannot ask them anything. The server asks instead: it writes the question
over the message line (the row above the key footer) of that member's terminal
only, writes it again after each of the group's frames (the app may redraw the
row), and reads their keys into a small line editor: digits, ``.``, ``-``,
``e``, ``/``, backspace, enter, escape. Every other key keeps its meaning (``q``
leaves, ``t`` explores). Once the teacher reveals, the same row says torch's
value and whether the member was right, for a few seconds.

:class:`MemberPrompt` is plain state and text: no network, no clock
(``tests/test_member_prompt.py``); :class:`PromptRow` draws its line on the
member's terminal with :func:`bptui.serve.notes.note`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..app.quiz import is_right, read_number
from ..classroom.protocol import Answer, Ask
from ..glyphs import to_ascii
from ..i18n import N_
from ..lesson.values import short
from .groups import ViewGroup
from .notes import note, unnote
from .speech import say

#: The longest answer a member may type (a number needs far fewer characters).
MAX_TYPED = 24
#: Seconds the verdict stays on the member's screen after the reveal.
SHOWN = 12.0
#: Bytes the editor takes while a question is open (each key one byte).
TYPED = frozenset(b"0123456789.-+eE/")
BACKSPACE = (b"\x7f", b"\x08")
ENTER = (b"\r", b"\n")
ESCAPE = b"\x1b"

_ASKING = N_("{prompt} = {typed}_   enter sends, esc skips")
_SENT = N_("You said {answer}: torch's value comes when the teacher reveals it (type to change).")
_NOT_A_NUMBER = N_('"{typed}" is not a number: type e.g. -2, 0.5, 1e-3 or 2/3 (esc skips).')
_SKIPPED = N_("Not answered: {name} will be revealed by the teacher.")
_RIGHT = N_("Right: {name} = {value} (you said {answer}).")
_WRONG = N_("Not quite: you said {answer}, torch says {how}.")
_UNANSWERED = N_("Not answered (not scored): {name} = {value}.")


def _num(value: float) -> str:
    return short(value, 6)


class MemberPrompt:
    """One member's class question: asked, typed, sent, then revealed."""

    def __init__(self) -> None:
        #: The question asked (None: no question on this member's screen).
        self.ask: Ask | None = None
        self.typed = ""
        #: The answer sent, if any (their last one counts).
        self.sent: float | None = None
        #: What the row says instead of the prompt (a hint, a verdict), marked with N_.
        self._said: tuple[str, dict[str, str]] | None = None
        #: The verdict is up: the row goes back to the app once it has been read.
        self.revealed = False

    @property
    def editing(self) -> bool:
        """A question is open: the member's number keys are their answer's."""
        return self.ask is not None and not self.revealed

    def start(self, ask: Ask) -> None:
        """Ask ``ask`` (a new question replaces one still open)."""
        if self.ask is not None and self.ask.qid == ask.qid and not self.revealed:
            return  # asked again (a group joined, a late roll call): keep the typing
        self.ask, self.typed, self.sent, self._said, self.revealed = ask, "", None, None, False

    def takes(self, key: bytes) -> bool:
        """Whether ``key`` is the editor's now (else it keeps its usual meaning)."""
        if not self.editing:
            return False
        return (len(key) == 1 and key[0] in TYPED) or key in (*BACKSPACE, *ENTER, ESCAPE)

    def type(self, key: bytes) -> float | None:
        """A key the editor takes (see :meth:`takes`): the answer to send on enter,
        when what was typed is a number; None otherwise."""
        if key in BACKSPACE:
            self.typed, self._said = self.typed[:-1], None
        elif key == ESCAPE:
            self.typed = ""
            if self.sent is None and self.ask is not None:
                self._said = (_SKIPPED, {"name": self.ask.name})
        elif key in ENTER:
            if not self.typed:
                return None
            answer = read_number(self.typed)
            if answer is None:
                self._said = (_NOT_A_NUMBER, {"typed": self.typed})
                return None
            self.sent, self.typed = answer, ""
            self._said = (_SENT, {"answer": _num(answer)})
            return answer
        elif len(self.typed) < MAX_TYPED:
            self.typed += chr(key[0])
            self._said = None
        return None

    def reveal(self, value: float, answer: float | None) -> None:
        """The teacher revealed: torch's ``value``, and the answer the server counted."""
        if self.ask is None:
            return
        name = self.ask.name
        if answer is None:
            self._said = (_UNANSWERED, {"name": name, "value": _num(value)})
        elif is_right(answer, value):
            self._said = (_RIGHT, {"name": name, "value": _num(value), "answer": _num(answer)})
        else:
            how = f"{name} = {_num(value)}"
            self._said = (_WRONG, {"answer": _num(answer), "how": how})
        self.revealed = True

    def close(self) -> None:
        """Nothing on the row any more (the verdict was read, or they left the group)."""
        self.ask, self.typed, self._said, self.revealed = None, "", None, False

    def line(self, language: str) -> str | None:
        """The row's text in ``language`` (None: the app's own row shows)."""
        if self.ask is None:
            return None
        if self._said is None:
            words = self.ask.words  # the question in the student's language
            prompt = (
                self.ask.prompt
                if words is None
                else say(language, words.sentence, **words.fields())
            )
            return say(language, _ASKING, prompt=prompt, typed=self.typed)
        message, fields = self._said
        return say(language, message, **fields)


class PromptRow:
    """A member's prompt on their terminal: over their group's message row, drawn
    again after each of the group's frames; the verdict taken back after a while.

    ``show`` writes to the member's terminal; ``language()`` is theirs."""

    def __init__(self, show: Callable[[bytes], None], language: Callable[[], str]) -> None:
        self.prompt = MemberPrompt()
        self._show = show
        self._language = language
        self._timer: asyncio.TimerHandle | None = None

    def start(self, ask: Ask, group: ViewGroup) -> None:
        """``ask`` on the member's screen."""
        self.prompt.start(ask)
        self.draw(group)

    def type(self, key: bytes) -> Answer | None:
        """A key of the answer typed (see :meth:`MemberPrompt.takes`): the answer to
        count, when enter sends a number."""
        value, ask = self.prompt.type(key), self.prompt.ask
        return Answer(ask.qid, value) if value is not None and ask is not None else None

    def draw(self, group: ViewGroup | None, again: bool = False) -> None:
        """The prompt (or verdict) over ``group``'s screen, or the app's row back;
        ``again``: only if there is one (after the group's app drew)."""
        if group is None or (again and self.prompt.ask is None):
            return
        line = self.prompt.line(self._language())
        view, mirror = group.view, group.mirror
        if line and view.ascii_only:
            line = to_ascii(line)  # the question is the teacher's: ŷ, ∂ and − in ASCII
        self._show(note(line, view, mirror, above=1) if line else unnote(view, mirror, above=1))

    def reveal(self, value: float | None, answer: float | None, group: ViewGroup | None) -> None:
        """The verdict on the member's screen, the app's row back after :data:`SHOWN`
        (``value`` None: the question was withdrawn, and the row is back at once)."""
        if value is None:
            self.close()
            self.draw(group)
            return
        self.prompt.reveal(value, answer)
        self.draw(group)
        if self._timer is not None:
            self._timer.cancel()
        asked = self.prompt.ask
        self._timer = asyncio.get_running_loop().call_later(SHOWN, self._read, asked, group)

    def _read(self, asked: Ask | None, group: ViewGroup | None) -> None:
        self._timer = None
        if self.prompt.ask is asked and self.prompt.revealed:
            self.prompt.close()
            self.draw(group)

    def close(self) -> None:
        """The member leaves the group (for an app of their own, or for good)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.prompt.close()
