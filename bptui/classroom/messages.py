"""Every message of the class protocol, as a frozen class (plain data).

What travels between a session's app and the classroom server: the teacher's
commands (:mod:`bptui.classroom.commands`, which every app needs from its
first key; these only in a class), the class's presence and log, the
teacher's roster and where explorers are, and class questions (asked,
answered, tallied, revealed).
How each looks on the wire, and the checks of every field, are
:mod:`bptui.classroom.protocol`'s alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from .commands import Command
from .words import Words

# ------------------------------------------------------------------ messages


@dataclass(frozen=True)
class Presence:
    """Server → every app: whether a teacher is connected, how many students (people,
    not apps), and how many of them explore alone."""

    teacher: bool
    students: int
    exploring: int = 0


@dataclass(frozen=True)
class Hello:
    """Server → a new session: the class log to start from, and who is there."""

    log: tuple[Command, ...]
    presence: Presence


@dataclass(frozen=True)
class Sync:
    """Server → a student who rejoins the teacher (``t``): the class log again."""

    log: tuple[Command, ...]
    presence: Presence


@dataclass(frozen=True)
class Cmd:
    """Teacher's app → server → each following student's app: one command."""

    command: Command


@dataclass(frozen=True)
class Follow:
    """Student's app → server: following the teacher (``on``) or exploring alone."""

    on: bool


@dataclass(frozen=True)
class Seat:
    """One student as the teacher's class view lists them."""

    #: The SSH user name, cleaned by the server (printable, at most 32 characters).
    name: str
    address: str
    following: bool
    #: Seconds since their last key (a follower's clock runs with the teacher's steps).
    idle: int
    #: Class questions answered right, and asked (their score).
    right: int = 0
    asked: int = 0
    #: An explorer's training steps done, as their app last said (None: following,
    #: or not said yet).
    step: int | None = None


@dataclass(frozen=True)
class Roster:
    """Server → the teacher's app: every student connected."""

    seats: tuple[Seat, ...]


@dataclass(frozen=True)
class Recall:
    """Teacher's app → server: every student exploring alone follows again."""


@dataclass(frozen=True)
class Recalled:
    """Server → an exploring student's app: the teacher called the class back."""


@dataclass(frozen=True)
class Where:
    """An exploring student's app → server: how many training steps it has done
    (for the teacher's class view)."""

    step: int


@dataclass(frozen=True)
class Pose:
    """Teacher's app → server: ask every follower to predict ``name``. torch's ``value``
    stays on the server: students are sent an :class:`Ask`, which has no place for it."""

    name: str
    prompt: str
    value: float
    #: The prompt as words, for each student to read in their own language.
    words: Words | None = None


@dataclass(frozen=True)
class Ask:
    """Server → a following student's app: predict ``name`` (question ``qid``)."""

    qid: int
    name: str
    prompt: str
    #: The prompt as words, read in the student's language (``prompt`` is the teacher's).
    words: Words | None = None


@dataclass(frozen=True)
class Answer:
    """Student's app → server: the number predicted for question ``qid``."""

    qid: int
    value: float


@dataclass(frozen=True)
class Tally:
    """Server → the teacher's app: a class question's answers so far, or in the end."""

    qid: int
    name: str
    asked: int
    answered: int
    right: int
    #: The most common wrong answers and how many gave each, most first.
    wrong: tuple[tuple[float, int], ...] = ()
    #: torch's value once revealed (never sent while the question is open).
    value: float | None = None


@dataclass(frozen=True)
class Reveal:
    """Teacher's app → server: the open question's value is shown (its step went first)."""


@dataclass(frozen=True)
class Revealed:
    """Server → each student's app that was asked: torch's value of question ``qid``,
    and their answer as the server counted it (None: not answered)."""

    qid: int
    value: float
    answer: float | None = None


@dataclass(frozen=True)
class Withdrawn:
    """Server → each student's app that was asked: the teacher left before revealing
    question ``qid``; it is closed, and counts for no one."""

    qid: int


@dataclass(frozen=True)
class Score:
    """One student's class questions, for the teacher's handout."""

    name: str
    address: str
    right: int
    asked: int


@dataclass(frozen=True)
class Results:
    """Server → the teacher's app, after each reveal: every question revealed, every score."""

    questions: tuple[Tally, ...]
    scores: tuple[Score, ...]


@dataclass(frozen=True)
class Closed:
    """Not sent: what the app's link delivers when the server's end closes."""

    reason: str = field(default="")


Message: TypeAlias = (
    Presence
    | Hello
    | Sync
    | Cmd
    | Follow
    | Roster
    | Recall
    | Recalled
    | Where
    | Pose
    | Ask
    | Answer
    | Tally
    | Reveal
    | Revealed
    | Withdrawn
    | Results
    | Closed
)
