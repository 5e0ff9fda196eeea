"""Bytes to a descriptor that may not take them now: a session's keys to its app's
pty, the class's messages to its app's link. Written without blocking the
server, kept while the descriptor is full, and bounded (see :class:`Outbox`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable


class Outbox:
    """Non-blocking writes to a descriptor, buffered while it is full.

    ``flow`` is told True when more than :attr:`HIGH` bytes wait (stop sending
    for now) and False once they are down to a quarter of that: a client that
    types faster than its app reads is held back through its SSH window
    instead of growing the server without end.
    """

    HIGH = 64 * 1024

    def __init__(
        self, loop: asyncio.AbstractEventLoop, fd: int, flow: Callable[[bool], None] | None = None
    ) -> None:
        self._loop = loop
        self._fd = fd
        self._pending = bytearray()
        self._waiting = False
        self._flow = flow
        self._full = False
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        self._pending += data
        self._flush()
        if self._flow is not None and not self._full and len(self._pending) > self.HIGH:
            self._full = True
            self._flow(True)

    def _flush(self) -> None:
        try:
            while self._pending:
                sent = os.write(self._fd, self._pending)
                del self._pending[:sent]
        except BlockingIOError:
            pass
        except OSError:
            self._pending.clear()
        if self._pending and not self._waiting:
            self._waiting = True
            self._loop.add_writer(self._fd, self._flush)
        elif not self._pending and self._waiting:
            self._waiting = False
            self._loop.remove_writer(self._fd)
        if self._full and self._flow is not None and len(self._pending) <= self.HIGH // 4:
            self._full = False
            self._flow(False)

    def close(self) -> None:
        if self._waiting:
            self._loop.remove_writer(self._fd)
            self._waiting = False
        self.closed = True
