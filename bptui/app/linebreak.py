"""Line breaking that knows Chinese: a line may break between two Chinese characters.

Rich wraps text at spaces only (its maintainers' words in Textualize/rich#2494:
"Rich isn't aware of the rules regarding wrapping Chinese"). A Chinese sentence
has no spaces, so it was one long word: it went whole to the next line, and the
help's Chinese page showed lines such as ``• Z —`` alone above their text, and
paragraphs half empty. Here each Chinese character is a place where a line may
break, as in Chinese typesetting, except that closing punctuation (，。）…) never
starts a line and opening punctuation (（“…) never ends one. Text without
Chinese breaks exactly where Rich would break it.
"""

from __future__ import annotations

import re

from rich.cells import cell_len, chop_cells
from rich.console import Console
from rich.containers import Lines
from rich.text import Text

#: Characters written without spaces between them: CJK punctuation, kana and
#: ideographs (U+2E80–U+9FFF), compatibility ideographs, full-width forms.
_WIDE = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
#: Punctuation that never starts a line (it stays with the character before it).
_CLOSING = "，。、；：！？）］｝」』】》〉”’…％"
#: Punctuation that never ends a line (it goes with the character after it).
_OPENING = "（［｛「『【《〈“‘"

#: One place a line may end after: an opening mark or none, then one wide character
#: or a run of other characters, then its closing marks, then its spaces.
_UNIT = re.compile(
    rf"\s*(?:[{_OPENING}]*(?:[{_WIDE}]|[^\s{_WIDE}{_OPENING}]+)[{_CLOSING}]*|[{_OPENING}]+)\s*"
)


def _units(text: str) -> list[tuple[int, str]]:
    """``(start, unit)`` for each unit of ``text``, in order (see :data:`_UNIT`)."""
    units = []
    position = 0
    while (found := _UNIT.match(text, position)) is not None and found.end() > position:
        units.append((position, found.group(0)))
        position = found.end()
    return units


def break_offsets(text: str, width: int) -> list[int]:
    """Where to break ``text`` (one line, no newline) so that each piece fits in
    ``width`` cells: Rich's ``divide_line`` (a unit longer than a whole line is
    folded), with the units above instead of words."""
    breaks: list[int] = []
    used = 0
    for start, unit in _units(text):
        length = cell_len(unit.rstrip())
        if length <= width - used:
            used += cell_len(unit)
        elif length > width:  # longer than a whole line: folded across lines
            for last, piece in _last_flagged(chop_cells(unit, width)):
                if start:
                    breaks.append(start)
                if last:
                    used = cell_len(piece)
                else:
                    start += len(piece)
        elif used and start:
            breaks.append(start)
            used = cell_len(unit)
    return breaks


def _last_flagged(pieces: list[str]) -> list[tuple[bool, str]]:
    return [(i == len(pieces) - 1, piece) for i, piece in enumerate(pieces)]


def wrap(console: Console, text: Text, width: int) -> Lines:
    """``text`` in lines of at most ``width`` cells, as ``Text.wrap`` makes them
    (spaces at a break dropped, each line justified as ``text`` says)."""
    lines = Lines()
    for line in text.split(allow_blank=True):
        pieces = line.divide(break_offsets(line.plain, width))
        for piece in pieces:
            piece.rstrip_end(width)
        pieces.justify(console, width, justify=text.justify or "left", overflow="fold")
        lines.extend(pieces)
    return lines
