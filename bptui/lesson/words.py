"""A lesson's own words (its title, description, narration and notes) in the language
spoken now: a lesson file's ``title.zh``, ``[narration.zh]``… where it gives them,
else its English. Read on every call: the language can change while a lesson runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..i18n import language

if TYPE_CHECKING:
    from .spec import Lesson


def _own(lesson: Lesson, key: str, english: str) -> str:
    spoken = language()
    for lang, name, text in lesson.words:
        if lang == spoken and name == key:
            return text
    return english


def title(lesson: Lesson) -> str:
    return _own(lesson, "title", lesson.title)


def description(lesson: Lesson) -> str:
    return _own(lesson, "description", lesson.description)


def narration(lesson: Lesson, phase: str) -> str | None:
    """The lesson's line for ``phase`` (forward, backward, update, zero), if it has one."""
    said = _own(lesson, f"narration.{phase}", dict(lesson.narration).get(phase, ""))
    return said or None


def note(lesson: Lesson, label: str) -> Callable[[], str]:
    """The lesson's sentence about the value labelled ``label`` ("" if none), said in
    the language spoken when it is shown."""
    english = dict(lesson.notes).get(label, "")
    return lambda: _own(lesson, f"notes.{label}", english)
