"""The plot panel: loss against w, as the note's program plots it, or against the step.

Drawn by :mod:`.figure`: every point on the row its tick names, axis titles,
and layers told apart by glyph as well as colour.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from ... import glyphs
from ...i18n import N_, _, pgettext
from ...lesson.snapshot import History, PlotCurve, Snapshot
from .. import palette
from .figure import Layer, draw
from .lines import LinePanel
from .series import Points, Reduction, Steps

#: A run to compare with: its label, and its first parameter's and loss's history.
Reference = tuple[str, History, History]

#: Plot views, cycled with ``g``: loss against the first parameter, against the step.
VIEWS = 2
#: Below this many rows the panel's title says how to enlarge it.
SMALL = 10
#: Each layer's colour and glyph (a braille line where None): the glyphs differ, so
#: the layers can be told apart without colour (NO_COLOR, a washed-out projector).
CURVE = (palette.CURVE, None)
HISTORY_POINTS = (palette.HISTORY, "•")
HISTORY_LINE = (palette.HISTORY, None)
REFERENCE = (palette.REFERENCE, "+")
CURRENT = (palette.NOW, "●")
#: The names of the runs the engine compares with (its labels, shown translated).
REFERENCE_NAMES = (N_("per-sample SGD"), N_("with zeroing"))


class LossPlot(LinePanel):
    """(w, loss) of every step so far, this sample's loss curve, and the current point.

    ``g`` switches to loss against step. Long histories are reduced before
    plotting so a frame stays in the milliseconds. The figure is drawn when
    :meth:`show` is called rather than when the screen is next painted, so that
    work overlaps the wait for the next frame, and only its changed rows are
    repainted (a moved point changes a few).
    """

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.border_title = _("Loss vs {param}").format(param="w")
        self.view = 0
        self._snapshot: Snapshot | None = None
        self._curve = PlotCurve()
        self._reference: Reference | None = None
        self._shown_key: object = None
        #: Each plotted history's reduction (see :mod:`.series`), by name.
        self._reductions: dict[str, Reduction] = {}
        #: The layers, the x axis's title, and whether x counts steps.
        self._layers: tuple[list[Layer], str, bool] = ([], "w", False)

    def cycle(self) -> None:
        self.view = (self.view + 1) % VIEWS
        self._replot()

    def on_resize(self) -> None:
        """The figure depends on the panel's size: replot at the new one."""
        self._replot()

    def retranslate(self) -> None:
        """Title, legend and axis titles in the language spoken now."""
        self._replot()

    @property
    def plotted(self) -> bool:
        """Whether a snapshot has been plotted yet."""
        return self._snapshot is not None

    def show(
        self,
        snapshot: Snapshot,
        curve: PlotCurve,
        reference: Reference | None = None,
    ) -> None:
        """Plot ``snapshot``'s history, this sample's ``curve`` and, if given, a
        ``reference`` run (label, w history, loss history) for comparison."""
        key = (
            snapshot.history_w,
            snapshot.current_point,
            id(curve),
            None if reference is None else (reference[0], reference[1]),
            snapshot.params[0].name if snapshot.params else None,
        )
        self._snapshot = snapshot
        self._curve = curve
        self._reference = reference
        if key == self._shown_key:
            return  # nothing plotted changed: most micro-steps leave the plot alone
        self._shown_key = key
        self._replot()

    def build(self, width: int) -> list[Text]:
        """The figure at the panel's size, a ``Text`` per row."""
        height = self.content_size.height
        layers, xlabel, steps = self._layers
        if width <= 0 or height <= 0 or not layers:
            return [Text("")]  # nothing to plot yet (a session's first frame): no empty axes
        ylabel = self._snapshot.loss_label if self._snapshot is not None else "loss"
        return draw(layers, width, height, xlabel, ylabel, whole_x=steps)

    def _series(self, name: str, xs: Sequence[float], ys: Sequence[float], buckets: int) -> Points:
        """The finite points of a history, about four a bucket; a growing history's
        blocks are reduced once (see :mod:`.series`)."""
        reduction = self._reductions.get(name)
        if reduction is None or reduction.buckets != buckets:
            reduction = self._reductions[name] = Reduction(buckets)
        return reduction.points(xs, ys)

    def _replot(self) -> None:
        snap = self._snapshot
        if snap is None:
            self.border_title = _("Loss vs {param}").format(param="w")
            self.redraw()
            return
        # Between one and two blocks a column, each kept as up to four points.
        buckets = max(8, self.size.width // 2)
        param = snap.params[0].name if snap.params else "w"
        # Loss against a matrix has no picture: such lessons plot loss against step.
        view = self.view if snap.params and isinstance(snap.params[0].data, float) else 1
        # The single-node lesson's L stands for the layers above it: not a loss.
        if view == 0:
            title = (
                _("Loss vs {param}").format(param=param)
                if snap.loss_label == "loss"
                else _("{loss} vs {param}").format(loss=snap.loss_label, param=param)
            )
        elif snap.loss_label == "loss":
            title = _("Loss vs step")
        else:
            title = _("{loss} vs step").format(loss=snap.loss_label)
        if self.content_size.height < SMALL:
            title += glyphs.shown(" · ") + _("v enlarges")
        self.border_title = title
        if view == 0:
            self._layers = (self._against_w(snap, buckets), param, False)
        else:
            self._layers = (self._against_step(snap, buckets), _("step"), True)
        self.redraw()

    def _reference_layer(self, xs: Sequence[float] | None, buckets: int) -> list[Layer]:
        if self._reference is None:
            return []
        label, ref_w, ref_l = self._reference
        name = "reference-w" if xs is None else "reference-step"
        rx, ry = self._series(name, ref_w if xs is None else xs, ref_l, buckets)
        label = _(label)  # the engine's name for the run (REFERENCE_NAMES)
        return [Layer(rx, ry, *REFERENCE, label=label, short=label.split()[-1])]

    def _against_w(self, snap: Snapshot, buckets: int) -> list[Layer]:
        """The reference run, this sample's curve, every step's (w, loss), and the point."""
        curve = self._curve
        hw, hl = self._series("history", snap.history_w, snap.history_loss, buckets)
        layers = self._reference_layer(None, buckets)
        loss, param = snap.loss_label, snap.params[0].name if snap.params else "w"
        layers.append(
            Layer(
                curve.ws,
                curve.losses,
                *CURVE,
                _("this sample's {loss}").format(loss=loss),
                pgettext("plot", "sample"),
            )
        )
        recorded = _("recorded ({param}, {loss})").format(param=param, loss=loss)
        layers.append(Layer(hw, hl, *HISTORY_POINTS, recorded, _("steps")))
        point = curve.point
        if point is None and snap.current_point is not None:
            point = snap.current_point
        if point is not None:
            layers.append(Layer([point[0]], [point[1]], *CURRENT, _("now"), _("now")))
        return layers

    def _against_step(self, snap: Snapshot, buckets: int) -> list[Layer]:
        """The reference run's loss, this run's loss at each step, and the current one."""
        ref = self._reference
        ref_steps = None if ref is None else Steps(len(ref[2]))
        layers = self._reference_layer(ref_steps, buckets)
        xs, ys = self._series("steps", Steps(len(snap.history_loss)), snap.history_loss, buckets)
        layers.append(Layer(xs, ys, *HISTORY_LINE, _("loss of each step"), _("loss")))
        point: tuple[float, float] | None = None
        if snap.current_point is not None:
            point = (len(snap.history_loss) + 1.0, snap.current_point[1])
        elif xs:
            point = (xs[-1], ys[-1])
        if point is not None:
            layers.append(Layer([point[0]], [point[1]], *CURRENT, _("now"), _("now")))
        return layers
