"""The class protocol: every message between a session's app and the classroom server.

In ``bptui serve`` with a teacher, each session's app has one Unix socket to the
server. The teacher's app sends each engine command it applies (a micro-step, an
undo, a mode, an edit, a jump); the server keeps them as the class log and passes
each on to every student who is following, whose app applies the same command to
its own stepper. Every number a student sees is still computed by torch in the
student's own process; only the commands travel.

A message is one of the frozen classes below; the commands it carries are
:mod:`bptui.classroom.commands`'s. :func:`encode` and :func:`decode`
are the only places that know how a message looks on the wire: a JSON object
with a type tag ``"t"`` and the protocol's version ``"v"``, framed by its length
(4 bytes, big-endian). :func:`decode` checks every field's type and bounds and
raises :class:`ProtocolError` on anything else, so neither end reads a field by
hand. This module imports neither Textual nor torch: the server's front end and
the app both use it.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from .commands import MAX_TIMES as MAX_TIMES
from .commands import Command as Command
from .commands import Edit as Edit
from .commands import Jump as Jump
from .commands import Step as Step
from .commands import merge as merge

#: Bumped when a message changes shape; a message of another version is refused.
VERSION = 1
#: Largest message accepted (a class log of a million commands is ~20 MB).
MAX_MESSAGE = 256 * 1024 * 1024
_HEADER = struct.Struct(">I")


class ProtocolError(ValueError):
    """A frame or a message that is not one of the protocol's."""


# ------------------------------------------------------------------ messages


@dataclass(frozen=True)
class Presence:
    """Server → every app: whether a teacher is connected, how many students (people,
    not apps), and how many of them explore alone."""

    teacher: bool
    students: int
    exploring: int = 0


@dataclass(frozen=True)
class Hello:
    """Server → a new session: the class log to start from, and who is there."""

    log: tuple[Command, ...]
    presence: Presence


@dataclass(frozen=True)
class Sync:
    """Server → a student who rejoins the teacher (``t``): the class log again."""

    log: tuple[Command, ...]
    presence: Presence


@dataclass(frozen=True)
class Cmd:
    """Teacher's app → server → each following student's app: one command."""

    command: Command


@dataclass(frozen=True)
class Follow:
    """Student's app → server: following the teacher (``on``) or exploring alone."""

    on: bool


@dataclass(frozen=True)
class Seat:
    """One student as the teacher's class view lists them."""

    #: The SSH user name, cleaned by the server (printable, at most 32 characters).
    name: str
    address: str
    following: bool
    #: Seconds since their last key (a follower's clock runs with the teacher's steps).
    idle: int


@dataclass(frozen=True)
class Roster:
    """Server → the teacher's app: every student connected."""

    seats: tuple[Seat, ...]


@dataclass(frozen=True)
class Recall:
    """Teacher's app → server: every student exploring alone follows again."""


@dataclass(frozen=True)
class Recalled:
    """Server → an exploring student's app: the teacher called the class back."""


@dataclass(frozen=True)
class Closed:
    """Not sent: what the app's link delivers when the server's end closes."""

    reason: str = field(default="")


Message: TypeAlias = Presence | Hello | Sync | Cmd | Follow | Roster | Recall | Recalled | Closed
#: Longest name or address a seat may carry.
MAX_NAME = 64
#: Most seats a roster may carry.
MAX_SEATS = 100_000


# ------------------------------------------------------------------ the wire


def _command_json(command: Command) -> dict[str, Any]:
    if isinstance(command, Step):
        return (
            {"a": command.action}
            if command.times == 1
            else {"a": command.action, "n": command.times}
        )
    if isinstance(command, Jump):
        return {"jump": command.step}
    edit: dict[str, Any] = {
        "lr": command.lr,
        "params": dict(command.params) if command.params is not None else None,
        "x": list(command.x) if command.x is not None else None,
        "y": list(command.y) if command.y is not None else None,
    }
    return {"edit": edit}


def _presence_json(presence: Presence) -> dict[str, Any]:
    body = {"teacher": presence.teacher, "students": presence.students}
    return {**body, "exploring": presence.exploring} if presence.exploring else body


def to_json(message: Message) -> dict[str, Any]:
    """The message as the JSON object the wire carries."""
    body: dict[str, Any]
    if isinstance(message, Presence):
        body = {"t": "class", **_presence_json(message)}
    elif isinstance(message, Hello | Sync):
        tag = "hello" if isinstance(message, Hello) else "sync"
        log = [_command_json(c) for c in message.log]
        body = {"t": tag, "log": log, **_presence_json(message.presence)}
    elif isinstance(message, Cmd):
        body = {"t": "cmd", "c": _command_json(message.command)}
    elif isinstance(message, Follow):
        body = {"t": "follow", "on": message.on}
    elif isinstance(message, Roster):
        seats = [[s.name, s.address, s.following, s.idle] for s in message.seats]
        body = {"t": "roster", "seats": seats}
    elif isinstance(message, Recall | Recalled):
        body = {"t": "recall" if isinstance(message, Recall) else "recalled"}
    else:
        raise ProtocolError("a closed link is not sent")
    return {"v": VERSION, **body}


def encode(message: Message) -> bytes:
    """One framed message."""
    body = json.dumps(to_json(message), separators=(",", ":")).encode()
    return _HEADER.pack(len(body)) + body


def _int(value: object, what: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ProtocolError(f"{what} must be a whole number from {low} to {high}")
    return value


def _bool(value: object, what: str) -> bool:
    if type(value) is not bool:
        raise ProtocolError(f"{what} must be true or false")
    return value


def _number(value: object, what: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):  # type: ignore[arg-type]
        raise ProtocolError(f"{what} must be a finite number")
    return float(value)  # type: ignore[arg-type]


def _data(value: object, what: str) -> list[Any]:
    """A list of samples: numbers, or lists of numbers (vectors)."""
    if not isinstance(value, list):
        raise ProtocolError(f"{what} must be a list")
    for sample in value:
        if isinstance(sample, list):
            for element in sample:
                _number(element, what)
        else:
            _number(sample, what)
    return value


def _edit(body: object) -> Edit:
    if not isinstance(body, dict):
        raise ProtocolError("an edit must be an object")
    lr = body.get("lr")
    params = body.get("params")
    x, y = body.get("x"), body.get("y")
    if params is not None:
        if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
            raise ProtocolError("an edit's params must map names to numbers")
        params = {name: _number(value, name) for name, value in params.items()}
    return Edit(
        lr=None if lr is None else _number(lr, "lr"),
        params=params,
        x=None if x is None else _data(x, "x"),
        y=None if y is None else _data(y, "y"),
    )


def _command(body: object) -> Command:
    if not isinstance(body, dict):
        raise ProtocolError("a command must be an object")
    if "edit" in body:
        return _edit(body["edit"])
    if "jump" in body:
        return Jump(_int(body["jump"], "a jump's step", 0, MAX_TIMES))
    action = body.get("a")
    if not isinstance(action, str) or not action.isidentifier() or len(action) > 40:
        raise ProtocolError("a command names an action")
    return Step(action, _int(body.get("n", 1), "a command's count", 1, MAX_TIMES))


def _log(body: object) -> tuple[Command, ...]:
    if not isinstance(body, list):
        raise ProtocolError("a class log must be a list")
    return tuple(_command(entry) for entry in body)


def _presence(body: Mapping[str, object]) -> Presence:
    return Presence(
        teacher=_bool(body.get("teacher"), "teacher"),
        students=_int(body.get("students"), "students", 0, 10**6),
        exploring=_int(body.get("exploring", 0), "exploring", 0, 10**6),
    )


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME or not value.isprintable():
        raise ProtocolError(f"{what} must be printable text of at most {MAX_NAME} characters")
    return value


def _roster(body: object) -> Roster:
    if not isinstance(body, list) or len(body) > MAX_SEATS:
        raise ProtocolError("a roster must be a list of seats")
    seats = []
    for seat in body:
        if not isinstance(seat, list) or len(seat) != 4:
            raise ProtocolError("a seat is [name, address, following, idle]")
        name, address, following, idle = seat
        seats.append(
            Seat(
                _text(name, "a name"),
                _text(address, "an address"),
                _bool(following, "following"),
                _int(idle, "idle", 0, 10**9),
            )
        )
    return Roster(tuple(seats))


def from_json(body: object) -> Message:
    """The message a JSON object stands for (ProtocolError if it is none)."""
    if not isinstance(body, dict):
        raise ProtocolError("a message must be a JSON object")
    if body.get("v") != VERSION:
        raise ProtocolError(f"protocol version {body.get('v')!r}, expected {VERSION}")
    tag = body.get("t")
    if tag == "cmd":
        return Cmd(_command(body.get("c")))
    if tag == "follow":
        return Follow(_bool(body.get("on"), "on"))
    if tag == "class":
        return _presence(body)
    if tag == "hello":
        return Hello(_log(body.get("log")), _presence(body))
    if tag == "sync":
        return Sync(_log(body.get("log")), _presence(body))
    if tag == "roster":
        return _roster(body.get("seats"))
    if tag == "recall":
        return Recall()
    if tag == "recalled":
        return Recalled()
    raise ProtocolError(f"unknown message type {tag!r}")


class FrameReader:
    """Collects bytes as they arrive and hands out whole messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        """The messages completed by ``data`` (ProtocolError on a bad frame)."""
        self._buffer += data
        messages = []
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if size > MAX_MESSAGE:
                raise ProtocolError(f"message of {size} bytes is too large")
            end = _HEADER.size + size
            if len(self._buffer) < end:
                break
            raw = bytes(self._buffer[_HEADER.size : end])
            del self._buffer[:end]
            try:
                body = json.loads(raw)
            except ValueError as error:  # bad JSON or bad UTF-8
                raise ProtocolError(f"a message is not JSON: {error}") from None
            messages.append(from_json(body))
        return messages
