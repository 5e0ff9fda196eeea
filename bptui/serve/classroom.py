"""Follow mode: the teacher's steps, kept as the class log and passed to followers.

The server holds no tensor and runs no torch: it keeps the list of commands
the teacher's app has applied (micro-steps, undo, reset, modes, edits) and
forwards each new one to every student who is following. A student who joins
late, or presses ``t`` to rejoin, gets the whole log and replays it in their
own process, landing on the teacher's current step. A teacher who reconnects
gets the log too and carries on where the class was.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..app.classlink import Command, merge
from ..i18n import N_

TAKEN_OVER = N_("Another teacher session has taken over the class.")


class Member(Protocol):
    """A session as the classroom sees it."""

    role: str
    following: bool

    def send(self, message: dict[str, Any]) -> None: ...

    def touch(self) -> None:
        """Something happened on this session's screen (it is not idle)."""

    def end(self, reason: str) -> None: ...


class Classroom:
    """One class: at most one teacher, any number of students."""

    def __init__(self) -> None:
        self.log: list[Command] = []
        self.teacher: Member | None = None
        self.students: list[Member] = []

    def join(self, member: Member) -> None:
        """A new session: it starts from the class log (the teacher's current step)."""
        if member.role == "teacher":
            if self.teacher is not None:
                self.teacher.end(TAKEN_OVER)
            self.teacher = member
        else:
            member.following = True
            self.students.append(member)
        member.send({"t": "hello", "log": self.log, **self._presence()})
        self._announce()

    def leave(self, member: Member) -> None:
        if member is self.teacher:
            self.teacher = None
        elif member in self.students:
            self.students.remove(member)
        else:
            return
        self._announce()

    def receive(self, member: Member, message: dict[str, Any]) -> None:
        """A message from a session's app."""
        kind = message.get("t")
        if kind == "cmd" and member is self.teacher:
            command = message.get("c")
            if not isinstance(command, dict):
                return
            merge(self.log, command)
            for student in self.students:
                if student.following:
                    student.send({"t": "cmd", "c": command})
                    student.touch()
        elif kind == "follow" and member in self.students:
            member.following = bool(message.get("on"))
            if member.following:
                member.send({"t": "sync", "log": self.log, **self._presence()})

    def _presence(self) -> dict[str, Any]:
        return {"teacher": self.teacher is not None, "students": len(self.students)}

    def _announce(self) -> None:
        message = {"t": "class", **self._presence()}
        for member in ([self.teacher] if self.teacher else []) + self.students:
            member.send(message)
