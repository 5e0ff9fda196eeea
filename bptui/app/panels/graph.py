"""The graph panel: the computational graph with values and gradients.

The graph is drawn in the fullest :class:`~.graph_layout.Mode` whose rows fit
the box (grad_fn names under each value when they fit, else one row a value),
and the box follows the values the last micro-step touched, down and across, so
the node being computed is always on screen; ``{`` ``}`` ``[`` ``]`` and the
mouse scroll the rest into view, ``y`` shows or hides torch's backward nodes.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.containers import ScrollableContainer
from textual.geometry import Region
from textual.strip import Strip

from ...glyphs import glyph, shown
from ...i18n import N_, _
from ...lesson.snapshot import Snapshot
from .. import palette
from .graph_layout import Mode, Shape, choose_mode, draw, place, shape
from .lines import LinePanel

#: The graph's box title, and what the panel says until the engine is ready.
TITLE = N_("Graph")
LOADING = N_("Loading PyTorch…")


#: Characters of the graph's wires: a wire cut at the box's edge needs no mark.
_WIRES = frozenset("─│┬┴┐┘├┤┌└┼-|+ ")


def _split(text: str, edge: int) -> bool:
    """Column ``edge`` cuts a value or a name in two, or a label (``∂``, ``σ``, ``x=``)
    from its value one space away."""
    if not 0 < edge < len(text):
        return False

    def word(i: int) -> bool:
        return 0 <= i < len(text) and text[i] not in _WIRES

    before, after = word(edge - 1), word(edge)
    if before and after:
        return True
    if before and text[edge] == " ":
        return word(edge + 1)
    return after and text[edge - 1] == " " and word(edge - 2)


def _mark(strip: Strip, at: int) -> Strip:
    """``…`` in the style of the cell it replaces."""
    cell = strip.crop(at, at + 1)
    style = next((segment.style for segment in cell), None)
    return Strip([Segment(glyph("…", "~"), style)], 1)


class GraphBox(ScrollableContainer, can_focus=False):
    """The frame around the graph: scrolls (keys, mouse) when a lesson's graph is large.

    It never takes focus, so the arrow keys keep stepping the lesson. Its title
    says which keys reach what does not fit.
    """

    def on_resize(self) -> None:
        for panel in self.query(GraphPanel):
            self.call_after_refresh(panel.follow)
            panel.refresh()  # the marks of values cut at the box's edges (render_line)

    def watch_scroll_x(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_x(old_value, new_value)
        if round(old_value) != round(new_value):
            for panel in self.query(GraphPanel):
                panel.refresh()

    def update_title(self, names_hidden: bool) -> None:
        view = self.scrollable_content_region.size
        content = self.virtual_size
        hints = []
        if content.height > view.height:
            hints.append("{ } ↕")
        if content.width > view.width:
            hints.append("[ ] ↔")
        if names_hidden:
            hints.append("y grad_fn")
        title = shown(" · ".join([_(TITLE), *hints]))
        if self.border_title != title:
            self.border_title = title


class GraphPanel(LinePanel):
    """x, w, y → × → ŷ → − → r → ² → loss, drawn with lines.

    Forward values appear as the forward pass computes them, gradients (∂) as
    the backward pass reaches them; the node of the last micro-step is
    highlighted, and each value shows torch's backward node beneath it.
    """

    MARK_CUT = False  # its box scrolls, and its title names the keys that do

    def render_line(self, y: int) -> Strip:
        """A row, with ``…`` where the box's left or right edge cuts a value or a name
        in two (the title names the keys that scroll to the rest)."""
        strip = super().render_line(y)
        box = self.parent
        if not isinstance(box, GraphBox) or y >= len(self._lines):
            return strip
        text = self._lines[y].plain
        left = round(box.scroll_x)
        right = left + box.scrollable_content_region.width
        if _split(text, right):
            strip = Strip.join(
                [strip.crop(0, right - 1), _mark(strip, right - 1), strip.crop(right)]
            )
        if left > 0 and _split(text, left):
            strip = Strip.join([strip.crop(0, left), _mark(strip, left), strip.crop(left + 1)])
        return strip

    DEFAULT_CSS = """
    GraphPanel { width: auto; min-width: 100%; height: auto; }
    """

    def __init__(self, *args, ascii_only: bool = False, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._snapshot: Snapshot | None = None
        self._ascii = ascii_only
        self._width = 1
        #: None: torch's backward nodes shown when they fit; True / False: as ``y`` chose.
        self.names: bool | None = None
        #: ``P``: every digit of each value (1.9999996, not 2), as ``print`` shows it.
        self.precise = False
        self._drawn: tuple[Shape, Mode] | None = None
        self._floor: tuple[int, ...] = ()
        self._focus: tuple[Region, ...] = ()
        self._around: tuple[Region, ...] = ()
        self.mode: Mode | None = None

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        rows = len(self._lines)
        self.redraw()
        # Values appear and vanish with each step. The panel fills the box and
        # only ever widens, so nodes do not jump sideways, and the screen is laid
        # out again only when the graph outgrows the panel or changes its rows.
        if self._widen() > self.size.width or len(self._lines) != rows:
            self.refresh(layout=True)
            self.call_after_refresh(self.follow)
        else:
            self.follow()

    def toggle_names(self) -> None:
        """Show torch's backward nodes if they are hidden, hide them if shown."""
        self.names = not (self.mode is not None and self.mode.names)
        self.refit()

    def toggle_precise(self) -> bool:
        """Every digit of each value, or 5 significant digits again; whether on now."""
        self.precise = not self.precise
        self._drawn = None  # columns start afresh: the values widen or narrow
        self.refit()
        return self.precise

    def refit(self) -> None:
        """Draw again for the room the box has now (after y, or a resize of the screen)."""
        self.redraw()
        self.refresh(layout=True)
        self.call_after_refresh(self.follow)

    def follow(self) -> None:
        """Scroll the box to the values the last micro-step touched (all of them if
        they fit, else the first), and say in its title what else is out of view."""
        box = self.parent
        if not isinstance(box, GraphBox):
            return
        if self._focus:
            view = box.scrollable_content_region.size
            for wanted in self._wanted():
                if wanted.width <= view.width and wanted.height <= view.height:
                    break
            box.scroll_to_region(wanted, animate=False, immediate=True)
        box.update_title(self.mode is not None and not self.mode.names)

    def _wanted(self) -> list[Region]:
        """What to bring into view, best first: the touched values with their inputs,
        the values alone, the first value."""
        return [
            Region.from_union(list(self._around)),
            Region.from_union(list(self._focus)),
            self._focus[0],
        ]

    def _room(self) -> int:
        """Rows the box can give the graph before it scrolls."""
        box = self.parent
        if not isinstance(box, GraphBox):
            return 1_000
        limit = box.styles.max_height
        if limit is None or not limit.is_cells:
            return 1_000
        return max(1, int(limit.value) - box.styles.gutter.height)

    def _widen(self) -> int:
        lines = self._lines_at(0)
        self._width = max(self._width, max((line.cell_len for line in lines), default=0))
        return self._width

    def build(self, width: int) -> list[Text]:
        if self._snapshot is None:
            return [Text(_(LOADING), style=palette.HINT)]
        nodes = self._snapshot.nodes
        key = shape(nodes)
        mode = choose_mode(place(key).slots, self._room(), self.names)
        if self._drawn != (key, mode):  # a new graph or mode: columns start afresh
            self._drawn, self._floor, self._width, self.mode = (key, mode), (), 1, mode
        drawing = draw(nodes, mode, self._ascii, self._floor, self.precise)
        self._floor, self._focus, self._around = drawing.widths, drawing.focus, drawing.around
        return drawing.lines

    def _lines_at(self, width: int) -> list[Text]:
        return super()._lines_at(0)  # the graph is as wide as it is; the box scrolls

    def get_content_width(self, container, viewport) -> int:  # type: ignore[no-untyped-def]
        return self._widen()
