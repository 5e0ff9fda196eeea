"""A group member's keys as the server reads them, checked against the app's key table."""

from __future__ import annotations

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
