"""A note to one member of a view group, over the group's screen.

The group's app draws for everyone, so it cannot tell one student why their key
did nothing. The server writes the note itself, on that student's terminal
only, over the bottom row (the key footer) in reverse video, and puts the row
back from the group's screen model a few seconds later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import wcwidth

from .groups import View, ViewGroup
from .mirror import Mirror

#: How long a note stays, and how often one may be said (a key held down, a flood).
SECONDS = 4.0
GAP = 0.5


class Notes:
    """One member's notes: said over their group's bottom row, taken back later.

    ``show`` writes to the member's terminal; ``group()`` is the group they
    watch now (a note is taken back only if they still watch the same one)."""

    def __init__(self, show: Callable[[bytes], None], group: Callable[[], ViewGroup | None]):
        self._show = show
        self._group = group
        self._said = 0.0
        self._timer: asyncio.TimerHandle | None = None
        #: The note up now, and the group it is over.
        self._up: tuple[str, ViewGroup] | None = None

    def say(self, text: str, group: ViewGroup) -> None:
        now = time.monotonic()
        if now - self._said < GAP:
            return
        self._said = now
        self._show(note(text, group.view, group.mirror))
        self.clear()
        self._up = (text, group)
        self._timer = asyncio.get_running_loop().call_later(SECONDS, self._take_back, group)

    def again(self, group: ViewGroup | None) -> None:
        """After the group's app drew: the note over it again, if one is up. The app
        redraws its footer on its own time (the first plot, the keys' row after a
        class has joined), and a note it drew over would be gone before it was read."""
        if self._up is not None and self._up[1] is group:
            self._show(note(self._up[0], group.view, group.mirror))

    def clear(self) -> None:
        self._up = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _take_back(self, group: ViewGroup) -> None:
        self._timer = None
        self._up = None
        if self._group() is group:
            self._show(unnote(group.view, group.mirror))


def note(text: str, view: View, mirror: Mirror, above: int = 0) -> bytes:
    """``text`` over the bottom row of ``view`` (or ``above`` rows higher), the cursor
    left where the app's is."""
    line = _fit(text, view.columns, view.ascii_only)
    row = max(view.rows - above, 1)
    return b"\x1b[%d;1H\x1b[0;7m" % row + line.encode() + b"\x1b[0m" + mirror.resume()


def unnote(view: View, mirror: Mirror, above: int = 0) -> bytes:
    """The bottom row (or the one ``above`` rows higher) as the group's app drew it."""
    return mirror.row(max(view.rows - 1 - above, 0)) + b"\x1b[0m" + mirror.resume()


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
