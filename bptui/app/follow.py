"""The app in a classroom: the teacher's commands out, a follower's in.

:class:`ClassroomApp` is the base of the bptui app. Outside a classroom
(``link`` is None) none of this does anything. In ``bptui serve`` with a
teacher, the teacher's app sends every engine command it applies through its
:class:`~bptui.app.classlink.ClassLink`; a following student's app applies the
same commands to its own stepper, so every number stays torch's, computed in
the student's own process. ``t`` switches a student between following and
exploring alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from textual import events
from textual.app import App

from ..classroom.protocol import Closed, Cmd, Command, Edit, Jump, Sync
from ..classroom.protocol import Message as ClassMessage
from ..i18n import N_, _, ngettext
from ..lesson.snapshot import Kind, Message
from ..lesson.spec import Lesson, LessonError
from .keymap import ENGINE_ACTIONS, ENGINE_LABELS
from .message import MessageBar

if TYPE_CHECKING:
    from ..lesson.engine import Stepper
    from .classlink import ClassLink

_FOLLOWING = N_(
    "You are following the teacher: their steps appear here as they make them. "
    "Press t to explore on your own."
)
_EXPLORING = N_(
    "Exploring alone from the teacher's step: every key works here. "
    "Press t to rejoin the teacher where they are now."
)
#: Keys that change the lesson: a following student's do nothing, so they are off
#: (hidden from the footer) while following.
LESSON_KEYS = frozenset(ENGINE_ACTIONS) | {"jump", "autoplay", "faster", "slower", "edit"}
#: Keys of the view, kept off the usual footer, shown to a follower in their place.
FOLLOWER_FOOTER = ("cycle_plot", "cycle_zoom", "switch_language", "cycle_theme")

_REJOINED = N_("Following the teacher again, at their current step. Press t to explore alone.")


class ClassroomApp(App[int]):
    """Following and leading a class; the rest of the app is :class:`BptuiApp`."""

    lesson: Lesson
    stepper: Stepper | None
    #: In a classroom (``bptui serve`` with a teacher): the line to the server.
    link: ClassLink | None
    #: A classroom note shown until the next step replaces it.
    _note: Message | None

    def _schedule_render(self) -> None:
        raise NotImplementedError

    def _stop_autoplay(self) -> None:
        raise NotImplementedError

    def _join_class(self) -> None:
        """Start listening to the classroom server (on mount)."""
        if self.link is None:
            return
        self.link.start(asyncio.get_running_loop(), self._on_class_message)
        if not self.link.is_teacher:
            self._note = Message(Kind.STEP, _(_FOLLOWING))

    def apply_command(self, command: Command) -> None:
        """Run one classroom command on the stepper (no drawing: a replay may run many)."""
        assert self.stepper is not None
        self._note = None
        self.stepper.watching = self._following()
        if isinstance(command, Edit):
            self.stepper.edit(
                lr=command.lr,
                params=dict(command.params) if command.params is not None else None,
                x=list(command.x) if command.x is not None else None,
                y=list(command.y) if command.y is not None else None,
            )
            return
        if isinstance(command, Jump):  # `:` and a step number
            self.stepper.jump_to(command.step)
            return
        name = ENGINE_ACTIONS.get(command.action)
        if name is None:  # an action this version does not know: nothing to do
            return
        method = getattr(self.stepper, name)
        for _time in range(command.times):
            method()

    def send_command(self, command: Command) -> None:
        """Tell the class a command this app has just applied (a teacher's followers take
        it too; a student's or a lone app's goes nowhere)."""
        if self.link is not None:
            self.link.command(command)

    def run_command(self, command: Command) -> None:
        """A key's command: applied here, sent to the class, drawn."""
        self.apply_command(command)
        self.send_command(command)
        self._schedule_render()

    def replay(self, log: tuple[Command, ...]) -> None:
        """Bring a fresh stepper to the class's state: every command of the class log."""
        for command in log:
            self.apply_command(command)

    def _following(self) -> bool:
        """A student whose lesson is the teacher's: their stepping keys change nothing."""
        return self.link is not None and not self.link.is_teacher and self.link.following

    def footer_extra(self) -> tuple[str, ...]:
        """Actions the footer shows besides its usual keys: a follower's view keys."""
        return FOLLOWER_FOOTER if self._following() else ()

    def on_key(self, event: events.Key) -> None:
        """A follower's key that would change the lesson is off (its binding does not
        run): say why instead of doing nothing."""
        if not self._following():
            return
        actions = {b.action for b in self._bindings.key_to_bindings.get(event.key, [])}
        if actions & LESSON_KEYS:
            self._refused_while_following()

    def _refused_while_following(self) -> bool:
        """A key that would change a following student's lesson: say so, change nothing."""
        if not self._following():
            return False
        self.query_one(MessageBar).show(Message(Kind.REFUSED, _(_FOLLOWING)))
        return True

    def _class_badge(self) -> str | None:
        link = self.link
        if link is None:
            return None
        if link.is_teacher:
            n = link.students
            return ngettext("teacher · {n} student", "teacher · {n} students", n).format(n=n)
        if not link.following:
            return _("exploring")
        return _("following") if link.teacher_present else _("waiting for the teacher")

    def action_toggle_follow(self) -> None:
        """t: explore alone from the teacher's step, or rejoin the teacher."""
        link = self.link
        if link is None or link.is_teacher:
            return
        if link.following:
            self._stop_autoplay()
            link.set_following(False)
            self._note = Message(Kind.STEP, _(_EXPLORING))
            self._schedule_render()
        else:
            link.set_following(True)  # the server answers with the class log ("sync")

    def _on_class_message(self, message: ClassMessage) -> None:
        """A message from the classroom server (called on the event loop)."""
        link = self.link
        if link is None or self.stepper is None:
            return
        if isinstance(message, Cmd) and link.following and not link.is_teacher:
            # The teacher's app accepted it: the same lesson cannot refuse it.
            with contextlib.suppress(LessonError):
                self.apply_command(message.command)
        elif isinstance(message, Sync) and link.following:
            from ..lesson.engine import Stepper

            self.stepper = Stepper(self.lesson, labels=ENGINE_LABELS)
            self.replay(message.log)
            self._note = Message(Kind.STEP, _(_REJOINED))
        elif isinstance(message, Closed):
            self.link = None
            self._note = Message(
                Kind.REFUSED,
                _(
                    "The classroom server has closed: the lesson goes on here on its own "
                    "(every key works); q quits."
                ),
            )
        self._schedule_render()
