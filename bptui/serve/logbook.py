"""The server's log: one English line per event, on standard error, with the time.

The log is how a teacher watches the class, and it must never stop the class:
when its write fails (the teacher's terminal hung up, ``| tee`` ended first on
Ctrl+C, the disk is full) the line is dropped and the server goes on, ending
every session tidily. Lines are written straight to the descriptor, so no
buffered line is left for Python to fail on again at exit.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable


def log(text: str, fd: int = 2) -> None:
    """``HH:MM:SS text`` on standard error; dropped, never raised, if it cannot be written."""
    data = f"{time.strftime('%H:%M:%S')} {text}\n".encode(errors="replace")
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError:
        pass  # a full disk or a closed pipe: the class goes on without its log


class Tally:
    """Floods of one kind of refusal, said in a few lines instead of one line each.

    The first refusal of a kind from an address is logged at once, as it
    happens; more of the same within ``period`` seconds are counted and said in
    one line when the period ends ("refused 10.0.0.9: wrong password, 1999 more
    in the last 10 s"). A teacher sees that something is going on, and from
    where, without a log that grows by megabytes.
    """

    #: (address, kind) pairs counted at once; past this, other addresses are counted together.
    MAX_KEYS = 1000

    def __init__(self, period: float = 10.0, write: Callable[[str], None] = log) -> None:
        self.period = period
        self._write = write
        self._counts: dict[tuple[str, str, str], int] = {}
        self._timer: asyncio.TimerHandle | None = None

    def note(self, address: str, what: str, who: str = "", verb: str = "refused") -> None:
        """One refusal ``what`` of ``address`` (``who``: the user name, if it matters;
        ``verb``: what the line says happened, for other events than refusals)."""
        key = (verb, address, what)
        if key not in self._counts and len(self._counts) >= self.MAX_KEYS:
            key = (verb, "other addresses", what)
        if key in self._counts:
            self._counts[key] += 1
        else:
            self._counts[key] = 0
            self._write(f"{verb} {' '.join(filter(None, (address, who)))}: {what}")
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.period, self.flush)

    def flush(self) -> None:
        """Say how many more of each kind came since its first line (also at the end)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        counts, self._counts = self._counts, {}
        for (verb, address, what), more in counts.items():
            if more:
                self._write(f"{verb} {address}: {what}, {more} more in the last {self.period:g} s")
