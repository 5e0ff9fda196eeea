"""Sessions starting at once: who is still starting, and whose turn it is to start.

Fifty students joining in the same second would otherwise start fifty apps side
by side: the scheduler shares the cores between all of them, they reach their
first frame together near the end, and each costs more CPU than it does alone
(every switch between fifty processes empties the caches). Instead a session
waits for a turn: :data:`AT_ONCE` turns (one per core) are tokens in a pipe the
zygote shares with all its children; a session takes one before it builds its
app (blocking, so a waiting session costs nothing) and puts it back once its
first frame is out, or after :data:`STUCK` seconds if it never draws. So the
first student's lesson shows after one start's time and the tenth's after
about ten over the cores.

Beside the pipe, a table in memory shared the same way (an anonymous shared
mapping survives fork) says which sessions are still starting: a ticket per
session, 0 once its first frame is out, and whether it holds a turn. The zygote
hands out tickets when it forks, and if a session ends while starting it clears
its ticket and puts back the turn it held. While any session is starting, the
others put their plots and footers off (see :mod:`bptui.app.startup`).
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import select
import sys
import threading
import time

#: Sessions starting at the same time: one per core.
AT_ONCE = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2)
#: Seconds after which a session that has not drawn gives its turn back anyway.
STUCK = 5.0
#: The longest a session waits for a turn (then it starts without one).
MAX_QUEUE = 60.0
#: The pipe's descriptors are moved up here, out of the way of the session's own.
_FD_BASE = 10


class Starting:
    """The turns and the table of starting sessions (see the module's docstring)."""

    SLOTS = 512

    def __init__(self, at_once: int | None = None) -> None:
        self.map = mmap.mmap(-1, self.SLOTS * 9)
        view = memoryview(self.map)
        self.tickets = view[: self.SLOTS * 8].cast("Q")
        self.holding = view[self.SLOTS * 8 :]  # 1 while the session holds a turn
        self._next = 0
        self._owner: dict[int, int] = {}  # slot -> pid, in the zygote
        self._lock = threading.Lock()  # in a session: its timer and its first frame
        read, write = os.pipe()
        self.fds = (
            fcntl.fcntl(read, fcntl.F_DUPFD, _FD_BASE),
            fcntl.fcntl(write, fcntl.F_DUPFD, _FD_BASE),
        )
        os.close(read)
        os.close(write)
        os.set_blocking(self.fds[0], False)
        os.write(self.fds[1], b"t" * (AT_ONCE if at_once is None else at_once))

    # In the zygote.

    def take(self) -> int | None:
        """A free slot with the next ticket (None if all are taken: that one does not queue)."""
        try:
            slot = self.tickets.tolist().index(0)
        except ValueError:
            return None
        self._next += 1
        self.holding[slot] = 0
        self.tickets[slot] = self._next
        return slot

    def own(self, slot: int | None, pid: int) -> None:
        if slot is not None:
            self._owner[slot] = pid

    def ended(self, pid: int) -> None:
        """``pid`` has ended: if it was still starting, free its slot and put its turn back."""
        for slot, owner in list(self._owner.items()):
            if owner == pid:
                del self._owner[slot]
                self._give_back(slot)
                self.tickets[slot] = 0

    # In a session.

    def wait_turn(self, slot: int | None) -> None:
        """Take a turn to start (blocking; a session without a slot does not queue)."""
        if slot is None:
            return
        deadline = time.monotonic() + MAX_QUEUE
        told = False
        while True:
            with contextlib.suppress(BlockingIOError):
                if os.read(self.fds[0], 1):
                    self.holding[slot] = 1
                    break
            left = deadline - time.monotonic()
            if left <= 0:
                return  # start without a turn rather than never
            if not told:
                sys.stdout.write("\r\nStarting your lesson: the class is joining…\r\n")
                sys.stdout.flush()
                told = True
            select.select([self.fds[0]], [], [], left)
        timer = threading.Timer(STUCK, self._give_back, (slot,))
        timer.daemon = True
        timer.start()

    def _give_back(self, slot: int) -> None:
        with self._lock:
            if self.holding[slot]:
                self.holding[slot] = 0
                os.write(self.fds[1], b"t")

    def done(self, slot: int | None) -> None:
        """The session's first frame is out: its turn goes to the next one."""
        if slot is not None:
            self._give_back(slot)
            self.tickets[slot] = 0

    def others(self) -> bool:
        """Whether a session is still starting (this one's ticket is clear by then)."""
        return any(self.tickets.tolist())
