"""The graph panel: the computational graph with values and gradients."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widget import Widget

from ..lesson.snapshot import Snapshot
from .graph_layout import layout


class GraphPanel(Widget):
    """x, w, y → × → ŷ → − → r → ² → loss, drawn with lines.

    Forward values appear as the forward pass computes them, gradients (∂) as
    the backward pass reaches them; the node of the last micro-step is
    highlighted, and each value shows torch's backward node beneath it.
    """

    DEFAULT_CSS = """
    GraphPanel { height: auto; }
    """

    def __init__(self, *args, ascii_only: bool = False, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.border_title = "Graph"
        self._snapshot: Snapshot | None = None
        self._ascii = ascii_only

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self.refresh(layout=True)

    def _lines(self, width: int, height: int) -> list[Text]:
        if self._snapshot is None:
            return [Text("Loading PyTorch…", style="dim")]
        return layout(self._snapshot.nodes, width, height, self._ascii)

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        return len(self._lines(width, 9))

    def render(self) -> RenderableType:
        return Group(*self._lines(self.content_size.width, max(self.content_size.height, 1)))
