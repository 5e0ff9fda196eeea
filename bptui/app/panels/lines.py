"""The base of the panels: drawn line by line, repainting only lines that changed.

A micro-step changes a handful of lines on the screen: a value on the graph, a
factor of the chain rule, ``w.grad``, the phase in the status bar, a point on
the plot. A panel that re-renders as a whole repaints every line of every panel
it touches, and Textual's compositing of those lines was most of what a key
press cost. Here each panel hands over its lines as Rich ``Text``; lines equal
to the ones on screen (in text and in style) keep their rendered strips, and
only the others are marked dirty, so Textual renders and composites just those.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from ...glyphs import ascii_only
from ...i18n import _

_NOTHING = object()


def _key(line: Text) -> tuple[object, ...]:
    """What decides a line's look (``Text.__eq__`` ignores the base style)."""
    return (line.plain, line.style, tuple(line.spans), line.overflow)


class LinePanel(Widget):
    """A panel whose content is a list of one-row ``Text`` lines.

    Subclasses implement :meth:`build` (the lines for a content width) and call
    :meth:`redraw` when what they show changes. The panel's height follows the
    number of lines; a change in that number is the only thing that relayouts
    the screen. A panel with a :attr:`TITLE` has it on its border, in the
    language spoken; :meth:`retranslate` shows the panel in a new one (``L``).
    """

    #: The border title, in English (marked with ``N_``; shown through ``_``).
    TITLE: str | None = None
    #: Rows cut off by the room the layout gives are marked on the last row shown
    #: (a panel that scrolls, as the graph does, says so itself).
    MARK_CUT = True

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._lines: list[Text] = []
        self._keys: list[tuple[object, ...]] = []
        self._lines_width = -1
        self._built: dict[int, list[Text]] = {}
        self._strips: dict[int, Strip] = {}
        self._strips_for: tuple[int, Style, int] | None = None
        self._source: object = _NOTHING
        if self.TITLE is not None:
            self.border_title = _(self.TITLE)

    def retranslate(self) -> None:
        """Title and lines again, in the language spoken now."""
        if self.TITLE is not None:
            self.border_title = _(self.TITLE)
        self.redraw()

    def build(self, width: int) -> list[Text]:
        """The lines to show at a content width of ``width`` cells."""
        raise NotImplementedError

    def _lines_at(self, width: int) -> list[Text]:
        # Layout asks for the height at a width before the panel has it: build once per width.
        lines = self._built.get(width)
        if lines is None:
            lines = self._built[width] = self.build(width)
        return lines

    def redraw(self, source: object = None) -> None:
        """Rebuild the lines; repaint the changed ones, relayout if their number changed.

        ``source``, if given, is everything :meth:`build` reads: when it equals
        the last one, the lines cannot have changed and are not rebuilt.
        """
        if source is not None:
            if source == self._source:
                return
            self._source = source
        self._built.clear()
        width = self.content_size.width
        lines = self._lines_at(width)
        keys = [_key(line) for line in lines]
        old_keys = self._keys
        self._lines, self._keys, self._lines_width = lines, keys, width
        if len(keys) != len(old_keys):
            self._strips.clear()
            self.refresh(layout=True)
            return
        changed = [y for y, (new, old) in enumerate(zip(keys, old_keys, strict=True)) if new != old]
        for y in changed:
            self._strips.pop(y, None)
        if changed:
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines_at(width))

    def on_resize(self) -> None:
        """Lines may depend on the width (abbreviations, wrapping): rebuild at the new one."""
        self.redraw()

    def render_line(self, y: int) -> Strip:
        """Textual asks for dirty rows only; a row's strip is kept until its line changes."""
        width = self.size.width
        style = self.visual_style.rich_style
        if width != self._lines_width:
            self._lines = self._lines_at(width)
            self._keys = [_key(line) for line in self._lines]
            self._lines_width = width
        shown = self._rows_shown()
        if self._strips_for != (width, style, shown):
            self._strips.clear()
            self._strips_for = (width, style, shown)
        strip = self._strips.get(y)
        if strip is None:
            if y == shown - 1 and shown < len(self._lines):
                strip = self._strips[y] = self._render_cut(len(self._lines) - y, width, style)
            else:
                strip = self._strips[y] = self._render_row(y, width, style)
        return strip

    def _rows_shown(self) -> int:
        """How many of the lines the screen shows: the layout may give the panel (or its
        row of panels) fewer rows than it has lines."""
        lines = len(self._lines)
        if not self.MARK_CUT or lines == 0:
            return lines
        room = self.size.height
        parent = self.parent
        if isinstance(parent, Widget) and parent.content_region.height:
            room = min(room, parent.content_region.bottom - self.content_region.y)
        return max(0, min(lines, room))

    def _render_cut(self, hidden: int, width: int, style: Style) -> Strip:
        """The last row shown, when rows are cut off: how many, and the key that shows them."""
        mark = ("..." if ascii_only() else "…") + _(" {n} more rows: v shows them").format(n=hidden)
        line = Text(mark, style="italic")
        return self._strip_of(line, width, style)

    def _render_row(self, y: int, width: int, style: Style) -> Strip:
        if y >= len(self._lines):
            return Strip.blank(width, style)
        return self._strip_of(self._lines[y], width, style)

    def _strip_of(self, line: Text, width: int, style: Style) -> Strip:
        if line.cell_len > width:
            line = line.copy()
            line.truncate(width, overflow="ellipsis")
            if ascii_only():  # "..." in place of the "…" that says the line goes on
                line.right_crop(min(3, line.cell_len))
                line.append("..."[: width - line.cell_len])
        console = self.app.console
        # Text.render leaves out the line's own base style when it has no spans.
        base = style + console.get_style(line.style) if line.style else style
        segments = Segment.apply_style(line.render(console), base)
        return Strip(segments).extend_cell_length(width, style).crop(0, width)
