"""Rich text in lines broken by :mod:`bptui.linebreak`: between Chinese characters
too, where Rich's own ``Text.wrap`` breaks at spaces only (the help's paragraphs,
the message line)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, JustifyMethod
from rich.containers import Lines
from rich.text import Text

from .. import linebreak


def wrap(console: Console, text: Text, width: int, justify: JustifyMethod = "left") -> Lines:
    """``text`` in lines of at most ``width`` cells, as ``Text.wrap`` makes them:
    spaces at a break dropped, each line justified."""
    lines = Lines()
    for line in text.split(allow_blank=True):
        pieces = line.divide(linebreak.break_offsets(line.plain, width, cell_len))
        for piece in pieces:
            piece.rstrip_end(width)
        pieces.justify(console, width, justify=justify, overflow="fold")
        lines.extend(pieces)
    return lines
