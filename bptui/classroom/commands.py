"""The commands a key makes: what the class log holds and every follower replays.

A key that changes the lesson (a micro-step, an undo, an edit, a jump, another
lesson) becomes one of these frozen classes, in a class or not: the session runs commands and
the classroom server passes them on. They live apart from the wire's messages
(:mod:`bptui.classroom.messages`) because every app needs them from its first
key and the messages only in a class: each frozen dataclass compiles its methods
at import, and an app on its own starts without the many it would never use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

#: Largest repeat count of one command (autoplay folds its steps into one).
MAX_TIMES = 10**9


@dataclass(frozen=True)
class Step:
    """An engine action by its key-table name (``next``, ``undo``, ``train_step``…),
    run ``times`` times."""

    action: str
    times: int = 1


@dataclass(frozen=True)
class Jump:
    """``:`` and a step number: go to where ``step`` training steps are done."""

    step: int


@dataclass(frozen=True)
class Edit:
    """The edit form's change: the learning rate, scalar parameters, the data."""

    lr: float | None = None
    params: Mapping[str, float] | None = None
    x: Sequence[Any] | None = None
    y: Sequence[Any] | None = None


@dataclass(frozen=True)
class Open:
    """``o``: the class starts another lesson from its beginning.

    ``lesson`` is a built-in lesson's name, or ``""`` for the lesson the server
    was started with (a file of the teacher's, or a built-in with other values):
    a name every app forked from the server resolves alike, never a path.
    """

    lesson: str


Command: TypeAlias = Step | Jump | Edit | Open


def merge(log: list[Command], command: Command) -> None:
    """Append ``command`` to ``log``, folding runs of ``next``.

    Autoplay sends one ``next`` per frame; folding keeps the class log short
    without changing what replaying it does. Another lesson starts the log
    afresh: nothing before it changes where replaying it lands.
    """
    if isinstance(command, Open):
        log.clear()
    last = log[-1] if log else None
    if (
        isinstance(command, Step)
        and command.action == "next"
        and isinstance(last, Step)
        and last.action == "next"
    ):
        log[-1] = Step("next", min(MAX_TIMES, last.times + command.times))
    else:
        log.append(command)
