"""The class protocol: every message survives the wire, and nothing else gets through.

The server's front end faces a network of students, and each app reads what the
server passes on: a message of the wrong shape must be refused where it is
decoded (``ProtocolError``), never read by hand and found wrong later.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bptui.classroom.protocol import (
    MAX_QUESTIONS,
    MAX_TIMES,
    MAX_WRONG,
    PROMPTS,
    VERSION,
    Answer,
    Ask,
    Cmd,
    Edit,
    Follow,
    FrameReader,
    Hello,
    Jump,
    Open,
    Pose,
    Presence,
    ProtocolError,
    Recall,
    Recalled,
    Results,
    Reveal,
    Revealed,
    Roster,
    Score,
    Seat,
    Step,
    Sync,
    Tally,
    Where,
    Withdrawn,
    Words,
    encode,
    from_json,
    to_json,
)

finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
names = st.sampled_from(["next", "undo", "train_step", "finish_forward", "jump_end"])
steps = st.builds(Step, names, st.integers(1, MAX_TIMES))
jumps = st.builds(Jump, st.integers(0, MAX_TIMES))
samples = st.lists(finite | st.lists(finite, min_size=1, max_size=3), max_size=4)
edits = st.builds(
    Edit,
    lr=st.none() | finite,
    params=st.none() | st.dictionaries(st.sampled_from(["w", "b", "w1"]), finite, max_size=3),
    x=st.none() | samples,
    y=st.none() | samples,
)
opens = st.builds(Open, st.sampled_from(["", "linear", "two-layer", "my_lesson2"]))
commands = steps | jumps | edits | opens
presences = st.builds(Presence, st.booleans(), st.integers(0, 10**6), st.integers(0, 10**6))
printable = st.text(st.characters(categories=["L", "N", "P"], include_characters=" "), max_size=64)
counts = st.integers(0, MAX_QUESTIONS)
seats = st.builds(
    Seat,
    printable,
    printable,
    st.booleans(),
    st.integers(0, 10**9),
    counts,
    counts,
    st.none() | st.integers(0, MAX_TIMES),
)
prompts = st.text(
    st.characters(categories=["L", "N", "P", "S"], include_characters=" "), max_size=200
)
qids = st.integers(0, MAX_TIMES)
tallies = st.builds(
    Tally,
    qids,
    printable,
    counts,
    counts,
    counts,
    st.lists(st.tuples(finite, st.integers(1, 1000)), max_size=MAX_WRONG).map(tuple),
    st.none() | finite,
)
words = st.none() | st.integers(0, len(PROMPTS) - 1).flatmap(
    lambda n: st.builds(
        Words,
        st.just(n),
        st.lists(prompts, min_size=len(PROMPTS[n][1]), max_size=len(PROMPTS[n][1])).map(tuple),
    )
)
questions = (
    st.builds(Pose, printable, prompts, finite, words)
    | st.builds(Ask, qids, printable, prompts, words)
    | st.builds(Answer, qids, finite)
    | tallies
    | st.just(Reveal())
    | st.builds(Withdrawn, qids)
    | st.builds(Revealed, qids, finite, st.none() | finite)
    | st.builds(
        Results,
        st.lists(tallies, max_size=3).map(tuple),
        st.lists(st.builds(Score, printable, printable, counts, counts), max_size=3).map(tuple),
    )
)
logs = st.lists(commands, max_size=5).map(tuple)
messages = (
    presences
    | st.builds(Hello, logs, presences)
    | st.builds(Sync, logs, presences)
    | st.builds(Cmd, commands)
    | st.builds(Follow, st.booleans())
    | st.builds(Roster, st.lists(seats, max_size=4).map(tuple))
    | st.just(Recall())
    | st.just(Recalled())
    | st.builds(Where, st.integers(0, MAX_TIMES))
    | questions
)


@given(st.lists(messages, min_size=1, max_size=4), st.integers(1, 50))
def test_every_message_survives_the_wire_in_any_pieces(sent: list[Any], piece: int) -> None:
    data = b"".join(encode(m) for m in sent)
    reader = FrameReader()
    got = []
    for start in range(0, len(data), piece):
        got += reader.feed(data[start : start + piece])
    assert got == sent


def framed(body: object) -> bytes:
    raw = json.dumps(body).encode()
    return struct.pack(">I", len(raw)) + raw


def cmd(command: object) -> dict[str, Any]:
    return {"v": VERSION, "t": "cmd", "c": command}


def roster(seat: list[Any]) -> dict[str, Any]:
    return {"v": VERSION, "t": "roster", "seats": [seat]}


def ask_words(words: object) -> dict[str, Any]:
    return {"v": VERSION, "t": "ask", "q": 1, "name": "y", "prompt": "p", "words": words}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ([1], "JSON object"),
        ({"t": "cmd", "c": {"a": "next"}}, "protocol version"),
        ({"v": VERSION + 1, "t": "follow", "on": True}, "protocol version"),
        ({"v": VERSION, "t": "shell", "cmd": "ls"}, "unknown message type"),
        (cmd({"a": "next", "n": 0}), "count"),
        (cmd({"a": "next", "n": True}), "count"),
        (cmd({"a": "next", "n": 1.5}), "count"),
        (cmd({"a": "next", "n": MAX_TIMES + 1}), "count"),
        (cmd({"a": "__class__.__init__"}), "names an action"),
        (cmd({"a": 3}), "names an action"),
        (cmd({"jump": -1}), "jump"),
        (cmd({"edit": {"lr": float("nan")}}), "finite number"),
        (cmd({"edit": {"lr": "0.1"}}), "finite number"),
        (cmd({"edit": {"params": {"w": "1"}}}), "finite number"),
        (cmd({"edit": {"params": [1]}}), "params"),
        (cmd({"edit": {"x": [[1, "a"]]}}), "finite number"),
        (cmd([]), "command must be an object"),
        ({"v": VERSION, "t": "follow", "on": 1}, "true or false"),
        ({"v": VERSION, "t": "class", "teacher": True, "students": -1}, "students"),
        ({"v": VERSION, "t": "hello", "log": {}, "teacher": True, "students": 1}, "list"),
        (roster(["\x1b[2J", "1.2.3.4", True, 0, 0, 0, None]), "printable"),
        (roster(["a" * 65, "1.2.3.4", True, 0, 0, 0, None]), "printable"),
        (roster(["ann", "1.2.3.4", True, 0]), "a seat is"),
        (roster(["ann", "1.2.3.4", True, 0, 0, 0]), "a seat is"),
        (roster(["ann", "1.2.3.4", True, -1, 0, 0, None]), "idle"),
        (roster(["ann", "1.2.3.4", True, 0, 0, -1, None]), "asked"),
        (roster(["ann", "1.2.3.4", False, 0, 0, 0, -1]), "step"),
        (roster(["ann", "1.2.3.4", False, 0, 0, 0, "3"]), "step"),
        (roster(["ann", "1.2.3.4", False, 0, 0, 0, MAX_TIMES + 1]), "step"),
        ({"v": VERSION, "t": "where", "step": -1}, "step"),
        ({"v": VERSION, "t": "where", "step": 2.5}, "step"),
        ({"v": VERSION, "t": "where"}, "step"),
        (cmd({"open": "../../etc/passwd"}), "lesson"),
        (cmd({"open": "/home/teacher/secret.toml"}), "lesson"),
        (cmd({"open": "Linear"}), "lesson"),
        (cmd({"open": "a" * 41}), "lesson"),
        (cmd({"open": "linear\n"}), "lesson"),
        (cmd({"open": 3}), "lesson"),
        # Class questions: an answer is hostile input.
        ({"v": VERSION, "t": "answer", "q": 1, "value": float("nan")}, "finite number"),
        ({"v": VERSION, "t": "answer", "q": 1, "value": float("inf")}, "finite number"),
        ({"v": VERSION, "t": "answer", "q": 1, "value": "0.5"}, "finite number"),
        ({"v": VERSION, "t": "answer", "q": 1, "value": True}, "finite number"),
        ({"v": VERSION, "t": "answer", "q": -1, "value": 1}, "question"),
        ({"v": VERSION, "t": "answer", "value": 1}, "question"),
        ({"v": VERSION, "t": "ask", "q": 1, "name": "y", "prompt": "p" * 201}, "question"),
        ({"v": VERSION, "t": "ask", "q": 1, "name": "y", "prompt": "\x1b]0;x\x07"}, "question"),
        ({"v": VERSION, "t": "pose", "name": "y", "prompt": "p", "value": None}, "finite"),
        # A question's words: one of the app's own sentences, never one from the wire.
        (ask_words([3, ["y"]]), "prompt's number"),
        (ask_words([-1, ["y"]]), "prompt's number"),
        (ask_words(["Predict {0.__class__}", ["y"]]), "prompt's number"),
        (ask_words([1, ["y"]]), "takes 2 names"),
        (ask_words([0, ["y", "z"]]), "prompt's names"),
        (ask_words([0, [3]]), "printable"),
        (ask_words([0, ["\x1b[2J"]]), "printable"),
        (ask_words([0, ["p" * 201]]), "printable"),
        (ask_words({"prompt": 0}), "words"),
        (ask_words([0]), "words"),
        ({"v": VERSION, "t": "revealed", "q": 1, "value": 1, "answer": "x"}, "finite"),
        ({"v": VERSION, "t": "tally", "q": 1, "name": "y", "n": [1, 1], "wrong": []}, "counts"),
        (
            {"v": VERSION, "t": "tally", "q": 1, "name": "y", "n": [1, 1, 1], "wrong": [[1, 0]]},
            "count",
        ),
        (
            {
                "v": VERSION,
                "t": "tally",
                "q": 1,
                "name": "y",
                "n": [1, 1, 1],
                "wrong": [[1, 1]] * 9,
            },
            "wrong answers",
        ),
        ({"v": VERSION, "t": "results", "questions": [], "scores": [["a", "b", 1]]}, "a score is"),
        ({"v": VERSION, "t": "results", "questions": {}, "scores": []}, "questions"),
        ({"v": VERSION, "t": "roster", "seats": {}}, "list of seats"),
    ],
)
def test_a_message_of_the_wrong_shape_is_refused(body: object, says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        FrameReader().feed(framed(body))


def test_bad_frames_are_refused_not_waited_for() -> None:
    with pytest.raises(ProtocolError, match="too large"):
        FrameReader().feed(b"\xff\xff\xff\xff")
    with pytest.raises(ProtocolError, match="not JSON"):
        FrameReader().feed(struct.pack(">I", 2) + b"\xff{")


def test_the_wire_is_compact_and_says_its_version() -> None:
    assert to_json(Cmd(Step("next"))) == {"v": VERSION, "t": "cmd", "c": {"a": "next"}}
    assert to_json(Cmd(Step("next", 3)))["c"] == {"a": "next", "n": 3}
    assert from_json(to_json(Cmd(Jump(12)))) == Cmd(Jump(12))
