"""A note to one member of a view group, over the group's screen.

The group's app draws for everyone, so it cannot tell one student why their key
did nothing. The server writes the note itself, on that student's terminal
only, over the bottom row (the key footer) in reverse video, and puts the row
back from the group's screen model a few seconds later.
"""

from __future__ import annotations

import wcwidth

from .groups import View
from .mirror import Mirror


def note(text: str, view: View, mirror: Mirror) -> bytes:
    """``text`` over the bottom row of ``view``, the cursor left where the app's is."""
    line = _fit(text, view.columns, view.ascii_only)
    return b"\x1b[%d;1H\x1b[0;7m" % view.rows + line.encode() + b"\x1b[0m" + _cursor(mirror)


def unnote(view: View, mirror: Mirror) -> bytes:
    """The bottom row as the group's app drew it."""
    return mirror.row(view.rows - 1) + b"\x1b[0m" + _cursor(mirror)


def _cursor(mirror: Mirror) -> bytes:
    cursor = mirror.screen.cursor
    return b"\x1b[%d;%dH" % (cursor.y + 1, min(cursor.x, mirror.screen.columns - 1) + 1)


def _fit(text: str, columns: int, ascii_only: bool) -> str:
    """`` text`` in exactly ``columns`` cells: cut with a mark where it is too long."""
    mark = "..." if ascii_only else "…"
    room = columns - 1
    if wcwidth.wcswidth(text) > room:
        room -= len(mark)
        kept, width = [], 0
        for char in text:
            cells = max(wcwidth.wcwidth(char), 0)
            if width + cells > room:
                break
            kept.append(char)
            width += cells
        text = "".join(kept) + mark
    line = " " + text
    return line + " " * max(columns - wcwidth.wcswidth(line), 0)
