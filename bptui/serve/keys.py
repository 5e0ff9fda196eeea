"""A group member's keys, read by the server: which ones it acts on, and how.

A student who follows the teacher in a view group (see :mod:`bptui.serve.groups`)
has no app of their own: the group's app draws for everyone and hears nobody.
The server reads the bytes their terminal sends, splits them into keys, and
acts on a few: while a class question is open, the keys of a number are the
member's answer (see :mod:`bptui.serve.asking`); ``q`` leaves, ``t`` explores, a key that changes only the
student's view (language, theme, help, plot, zoom, quiz, handouts) gives them an
app of their own where the key takes effect, and a key that would step the
lesson is answered with a note. Everything else (mouse and focus reports, a
terminal's answers to the app's questions, pasted text) is dropped.

The table mirrors the app's key table (``bptui/app/keymap.py``);
``tests/test_group_keys.py`` fails when the two disagree.
"""

from __future__ import annotations

import enum
import re


class Kind(enum.Enum):
    """What the server does with a member's key."""

    QUIT = "quit"
    #: ``t``: an app of their own, exploring from the class's step.
    EXPLORE = "explore"
    #: A key of the student's own view: an app of their own, the key passed on.
    VIEW = "view"
    #: A key that would change the teacher's lesson: a note says why it does nothing.
    LESSON = "lesson"
    IGNORED = "ignored"


#: Keys that change the view for good (a student who pressed one keeps their own
#: app when they follow again); the other VIEW keys open something that closes.
LASTING_VIEW = frozenset(b"gvcyP[]{}QLT")

_PRINTABLE: dict[bytes, Kind] = {
    **{bytes([c]): Kind.VIEW for c in b"gvcyP[]{}QLTxX?"},
    **{bytes([c]): Kind.LESSON for c in b" nfFbBuzseU:p+-rEZmlo"},
    b"q": Kind.QUIT,
    b"t": Kind.EXPLORE,
    b"\x03": Kind.QUIT,  # Ctrl+C
    b"\x11": Kind.QUIT,  # Ctrl+Q
    b"\x7f": Kind.LESSON,  # backspace (undo)
    b"\x08": Kind.LESSON,
    b"\r": Kind.IGNORED,
}

#: Escape sequences by what ends them (and their parameters), as terminals send them.
_SEQUENCES: dict[bytes, Kind] = {
    b"\x1b[C": Kind.LESSON,  # → next
    b"\x1b[D": Kind.LESSON,  # ← undo
    b"\x1bOC": Kind.LESSON,
    b"\x1bOD": Kind.LESSON,
    b"\x1b[H": Kind.LESSON,  # Home, End: jumps
    b"\x1b[F": Kind.LESSON,
    b"\x1bOH": Kind.LESSON,
    b"\x1bOF": Kind.LESSON,
    b"\x1b[1~": Kind.LESSON,
    b"\x1b[4~": Kind.LESSON,
    b"\x1b[7~": Kind.LESSON,
    b"\x1b[8~": Kind.LESSON,
    b"\x1bOP": Kind.VIEW,  # F1: help
    b"\x1b[11~": Kind.VIEW,
    b"\x1b[P": Kind.VIEW,  # F1 in the kitty keyboard protocol
    b"\x1b[99;5u": Kind.QUIT,  # Ctrl+C in the kitty keyboard protocol
    b"\x1b[113;5u": Kind.QUIT,  # Ctrl+Q
}

#: A CSI sequence: parameters, intermediates, one final byte. The legacy mouse
#: report (``ESC [ M`` and three bytes) is matched first.
_CSI = re.compile(rb"\x1b\[(?:M[\x00-\xff]{3}|[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e])")
_SS3 = re.compile(rb"\x1bO[\x00-\xff]")
_PASTE_START, _PASTE_END = b"\x1b[200~", b"\x1b[201~"
#: The start of a sequence that a read cut off.
_UNFINISHED = re.compile(rb"\x1b(?:\[(?:M[\x00-\xff]{0,2}|[\x30-\x3f]*[\x20-\x2f]*)|O)?")
#: Keys a client may send in one go before the rest are dropped unread: a
#: paste or a flood never queues unbounded work.
MAX_KEYS = 256
#: An unfinished sequence kept for the next read; longer than this, it is noise.
_MAX_TAIL = 32


class KeyReader:
    """Splits a member's input into keys, an unfinished sequence kept for the next read."""

    def __init__(self) -> None:
        self._tail = b""
        #: Inside a bracketed paste (the app turns it on): pasted text is not keys.
        self._pasting = False

    def feed(self, data: bytes, escape: bool = False) -> list[tuple[Kind, bytes]]:
        """The keys in ``data`` (at most :data:`MAX_KEYS`), each with its bytes.
        ``escape``: an escape that ends ``data`` is the Esc key, not the start of a
        sequence the next read finishes (a member answering a class question has
        Esc to skip it; a terminal sends a sequence in one write)."""
        data = self._tail + data
        self._tail = b""
        keys: list[tuple[Kind, bytes]] = []
        i, end = 0, len(data)
        while i < end and len(keys) < MAX_KEYS:
            byte = data[i]
            if byte != 0x1B:
                step = _utf8_length(byte)
                if i + step > end:
                    self._keep(data[i:])
                    break
                key = data[i : i + step]
                keys.append((_PRINTABLE.get(key, Kind.IGNORED), key))
                i += step
                continue
            if i + 1 == end:
                # A lone escape: the Esc key, or the start of a sequence cut by the read.
                if escape:
                    keys.append((Kind.IGNORED, data[i:]))
                else:
                    self._keep(data[i:])
                break
            found = _CSI.match(data, i) or _SS3.match(data, i)
            if found is None:
                if data[i + 1] in b"[O" and end - i < _MAX_TAIL:
                    self._keep(data[i:])  # a sequence not finished yet
                    break
                keys.append((Kind.IGNORED, data[i : i + 2]))  # Alt+key, Esc then a key
                i += 2
                continue
            key = found.group()
            keys.append((_SEQUENCES.get(key, Kind.IGNORED), key))
            i = found.end()
        if i < end and len(keys) >= MAX_KEYS:
            # The rest is dropped unread, but a sequence it ends in the middle of
            # is kept, so the next read does not start inside it.
            last = data.rfind(b"\x1b", i)
            if last >= 0 and _UNFINISHED.fullmatch(data, last):
                self._keep(data[last:])
        return self._unpasted(keys)

    def _unpasted(self, keys: list[tuple[Kind, bytes]]) -> list[tuple[Kind, bytes]]:
        read = []
        for kind, key in keys:
            if key in (_PASTE_START, _PASTE_END):
                self._pasting = key == _PASTE_START
                kind = Kind.IGNORED
            read.append((Kind.IGNORED, key) if self._pasting else (kind, key))
        return read

    def _keep(self, rest: bytes) -> None:
        self._tail = rest if len(rest) < _MAX_TAIL else b""


def _utf8_length(first: int) -> int:
    if first < 0x80:
        return 1
    if first >= 0xF0:
        return 4
    if first >= 0xE0:
        return 3
    return 2 if first >= 0xC0 else 1


def lasting(key: bytes) -> bool:
    """Whether ``key`` changes a student's view for good, or is a mouse report (a
    click on the footer can): their app then stays theirs when they follow again."""
    return (len(key) == 1 and key[0] in LASTING_VIEW) or key.startswith((b"\x1b[<", b"\x1b[M"))
