"""The lesson's panels together: the status bar, the graph, the chain rule, the
tensor, the code, the plot, the message line, and the quiz's
prompt the app gives it.

:meth:`LessonView.show` draws them all from one snapshot; the app draws the plot
in the same frame, but the first plot a frame later (see
:mod:`bptui.app.frames`).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widget import Widget

from ...i18n import N_, _
from ...lesson.snapshot import Kind, Message, Snapshot
from .chain import ChainPanel
from .code import CodePanel
from .graph import GraphBox, GraphPanel
from .message import MessageBar
from .plot import LossPlot
from .status import StatusBar
from .tensor import TensorPanel

TextPanels = tuple[StatusBar, GraphPanel, ChainPanel, TensorPanel, CodePanel, MessageBar]


class LessonView(Vertical):
    """Every panel of the lesson, laid out by ``app.tcss``."""

    def __init__(self, ascii_only: bool, quiz_prompt: Widget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ascii_only = ascii_only
        #: The quiz's prompt (a screen's widget, given by the app), docked at the bottom.
        self._quiz_prompt = quiz_prompt
        self._text_panels: TextPanels | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(N_("Loading PyTorch…"), id="status")
        with GraphBox(id="graph-box") as box:
            box.border_title = _("Graph")
            yield GraphPanel(id="graph", ascii_only=self._ascii_only)
        with Horizontal(id="middle"):
            yield ChainPanel(id="chain")
            yield TensorPanel(id="tensor")
        with Horizontal(id="bottom"):
            yield CodePanel(id="code")
            yield LossPlot(id="plot")
        yield MessageBar(id="message")
        yield self._quiz_prompt

    def ready(self) -> bool:
        """The text panels are mounted (looked up once: a DOM query on every key adds up)."""
        if self._text_panels is not None:
            return True
        try:
            self._text_panels = (
                self.query_one(StatusBar),
                self.query_one(GraphPanel),
                self.query_one(ChainPanel),
                self.query_one(TensorPanel),
                self.query_one(CodePanel),
                self.query_one(MessageBar),
            )
        except NoMatches:
            return False
        return True

    def show(
        self,
        snap: Snapshot,
        playing: str | None,
        badge: str | None,
        score: str | None,
        note: Message | None,
    ) -> None:
        """Draw ``snap`` in every text panel; ``note`` in place of the step's message."""
        if not self.ready():
            raise RuntimeError("the panels are not mounted yet")
        assert self._text_panels is not None
        status, graph, chain, tensor, code, message = self._text_panels
        status.show(snap, playing, badge, score)
        graph.show(snap)
        chain.show(snap)
        tensor.show(snap)
        code.show(snap)
        message.show(note or snap.message, None if note else snap.narration)

    # ------------------------------------------------------------- the view's keys

    def cycle_chain(self, snap: Snapshot | None) -> Message | None:
        """c: write out the next parameter's chain; or why there is no other."""
        if snap is not None and len(snap.chains) < 2 and not any(c.elements for c in snap.chains):
            text = (
                _("This lesson has one parameter: its chain rule is the one shown.")
                if snap.chains
                else _("The chain rule appears once the backward pass reaches a parameter (b).")
            )
            return Message(Kind.STEP, text)
        chain = self.query_one(ChainPanel)
        chain.cycle()
        self.query_one(TensorPanel).point_at(*chain.selection())
        return None

    def cycle_plot(self) -> None:
        """g: loss against w, or against the step."""
        self.query_one(LossPlot).cycle()

    def scroll_graph(self, columns: int, rows: int) -> None:
        """Scroll a graph larger than its box ([ ] sideways, { } up and down)."""
        self.query_one(GraphBox).scroll_relative(x=columns, y=rows, animate=False)

    def toggle_names(self) -> None:
        """y: show or hide torch's backward node (grad_fn) under each value."""
        self.query_one(GraphPanel).toggle_names()

    def toggle_precise(self) -> Message:
        """P: the graph's values in every digit torch holds, or in five again."""
        if self.query_one(GraphPanel).toggle_precise():
            text = _("Every digit of each value, as print() shows it (P: five digits again).")
        else:
            text = _("Values in five significant digits (P: every digit).")
        return Message(Kind.STEP, text)
