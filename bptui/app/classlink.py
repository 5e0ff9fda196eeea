"""The app's line to the classroom server: the teacher's steps out, a student's in.

In ``bptui serve`` with a teacher, every session's app has one Unix socket to
the server. The teacher's app sends each engine command it applies (a micro-step,
an undo, a mode, an edit); the server keeps them as the class log and passes
them on to every student who is following, whose app applies the same command
to its own stepper. Every number a student sees is still computed by torch in
the student's own process; only the commands travel.

The messages and their framing are :mod:`bptui.classroom.protocol`'s; this
module is the app's end of the socket. It imports neither Textual nor torch.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from typing import Any

from ..classroom.protocol import (
    Closed,
    Cmd,
    Command,
    Follow,
    FrameReader,
    Hello,
    Message,
    Presence,
    ProtocolError,
    Recall,
    Results,
    Roster,
    Sync,
    Tally,
    Where,
    encode,
)


class ClassLink:
    """The app's end of the socket: send commands, receive the teacher's.

    ``role`` is ``"teacher"`` or ``"student"``. A student starts out
    ``following``; :meth:`set_following` switches between following the
    teacher and exploring alone.
    """

    def __init__(self, sock: socket.socket, role: str) -> None:
        self.sock = sock
        self.role = role
        self.following = role == "student"
        #: Whether a teacher is connected, and how many students (from the server).
        self.teacher_present = False
        self.students = 0
        #: How many of them explore alone, and (the teacher's) who they all are.
        self.exploring = 0
        self.roster = Roster(())
        #: The teacher's: the open class question's latest tally, and the class's results.
        self.tally: Tally | None = None
        self.results = Results((), ())
        self._reader = FrameReader()
        self._on_message: Callable[[Message], None] | None = None
        #: Messages that arrived together with the hello, delivered on start.
        self._early: list[Message] = []
        #: Exploring: the step last told to the server.
        self._told: int | None = None

    @property
    def is_teacher(self) -> bool:
        return self.role == "teacher"

    def hello(self, timeout: float = 30.0) -> Hello:
        """Block until the server's first message (the class log to start from)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(1 << 20)
                if not data:
                    raise ConnectionError("the classroom server closed the connection")
                messages = self._reader.feed(data)
                if messages:
                    first, rest = messages[0], messages[1:]
                    if not isinstance(first, Hello):
                        raise ProtocolError("the classroom server did not start with a hello")
                    self._early = rest
                    self._note(first)
                    return first
        finally:
            self.sock.settimeout(None)

    def start(self, loop: Any, on_message: Callable[[Message], None]) -> None:
        """Deliver every later message to ``on_message`` from ``loop`` (asyncio)."""
        self._on_message = on_message
        loop.add_reader(self.sock.fileno(), self._readable)
        early, self._early = self._early, []
        for message in early:
            self._deliver(message)

    def _readable(self) -> None:
        try:
            data = self.sock.recv(1 << 20, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        try:
            messages = self._reader.feed(data) if data else []
        except ProtocolError:  # the server never sends one: treat it as a closed line
            data = b""
        if not data:
            self._deliver(Closed())
            self.close()
            return
        for message in messages:
            self._deliver(message)

    def _note(self, message: Message) -> None:
        presence = message.presence if isinstance(message, Hello | Sync) else message
        if isinstance(presence, Presence):
            self.teacher_present = presence.teacher
            self.students = presence.students
            self.exploring = presence.exploring
        elif isinstance(message, Roster):
            self.roster = message
        elif isinstance(message, Tally) and message.value is None:
            self.tally = message
        elif isinstance(message, Results):
            self.results = message

    def _deliver(self, message: Message) -> None:
        self._note(message)
        if self._on_message is not None:
            self._on_message(message)

    def send(self, message: Message) -> None:
        """Send one message; a closed server is not an error (the class goes on locally)."""
        with contextlib.suppress(OSError):
            self.sock.sendall(encode(message))

    def command(self, command: Command) -> None:
        """The teacher applied ``command``: pass it to the class."""
        if self.is_teacher:
            self.send(Cmd(command))

    def recall(self) -> None:
        """The teacher calls every explorer back to following."""
        if self.is_teacher:
            self.send(Recall())

    def set_following(self, following: bool) -> None:
        """Follow the teacher again (the server sends the class log) or explore alone."""
        self.following = following
        self._told = None
        self.send(Follow(following))

    def where(self, step: int) -> None:
        """Exploring alone: tell the server how many training steps this app has done
        (once per step: the teacher's class view shows it)."""
        if not self.is_teacher and not self.following and step != self._told:
            self._told = step
            self.send(Where(step))

    def close(self) -> None:
        try:
            import asyncio

            asyncio.get_running_loop().remove_reader(self.sock.fileno())
        except (RuntimeError, ValueError, OSError):
            pass
        self.sock.close()
