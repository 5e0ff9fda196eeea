"""The lesson engine: a lesson's training loop on a real torch tensor, step by step.

Pure engine: imports torch, never a view library. Importing this package is
cheap; torch is loaded on first use of :class:`Stepper`, so the command line
can check a lesson's values before paying for the torch import.

>>> from bptui.lesson import Stepper, seed_lesson
>>> s = Stepper(seed_lesson())
>>> s.finish_forward(); s.snapshot().loss
True
1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .files import seed_lesson
from .numbers import parse_init, parse_numbers
from .snapshot import Kind, Message, Phase, Snapshot
from .spec import Lesson, LessonError, Node, make_lesson

__all__ = [
    "Action",
    "Kind",
    "Lesson",
    "LessonError",
    "Message",
    "Node",
    "Phase",
    "Snapshot",
    "StepRecord",
    "Stepper",
    "make_lesson",
    "parse_init",
    "parse_numbers",
    "seed_lesson",
]

if TYPE_CHECKING:  # loaded on first use (torch), but visible to the type checker
    from .engine import Action, Stepper, StepRecord

_ENGINE = {"Action", "StepRecord", "Stepper"}


def __getattr__(name: str) -> Any:
    if name in _ENGINE:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
