"""Class questions in the app: the teacher's question posed to the class, a
follower's question answered.

With the teacher's quiz on, a step that reveals a value is held on the
teacher's screen (:class:`~bptui.app.quiz.Quiz`) and, in a class, posed to
every follower instead of asked of the teacher: the server is sent torch's
value with the question (:class:`~bptui.classroom.protocol.Pose`) and keeps
it; the teacher's screen shows the answers as the server tallies them
(:func:`tally_lines`), without the value (the screen may be projected). The
teacher's next stepping key reveals: the held step goes to the class, then
:class:`~bptui.classroom.protocol.Reveal`.

A follower with an app of their own is asked in the quiz's prompt
(:class:`~bptui.classroom.protocol.Ask`, which carries no value), answers once
or again until the reveal, and hears torch's value and their verdict with
:class:`~bptui.classroom.protocol.Revealed`. Followers who watch a view group
are asked by the server itself (``bptui/serve/asking.py``). Plain: no Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import glyphs
from ..i18n import _
from ..lesson.snapshot import Kind, Message
from ..lesson.values import short
from .quiz import Question, is_right, not_a_number, read_number

if TYPE_CHECKING:
    from ..classroom.protocol import Ask, Revealed, Tally
    from ..classroom.protocol import Message as ClassMessage
    from .classlink import ClassLink

# The wire's messages are imported where a class needs them (a link exists): an
# app on its own starts without them (see bptui/classroom/commands.py).

#: Most wrong answers the teacher's screen lists.
SHOWN_WRONG = 4


def _num(value: float) -> str:
    return short(value, 6)


def _clip(text: str, longest: int) -> str:
    """``text`` as the protocol takes it: printable, at most ``longest`` characters."""
    text = "".join(c if c.isprintable() else " " for c in text)
    return text if len(text) <= longest else text[: longest - 1] + "…"


def tally_lines(prompt: str, tally: Tally | None, width: int) -> list[str]:
    """The teacher's view of a class question: the question, the counts, and a small
    histogram of the most common wrong answers (torch's value is not shown)."""
    lines = [_("Class question: {prompt}").format(prompt=prompt)]
    if tally is None:
        return [*lines, _("Asking the class…"), *[""] * SHOWN_WRONG, _reveal_hint()]
    lines.append(
        _("answered {n} of {m} · right {r} · wrong {w} · not answered {s}").format(
            n=tally.answered,
            m=tally.asked,
            r=tally.right,
            w=tally.answered - tally.right,
            s=tally.asked - tally.answered,
        )
    )
    wrong = tally.wrong[:SHOWN_WRONG]
    if wrong:
        labels = [_num(value) for value, _count in wrong]
        pad = max(len(label) for label in labels)
        most = max(count for _value, count in wrong)
        room = min(max(width - pad - 24, 4), 40)
        bar = glyphs.glyph("█", "#")
        for label, (_value, count) in zip(labels, wrong, strict=True):
            length = max(1, round(room * count / most))
            lines.append("  " + _("wrong {answer}").format(answer=label.rjust(pad)))
            lines[-1] += f"  {bar * length} {count}"
    # As many rows whatever the answers: the panels above keep their size.
    return [*lines, *[""] * (2 + SHOWN_WRONG - len(lines)), _reveal_hint()]


def _reveal_hint() -> str:
    return _("space (or any stepping key) reveals torch's value to every student")


class ClassQuestion:
    """A session's class question, at either end of the class link."""

    def __init__(self, link: Callable[[], ClassLink | None]) -> None:
        self._link = link
        #: The teacher's question, posed and not yet revealed.
        self.posed: Question | None = None
        #: A follower's question, asked and not yet revealed; and their answer sent.
        self.asked: Ask | None = None
        self.sent: float | None = None
        #: Called with each class-question message that reached this app.
        self.listener: Callable[[ClassMessage], None] = lambda _message: None

    # ------------------------------------------------------------- the teacher's

    def pose(self, question: Question) -> bool:
        """The teacher's held step asks ``question``: posed to the class (True), or
        not (False: not the teacher in a class, who answers it alone)."""
        link = self._link()
        if link is None or not link.is_teacher:
            return False
        from ..classroom.protocol import MAX_NAME, MAX_PROMPT, Pose, Words

        self.posed, link.tally = question, None
        words = question.words
        if words is not None:  # each name as short as the wire takes it
            words = Words(words.prompt, tuple(_clip(n, MAX_PROMPT) for n in words.names))
        name, prompt = _clip(question.name, MAX_NAME), _clip(question.prompt, MAX_PROMPT)
        link.send(Pose(name, prompt, question.value, words))
        return True

    def tally(self) -> Tally | None:
        """The latest tally of the question posed (None before the first)."""
        link = self._link()
        return link.tally if link is not None and self.posed is not None else None

    def reveal(self) -> Message | None:
        """The teacher's next key: the value to every student (the held step was sent
        first); what the teacher's screen says."""
        question, self.posed = self.posed, None
        link = self._link()
        if question is None or link is None:
            return None
        from ..classroom.protocol import Reveal

        tally = link.tally
        link.send(Reveal())
        if tally is None:
            return Message(Kind.STEP, f"{question.name} = {_num(question.value)}.")
        return Message(
            Kind.STEP,
            _("{name} = {value}: {r} of {m} right, {w} wrong, {s} not answered.").format(
                name=question.name,
                value=_num(question.value),
                r=tally.right,
                m=tally.asked,
                w=tally.answered - tally.right,
                s=tally.asked - tally.answered,
            ),
        )

    # ------------------------------------------------------------- a follower's

    def heard(self, message: ClassMessage) -> None:
        """A class-question message from the server."""
        from ..classroom.protocol import Ask, Withdrawn

        if isinstance(message, Ask):
            if self.asked is None or self.asked.qid != message.qid:
                self.sent = None
            self.asked = message
        elif isinstance(message, Withdrawn):
            self.asked = None
        self.listener(message)

    def answer(self, text: str | None) -> Message | str:
        """The answer typed in the quiz's prompt (None: skipped): what to say once the
        prompt closes, or a hint (str) when the text is not a number."""
        asked, link = self.asked, self._link()
        if asked is None or link is None:
            return Message(Kind.STEP, "")
        if text is None:
            return Message(
                Kind.STEP,
                _("Not answered: {name} will be revealed by the teacher.").format(name=asked.name),
            )
        value = read_number(text)
        if value is None:
            return not_a_number(text)
        from ..classroom.protocol import Answer

        self.sent = value
        link.send(Answer(asked.qid, value))
        return Message(
            Kind.STEP,
            _("You said {answer}: torch's value comes when the teacher reveals it.").format(
                answer=_num(value)
            ),
        )

    def verdict(self, revealed: Revealed) -> Message:
        """The teacher revealed: torch's value, and whether this student was right."""
        asked, self.asked = self.asked, None
        # None: asked on the group's screen, answered there, then off to explore with an
        # app of their own: this app never saw the question's name.
        name = asked.name if asked is not None and asked.qid == revealed.qid else None
        value, answer = _num(revealed.value), revealed.answer
        if answer is None:
            text = (
                _("Not answered (not scored): torch says {value}.")
                if name is None
                else _("Not answered (not scored): {name} = {value}.")
            )
            return Message(Kind.STEP, text.format(name=name, value=value))
        if is_right(answer, revealed.value):
            text = (
                _("Right: torch says {value} (you said {answer}).")
                if name is None
                else _("Right: {name} = {value} (you said {answer}).")
            )
            return Message(Kind.STEP, text.format(name=name, value=value, answer=_num(answer)))
        how = value if name is None else f"{name} = {value}"
        text = _("Not quite: you said {answer}, torch says {how}.")
        return Message(Kind.TEACH, text.format(answer=_num(answer), how=how))
