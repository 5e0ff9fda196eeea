"""One lesson being taught: the engine, the commands that move it, and who hears of them.

:class:`LessonSession` is what the app shows. It owns the
:class:`~bptui.lesson.engine.Stepper` (the only object that holds tensors),
applies a key's command to it and replays a class log, says each step to the
narration file (:class:`~bptui.app.narrate.Narration`), keeps the quiz's state
(:class:`~bptui.app.quiz.Quiz`) and holds the line to the class
(:class:`~bptui.app.classlink.ClassLink`). It draws nothing: when something
changed that the screen should show, it calls ``on_change`` and the app draws.

Outside a classroom (``link`` is None) the class part does nothing. In ``bptui
serve`` with a teacher, the teacher's session sends every command it applies; a
following student's session applies the same commands to its own stepper, so
every number stays torch's, computed in the student's own process.
Another lesson (``o``) is such a command too: it starts a new stepper here and
in every follower's app, and an explorer is told of it (see :meth:`open_lesson`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..classroom.commands import Command, Edit, Jump, Open, Step
from ..i18n import N_, _, ngettext
from ..lesson import words
from ..lesson.shelf import Shelf
from ..lesson.snapshot import Kind, Message
from ..lesson.spec import Lesson, LessonError
from .classquiz import ClassQuestion
from .keymap import ENGINE_ACTIONS, ENGINE_LABELS
from .narrate import Narration
from .quiz import Quiz
from .settings import Settings

if TYPE_CHECKING:
    from ..classroom.protocol import Message as ClassMessage
    from ..lesson.engine import Stepper
    from .classlink import ClassLink

FOLLOWING = N_(
    "You are following the teacher: their steps appear here as they make them. "
    "Press t to explore on your own."
)
_EXPLORING = N_(
    "Exploring alone from the teacher's step: every key works here. "
    "Press t to rejoin the teacher where they are now."
)
_REJOINED = N_("Following the teacher again, at their current step. Press t to explore alone.")
RECALLED = N_(
    "The teacher called the class back: you follow their steps again. Press t to explore alone."
)
OPENED = N_(
    "Now: {title}, from its start. The last lesson's steps are not kept (← undoes only in "
    "this one)."
)
_FOLLOWED = N_("The teacher has opened {title} for the class: it starts from the beginning.")
_CLASS_OPENED = N_(
    "The teacher has moved the class on to {title}. You keep exploring your lesson: "
    "t follows the class there."
)


def action_of(command: Command) -> str:
    """The action a command is said as: a key's action, ``jump`` or ``edit``."""
    if isinstance(command, Step):
        return command.action
    if isinstance(command, Open):
        return "open"
    return "jump" if isinstance(command, Jump) else "edit"


class LessonSession:
    """The lesson one app shows: its stepper, its commands, its narration, quiz and class."""

    def __init__(
        self,
        lesson: Lesson,
        stepper: Stepper | None = None,
        settings: Settings | None = None,
        link: ClassLink | None = None,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.lesson = lesson
        #: The lessons ``o`` may open: the one started with, and the built-ins.
        self.shelf = Shelf(lesson)
        #: None until PyTorch is loaded (the app loads it after its first frame).
        self.stepper: Stepper | None = stepper
        #: How this session looks and speaks (--ascii, …; see settings.py).
        self.settings = settings or Settings()
        #: In a classroom (``bptui serve`` with a teacher): the line to the server.
        self.link = link
        #: A note (a classroom's, a switch of language, a verdict) shown until the
        #: next step replaces it.
        self.note: Message | None = None
        self.narration = Narration(self.settings.narrate)
        self.quiz = Quiz(self)
        #: A class question: the teacher's posed, or a follower's asked.
        self.class_question = ClassQuestion(lambda: self.link)
        #: Called when the class changed what the screen should show.
        self.on_change = on_change
        #: The teacher called this explorer back: the class log on its way says so.
        self.recalled = False

    # ------------------------------------------------------------- the engine

    def engine_ready(self, stepper: Stepper) -> None:
        """The stepper is built: narrate what it does from now on."""
        self.stepper = stepper
        if self.narration.on:
            self.narration.start(stepper.snapshot())
            stepper.after_step = self._micro_step_taken

    def _micro_step_taken(self) -> None:
        if self.stepper is not None:
            self._said(self.narration.micro_step(self.stepper.snapshot))

    def _said(self, problem: str | None) -> None:
        if problem is not None:
            self.note = Message(Kind.REFUSED, problem)

    def apply_command(self, command: Command) -> None:
        """Run one command on the stepper (no drawing: a replay may run many).

        With ``--narrate``, the keys that step get a line per micro-step (the
        engine calls back); the others (an undo, a jump, an edit) one line for
        the whole key, from the snapshots before and after it.
        """
        stepper = self.stepper
        assert stepper is not None
        if isinstance(command, Open):
            self.open_lesson(command.lesson)
            self.note = Message(Kind.STEP, _(OPENED).format(title=self._title()))
        elif not self.narration.on:
            self._apply(stepper, command)
        else:
            before = self.narration.begin(stepper.snapshot, action_of(command))
            try:
                self._apply(stepper, command)
            finally:
                self.narration.quiet = False
            self._said(self.narration.end(before, stepper.snapshot(), action_of(command)))
        self._tell_step()

    def open_picked(self, name: str | None) -> None:
        """``o``'s choice (None: none): opened here and, by a teacher, for the class.
        An explorer called back while choosing follows again: their choice is dropped."""
        if name is not None and not self.following():
            self.run_command(Open(name))
            self.on_change()

    def open_lesson(self, name: str) -> Lesson:
        """Start the lesson called ``name`` (see :mod:`bptui.lesson.shelf`) on a new
        stepper. The last lesson's steps are not kept: a class's log starts afresh
        here, so ``←`` undoes only in this lesson, for the teacher and the class alike."""
        from ..lesson.engine import Stepper

        lesson = self.shelf.get(name)
        self.engine_ready(Stepper(lesson, labels=ENGINE_LABELS))
        self.lesson = lesson
        return lesson

    def _apply(self, stepper: Stepper, command: Step | Jump | Edit) -> None:
        self.note = None
        stepper.watching = self.following()
        if isinstance(command, Edit):
            stepper.edit(
                lr=command.lr,
                params=dict(command.params) if command.params is not None else None,
                x=list(command.x) if command.x is not None else None,
                y=list(command.y) if command.y is not None else None,
            )
            return
        if isinstance(command, Jump):  # `:` and a step number
            stepper.jump_to(command.step)
            return
        name = ENGINE_ACTIONS.get(command.action)
        if name is None:  # an action this version does not know: nothing to do
            return
        method = getattr(stepper, name)
        for _time in range(command.times):
            method()

    def send_command(self, command: Command) -> None:
        """Tell the class a command this session has just applied (a teacher's followers
        take it too; a student's or a lone session's goes nowhere)."""
        if self.link is not None:
            self.link.command(command)

    def run_command(self, command: Command) -> None:
        """A key's command: applied here, sent to the class (the caller draws it)."""
        self.apply_command(command)
        self.send_command(command)

    def replay(self, log: tuple[Command, ...]) -> None:
        """Bring a fresh stepper to the class's state: every command of the class log."""
        for command in log:
            self.apply_command(command)

    def close(self) -> None:
        """The app is ending: the narration file is closed."""
        self.narration.close()

    # ------------------------------------------------------------- the class

    def following(self) -> bool:
        """A student whose lesson is the teacher's: their stepping keys change nothing."""
        return self.link is not None and not self.link.is_teacher and self.link.following

    def _title(self) -> str:
        return words.title(self.lesson)

    def _tell_step(self) -> None:
        """Exploring alone: the server hears where (the teacher's class view shows it)."""
        link, stepper = self.link, self.stepper
        if link is not None and not link.following and stepper is not None:
            link.where(stepper.steps_done)

    def join_class(self) -> None:
        """Start listening to the classroom server (from the app's event loop)."""
        if self.link is None:
            return
        self.link.start(asyncio.get_running_loop(), self.on_class_message)
        if not self.link.is_teacher:
            self.note = Message(Kind.STEP, _(FOLLOWING))

    def class_badge(self) -> str | None:
        """Who this is in the class, for the status bar (None outside one)."""
        link = self.link
        if link is None:
            return None
        if link.is_teacher:
            n = link.students
            badge = ngettext("teacher · {n} student", "teacher · {n} students", n).format(n=n)
            if link.exploring:
                badge += _(" · {n} exploring").format(n=link.exploring)
            return badge
        if not link.following:
            return _("exploring")
        return _("following") if link.teacher_present else _("waiting for the teacher")

    def toggle_follow(self) -> bool:
        """Explore alone from the teacher's step (True: the screen says so now), or ask
        to rejoin the teacher (False: the server answers with the class log)."""
        link = self.link
        if link is None or link.is_teacher:
            return False
        if link.following:
            link.set_following(False)
            self.note = Message(Kind.STEP, _(_EXPLORING))
            self._tell_step()
            return True
        link.set_following(True)
        return False

    def on_class_message(self, message: ClassMessage) -> None:
        """A message from the classroom server (called on the event loop)."""
        # The wire's messages load with the class link (classlink.py), not at start.
        from ..classroom.protocol import (
            Ask,
            Closed,
            Cmd,
            Recalled,
            Results,
            Revealed,
            Sync,
            Tally,
            Withdrawn,
        )

        link = self.link
        if link is None or self.stepper is None:
            return
        if isinstance(message, Cmd) and link.following and not link.is_teacher:
            # The teacher's app accepted it: the same lesson cannot refuse it.
            with contextlib.suppress(LessonError):
                self.apply_command(message.command)
                if isinstance(message.command, Open):
                    self.note = Message(Kind.STEP, _(_FOLLOWED).format(title=self._title()))
        elif isinstance(message, Cmd) and isinstance(message.command, Open) and not link.is_teacher:
            with contextlib.suppress(LessonError):  # an explorer is told, and keeps theirs
                title = words.title(self.shelf.get(message.command.lesson))
                self.note = Message(Kind.STEP, _(_CLASS_OPENED).format(title=title))
        elif isinstance(message, Sync) and link.following:
            from ..lesson.engine import Stepper

            # The class log starts from the lesson the server was started with.
            self.lesson = self.shelf.started
            self.stepper = Stepper(self.lesson, labels=ENGINE_LABELS)
            self.replay(message.log)
            self.note = Message(Kind.STEP, _(RECALLED) if self.recalled else _(_REJOINED))
            self.recalled = False
        elif isinstance(message, Recalled) and not link.following and not link.is_teacher:
            self.recalled = True
            link.set_following(True)  # the server answers with the class log
        elif isinstance(message, Ask | Revealed | Withdrawn | Tally | Results):
            self.class_question.heard(message)
        elif isinstance(message, Closed):
            self.link = None
            self.note = Message(
                Kind.REFUSED,
                _(
                    "The classroom server has closed: the lesson goes on here on its own "
                    "(every key works); q quits."
                ),
            )
        self.on_change()
