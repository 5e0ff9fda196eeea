"""Follow mode: the teacher's steps, kept as the class log and passed to followers.

The server holds no tensor and runs no torch: it keeps the list of commands
the teacher's app has applied (micro-steps, undo, reset, modes, edits) and
forwards each new one to every student who is following (and another lesson,
``o``, to the explorers too, who are told and keep theirs). A student who joins
late, or presses ``t`` to rejoin, gets the whole log and replays it in their
own process, landing on the teacher's current step. A teacher who reconnects
gets the log too and carries on where the class was.

The members are apps: the teacher's, each student's own, and each view
group's (:mod:`bptui.serve.groups`), which draws for many students and is not
a person. The head count every app shows counts people: students with an app
of their own, and students watching a group's (:meth:`Classroom.watch`). A
burst of joins is announced once (``defer``), not once per join to every app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..classroom.protocol import (
    Cmd,
    Command,
    Follow,
    Hello,
    Message,
    Open,
    Presence,
    Recall,
    Recalled,
    Sync,
    Where,
    merge,
)
from ..i18n import N_

TAKEN_OVER = N_("Another teacher session has taken over the class.")


class Member(Protocol):
    """A session as the classroom sees it."""

    role: str
    following: bool

    def send(self, message: Message) -> None: ...

    def touch(self) -> None:
        """Something happened on this session's screen (it is not idle)."""

    def end(self, reason: str) -> None: ...


class Classroom:
    """One class: at most one teacher, any number of students."""

    def __init__(self, defer: Callable[[Callable[[], None]], None] | None = None) -> None:
        """``defer(call)``: run ``call`` a moment later (announcements are gathered);
        without it, every change is announced at once."""
        self.log: list[Command] = []
        self.teacher: Member | None = None
        #: Every student's app: their own, or a view group's.
        self.students: list[Member] = []
        #: Students without an app of their own, watching a view group's.
        self.watchers = 0
        #: Each explorer's training steps done, as their app last said (the class view's).
        self.steps: dict[Member, int] = {}
        self._defer = defer
        self._announcing = False

    def join(self, member: Member) -> None:
        """A new session: it starts from the class log (the teacher's current step)."""
        if member.role == "teacher":
            if self.teacher is not None:
                self.teacher.end(TAKEN_OVER)
            self.teacher = member
        else:
            member.following = True
            self.students.append(member)
        member.send(Hello(tuple(self.log), self._presence()))
        self._announce()

    def leave(self, member: Member) -> None:
        self.steps.pop(member, None)
        if member is self.teacher:
            self.teacher = None
        elif member in self.students:
            self.students.remove(member)
        else:
            return
        self._announce()

    def receive(self, member: Member, message: Message) -> None:
        """A message from a session's app (decoded and checked by the protocol)."""
        if isinstance(message, Cmd) and member is self.teacher:
            merge(self.log, message.command)
            for student in self.students:
                if student.following:
                    student.send(message)
                    student.touch()
                elif isinstance(message.command, Open):
                    student.send(message)  # an explorer is told, and keeps their lesson
        elif isinstance(message, Follow) and member in self.students:
            member.following = message.on
            if member.following:
                self.steps.pop(member, None)
                member.send(Sync(tuple(self.log), self._presence()))
            self._announce()  # one more, or one fewer, exploring
        elif isinstance(message, Where) and member is not self.teacher and not member.following:
            self.steps[member] = message.step  # a bounded whole number (the protocol's)
        elif isinstance(message, Recall) and member is self.teacher:
            for student in self.students:
                if not student.following:
                    student.send(Recalled())

    def watch(self, joined: bool) -> None:
        """A student starts (``joined``) or stops watching a view group's app."""
        self.watchers += 1 if joined else -1
        self._announce()

    def _presence(self) -> Presence:
        people = [s for s in self.students if getattr(s, "person", True)]
        exploring = sum(1 for s in people if not s.following)
        return Presence(
            teacher=self.teacher is not None,
            students=len(people) + self.watchers,
            exploring=exploring,
        )

    def _announce(self) -> None:
        if self._defer is None:
            self._announce_now()
        elif not self._announcing:
            self._announcing = True
            self._defer(self._announce_now)

    def _announce_now(self) -> None:
        self._announcing = False
        message = self._presence()
        for member in ([self.teacher] if self.teacher else []) + self.students:
            member.send(message)
