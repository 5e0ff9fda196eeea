"""The code panel: the lesson's PyTorch program, the running line highlighted."""

from __future__ import annotations

from rich.text import Text

from ...glyphs import glyph
from ...i18n import N_
from ...lesson.snapshot import Snapshot
from .. import palette
from .lines import LinePanel

#: Highlighted programs by source. Its lines are only ever copied (see ``build``),
#: so every panel can share them; a ``bptui serve`` session inherits them from the
#: zygote's warm-up instead of running pygments on joining.
_HIGHLIGHTED: dict[tuple[str, ...], tuple[Text, ...]] = {}

RAN, NEXT = palette.RAN, palette.NEXT


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
        # The end of the program, moved to show the marked lines: all of them if
        # they fit, else the lines the last step ran (the current line) first.
        start = max(body_start, len(lines_all) - height)
        if marked:
            keep = marked if max(marked) - min(marked) < height else set(snap.code_ran) or marked
            if min(keep) < start:
                start = min(keep)
            if max(keep) >= start + height:
                start = max(keep) - height + 1
        lines = self._highlighted[start : start + height]
        indent = min(
            (len(s) - len(s.lstrip()) for s in self._code[start : start + height] if s.strip()),
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
        return out


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
