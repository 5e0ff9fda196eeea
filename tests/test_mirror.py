"""The server's model of a group's screen: repainted, it is the screen it models.

A terminal that draws :meth:`Mirror.repaint` from any state must show what a
terminal that saw the app's whole output shows, cell for cell (characters,
colours as the app spelled them, attributes), with the same modes and cursor.
Compared with stock pyte as the terminal on both sides.
"""

from __future__ import annotations

from typing import Any

import pyte
import wcwidth
from hypothesis import given, settings
from hypothesis import strategies as st

from bptui.serve.mirror import Mirror

COLUMNS, ROWS = 30, 8


class _Terminal(pyte.Screen):
    """pyte, erasing as a terminal does: every cell (pyte erases only those written
    before, and a line scrolled in has none), with the pen's background only (pyte
    gives the erased cells every attribute of the pen, an underline included)."""

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        for y in range(self.lines):
            self._blanks(y)
        self._with_background(super().erase_in_display, how, *args, **kwargs)

    def erase_in_line(self, how: int = 0, private: bool = False) -> None:
        self._blanks(self.cursor.y)
        self._with_background(super().erase_in_line, how, private)

    def erase_characters(self, count: int | None = None) -> None:
        self._with_background(super().erase_characters, count)

    def _with_background(self, erase: Any, *args: Any, **kwargs: Any) -> None:
        pen = self.cursor.attrs
        self.cursor.attrs = self.default_char._replace(bg=pen.bg)
        erase(*args, **kwargs)
        self.cursor.attrs = pen

    def _blanks(self, y: int) -> None:
        line = self.buffer[y]
        for x in range(self.columns):
            line.setdefault(x, self.default_char)


def terminal(data: bytes, columns: int = COLUMNS, rows: int = ROWS) -> pyte.Screen:
    """pyte as the terminal. Every cell is written blank first: pyte erases (``2J``,
    ``K``) only the cells written before, where a terminal erases them all."""
    screen = _Terminal(columns, rows)
    stream = pyte.ByteStream(screen)
    stream.feed(b"\x1b[?7l" + (b" " * columns + b"\r\n") * (rows - 1) + b" " * columns)
    stream.feed(b"\x1b[?7h\x1b[H" + data)
    return screen


def cells(screen: pyte.Screen) -> list[list[tuple[object, ...]]]:
    """Every cell as a terminal shows it: the half left of a wide character written
    over reads as a blank (which is what a terminal shows there)."""
    rows = []
    for y in range(screen.lines):
        row, wide = [], False
        for x in range(screen.columns):
            char = screen.buffer[y][x]
            if char.data == "" and not wide:
                char = char._replace(data=" ")
            if char.data == " " and not char.reverse:
                # A blank's bold, italics or foreground do not show. pyte sets them
                # on erase only in cells written before, so they differ unseen.
                char = char._replace(fg="default", bold=False, italics=False, blink=False)
            wide = char.data != "" and wcwidth.wcwidth(char.data[0]) == 2
            row.append(tuple(char))
        rows.append(row)
    return rows


def mirrored(data: bytes, chunk: int) -> Mirror:
    mirror = Mirror(COLUMNS, ROWS)
    for i in range(0, len(data), chunk):
        mirror.feed(data[i : i + chunk])
    return mirror


_sgr = (
    st.sampled_from(
        [b"0", b"1", b"3", b"4", b"7", b"9", b"22", b"31", b"42", b"93", b"104", b"39", b"49"]
    )
    | st.builds(lambda n: b"38;5;%d" % n, st.integers(0, 255))
    | st.builds(lambda r, g, b: b"48;2;%d;%d;%d" % (r, g, b), *(st.integers(0, 255),) * 3)
)
_piece = st.one_of(
    st.builds(
        lambda codes: b"\x1b[" + b";".join(codes) + b"m", st.lists(_sgr, min_size=1, max_size=3)
    ),
    st.builds(lambda y, x: b"\x1b[%d;%dH" % (y, x), st.integers(1, ROWS), st.integers(1, COLUMNS)),
    st.text(alphabet="abc xyz─│╭ŷ∂·", min_size=1, max_size=12).map(str.encode),
    st.sampled_from(
        [
            *(b"\x1b[K", b"\x1b[1K", b"\x1b[2K", b"\x1b[2J"),
            *(b"\x1b[?25l", b"\x1b[?25h", b"\x1b[?1000h", b"\x1b[?7l"),
        ]
    ),
)


@given(st.lists(_piece, max_size=40), st.integers(1, 9))
def test_a_repaint_shows_what_the_whole_stream_showed(pieces: list[bytes], chunk: int) -> None:
    data = b"\x1b[?1049h" + b"".join(pieces)
    original = terminal(data)
    mirror = mirrored(data, chunk)
    repainted = terminal(b"leftovers \x1b[31mfrom before" + mirror.repaint())
    assert cells(repainted) == cells(original)
    x = original.cursor.x
    if (7 << 5) not in original.mode:  # no autowrap: pyte lets x pass the last column,
        x = min(x, COLUMNS - 1)  # where a terminal stops on it
    assert (repainted.cursor.x, repainted.cursor.y) == (x, original.cursor.y)
    assert repainted.cursor.hidden == original.cursor.hidden
    assert repainted.mode == original.mode


def test_an_erase_keeps_the_pens_background_only() -> None:
    """A terminal erases with the background of the moment, not its underline or reverse
    video: a repaint drew underlined blank rows that the student's terminal had not."""
    mirror = mirrored(b"\x1b[?1049h\x1b[8;27H\x1b[4;7;44maaaaa\x1b[2J\x1b[1;1H\x1b[4mb\x1b[K", 1)
    for y in (0, 7, ROWS - 1):
        for x in range(1 if y == 0 else 0, COLUMNS):
            cell = mirror.screen.buffer[y][x]
            assert (cell.data, cell.underscore, cell.reverse) == (" ", False, False), (y, x)
            assert cell.bg == "blue", (y, x, cell.bg)
    assert mirror.screen.buffer[0][0].underscore  # what was written keeps its underline


def test_colours_keep_the_apps_spelling() -> None:
    mirror = Mirror(COLUMNS, ROWS)
    mirror.feed(b"\x1b[38;5;61;48;2;1;2;3mA\x1b[0;31mB")
    row = mirror.row(0)
    assert b"38;5;61" in row and b"48;2;1;2;3" in row and b";31m" in row


def test_the_keyboard_protocol_and_terminal_questions_draw_nothing_and_are_replayed() -> None:
    data = b"\x1b[?1049h\x1b[>1u\x1b[?2026$p\x1b[1;1HEpoch\x1b[<u\x1b[>25u"
    mirror = mirrored(data, 3)
    assert mirror.screen.display[0].startswith("Epoch ")
    assert mirror.modes() == b"\x1b[?1049h\x1b[>25u"
    mirror.feed(b"\x1b[<u")
    assert mirror.modes() == b"\x1b[?1049h"


# Wide characters are left out of the random streams: half of one written over
# is a state terminals disagree on (and the app never makes); whole ones are here.
def test_a_wide_character_is_written_once() -> None:
    mirror = Mirror(COLUMNS, ROWS)
    mirror.feed("跟随教师".encode())
    assert mirror.row(0).count("跟".encode()) == 1
    assert terminal(mirror.repaint()).display[0].startswith("跟随教师")


@settings(deadline=None)
@given(st.lists(_piece, max_size=30), st.integers(1, 9), st.data())
def test_a_member_who_joins_between_any_two_reads_sees_the_whole_stream(
    pieces: list[bytes], chunk: int, data: st.DataObject
) -> None:
    """The group's output reaches members in the pieces :meth:`Mirror.feed` returns: a
    member painted whole between two reads, then sent the rest, shows what a terminal
    that saw everything shows (no half of a sequence cut by a read arrives as text)."""
    stream = b"\x1b[?1049h\x1b]0;title\x07" + b"".join(pieces)
    mirror = Mirror(COLUMNS, ROWS)
    sent = [mirror.feed(stream[i : i + chunk]) for i in range(0, len(stream), chunk)]
    assert b"".join(sent) == stream  # nothing lost, nothing held at the end
    join = data.draw(st.integers(0, len(sent)))
    late = Mirror(COLUMNS, ROWS)
    for piece in sent[:join]:
        late.feed(piece)
    member = terminal(late.repaint() + b"".join(sent[join:]))
    assert cells(member) == cells(terminal(stream))


def test_a_read_that_ends_inside_a_sequence_or_a_character_is_held_back() -> None:
    mirror = Mirror(COLUMNS, ROWS)
    assert mirror.feed(b"ab\x1b[38;5") == b"ab"
    assert mirror.feed(b";61mc" + "ŷ".encode()[:1]) == b"\x1b[38;5;61mc"
    assert mirror.feed("ŷ".encode()[1:] + b"\x1b]0;ti") == "ŷ".encode()
    assert mirror.feed(b"tle\x07d\x1b") == b"\x1b]0;title\x07d"
    assert mirror.feed(b"[0m") == b"\x1b[0m"
    assert mirror.feed(b"e\x1b(") == b"e"  # ESC ( waits for its final byte
    assert mirror.feed(b"Bf\x1b(B") == b"\x1b(Bf\x1b(B"  # and once it has it, waits for nothing
