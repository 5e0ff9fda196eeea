"""The app's line to the classroom server: the teacher's steps out, a student's in.

In ``bptui serve`` with a teacher, every session's app has one Unix socket to
the server. The teacher's app sends each engine command it applies (a micro-step,
an undo, a mode, an edit); the server keeps them as the class log and passes
them on to every student who is following, whose app applies the same command
to its own stepper. Every number a student sees is still computed by torch in
the student's own process; only the commands travel.

A command is a small dict, ``{"a": "next", "n": 3}`` (an engine action run
``n`` times) or ``{"edit": {"lr": 0.1, ...}}``. Messages are JSON, each framed
by its length (4 bytes, big-endian). This module imports neither Textual nor
torch: the server uses the same framing.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
from collections.abc import Callable
from typing import Any

Command = dict[str, Any]
Msg = dict[str, Any]

#: Largest message accepted (a class log of a million commands is ~20 MB).
MAX_MESSAGE = 256 * 1024 * 1024
_HEADER = struct.Struct(">I")


def encode(message: Msg) -> bytes:
    """One framed message."""
    body = json.dumps(message, separators=(",", ":")).encode()
    return _HEADER.pack(len(body)) + body


class FrameReader:
    """Collects bytes as they arrive and hands out whole messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Msg]:
        """The messages completed by ``data`` (raises ValueError on a bad frame)."""
        self._buffer += data
        messages = []
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if size > MAX_MESSAGE:
                raise ValueError(f"message of {size} bytes is too large")
            end = _HEADER.size + size
            if len(self._buffer) < end:
                break
            message = json.loads(bytes(self._buffer[_HEADER.size : end]))
            del self._buffer[:end]
            if not isinstance(message, dict):
                raise ValueError("a message must be a JSON object")
            messages.append(message)
        return messages


def merge(log: list[Command], command: Command) -> None:
    """Append ``command`` to ``log``, folding runs of the same repeated action.

    Autoplay sends one ``next`` per frame; folding keeps the class log short
    without changing what replaying it does.
    """
    if log and "a" in command and log[-1].get("a") == command["a"] and command["a"] == "next":
        log[-1] = {"a": "next", "n": log[-1].get("n", 1) + command.get("n", 1)}
    else:
        log.append(command)


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
        self._reader = FrameReader()
        self._on_message: Callable[[Msg], None] | None = None
        #: Messages that arrived together with the hello, delivered on start.
        self._early: list[Msg] = []

    @property
    def is_teacher(self) -> bool:
        return self.role == "teacher"

    def hello(self, timeout: float = 30.0) -> Msg:
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
                    self._early = rest
                    self._note(first)
                    return first
        finally:
            self.sock.settimeout(None)

    def start(self, loop: Any, on_message: Callable[[Msg], None]) -> None:
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
        if not data:
            self._deliver({"t": "closed"})
            self.close()
            return
        for message in self._reader.feed(data):
            self._deliver(message)

    def _note(self, message: Msg) -> None:
        if "teacher" in message:
            self.teacher_present = bool(message["teacher"])
        if "students" in message:
            self.students = int(message["students"])

    def _deliver(self, message: Msg) -> None:
        self._note(message)
        if self._on_message is not None:
            self._on_message(message)

    def send(self, message: Msg) -> None:
        """Send one message; a closed server is not an error (the class goes on locally)."""
        with contextlib.suppress(OSError):
            self.sock.sendall(encode(message))

    def command(self, command: Command) -> None:
        """The teacher applied ``command``: pass it to the class."""
        if self.is_teacher:
            self.send({"t": "cmd", "c": command})

    def set_following(self, following: bool) -> None:
        """Follow the teacher again (the server sends the class log) or explore alone."""
        self.following = following
        self.send({"t": "follow", "on": following})

    def close(self) -> None:
        try:
            import asyncio

            asyncio.get_running_loop().remove_reader(self.sock.fileno())
        except (RuntimeError, ValueError, OSError):
            pass
        self.sock.close()
