"""The code panel: the lesson's PyTorch program, the running line highlighted."""

from __future__ import annotations

from rich.text import Text

from ...glyphs import glyph
from ...i18n import N_, _, ngettext
from ...lesson.snapshot import Snapshot
from .. import palette
from .lines import LinePanel

#: Highlighted programs by source. Its lines are only ever copied (see ``build``),
#: so every panel can share them; a ``bptui serve`` session inherits them from the
#: zygote's warm-up instead of running pygments on joining.
_HIGHLIGHTED: dict[tuple[str, ...], tuple[Text, ...]] = {}

RAN, NEXT = palette.RAN, palette.NEXT
#: From this height on, lines cut off above or below the window are marked on rows of
#: their own (``↑ 3 more lines``); a shorter panel marks them on its title (``↑3 ↓9``).
MARK_ROWS_FROM = 6


class CodePanel(LinePanel):
    """The training loop as the note wrote it.

    ``▶`` marks the line the last micro-step ran (``l = loss(x_val, w, y_val)``,
    ``l.backward()``, the update, the zeroing); ``›`` the line that runs next.
    The window scrolls to keep both in view, or where they are too far apart
    for its height, the line that ran. The program is the one the training modes
    run (see :func:`~bptui.lesson.program.build_program`).
    """

    TITLE = N_("PyTorch")
    MARK_CUT = False  # it builds the window of the program that fits its box

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._snapshot: Snapshot | None = None
        self._code: tuple[str, ...] = ()
        self._highlighted: list[Text] = []

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        if snapshot.code != self._code:
            self._code = snapshot.code
            self._highlighted = list(highlight(snapshot.code))
        # The same lines marked (most micro-steps): nothing to rebuild.
        self.redraw(source=(snapshot.code, snapshot.code_ran, snapshot.code_next))

    def build(self, width: int) -> list[Text]:
        snap = self._snapshot
        if snap is None:
            return [Text("")]
        height = max(self.content_size.height, 1)
        marked = set(snap.code_ran) | set(snap.code_next)
        lines_all = self._code
        # Narrow panel: start at the loop body, so its lines lose their indentation.
        body_start = min(marked, default=0)
        if marked and max(len(lines_all[i].strip()) for i in marked) + 2 + 4 > width:
            body_start = min(
                body_start,
                next((i for i, line in enumerate(lines_all) if line.startswith("        ")), 0),
            )
        else:
            body_start = 0
        # The window, and a row for each mark of lines cut off above or below it:
        # the marks take rows, which can move the window; it settles in a step or two.
        # A panel too short to give up rows has its marks on its border instead.
        count = len(lines_all)
        rows = height
        for _attempt in range(3 if height >= MARK_ROWS_FROM else 0):
            start = _window_start(snap.code_ran, marked, body_start, count, rows)
            fits = max(1, height - (start > 0) - (start + rows < count))
            if fits == rows:
                break
            rows = fits
        start = _window_start(snap.code_ran, marked, body_start, count, rows)
        above, below = start, count - start - rows
        title = _(self.TITLE)
        if rows == height:
            marks = ((glyph("↑", "^"), above), (glyph("↓", "v"), below))
            title = " ".join([title, *(f"{arrow}{n}" for arrow, n in marks if n > 0)])
        self.border_title = title
        lines = self._highlighted[start : start + rows]
        indent = min(
            (len(s) - len(s.lstrip()) for s in self._code[start : start + rows] if s.strip()),
            default=0,
        )
        out = []
        for offset, line in enumerate(lines):
            index = start + offset
            body = line[indent:] if indent else line.copy()
            if index in snap.code_ran:
                row = Text(glyph("▶ ", "> "), palette.LABEL)
                body.stylize(RAN)
            elif index in snap.code_next:
                row = Text(glyph("› ", "> "), palette.HINT)
                body.stylize(NEXT)
            else:
                row = Text("  ")
            row.append_text(body)
            row.no_wrap = True
            row.overflow = "ellipsis"
            out.append(row)
        if rows < height:
            if below > 0:
                out.append(_cut_mark(glyph("↓", "v"), below))
            if above > 0:
                out.insert(0, _cut_mark(glyph("↑", "^"), above))
        return out


def _window_start(ran: tuple[int, ...], marked: set[int], first: int, count: int, rows: int) -> int:
    """The first line of a window of ``rows`` lines on a program of ``count`` lines from
    line ``first``: its end, moved to show the marked lines (all of them if they fit,
    else the lines the last step ran, the current line, first)."""
    start = max(first, count - rows)
    if marked:
        keep = marked if max(marked) - min(marked) < rows else set(ran) or marked
        if min(keep) < start:
            start = min(keep)
        if max(keep) >= start + rows:
            start = max(keep) - rows + 1
    return start


def _cut_mark(arrow: str, hidden: int) -> Text:
    """``↑ 3 more lines``: the program goes on past the window, by that many lines."""
    said = ngettext("{arrow} {n} more line", "{arrow} {n} more lines", hidden)
    line = Text(said.format(arrow=arrow, n=hidden), style=palette.HINT)
    line.stylize("italic")
    line.no_wrap = True
    line.overflow = "ellipsis"
    return line


def highlight(code: tuple[str, ...]) -> tuple[Text, ...]:
    """The program's lines, syntax-highlighted (computed once per program)."""
    lines = _HIGHLIGHTED.get(code)
    if lines is None:
        from rich.syntax import Syntax  # pygments: imported after the first frame

        text = Syntax("", "python", theme="ansi_dark").highlight("\n".join(code))
        if len(_HIGHLIGHTED) >= 32:  # edits change the program's numbers: keep it small
            _HIGHLIGHTED.clear()
        lines = _HIGHLIGHTED[code] = tuple(text.split("\n", allow_blank=True))
    return lines
