"""A view group's screen as the server holds it, to repaint any member at once.

Textual repaints only what changed, so the bytes a group's app wrote since it
started are the only record of what its screen shows: a student who joins
late, resizes, or was skipped while their connection was slow needs the whole
screen, not the stream. tmux keeps a model of every pane's screen and redraws
any client from it; this is the same idea, with pyte as the terminal model.

:meth:`Mirror.repaint` writes the model back as terminal bytes: the modes the
app set (alternate screen, mouse and focus reports, bracketed paste, keyboard
protocol, cursor), every cell with its colours and attributes, and the cursor.
Colours are kept as the app spelled them (``38;5;61`` stays a palette index,
``38;2;r;g;b`` stays 24-bit), so a student's terminal shows what it would have
shown had it drawn the app itself.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pyte
import wcwidth
from pyte import graphics

#: Private modes a member's terminal is put into as the app put the group's.
_MODES = (1000, 1002, 1003, 1006, 1015, 1004, 2004)
_ALTERNATE = 1049
_AUTOWRAP = 7
_CURSOR = 25
#: The kitty keyboard protocol: pushed with ``CSI > flags u``, popped with ``CSI < u``.
_KEYBOARD = re.compile(rb"\x1b\[(?:>[0-9;]*|<[0-9]*)u")
#: Sequences pyte does not know and would draw the last letter of (``CSI < u``
#: printed a "u" over the status bar; ``CSI ? 2026 $ p`` a "p"): the keyboard
#: protocol and questions to the terminal. None of them changes the screen.
_UNKNOWN = re.compile(
    rb"\x1b\[(?:[<>=][\x30-\x3f]*[\x20-\x2f]*|[\x30-\x3f]*[\x20-\x2f]+)[\x40-\x7e]"
)
#: A whole CSI sequence; one cut off by the end of a read (parameters, no final byte).
_CSI = re.compile(rb"\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]")
_CSI_CUT = re.compile(rb"\x1b\[[\x30-\x3f]*[\x20-\x2f]*\Z")
#: The longest unfinished sequence held back for the next read (longer: passed on).
_HOLD = 4096
_NAMED_FG = {name: code for code, name in {**graphics.FG_ANSI, **graphics.FG_AIXTERM}.items()}
_NAMED_BG = {name: code for code, name in {**graphics.BG_ANSI, **graphics.BG_AIXTERM}.items()}


class _Screen(pyte.Screen):
    """pyte's screen, keeping a palette or 24-bit colour as its SGR parameters
    (``5;61``, ``2;1;2;3``) instead of pyte's hex, which cannot say which it was."""

    def select_graphic_rendition(self, *attrs: int, **_kwargs: Any) -> None:
        if not attrs or attrs == (0,):
            self.cursor.attrs = self.default_char
            return
        replace: dict[str, Any] = {}
        todo = list(attrs)
        while todo:
            attr = todo.pop(0)
            if attr == 0:
                replace.update(self.default_char._asdict())
            elif attr in (38, 48):
                key = "fg" if attr == 38 else "bg"
                if todo[:1] == [5] and len(todo) >= 2:
                    replace[key] = f"5;{todo[1]}"
                    del todo[:2]
                elif todo[:1] == [2] and len(todo) >= 4:
                    replace[key] = "2;{};{};{}".format(*todo[1:4])
                    del todo[:4]
                else:
                    break
            elif attr in graphics.FG_ANSI:
                replace["fg"] = graphics.FG_ANSI[attr]
            elif attr in graphics.BG_ANSI:
                replace["bg"] = graphics.BG_ANSI[attr]
            elif attr in graphics.FG_AIXTERM:
                replace["fg"] = graphics.FG_AIXTERM[attr]
            elif attr in graphics.BG_AIXTERM:
                replace["bg"] = graphics.BG_AIXTERM[attr]
            elif attr in graphics.TEXT:
                flag = graphics.TEXT[attr]
                replace[flag[1:]] = flag.startswith("+")
        self.cursor.attrs = self.cursor.attrs._replace(**replace)

    # pyte erases only the cells written before, with every attribute of the pen; a
    # terminal erases them all, keeping only the pen's background (an underline or
    # reverse video on at the moment does not spread over the erased cells).

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        for y in range(self.lines):
            self._fill(y)
        with self._erasing():
            super().erase_in_display(how, *args, **kwargs)

    def erase_in_line(self, how: int = 0, private: bool = False) -> None:
        self._fill(self.cursor.y)
        with self._erasing():
            super().erase_in_line(how, private)

    def erase_characters(self, count: int | None = None) -> None:
        with self._erasing():
            super().erase_characters(count)

    @contextlib.contextmanager
    def _erasing(self) -> Iterator[None]:
        pen = self.cursor.attrs
        self.cursor.attrs = self.default_char._replace(bg=pen.bg)
        try:
            yield
        finally:
            self.cursor.attrs = pen

    def _fill(self, y: int) -> None:
        line = self.buffer[y]
        if len(line) < self.columns:
            for x in range(self.columns):
                if x not in line:
                    line[x] = self.default_char

    def write_process_input(self, data: str) -> None:
        """Answers to the app's questions go nowhere: the group's app hears no terminal."""


class Mirror:
    """The screen of a group's app, fed its output, repainted on demand."""

    def __init__(self, columns: int, rows: int) -> None:
        self.screen = _Screen(columns, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._keyboard = b""
        self._tail = b""

    def feed(self, data: bytes) -> bytes:
        """The app wrote ``data``; returns what is whole of it: the bytes up to an
        escape sequence or a character the read cut in two (kept for the next
        feed). Members are sent exactly these, so a member painted whole between
        two feeds never receives the second half of a sequence as text."""
        data = self._tail + data
        cut = _unfinished(data)
        data, self._tail = data[:cut], data[cut:]
        for found in _KEYBOARD.finditer(data):
            self._keyboard = found.group() if found.group()[2:3] == b">" else b""
        self._stream.feed(_UNKNOWN.sub(b"", data))
        return data

    def resize(self, columns: int, rows: int) -> None:
        self.screen.resize(rows, columns)

    def _mode(self, number: int) -> bool:
        return (number << 5) in self.screen.mode

    def modes(self) -> bytes:
        """The terminal modes the app has set, as the bytes that set them."""
        out = [b"\x1b[?1049h"] if self._mode(_ALTERNATE) else []
        out += [b"\x1b[?%dh" % m for m in _MODES if self._mode(m)]
        return b"".join(out) + self._keyboard

    def repaint(self) -> bytes:
        """Everything a terminal needs to show this screen, from any state."""
        screen = self.screen
        out = [self.modes(), b"\x1b[?25l\x1b[?7l\x1b[0m\x1b[H\x1b[2J"]
        out += [self.row(y) for y in range(screen.lines)]
        out.append(b"\x1b[0m")
        if self._mode(_AUTOWRAP):
            out.append(b"\x1b[?7h")
        if self._mode(_CURSOR) and not screen.cursor.hidden:
            out.append(b"\x1b[?25h")
        out.append(self.resume())
        return b"".join(out)

    def resume(self) -> bytes:
        """The cursor and the pen back where the app left them, after something else was
        written: the app's next bytes (a frame goes out in pieces) draw where and in the
        colours it meant."""
        screen = self.screen
        cursor = screen.cursor
        if cursor.x >= screen.columns and self._mode(_AUTOWRAP):
            # Past the last column, a wrap pending: only writing the last cell again
            # puts a terminal there (moving the cursor cannot).
            last = screen.buffer[cursor.y][screen.columns - 1]
            place = b"\x1b[%d;%dH" % (cursor.y + 1, screen.columns) + _sgr(last)
            place += (last.data or " ").encode("utf-8", "replace")
        else:
            place = b"\x1b[%d;%dH" % (cursor.y + 1, min(cursor.x, screen.columns - 1) + 1)
        return place + _sgr(cursor.attrs)  # the colours the app writes in next

    def row(self, y: int) -> bytes:
        """Row ``y`` (from 0) as bytes that draw it from its first column."""
        screen = self.screen
        line = screen.buffer[y]
        parts = [b"\x1b[%d;1H" % (y + 1)]
        style: tuple[Any, ...] | None = None
        wide = False
        for x in range(screen.columns):
            char = line[x]
            data = char.data
            if data == "" and wide:
                wide = False
                continue  # the right half of the wide character before it
            # An empty cell after anything else is what is left of a wide
            # character written over: a terminal shows a blank there.
            data = data or " "
            wide = wcwidth.wcwidth(data[0]) == 2
            key = char[1:]
            if key != style:
                parts.append(_sgr(char))
                style = key
            parts.append(data.encode("utf-8", "replace"))
        return b"".join(parts)


def _unfinished(data: bytes) -> int:
    """Where an escape sequence or UTF-8 character that ``data`` ends in the middle
    of begins (``len(data)`` when it ends on a boundary)."""
    end = len(data)
    cut = end
    esc = data.rfind(b"\x1b", max(0, end - _HOLD))
    if esc >= 0:
        kind = data[esc + 1 : esc + 2]
        if not kind or (kind == b"[" and _CSI_CUT.match(data, esc)):
            cut = esc  # ESC alone, or a CSI without its final byte
        elif kind == b"[" and not _CSI.match(data, esc):
            pass  # malformed: passed on as it is
        elif kind in b"]P_^" and b"\x07" not in data[esc:]:
            cut = esc  # a string (OSC, DCS…) not yet ended by BEL (ST is its own ESC)
        elif 0x20 <= kind[0] <= 0x2F and end - esc == 2:
            cut = esc  # ESC ( and its final byte to come
    for back in range(1, min(4, end) + 1):  # a UTF-8 character cut in two
        byte = data[end - back]
        if byte & 0xC0 != 0x80:
            need = 4 if byte >= 0xF0 else 3 if byte >= 0xE0 else 2 if byte >= 0xC0 else 1
            if need > back:
                cut = min(cut, end - back)
            break
    return cut if end - cut <= _HOLD else end


def _sgr(char: Any) -> bytes:
    """The SGR sequence for a cell's colours and attributes, from a reset."""
    codes = ["0"]
    for flag, code in (
        ("bold", "1"),
        ("italics", "3"),
        ("underscore", "4"),
        ("blink", "5"),
        ("reverse", "7"),
        ("strikethrough", "9"),
    ):
        if getattr(char, flag):
            codes.append(code)
    codes += _colour(char.fg, "38", _NAMED_FG) + _colour(char.bg, "48", _NAMED_BG)
    return ("\x1b[" + ";".join(codes) + "m").encode()


def _colour(value: str, extended: str, named: dict[str, int]) -> list[str]:
    if value == "default":
        return []
    if value in named:
        return [str(named[value])]
    if value[:2] in ("5;", "2;"):
        return [f"{extended};{value}"]
    return []
