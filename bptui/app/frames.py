"""When the lesson is drawn: at most ~30 frames a second, the plot in the same frame,
and the work that can wait in the pause after each.

Keys change the engine at once; drawing follows at most every :data:`FRAME`
seconds, so key repeat and autoplay never lag behind. The plot is drawn with the
numbers (one pass of Textual's compositor a key, nothing left to change a frame
later): it costs well under a millisecond, the loss curve ~0.2 ms and a long
history reduced only where it grew (:mod:`.panels.series`). The first plot comes a
frame after the first numbers, so a class joining at once sees every student's
lesson before any plot (:mod:`.startup`). After each frame the garbage collector
runs (:mod:`.collect`), in the pause before the next key rather than in a frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.app import App

from ..lesson.snapshot import Snapshot
from . import startup
from .autoplay import FRAME
from .collect import Collector
from .keyhold import KeyHold
from .panels.plot import LossPlot
from .session import LessonSession

#: Seconds the event loop idles after a frame before the work that waits for it.
AFTER_FRAME = 0.003


class Frames:
    """The app's frames: ``schedule()`` asks for one, ``draw`` makes it (the app's
    panels), and :meth:`drawn` is told which snapshot ``draw`` has shown."""

    def __init__(
        self, app: App[Any], session: LessonSession, keys: KeyHold, draw: Callable[[], None]
    ) -> None:
        self._app = app
        self._session = session
        self._keys = keys
        self._draw = draw
        self._snapshot: Snapshot | None = None
        self._timer: Any = None
        self._last = 0.0
        self._after_due = False
        #: The first plot waits for the frame after the first numbers (see _first_plot).
        self.plot_due = False
        self._plot: LossPlot | None = None
        self.collector = Collector()

    @property
    def waiting(self) -> bool:
        """A frame is asked for and waits for its turn (the throttle)."""
        return self._timer is not None

    def schedule(self) -> None:
        """A frame as soon as the throttle allows (several asks make one frame)."""
        if self._timer is not None:
            return
        wait = self._last + FRAME - time.monotonic()
        if wait <= 0:
            self.now()
        else:
            self._timer = self._app.set_timer(wait, self.now)

    def now(self) -> None:
        """A frame now."""
        self._timer = None
        self._last = time.monotonic()
        self._draw()

    def drawn(self, snapshot: Snapshot) -> None:
        """``draw`` has shown ``snapshot``: the plot with it, then the after-work."""
        self._snapshot = snapshot
        plot = self.plot()
        if plot is not None and plot.plotted:
            self._draw_plot(plot)
        if not self._after_due:
            self._after_due = True
            self._app.call_after_refresh(self._after_frame)

    def plot(self) -> LossPlot | None:
        """The plot panel (None while the app closes: a test's short run, a session's end);
        looked up once, since a DOM query costs more than drawing the plot."""
        plot = self._plot
        if plot is None or not plot.is_attached:
            plot = self._plot = next(iter(self._app.query(LossPlot)), None)
        return plot

    def _after_frame(self) -> None:
        # The frame has been handed to the driver's writer thread, which needs
        # the GIL to write it: the event loop idles for a moment first, or the
        # work below would hold the frame back by up to the interpreter's
        # 5 ms switch interval.
        self._after_due = False
        startup.first_frame_out()
        self._keys.release("lesson")  # `:299` or `?` typed while PyTorch loaded
        plot = self.plot()
        if plot is not None and not plot.plotted:
            if not self.plot_due:  # one wait for the first plot, however many frames come
                self.plot_due = True
                self._app.set_timer(AFTER_FRAME, self._first_plot)
        elif plot is not None:
            self._app.set_timer(AFTER_FRAME, self.collector.after_frame)

    def _first_plot(self) -> None:
        """The first plot, a frame after the first numbers (and while a class joins at
        once, after every student's numbers: see startup.py)."""
        plot = self.plot()
        if plot is None:
            self.plot_due = False
            return
        if startup.put_off(self._app, self._first_plot):
            return
        self.plot_due = False
        self._draw_plot(plot)

    def _draw_plot(self, plot: LossPlot) -> None:
        snap, stepper = self._snapshot, self._session.stepper
        # Another lesson opened since the frame: its own frame plots it (this
        # snapshot's parameters are the last lesson's).
        if snap is not None and stepper is not None and snap.lesson == stepper.lesson.name:
            # This sample's loss against the first parameter, computed by torch; in
            # skip-zero or batch mode, the plain per-sample run as far as this one got.
            plot.show(snap, stepper.plot_curve(snap), stepper.comparison(snap))
