"""Quiz mode (``--quiz``, ``Q``): predict each value before the step shows it.

On a single micro-step (space, f, b, u) the app takes the step on the stepper as
usual, then compares the new snapshot with the one before it. If the step revealed
a number (a node's value, a gradient ∂loss/∂…, a parameter's updated value), the
screen keeps showing the state before the step and the message line asks for a
prediction. Enter checks it (right within 1%, or 1e-3 near zero), shows torch's
number and, when it was wrong, how it is computed; Escape skips (not scored).
Either way the step is then drawn. Every number is still torch's: the quiz only
decides when it appears.

What the quiz does not ask, by design: keys that run many micro-steps (F, B, s,
e, autoplay, jumps) move on without questions; a vector or matrix value is shown
without a question (the chain panel's ``c`` writes out its elements); a step that
reveals nothing to compute (zeroing the gradient, a refused key) asks nothing. In
a classroom, a student following the teacher is not asked (their screen keeps pace
with the teacher's); exploring alone (``t``), their own steps are. The teacher's
own session starts with the quiz off; ``Q`` turns it on (the room predicts aloud),
and then each step reaches the class when the teacher's screen reveals it. In a class, that
question is the class's: every follower is asked it and the teacher's screen
shows the answers as they arrive (see :mod:`bptui.app.classquiz`).

The score counts the questions at or before the current point: each answer is kept
with the micro-step it belongs to, and undoing (or jumping back past) that step
un-asks it.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..classroom.commands import Command, Step
from ..classroom.words import Words
from ..i18n import _
from ..lesson.snapshot import Kind, Message, NodeView, Snapshot
from ..lesson.values import short
from .settings import Settings

if TYPE_CHECKING:
    from .classlink import ClassLink

#: The single micro-steps that may ask (the keys that run many never do).
ASKING = frozenset({"next", "forward", "backward", "update"})
#: Right within this relative error…
RELATIVE = 0.01
#: …or this absolute error (for values near zero).
ABSOLUTE = 1e-3
#: Minus signs a keyboard or an input method may give, read as ``-``.
_MINUSES = {"\u2212": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-"}


@dataclass(frozen=True)
class Question:
    """One value a step revealed, to be predicted before it is shown."""

    #: Micro-steps done once the step is taken (where the answer belongs, for undo).
    position: int
    #: What is asked, as the panels name it: ``ŷ``, ``∂loss/∂r``, ``w``.
    name: str
    #: The prompt: ``Predict ŷ = x_val * w``.
    prompt: str
    #: torch's number.
    value: float
    #: How it is computed, with the numbers: ``∂loss/∂ŷ = ∂loss/∂r · ∂r/∂ŷ = -2 · 1 = -2``.
    how: str
    #: The prompt as words: the class reads it each in their own language.
    words: Words | None = None


def _num(value: object) -> str:
    return short(value, 6)


def _scalar(value: object) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def question_for(before: Snapshot, after: Snapshot) -> Question | None:
    """The value the step from ``before`` to ``after`` revealed, if there is one to ask."""
    if after.micro_steps <= before.micro_steps:
        return None  # refused, or not a step forward
    return _update(before, after) or _backward(before, after) or _forward(before, after)


def _update(before: Snapshot, after: Snapshot) -> Question | None:
    for old, new in zip(before.params, after.params, strict=False):
        if old.name != new.name or old.data == new.data:
            continue
        if not (_scalar(new.data) and _scalar(old.data) and _scalar(old.grad)):
            continue  # a vector or matrix: the next parameter, if one is a number
        name = new.name
        how = "{p} = {p} − lr · {p}.grad = {old} − {lr} · ({grad}) = {new}".format(
            p=name, old=_num(old.data), lr=f"{after.lr:g}", grad=_num(old.grad), new=_num(new.data)
        )
        words = Words(0, (name,))
        return Question(after.micro_steps, name, said(words), float(new.data), how, words)  # type: ignore[arg-type]
    return None


def _current(after: Snapshot) -> NodeView | None:
    return next((n for n in after.nodes if n.current and n.kind == "op"), None)


def _backward(before: Snapshot, after: Snapshot) -> Question | None:
    out = _current(after)
    if out is None or out.grad is None:
        return None
    for wrt in out.inputs:
        if wrt is None:
            continue
        old, new = before.node(wrt), after.node(wrt)
        if new.grad is None or new.grad == old.grad:
            continue
        factor = next((f for f in after.factors if f.out == out.name and f.wrt == wrt), None)
        if factor is None or not (_scalar(new.grad) and _scalar(out.grad)):
            continue  # a vector or matrix: the next input, if one is a number
        if not _scalar(factor.value):
            continue
        loss = after.loss_label
        name = f"∂{loss}/∂{new.label}"
        local = _num(factor.value)
        formula = "" if factor.formula == local else f" = {factor.formula}"
        if name == factor.name:  # through the loss itself: ∂loss/∂loss = 1
            how = f"{name}{formula} = {_num(new.grad)}"
        else:
            up = f"∂{loss}/∂{out.label}"
            start = f"{_num(old.grad)} + " if _scalar(old.grad) else ""
            how = (
                f"{name} = {start}{up} · {factor.name} = {start}{_num(out.grad)} · "
                f"{factor.formula} = {start}{_num(out.grad)} · {local} = {_num(new.grad)}"
                if formula
                else f"{name} = {start}{up} · {factor.name} = {start}{_num(out.grad)} · "
                f"{local} = {_num(new.grad)}"
            )
        words = Words(1, (name, out.label))
        return Question(after.micro_steps, name, said(words), float(new.grad), how, words)  # type: ignore[arg-type]
    return None


def _forward(before: Snapshot, after: Snapshot) -> Question | None:
    node = _current(after)
    if node is None or node.value is None or node.grad is not None:
        return None
    if before.node(node.name).value is not None or not _scalar(node.value):
        return None
    source = after.last_source or node.label
    inputs = ", ".join(
        f"{after.node(name).label} = {_num(after.node(name).value)}"
        for name in dict.fromkeys(node.inputs)
        if name is not None
    )
    how = _("{source}, with {inputs}: {name} = {value}").format(
        source=source, inputs=inputs, name=node.label, value=_num(node.value)
    )
    words = Words(2, (source,))
    return Question(after.micro_steps, node.label, said(words), float(node.value), how, words)  # type: ignore[arg-type]


def said(words: Words) -> str:
    """A question's prompt in the language spoken now."""
    return _(words.sentence).format(**words.fields())


def read_number(text: str) -> float | None:
    """The number typed: ``-2``, ``0.5``, ``1e-3``, ``−2`` (a Unicode minus), ``2/3``,
    full-width digits; None for anything else (never evaluated as code)."""
    text = unicodedata.normalize("NFKC", text).strip()
    for minus, ascii_minus in _MINUSES.items():
        text = text.replace(minus, ascii_minus)
    text = text.replace(" ", "")
    parts = text.split("/")
    if not 1 <= len(parts) <= 2 or any("_" in p or not p for p in parts):
        return None
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    if not all(math.isfinite(n) for n in numbers):
        return None
    if len(numbers) == 2:
        if numbers[1] == 0:
            return None
        return numbers[0] / numbers[1]
    return numbers[0]


def not_a_number(text: str) -> str:
    """The hint when what was typed is not a number (the question stays open)."""
    typed = text.strip()
    if not typed:  # enter on an empty answer: not '"" is not a number'
        return _("Type a number first: e.g. -2, 0.5, 1e-3 or 2/3 (esc skips).")
    shown = typed if len(typed) <= 8 else typed[:7] + "…"
    return _('"{typed}" is not a number: type e.g. -2, 0.5, 1e-3 or 2/3 (esc skips).').format(
        typed=shown
    )


def is_right(answer: float, value: float) -> bool:
    """Within 1% of torch's number, or 1e-3 of it near zero."""
    return abs(answer - value) <= max(RELATIVE * abs(value), ABSOLUTE)


class Stepping(Protocol):
    """What the quiz reads of the engine (:class:`~bptui.lesson.engine.Stepper`)."""

    @property
    def micro_steps(self) -> int: ...
    @property
    def message(self) -> Message | None: ...
    def snapshot(self) -> Snapshot: ...


class Asker(Protocol):
    """What the quiz needs of its session (:class:`~bptui.app.session.LessonSession`)."""

    @property
    def stepper(self) -> Stepping | None: ...
    @property
    def link(self) -> ClassLink | None: ...
    @property
    def settings(self) -> Settings: ...

    def following(self) -> bool: ...
    def apply_command(self, command: Command) -> None: ...
    def send_command(self, command: Command) -> None: ...


class Quiz:
    """A session's quiz: on or off, the question open, and the answers kept.

    :meth:`take` takes a single micro-step and finds what it revealed; the app
    asks the question (:class:`~bptui.app.screens.quiz_prompt.QuizPrompt`) and
    keeps the screen at the state before the step until :meth:`answer`.
    """

    def __init__(self, session: Asker) -> None:
        self._session = session
        #: On or off, once decided (None: from the settings when first needed).
        self._on: bool | None = None
        #: (position, right) of every question answered at or before the current point.
        self._log: tuple[tuple[int, bool], ...] = ()
        #: The question on the message line, waiting for an answer.
        self.asking: Question | None = None
        #: The step asked about, sent to the class (if this is the teacher) once revealed.
        self._sends: Command | None = None

    @property
    def on(self) -> bool:
        if self._on is None:
            # The teacher's session starts without the quiz: the class sees each step
            # as the teacher takes it (Q turns it on, for a room predicting aloud).
            link = self._session.link
            teacher = link is not None and link.is_teacher
            self._on = self._session.settings.quiz and not teacher
        return self._on

    def holds(self) -> bool:
        """A question is open: the screen keeps the state before the step."""
        return self.asking is not None

    def score(self) -> str | None:
        """``quiz 1/2`` for the status bar (right/asked so far), None with the quiz off."""
        tally = self.tally()
        if tally is None:
            return None
        link = self._session.link
        if link is not None and link.is_teacher:
            # The teacher asks the class and answers nothing: a score of theirs
            # ("quiz 0/0") would be untrue. The class's answers are in C.
            return _("quiz on")
        return _("quiz {right}/{asked}").format(right=tally[0], asked=tally[1])

    def tally(self) -> tuple[int, int] | None:
        """(right, asked) so far, None with the quiz off and nothing asked."""
        stepper = self._session.stepper
        if stepper is not None:
            here = stepper.micro_steps
            if any(position > here for position, _right in self._log):
                # Undone, or jumped back past: those questions are un-asked.
                self._log = tuple(a for a in self._log if a[0] <= here)
        if not self.on and not self._log:
            return None
        return sum(1 for _position, ok in self._log if ok), len(self._log)

    def toggle(self) -> Message:
        """Q: the quiz on or off (the caller skips an open question first); what to say."""
        self._on = not self.on
        text = (
            _(
                "Quiz on: before a step shows a value, type your prediction and press enter "
                "(esc skips). Q turns it off."
            )
            if self._on
            else _("Quiz off: steps show their values at once. Q turns it on again.")
        )
        return Message(Kind.STEP, text)

    def take(self, action: str, drawn: bool) -> Question | bool | None:
        """Take a single micro-step and find what it reveals (``drawn``: the lesson is
        on the screen). None leaves the step to the caller (the quiz is off, or this
        step never asks); False: a key while a question is open, ignored; True: the
        step is taken and sent, nothing to ask; a question: ask it, the step held."""
        session = self._session
        stepper = session.stepper
        if self.asking is not None:
            return False
        if stepper is None or not self.on or action not in ASKING or session.following():
            return None
        if not drawn:
            return None  # keys pressed while PyTorch loaded: nothing drawn yet to keep
        before = stepper.snapshot()
        command = Step(action)
        session.apply_command(command)
        question = question_for(before, stepper.snapshot())
        if question is None:
            session.send_command(command)
            return True
        self.asking, self._sends = question, command
        return question

    def release(self) -> None:
        """The teacher's class question is revealed: the held step goes to the class
        (before the reveal, so each follower's screen has the value when told it)."""
        self.asking = None
        if self._sends is not None:
            self._session.send_command(self._sends)
            self._sends = None

    def answer(self, text: str | None) -> Message | str | None:
        """The answer typed (None: skipped): the verdict to show once the step is
        drawn; a hint when the text is not a number (the question stays open); None
        when no question is open."""
        question = self.asking
        if question is None:
            return None
        value = _num(question.value)
        if text is None:
            verdict = _("Skipped (not scored): {name} = {value}.").format(
                name=question.name, value=value
            )
            kind = Kind.STEP
        else:
            answer = read_number(text)
            if answer is None:
                return not_a_number(text)
            right = is_right(answer, question.value)
            self._log = (
                *(a for a in self._log if a[0] != question.position),
                (question.position, right),
            )
            if right:
                verdict = _("Right: {name} = {value} (you said {answer}).").format(
                    name=question.name, value=value, answer=_num(answer)
                )
                kind = Kind.STEP
            else:
                verdict = _("Not quite: you said {answer}, torch says {how}.").format(
                    answer=_num(answer), how=question.how
                )
                kind = Kind.TEACH
        stepper = self._session.stepper
        said = stepper.message if stepper is not None else None
        if said is not None and said.kind in (Kind.TEACH, Kind.DIVERGED):
            # A teaching moment or a divergence in the step: said after the verdict.
            verdict, kind = f"{verdict}  {said.text}", said.kind
        self.asking = None
        if self._sends is not None:
            # A teacher's step reaches the class when the teacher's screen reveals it.
            self._session.send_command(self._sends)
            self._sends = None
        return Message(kind, verdict)
