"""Class questions on the server: who was asked, what each answered, the tally.

With the teacher's quiz on, a step that reveals a value is held on the teacher's
screen and posed to the class (:class:`~bptui.classroom.protocol.Pose`, with
torch's value from the teacher's app). The value stays here: every following
student is asked without it (:class:`~bptui.classroom.protocol.Ask`), and their
answers are checked against it with the quiz's own rule
(:func:`bptui.app.quiz.is_right`). The teacher's screen is sent the tally as
answers arrive; the teacher's next key reveals, and each student asked is told
torch's value and what they said. A student who does not answer is *not
answered*, never wrong.

This module is plain bookkeeping: no network, no clock (``tests/test_questions.py``).
A student is any object (a session, hashed as itself), with the name and address it had
when it was first asked kept for the teacher's handout.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..app.quiz import is_right
from ..classroom.protocol import (
    MAX_QUESTIONS,
    MAX_SEATS,
    MAX_WRONG,
    Ask,
    Pose,
    Results,
    Score,
    Tally,
)

#: A student: a session, as the classroom knows them.
S = TypeVar("S")


def same_answer(value: float) -> float:
    """Answers that differ only past the fourth significant digit are counted together."""
    rounded = float(f"{value:.4g}")
    return rounded if math.isfinite(rounded) else value  # 1.7977e308 is past float's range


@dataclass
class _Open(Generic[S]):
    """The question the class is answering now."""

    ask: Ask
    value: float
    #: Everyone asked, and what they answered (None: not yet).
    answers: dict[S, float | None] = field(default_factory=dict)


class Questions(Generic[S]):
    """A class's questions: the one open, those revealed, every student's score."""

    def __init__(self) -> None:
        self.open: _Open[S] | None = None
        #: Every question revealed, as its last tally (with torch's value).
        self.revealed: list[Tally] = []
        #: (name, address, right, asked) of every student ever asked.
        self._scores: dict[S, list[str | int]] = {}
        self._next = 1

    def pose(self, pose: Pose) -> Ask:
        """The teacher's question is the class's (one still open is withdrawn, uncounted)."""
        ask = Ask(self._next, pose.name, pose.prompt, pose.words)
        self._next += 1
        self.open = _Open[S](ask, pose.value)
        return ask

    def ask(self, student: S, name: str, address: str) -> Ask | None:
        """``student`` follows now: the question to ask them (again, if they have not
        answered), or None (nothing open, or answered already)."""
        question = self.open
        if question is None or question.answers.get(student) is not None:
            return None
        if student not in question.answers and len(question.answers) >= MAX_SEATS:
            return None
        question.answers[student] = None
        if student not in self._scores and len(self._scores) < MAX_SEATS:
            self._scores[student] = [name, address, 0, 0]
        return question.ask

    def drop(self, student: S) -> bool:
        """``student`` no longer follows (or left): not counted, unless they answered.
        Whether the tally changed."""
        question = self.open
        if question is None or student not in question.answers:
            return False
        if question.answers[student] is not None:
            return False
        del question.answers[student]
        return True

    def answer(self, student: S, qid: int, value: float) -> bool:
        """``student`` answered question ``qid`` (their last answer counts). Whether it
        was counted: they were asked this question and it is still open."""
        question = self.open
        if question is None or question.ask.qid != qid or student not in question.answers:
            return False
        question.answers[student] = value
        return True

    def tally(self) -> Tally | None:
        """The open question's answers so far (None when none is open)."""
        return None if self.open is None else _tally(self.open, revealed=False)

    def reveal(self) -> tuple[Tally, list[tuple[S, float | None]]] | None:
        """Close the open question: its final tally (with torch's value) and what each
        student asked answered (None: not answered). None when none is open."""
        question, self.open = self.open, None
        if question is None:
            return None
        for student, answer in question.answers.items():
            score = self._scores.get(student)
            if score is not None:
                score[3] = int(score[3]) + 1
                if answer is not None and is_right(answer, question.value):
                    score[2] = int(score[2]) + 1
        tally = _tally(question, revealed=True)
        if len(self.revealed) < MAX_QUESTIONS:
            self.revealed.append(tally)
        return tally, list(question.answers.items())

    def withdraw(self) -> tuple[int, list[S]]:
        """The teacher left before revealing: the open question is closed, counted for
        no one; its id and everyone asked (none when nothing was open)."""
        question, self.open = self.open, None
        if question is None:
            return 0, []
        return question.ask.qid, list(question.answers)

    def score(self, student: S) -> tuple[int, int]:
        """(right, asked) of ``student`` so far."""
        score = self._scores.get(student)
        return (0, 0) if score is None else (int(score[2]), int(score[3]))

    def results(self) -> Results:
        """Every question revealed and every student's score, for the teacher's handout."""
        scores = (Score(str(n), str(a), int(r), int(k)) for n, a, r, k in self._scores.values())
        ordered = sorted(scores, key=lambda s: (s.name, s.address))
        return Results(tuple(self.revealed), tuple(ordered))


def _tally(question: _Open[S], revealed: bool) -> Tally:
    given = [a for a in question.answers.values() if a is not None]
    right = [a for a in given if is_right(a, question.value)]
    wrong = Counter(same_answer(a) for a in given if not is_right(a, question.value))
    common = sorted(wrong.items(), key=lambda pair: (-pair[1], pair[0]))[:MAX_WRONG]
    return Tally(
        question.ask.qid,
        question.ask.name,
        asked=len(question.answers),
        answered=len(given),
        right=len(right),
        wrong=tuple(common),
        value=question.value if revealed else None,
    )
