"""bptui's screen without bptui: Textual's own work for it, and nothing else.

A floor for ``bench_keys.py`` and ``bench_crowd.py``: this app shows what
``replica_record.py`` recorded from the real app (every panel's lines as Rich
``Text``, titles, CSS classes, the footer's keys) with the same stylesheet
(bptui's ``app.tcss``, read as a file, and the panels' ``DEFAULT_CSS`` as
recorded), the same containers and widgets of the same class names (so the CSS
applies alike), panels that repaint only the rows that changed (a minimal copy
of bptui's ``LinePanel``), and a compact footer with the same bindings. Space
shows the next recorded state, the plot in the same frame as the other panels
(the first plot one frame later, after a refresh and a 3 ms timer), as bptui
draws it. What a key costs
here is what Textual costs for bptui's screen: there is no engine, no
snapshot and no building of lines. It imports no bptui, only Textual and Rich.

Usage: python bench/_replica.py RECORDING.pickle
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from rich.theme import Theme as RichTheme
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.geometry import Region, Size
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Footer, Input, Static
from textual.widgets._footer import FooterKey

#: As bptui's ``AFTER_FRAME``: idle time after a key's frame before the plot is drawn.
AFTER_FRAME = 0.003
PLOT = "plot"


def _key(line: Text) -> tuple[object, ...]:
    return (line.plain, line.style, tuple(line.spans), line.overflow)


class LinePanel(Widget):
    """Rows of Rich ``Text``; only the rows that changed are repainted (as bptui's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lines: list[Text] = []
        self._keys: list[tuple[object, ...]] = []
        self._strips: dict[int, Strip] = {}
        self._strips_for: tuple[int, Style, int] | None = None

    def set_lines(self, lines: list[Text]) -> None:
        keys = [_key(line) for line in lines]
        old = self._keys
        self._lines, self._keys = lines, keys
        if len(keys) != len(old):
            self._strips.clear()
            self.refresh(layout=True)
            return
        width = self.content_size.width
        changed = [y for y, (new, was) in enumerate(zip(keys, old, strict=True)) if new != was]
        for y in changed:
            self._strips.pop(y, None)
        if changed:
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self.visual_style.rich_style
        shown = self._rows_shown()
        if self._strips_for != (width, style, shown):
            self._strips.clear()
            self._strips_for = (width, style, shown)
        strip = self._strips.get(y)
        if strip is None:
            if y == shown - 1 and shown < len(self._lines):
                line = Text(f"… {len(self._lines) - y} more rows: v shows them", style="italic")
                strip = self._strips[y] = self._strip_of(line, width, style)
            elif y >= len(self._lines):
                strip = self._strips[y] = Strip.blank(width, style)
            else:
                strip = self._strips[y] = self._strip_of(self._lines[y], width, style)
        return strip

    def _rows_shown(self) -> int:
        lines = len(self._lines)
        room = self.size.height
        parent = self.parent
        if isinstance(parent, Widget) and parent.content_region.height:
            room = min(room, parent.content_region.bottom - self.content_region.y)
        return max(0, min(lines, room))

    def _strip_of(self, line: Text, width: int, style: Style) -> Strip:
        if line.cell_len > width:
            line = line.copy()
            line.truncate(width, overflow="ellipsis")
        console = self.app.console
        base = style + console.get_style(line.style) if line.style else style
        segments = Segment.apply_style(line.render(console), base)
        return Strip(segments).extend_cell_length(width, style).crop(0, width)


class StatusBar(LinePanel):
    pass


class GraphBox(ScrollableContainer, can_focus=False):
    pass


class GraphPanel(LinePanel):
    _width = 1

    def _rows_shown(self) -> int:
        return len(self._lines)  # its box scrolls

    def widen(self) -> int:
        self._width = max(self._width, max((line.cell_len for line in self._lines), default=0))
        return self._width

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.widen()


class ChainPanel(LinePanel):
    pass


class TensorPanel(LinePanel):
    pass


class CodePanel(LinePanel):
    pass


class LossPlot(LinePanel):
    pass


class MessageBar(LinePanel):
    pass


class LessonView(Vertical):
    pass


class QuizPrompt(Vertical):
    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static(id="quiz-question")
            yield Input(id="quiz-answer", disabled=True)
        yield Static(id="quiz-hint")


class CompactFooter(Footer):
    """Footer(compact=True) whose keys are compact before they mount (as bptui's)."""

    def __init__(self) -> None:
        super().__init__(compact=True)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.set_class(True, "-compact", update=False)
            yield widget


_CLASSES: dict[str, type[Widget]] = {
    cls.__name__: cls
    for cls in (
        StatusBar,
        GraphPanel,
        ChainPanel,
        TensorPanel,
        CodePanel,
        LossPlot,
        MessageBar,
        QuizPrompt,
        LessonView,
        GraphBox,
    )
}


def load(path: str | Path) -> dict[str, Any]:
    data: dict[str, Any] = pickle.loads(Path(path).read_bytes())
    return data


def replica_class(data: dict[str, Any]) -> type[ReplicaBase]:
    """The app class for a recording: bptui's stylesheet, bindings and title."""
    setup = data["setup"]
    for name, css in setup["default_css"].items():
        if name in _CLASSES:
            _CLASSES[name].DEFAULT_CSS = css
    bindings = [
        Binding(key, action, description, show=show, tooltip=tooltip or "")
        for key, action, description, show, _display, tooltip in setup["bindings"]
    ]
    shown_keys = {key: display for key, _a, _d, _s, display, _t in setup["bindings"]}

    class Replica(ReplicaBase):
        CSS_PATH = setup["tcss"]
        TITLE = setup["title"]
        BINDINGS: ClassVar[list[Any]] = bindings
        KEY_DISPLAY: ClassVar[dict[str, str]] = shown_keys

    return Replica


class ReplicaBase(App[None]):
    ENABLE_COMMAND_PALETTE = False
    KEY_DISPLAY: ClassVar[dict[str, str]] = {}

    def __init__(self, data: dict[str, Any]) -> None:
        # Before App.__init__, which reads the theme's variables.
        self._setup = data["setup"]
        self._states: list[dict[str, Any]] = data["states"]
        super().__init__()
        self._at = 0
        self._plot_due = False
        self._plotted = False
        self._enabled: dict[str, bool] = {}
        self._panels: dict[str, LinePanel] = {}

    def compose(self) -> ComposeResult:
        with LessonView(id="main"):
            yield StatusBar(id="status")
            with GraphBox(id="graph-box"):
                yield GraphPanel(id="graph")
            with Horizontal(id="middle"):
                yield ChainPanel(id="chain")
                yield TensorPanel(id="tensor")
            with Horizontal(id="bottom"):
                yield CodePanel(id="code")
                yield LossPlot(id="plot")
            yield MessageBar(id="message")
            yield QuizPrompt(id="quiz")
        yield Static(id="too-small")
        yield CompactFooter()

    def get_default_screen(self) -> Screen[Any]:
        classes = " ".join(self._states[0]["screen_classes"])
        return Screen(id="_default", classes=classes)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(self._setup["variables"])

    def get_key_display(self, binding: Binding) -> str:
        return self.KEY_DISPLAY.get(binding.key) or super().get_key_display(binding)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # bptui's check_action: False hides a key, None greys it out (shown, disabled).
        if action not in self._enabled:
            return False
        return True if self._enabled[action] else None

    def on_mount(self) -> None:
        self.theme = self._setup["theme"]
        self.console.push_theme(RichTheme(self._setup["rich_styles"]))
        self._panels = {str(w.id): w for w in self.query(LinePanel)}
        self._show()

    def action_next(self) -> None:
        self._at = self._at + 1 if self._at + 1 < len(self._states) else 1
        self._show()

    def _show(self) -> None:
        state = self._states[self._at]
        self.screen.set_classes(" ".join(state["screen_classes"]))
        for name, panel in state["panels"].items():
            if name != PLOT or self._plotted:
                self._show_panel(name, panel)  # the plot in the same frame, as bptui draws it
        graph = self._panels.get("graph")
        if isinstance(graph, GraphPanel) and graph.widen() > graph.size.width:
            graph.refresh(layout=True)
        box = self.query_one(GraphBox)
        if box.border_title != state["box"]["title"]:
            box.border_title = state["box"]["title"]
        x, y = state["box"]["scroll"]
        if (box.scroll_x, box.scroll_y) != (x, y):
            box.scroll_to(x, y, animate=False, immediate=True)
        if not self._plotted and not self._plot_due:
            self._plot_due = True  # the first plot a frame later, as bptui's
            self.call_after_refresh(self._after_frame)
        enabled = {action.split("(")[0]: on for action, on in state["enabled"].items()}
        if enabled != self._enabled:
            self._enabled = enabled
            self.refresh_bindings()

    def _show_panel(self, name: str, state: dict[str, Any]) -> None:
        panel = self._panels[name]
        if panel.border_title != state["title"]:
            panel.border_title = state["title"]
        classes = set(state["classes"])
        for css_class in classes ^ set(panel.classes):
            panel.set_class(css_class in classes, css_class)
        panel.set_lines(state["lines"])

    def _after_frame(self) -> None:
        self.set_timer(AFTER_FRAME, self._show_plot)

    def _show_plot(self) -> None:
        self._plot_due = False
        self._plotted = True
        self._show_panel(PLOT, self._states[self._at]["panels"][PLOT])


def main(argv: list[str]) -> int:
    data = load(argv[0])
    replica_class(data)(data).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
