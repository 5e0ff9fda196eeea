"""The plot panel: loss against w, as the note's program plots it (axes labelled right)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual_plotext import PlotextPlot

from ..lesson.snapshot import History, Snapshot
from .lines import LinePanel

#: A run to compare with: its label, and its first parameter's and loss's history.
Reference = tuple[str, History, History]

#: Plot views, cycled with ``g``: loss against the first parameter, against the step.
VIEWS = 2


def reduce_series(
    xs: Sequence[float], ys: Sequence[float], buckets: int
) -> tuple[list[float], list[float]]:
    """Keep at most about 4 points per bucket (first, min, max, last in time order).

    A long history plotted whole would take plotext most of a second per frame;
    this keeps the trajectory's shape and its extremes at a few hundred points.
    """
    n = len(xs)
    if n <= buckets * 4:
        return list(xs), list(ys)
    out_x: list[float] = []
    out_y: list[float] = []
    size = n / buckets
    for b in range(buckets):
        lo, hi = int(b * size), int((b + 1) * size)
        if hi <= lo:
            continue
        seg = range(lo, hi)
        i_min = min(seg, key=ys.__getitem__)
        i_max = max(seg, key=ys.__getitem__)
        for i in sorted({lo, i_min, i_max, hi - 1}):
            out_x.append(xs[i])
            out_y.append(ys[i])
    return out_x, out_y


def _finite(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    if all(map(math.isfinite, xs)) and all(map(math.isfinite, ys)):
        return list(xs), list(ys)
    keep = [i for i in range(len(xs)) if math.isfinite(xs[i]) and math.isfinite(ys[i])]
    return [xs[i] for i in keep], [ys[i] for i in keep]


class LossPlot(LinePanel, PlotextPlot):
    """(w, loss) of every step so far, this sample's loss curve, and the current point.

    ``g`` switches to loss against step. Long histories are reduced before
    plotting so a frame stays in the milliseconds. plotext draws the whole
    figure, but the panel repaints only the rows that differ from the last
    figure (a moved point changes a few), and it draws when :meth:`show` is
    called rather than when the screen is next painted, so that work overlaps
    the wait for the next frame.
    """

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.border_title = "Loss vs w"
        self.view = 0
        self._snapshot: Snapshot | None = None
        self._curve: tuple[list[float], list[float]] = ([], [])
        self._reference: Reference | None = None
        self._shown_key: object = None
        self._series_cache: dict[str, tuple[object, int, tuple[list[float], list[float]]]] = {}

    def cycle(self) -> None:
        self.view = (self.view + 1) % VIEWS
        self._replot()

    def on_resize(self) -> None:
        """Labels, legend and axes depend on the panel's size: replot at the new one."""
        self._replot()

    @property
    def plotted(self) -> bool:
        """Whether a snapshot has been plotted yet."""
        return self._snapshot is not None

    def show(
        self,
        snapshot: Snapshot,
        curve: tuple[list[float], list[float]],
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
        """The figure as plotext draws it at the panel's size, a ``Text`` per row."""
        height = self.content_size.height
        if width <= 0 or height <= 0 or self._snapshot is None:
            return [Text("")]  # nothing to plot yet (a session's first frame): no empty axes
        plt = self.plt
        plt.plotsize(width, height)
        plt._set_size(width, height)  # noqa: SLF001 - as PlotextPlot.render does (textual-plotext issue 5)
        plt.theme(self._get_plotext_theme_name(self.app.theme))
        return list(Text.from_ansi(plt.build()).split("\n", allow_blank=True))[:height]

    def _series(
        self, name: str, xs: History, ys: History, buckets: int
    ) -> tuple[list[float], list[float]]:
        """The finite points of a history, reduced to about four a column; kept while
        the history (an immutable view from the engine) and the width stay the same."""
        cached = self._series_cache.get(name)
        if cached is not None and cached[1] == buckets and cached[0] == xs:
            return cached[2]
        series = reduce_series(*_finite(xs, ys), buckets)
        self._series_cache[name] = (xs, buckets, series)
        return series

    def _replot(self) -> None:  # noqa: C901, PLR0915 - to be split
        plt = self.plt
        plt.clear_figure()
        snap = self._snapshot
        if snap is None:
            self.redraw()
            return
        # About two points per column (reduce_series keeps up to four per bucket).
        buckets = max(8, self.size.width // 2)
        param = snap.params[0].name if snap.params else "w"
        # Loss against a matrix has no picture: such lessons plot loss against step.
        view = self.view if snap.params and isinstance(snap.params[0].data, float) else 1
        self.border_title = f"Loss vs {param}" if view == 0 else "Loss vs step"
        if view == 0:
            hw, hl = self._series("history", snap.history_w, snap.history_loss, buckets)
            if snap.current_point is not None and all(map(math.isfinite, snap.current_point)):
                hw = [*hw, snap.current_point[0]]
                hl = [*hl, snap.current_point[1]]
            cw, cl = _finite(*self._curve)
            roomy = self.size.height >= 12
            if cw:
                plt.plot(
                    cw,
                    cl,
                    color="blue",
                    marker="braille",
                    label="this sample's loss" if roomy else None,
                )
            if self._reference is not None:
                label, ref_w, ref_l = self._reference
                fw, fl = _finite(ref_w, ref_l)
                if fw:
                    rw, rl = reduce_series(fw, fl, buckets)
                    plt.plot(
                        rw, rl, color="magenta", marker="braille", label=label if roomy else None
                    )
            if hw:
                plt.plot(
                    hw,
                    hl,
                    color="green",
                    marker="braille",
                    label="recorded (w, loss)" if roomy else None,
                )
                plt.scatter([hw[-1]], [hl[-1]], color="red", marker="●")
            plt.xlabel(param)
        else:
            steps = list(range(1, len(snap.history_loss) + 1))
            losses = list(snap.history_loss)
            if snap.current_point is not None:
                steps.append(len(steps) + 1)
                losses.append(snap.current_point[1])
            if self._reference is not None:
                label, _, ref_l = self._reference
                fx, fy = _finite([float(i) for i in range(1, len(ref_l) + 1)], ref_l)
                if fx:
                    rx, ry = reduce_series(fx, fy, buckets)
                    plt.plot(rx, ry, color="magenta", marker="braille", label=label)
            xs, ys = _finite([float(s) for s in steps], losses)
            if xs:
                rx, ry = reduce_series(xs, ys, buckets)
                plt.plot(rx, ry, color="green", marker="braille")
                plt.scatter([xs[-1]], [ys[-1]], color="red", marker="●")
            plt.xlabel("step")
        plt.ylabel("loss")
        if self.size.height < 12:
            # Small panel: the title names the axes; every row goes to the data.
            plt.xlabel("")
            plt.ylabel("")
            plt.xaxes(True, False)
            plt.yaxes(True, False)
        self.redraw()
