"""Garbage collection timed around the app's frames, not in the middle of one.

torch brings ~170,000 long-lived objects; without :func:`gc.freeze`, a full
collection over them (0.1–0.2 s) lands on every tenth key or so. A key then
allocates a few thousand objects, so young collections (and now and then an
older one, ~1.5 ms) fell in the middle of drawing a key's frame: the high
threshold stops those, and the app collects in the pause after each frame.
"""

from __future__ import annotations

import gc

#: Allocations between automatic young collections once torch is loaded.
GC_THRESHOLD = 50_000
#: Frames between full collections (a few ms each, after a frame, torch frozen).
FULL_GC_EVERY = 20


class Collector:
    """The collector's threshold while the app runs, and the collections after frames."""

    def __init__(self) -> None:
        #: The threshold before the app raised it (given back when it ends).
        self._before: tuple[int, int, int] | None = None

    def engine_loaded(self) -> None:
        """torch is in: freeze what it brought, and collect only between frames."""
        gc.freeze()
        if self._before is None:
            self._before = gc.get_threshold()
            gc.set_threshold(GC_THRESHOLD, *self._before[1:])

    def after_frame(self) -> None:
        """The young generations each time, and every so often all of them, since the
        frame's own timers and messages are still alive here and die in the oldest
        generation (~200 objects in cycles per key: without this, memory grew 3 MB/s
        in autoplay until Python's own rule for a full collection caught up)."""
        gc.collect(2 if gc.get_count()[2] >= FULL_GC_EVERY else 1)

    def app_ended(self) -> None:
        """The threshold as it was: the process may outlive the app."""
        if self._before is not None:
            gc.set_threshold(*self._before)
