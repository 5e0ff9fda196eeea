"""How long a test waits for a real process: longer when the machine is busy.

Tests of real processes (a pty, a server, an app's frames) wait on events with a
time limit only so that a hang fails instead of blocking the run. A fixed limit
that holds on a quiet machine breaks on a loaded one (a CI box, ``pytest -n``
beside other work), so every limit here is stretched by the load per core,
read again each time it is checked: a wait that began on a quiet machine keeps
going while the machine gets busy. ``BPTUI_TEST_PATIENCE`` multiplies every
limit, for machines slower than any load average shows (emulators, valgrind).
"""

from __future__ import annotations

import os
import time


def load_factor() -> float:
    """Runnable tasks per core over the last minute, at least 1."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # no load average on this platform
        load = 0.0
    return max(1.0, load / (os.cpu_count() or 1))


def patience(seconds: float) -> float:
    """``seconds`` on a quiet machine; more on a busy one."""
    return seconds * load_factor() * float(os.environ.get("BPTUI_TEST_PATIENCE", "1"))


class Deadline:
    """A time limit, from now, that stretches while the machine is busy."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.monotonic()

    def passed(self) -> bool:
        return time.monotonic() - self.start > patience(self.seconds)

    def left(self) -> float:
        """Seconds until the limit as it stands now (never below zero)."""
        return max(0.0, patience(self.seconds) - (time.monotonic() - self.start))
