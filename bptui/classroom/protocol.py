"""The class protocol: every message between a session's app and the classroom server.

In ``bptui serve`` with a teacher, each session's app has one Unix socket to the
server. The teacher's app sends each engine command it applies (a micro-step, an
undo, a mode, an edit, a jump); the server keeps them as the class log and passes
each on to every student who is following, whose app applies the same command to
its own stepper. Every number a student sees is still computed by torch in the
student's own process; only the commands travel.

A message is one of the frozen classes of :mod:`.messages`; the commands it
carries are :mod:`.commands`'. :func:`encode` and :func:`decode`
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
import re
import struct
from collections.abc import Mapping
from typing import Any

from .commands import MAX_TIMES, Command, Edit, Jump, Open, Step, merge
from .messages import (
    Answer,
    Ask,
    Closed,
    Cmd,
    Follow,
    Hello,
    Message,
    Pose,
    Presence,
    Recall,
    Recalled,
    Results,
    Reveal,
    Revealed,
    Roster,
    Score,
    Seat,
    Sync,
    Tally,
    Where,
    Withdrawn,
)
from .words import PROMPTS, Words

__all__ = [
    "MAX_TIMES",
    "PROMPTS",
    "Answer",
    "Ask",
    "Closed",
    "Cmd",
    "Command",
    "Edit",
    "Follow",
    "FrameReader",
    "Hello",
    "Jump",
    "Message",
    "Open",
    "Pose",
    "Presence",
    "ProtocolError",
    "Recall",
    "Recalled",
    "Results",
    "Reveal",
    "Revealed",
    "Roster",
    "Score",
    "Seat",
    "Step",
    "Sync",
    "Tally",
    "Where",
    "Withdrawn",
    "Words",
    "encode",
    "from_json",
    "merge",
    "to_json",
]

#: Bumped when a message changes shape; a message of another version is refused.
VERSION = 4
#: Largest message accepted (a class log of a million commands is ~20 MB).
MAX_MESSAGE = 256 * 1024 * 1024
_HEADER = struct.Struct(">I")


class ProtocolError(ValueError):
    """A frame or a message that is not one of the protocol's."""


#: A lesson's name on the wire: a built-in's file name without ``.toml``, or empty.
_LESSON_NAME = re.compile(r"(?:[a-z0-9][a-z0-9_-]{0,39})?")
#: Longest name or address a seat may carry.
MAX_NAME = 64
#: Longest question a class is asked (``Predict ŷ = x * w + b``).
MAX_PROMPT = 200
#: Most wrong answers a tally lists.
MAX_WRONG = 8
#: Most questions a class's results carry.
MAX_QUESTIONS = 10_000
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
    if isinstance(command, Open):
        return {"open": command.lesson}
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
        seats = [
            [s.name, s.address, s.following, s.idle, s.right, s.asked, s.step]
            for s in message.seats
        ]
        body = {"t": "roster", "seats": seats}
    elif isinstance(message, Recall | Recalled):
        body = {"t": "recall" if isinstance(message, Recall) else "recalled"}
    elif isinstance(message, Where):
        body = {"t": "where", "step": message.step}
    elif isinstance(message, Closed):
        raise ProtocolError("a closed link is not sent")
    else:
        body = _question_json(message)
    return {"v": VERSION, **body}


def _question_json(
    message: Pose | Ask | Answer | Tally | Reveal | Revealed | Withdrawn | Results,
) -> dict[str, Any]:
    """A class question's messages, as the wire carries them."""
    if isinstance(message, Pose | Ask):
        words = message.words
        body: dict[str, Any] = {"name": message.name, "prompt": message.prompt}
        if words is not None:
            body["words"] = [words.prompt, list(words.names)]
        if isinstance(message, Pose):
            return {"t": "pose", **body, "value": message.value}
        return {"t": "ask", "q": message.qid, **body}
    if isinstance(message, Answer):
        return {"t": "answer", "q": message.qid, "value": message.value}
    if isinstance(message, Revealed):
        said = {} if message.answer is None else {"answer": message.answer}
        return {"t": "revealed", "q": message.qid, "value": message.value, **said}
    if isinstance(message, Tally):
        return {"t": "tally", **_tally_json(message)}
    if isinstance(message, Reveal):
        return {"t": "reveal"}
    if isinstance(message, Withdrawn):
        return {"t": "withdrawn", "q": message.qid}
    scores = [[s.name, s.address, s.right, s.asked] for s in message.scores]
    questions = [_tally_json(q) for q in message.questions]
    return {"t": "results", "questions": questions, "scores": scores}


def _tally_json(tally: Tally) -> dict[str, Any]:
    counts = [tally.asked, tally.answered, tally.right]
    body = {"q": tally.qid, "name": tally.name, "n": counts, "wrong": tally.wrong}
    return body if tally.value is None else {**body, "value": tally.value}


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
    if "open" in body:
        name = body["open"]
        if not isinstance(name, str) or not _LESSON_NAME.fullmatch(name):
            raise ProtocolError("a lesson is named by a built-in lesson's name, or empty")
        return Open(name)
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


def _text(value: object, what: str, longest: int = MAX_NAME) -> str:
    if not isinstance(value, str) or len(value) > longest or not value.isprintable():
        raise ProtocolError(f"{what} must be printable text of at most {longest} characters")
    return value


def _words(value: object) -> Words:
    """A question's prompt as words: one of PROMPTS, by number, and its names (never a
    sentence from the network: only the app's own are filled in)."""
    pair = _list(value, "a question's words", 2)
    if len(pair) != 2:
        raise ProtocolError("a question's words must be a prompt's number and its names")
    prompt = _int(pair[0], "a prompt's number", 0, len(PROMPTS) - 1)
    fields = PROMPTS[prompt][1]
    names = _list(pair[1], "a prompt's names", len(fields))
    if len(names) != len(fields):
        raise ProtocolError(f"prompt {prompt} takes {len(fields)} names")
    return Words(prompt, tuple(_text(n, "a prompt's name", MAX_PROMPT) for n in names))


def _list(value: object, what: str, longest: int) -> list[Any]:
    if not isinstance(value, list) or len(value) > longest:
        raise ProtocolError(f"{what} must be a list of at most {longest}")
    return value


def _tally(body: object) -> Tally:
    if not isinstance(body, dict):
        raise ProtocolError("a tally must be an object")
    counts = _list(body.get("n"), "a tally's counts", 3)
    if len(counts) != 3:
        raise ProtocolError("a tally's counts are [asked, answered, right]")
    asked, answered, right = (_int(n, "a count", 0, MAX_SEATS) for n in counts)
    wrong = []
    for pair in _list(body.get("wrong"), "wrong answers", MAX_WRONG):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ProtocolError("a wrong answer is [value, count]")
        wrong.append((_number(pair[0], "an answer"), _int(pair[1], "a count", 1, MAX_SEATS)))
    value = body.get("value")
    return Tally(
        _int(body.get("q"), "a question", 0, MAX_TIMES),
        _text(body.get("name"), "a question's name"),
        asked,
        answered,
        right,
        tuple(wrong),
        None if value is None else _number(value, "a value"),
    )


def _results(body: Mapping[str, object]) -> Results:
    questions = _list(body.get("questions"), "questions", MAX_QUESTIONS)
    scores = []
    for score in _list(body.get("scores"), "scores", MAX_SEATS):
        if not isinstance(score, list) or len(score) != 4:
            raise ProtocolError("a score is [name, address, right, asked]")
        name, address, right, asked = score
        scores.append(
            Score(
                _text(name, "a name"),
                _text(address, "an address"),
                _int(right, "right", 0, MAX_QUESTIONS),
                _int(asked, "asked", 0, MAX_QUESTIONS),
            )
        )
    return Results(tuple(_tally(q) for q in questions), tuple(scores))


def _roster(body: object) -> Roster:
    if not isinstance(body, list) or len(body) > MAX_SEATS:
        raise ProtocolError("a roster must be a list of seats")
    seats = []
    for seat in body:
        if not isinstance(seat, list) or len(seat) != 7:
            raise ProtocolError("a seat is [name, address, following, idle, right, asked, step]")
        name, address, following, idle, right, asked, step = seat
        seats.append(
            Seat(
                _text(name, "a name"),
                _text(address, "an address"),
                _bool(following, "following"),
                _int(idle, "idle", 0, 10**9),
                _int(right, "right", 0, MAX_QUESTIONS),
                _int(asked, "asked", 0, MAX_QUESTIONS),
                None if step is None else _int(step, "a seat's step", 0, MAX_TIMES),
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
    if tag in ("hello", "sync"):
        kind = Hello if tag == "hello" else Sync
        return kind(_log(body.get("log")), _presence(body))
    if tag == "roster":
        return _roster(body.get("seats"))
    if tag in ("recall", "recalled"):
        return Recall() if tag == "recall" else Recalled()
    if tag == "where":
        return Where(_int(body.get("step"), "a step", 0, MAX_TIMES))
    return _question(tag, body)


def _question(tag: object, body: Mapping[str, object]) -> Message:
    """A class question's message (ProtocolError if it is none)."""
    if tag in ("ask", "pose"):
        name = _text(body.get("name"), "a question's name")
        prompt = _text(body.get("prompt"), "a question", MAX_PROMPT)
        words = _words(body["words"]) if "words" in body else None
        if tag == "pose":
            return Pose(name, prompt, _number(body.get("value"), "a value"), words)
        return Ask(_int(body.get("q"), "a question", 0, MAX_TIMES), name, prompt, words)
    if tag in ("answer", "revealed"):
        qid = _int(body.get("q"), "a question", 0, MAX_TIMES)
        value = _number(body.get("value"), "an answer")
        if tag == "answer":
            return Answer(qid, value)
        said = body.get("answer")
        return Revealed(qid, value, None if said is None else _number(said, "an answer"))
    if tag in ("tally", "reveal"):
        return _tally(body) if tag == "tally" else Reveal()
    if tag == "withdrawn":
        return Withdrawn(_int(body.get("q"), "a question", 0, MAX_TIMES))
    if tag == "results":
        return _results(body)
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
