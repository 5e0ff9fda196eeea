"""Line breaking that knows Chinese: a line may break between two Chinese characters.

Rich and argparse wrap text at spaces only (Rich's maintainers in
Textualize/rich#2494: "Rich isn't aware of the rules regarding wrapping
Chinese"). A Chinese sentence has no spaces, so it was one long word: it went
whole to the next line, and the help screen showed ``• Z —`` alone above its
text and paragraphs half empty (argparse's would run past the terminal's edge
by cells: ``--help`` always had a wrapper of its own, now this). Here each wide
character is a place where a line may break, as in Chinese typesetting, except
that closing punctuation (，。）…) never starts a line and opening punctuation
(（“…) never ends one. Text without wide characters breaks exactly where Rich
would break it.

Standard library only: ``bptui --help`` uses it without loading Rich; the help
screen divides Rich text at the offsets it gives.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable

#: Characters written without spaces between them: CJK punctuation, kana and
#: ideographs, Hangul syllables, compatibility ideographs and forms, full-width forms.
_WIDE = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
#: Punctuation that never starts a line (it stays with the character before it).
_CLOSING = "，。、；：！？）］｝」』】》〉”’…％"
#: Punctuation that never ends a line (it goes with the character after it).
_OPENING = "（［｛「『【《〈“‘"


@functools.cache
def _unit() -> re.Pattern[str]:
    """One place a line may end after: opening marks, then one wide character or a
    run of other characters, then closing marks, then spaces. Compiled on first use
    (3 ms: only ``--help`` and the help screen wrap, and the app's start cannot spare it)."""
    return re.compile(
        rf"\s*(?:[{_OPENING}]*(?:[{_WIDE}]|[^\s{_WIDE}{_OPENING}]+)[{_CLOSING}]*|[{_OPENING}]+)\s*"
    )


def _units(text: str) -> list[tuple[int, str]]:
    """``(start, unit)`` for each unit of ``text``, in order (trailing spaces alone
    make none, as in Rich)."""
    units = []
    position = 0
    while (found := _unit().match(text, position)) is not None and found.end() > position:
        units.append((position, found.group(0)))
        position = found.end()
    return units


def _chop(unit: str, width: int, cell_len: Callable[[str], int]) -> list[str]:
    """``unit`` in pieces of at most ``width`` cells (a character wider than that alone)."""
    pieces: list[list[str]] = [[]]
    used = 0
    for char in unit:
        size = cell_len(char)
        if pieces[-1] and used + size > width:
            pieces.append([])
            used = 0
        pieces[-1].append(char)
        used += size
    return ["".join(piece) for piece in pieces]


def break_offsets(text: str, width: int, cell_len: Callable[[str], int]) -> list[int]:
    """Where to break ``text`` (one line) so that each piece fits in ``width`` cells,
    measured by ``cell_len``: Rich's ``divide_line`` (a unit longer than a whole
    line is folded), with the units above in place of words."""
    breaks: list[int] = []
    used = 0
    for start, unit in _units(text):
        length = cell_len(unit.rstrip())
        if length <= width - used:
            used += cell_len(unit)
        elif length > width:  # longer than a whole line: folded across lines
            pieces = _chop(unit, width, cell_len)
            for piece in pieces[:-1]:
                if start:
                    breaks.append(start)
                start += len(piece)
            if start:
                breaks.append(start)
            used = cell_len(pieces[-1])
        elif used and start:
            breaks.append(start)
            used = cell_len(unit)
    return breaks


def lines(text: str, width: int, cell_len: Callable[[str], int]) -> list[str]:
    """``text`` (one line) in lines of at most ``width`` cells, spaces at the breaks dropped."""
    edges = [0, *break_offsets(text, width, cell_len), len(text)]
    return [text[a:b].rstrip() for a, b in itertools.pairwise(edges) if text[a:b].strip()]
