"""The graph panel: the computational graph with values and gradients."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.containers import ScrollableContainer
from textual.widget import Widget

from ..lesson.snapshot import Snapshot
from .graph_layout import layout

#: Above this many rows the graph drops its grad_fn lines before it scrolls.
COMPACT_ROWS = 9


class GraphBox(ScrollableContainer, can_focus=False):
    """The frame around the graph: scrolls (with the mouse) when a lesson's graph is large.

    It never takes focus, so the arrow keys keep stepping the lesson.
    """


class GraphPanel(Widget):
    """x, w, y → × → ŷ → − → r → ² → loss, drawn with lines.

    Forward values appear as the forward pass computes them, gradients (∂) as
    the backward pass reaches them; the node of the last micro-step is
    highlighted, and each value shows torch's backward node beneath it.
    """

    DEFAULT_CSS = """
    GraphPanel { width: auto; height: auto; }
    """

    def __init__(self, *args, ascii_only: bool = False, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._snapshot: Snapshot | None = None
        self._ascii = ascii_only
        self._cache: tuple[Snapshot | None, list[Text]] = (None, [])
        self._width = 1

    def show(self, snapshot: Snapshot) -> None:
        before = self._extent()
        self._snapshot = snapshot
        # A relayout of the screen costs more than the repaint: only when the size changes.
        self.refresh(layout=self._extent() != before)

    def _extent(self) -> tuple[int, int]:
        """Rows, and the widest the graph has been: values appear and vanish with
        each step, and a frame that only ever widens neither jumps nor relayouts."""
        lines = self._lines()
        self._width = max(self._width, max((line.cell_len for line in lines), default=0))
        return len(lines), self._width

    def _lines(self) -> list[Text]:
        if self._snapshot is None:
            return [Text("Loading PyTorch…", style="dim")]
        if self._cache[0] is not self._snapshot:
            lines = layout(self._snapshot.nodes, 10_000, COMPACT_ROWS, self._ascii)
            self._cache = (self._snapshot, lines)
        return self._cache[1]

    def get_content_width(self, container, viewport) -> int:  # type: ignore[no-untyped-def]
        return self._extent()[1]

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        return len(self._lines())

    def render(self) -> RenderableType:
        return Group(*self._lines())
