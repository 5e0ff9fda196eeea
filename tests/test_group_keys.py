"""A group member's keys as the server reads them, checked against the app's key table."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bptui.app.keymap import KEYS, LESSON_KEYS
from bptui.serve.keys import MAX_KEYS, KeyReader, Kind
from bptui.serve.notes import _fit

#: What a terminal sends for each of Textual's key names in the table.
SENT = {
    "space": [b" "],
    "right": [b"\x1b[C", b"\x1bOC"],
    "left": [b"\x1b[D", b"\x1bOD"],
    "backspace": [b"\x7f"],
    "colon": [b":"],
    "home": [b"\x1b[H", b"\x1b[1~"],
    "end": [b"\x1b[F", b"\x1b[4~"],
    "plus": [b"+"],
    "minus": [b"-"],
    "left_square_bracket": [b"["],
    "right_square_bracket": [b"]"],
    "left_curly_bracket": [b"{"],
    "right_curly_bracket": [b"}"],
    "question_mark": [b"?"],
    "f1": [b"\x1bOP", b"\x1b[11~"],
}


def expected(action: str) -> Kind:
    if action == "quit":
        return Kind.QUIT
    if action == "toggle_follow":
        return Kind.EXPLORE
    if action == "class_view":
        return Kind.IGNORED  # the teacher's: a student's C does nothing
    return Kind.LESSON if action in LESSON_KEYS else Kind.VIEW


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.action)
def test_every_key_of_the_app_is_read_as_the_app_would_treat_a_follower(key) -> None:  # type: ignore[no-untyped-def]
    for name in key.keys.split(","):
        for sent in SENT.get(name, [name.encode()]):
            assert KeyReader().feed(sent) == [(expected(key.action), sent)], (key.action, sent)


def test_mouse_focus_and_terminal_answers_are_dropped() -> None:
    noise = b"\x1b[<0;10;5M\x1b[<0;10;5m\x1b[M !!\x1b[I\x1b[O\x1b[?2026;2$y\x1b[12;40R"
    assert {kind for kind, _ in KeyReader().feed(noise)} == {Kind.IGNORED}


def test_a_sequence_cut_between_reads_is_joined() -> None:
    reader = KeyReader()
    assert reader.feed(b"\x1b[") == []
    assert reader.feed(b"Dq") == [(Kind.LESSON, b"\x1b[D"), (Kind.QUIT, b"q")]
    assert reader.feed("中".encode()[:2]) == []
    assert reader.feed("中".encode()[2:] + b"t") == [
        (Kind.IGNORED, "中".encode()),
        (Kind.EXPLORE, b"t"),
    ]


def test_a_flood_is_read_only_so_far() -> None:
    assert len(KeyReader().feed(b" " * 10_000)) == MAX_KEYS


def test_a_flood_cut_inside_a_sequence_does_not_start_the_next_read_inside_it() -> None:
    reader = KeyReader()
    assert len(reader.feed(b" " * 10_000 + b"\x1b[<0;3")) == MAX_KEYS
    # The rest of the mouse report: not a '[' (a view key), nor ';', '4', 'M' keys.
    assert reader.feed(b";4M[") == [(Kind.IGNORED, b"\x1b[<0;3;4M"), (Kind.VIEW, b"[")]


@pytest.mark.parametrize("columns", [10, 40, 80])
def test_a_note_fills_its_row_exactly(columns: int) -> None:
    import wcwidth

    for text, ascii_only in (
        ("You are following the teacher: press t.", True),
        ("你正在跟随教师：按 t 自己探索。", False),
    ):
        line = _fit(text, columns, ascii_only)
        assert wcwidth.wcswidth(line) == columns
        assert line.strip().startswith(text[:3])


def test_pasted_text_is_not_keys() -> None:
    reader = KeyReader()
    assert {k for k, _ in reader.feed(b"\x1b[200~Let go, quit it\x1b[2")} == {Kind.IGNORED}
    assert reader.feed(b"01~q") == [(Kind.IGNORED, b"\x1b[201~"), (Kind.QUIT, b"q")]


def test_an_outbox_holds_a_typist_back_past_its_limit_and_lets_go_at_a_quarter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Keys for an app that reads slowly wait in the server, bounded: past ``HIGH``
    bytes the client is told to stop, at a quarter of it to go on; the descriptor is
    watched only while bytes wait. A descriptor that takes ``room`` bytes a call."""
    from types import SimpleNamespace

    from bptui.serve import outbox

    room, taken = [0], bytearray()

    def write(fd: int, data: bytes) -> int:
        if not room[0]:
            raise BlockingIOError
        n = min(room[0], len(data))
        room[0] -= n
        taken.extend(data[:n])
        return n

    monkeypatch.setattr(outbox, "os", SimpleNamespace(write=write))
    writers: dict[int, Callable[[], None]] = {}
    loop = SimpleNamespace(add_writer=writers.__setitem__, remove_writer=writers.pop)
    told: list[bool] = []
    box = outbox.Outbox(loop, 7, told.append)  # type: ignore[arg-type]
    high = outbox.Outbox.HIGH
    box.write(b"k" * (high + 1))
    assert told == [True] and 7 in writers
    room[0] = high + 1 - high // 4 - 1  # one byte more than a quarter left
    writers[7]()
    assert told == [True]
    room[0] = 1  # a quarter left
    writers[7]()
    assert told == [True, False] and 7 in writers
    room[0] = high
    writers[7]()
    assert 7 not in writers and taken == b"k" * (high + 1)
