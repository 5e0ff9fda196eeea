"""The lessons an app may switch to (``o``): the one it started with, and the built-ins.

A lesson is named here as the class protocol names it: a built-in lesson by its
file's name (``linear``, ``two-layer``…), and the lesson the app was started
with, when it is not exactly a built-in (a teacher's file, or a built-in with
other values given on the command line), by the empty name. Every app of a
class is forked from the same server, so each resolves a name to the same
lesson: a lesson file is the server's, and no path ever travels.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import _
from .files import builtin_names, load_lesson
from .spec import Lesson, LessonError

#: The name of the lesson the app was started with, when it is not a built-in.
STARTED = ""


@dataclass(frozen=True)
class Shelved:
    """One lesson on the shelf, by its name."""

    name: str
    lesson: Lesson


class Shelf:
    """The lessons one app can open, loaded (without torch) when first asked for."""

    def __init__(self, started: Lesson) -> None:
        self.started = started
        self._builtins: dict[str, Lesson] | None = None

    def _loaded(self) -> dict[str, Lesson]:
        if self._builtins is None:
            self._builtins = {name: load_lesson(name) for name in builtin_names()}
        return self._builtins

    def name_of(self, lesson: Lesson) -> str:
        """The name ``lesson`` is opened by (:data:`STARTED` if it is not a built-in)."""
        builtin = self._loaded().get(lesson.name)
        return lesson.name if builtin == lesson else STARTED

    def lessons(self) -> list[Shelved]:
        """The lesson started with first (unless it is a built-in), then the built-ins."""
        shelved = [Shelved(name, lesson) for name, lesson in self._loaded().items()]
        if self.name_of(self.started) == STARTED:
            shelved.insert(0, Shelved(STARTED, self.started))
        return shelved

    def get(self, name: str) -> Lesson:
        """The lesson called ``name`` (LessonError if there is none: another version's)."""
        if name == STARTED:
            return self.started
        lesson = self._loaded().get(name)
        if lesson is None:
            raise LessonError(_("no built-in lesson called {name}").format(name=repr(name)))
        return lesson
