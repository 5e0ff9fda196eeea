"""The graph panel: the computational graph with values and gradients."""

from __future__ import annotations

from rich.text import Text
from textual.containers import ScrollableContainer

from ..lesson.snapshot import Snapshot
from .graph_layout import layout
from .lines import LinePanel

#: Above this many rows the graph drops its grad_fn lines before it scrolls.
COMPACT_ROWS = 9


class GraphBox(ScrollableContainer, can_focus=False):
    """The frame around the graph: scrolls (with the mouse) when a lesson's graph is large.

    It never takes focus, so the arrow keys keep stepping the lesson.
    """


class GraphPanel(LinePanel):
    """x, w, y → × → ŷ → − → r → ² → loss, drawn with lines.

    Forward values appear as the forward pass computes them, gradients (∂) as
    the backward pass reaches them; the node of the last micro-step is
    highlighted, and each value shows torch's backward node beneath it.
    """

    DEFAULT_CSS = """
    GraphPanel { width: auto; min-width: 100%; height: auto; }
    """

    def __init__(self, *args, ascii_only: bool = False, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._snapshot: Snapshot | None = None
        self._ascii = ascii_only
        self._width = 1

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self.redraw()
        # Values appear and vanish with each step. The panel fills the box and
        # only ever widens, so nodes do not jump sideways, and the screen is laid
        # out again only when the graph outgrows the panel.
        if self._widen() > self.size.width:
            self.refresh(layout=True)

    def _widen(self) -> int:
        lines = self._lines_at(0)
        self._width = max(self._width, max((line.cell_len for line in lines), default=0))
        return self._width

    def build(self, width: int) -> list[Text]:
        if self._snapshot is None:
            return [Text("Loading PyTorch…", style="dim")]
        return layout(self._snapshot.nodes, 10_000, COMPACT_ROWS, self._ascii)

    def _lines_at(self, width: int) -> list[Text]:
        return super()._lines_at(0)  # the graph is as wide as it is; the box scrolls

    def get_content_width(self, container, viewport) -> int:  # type: ignore[no-untyped-def]
        return self._widen()
