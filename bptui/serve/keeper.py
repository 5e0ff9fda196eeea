"""The server's side of the zygote: requests in order, answers matched to them,
and a new zygote when the running one dies.

The zygote answers each request in the order it came, so answers are matched
to a queue of waiting sessions. If the zygote dies (killed, or out of memory)
the sessions under way go on: each app is its own process. The keeper starts
a new zygote at once, and sessions that ask meanwhile wait until it is ready,
instead of every later student being told the server could not start a lesson.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import time
from collections import deque
from typing import Any

from ..lesson.spec import Lesson
from .logbook import log
from .zygote import Zygote, launch

#: Seconds a session waits for a new zygote to load (torch, Textual, the warm-up).
READY_TIMEOUT = 120.0
#: Seconds between two starts of a zygote that keeps dying.
RETRY = 5.0

Answer = tuple[dict[str, Any], int | None]


class ZygoteKeeper:
    """The one zygote the server uses now, and what it owes its sessions."""

    def __init__(self, zygote: Zygote, lesson: Lesson) -> None:
        self.zygote = zygote
        self._lesson = lesson
        self._answers: deque[asyncio.Future[Answer]] = deque()
        #: While a new zygote loads: done once it is ready.
        self._ready: asyncio.Future[None] | None = None
        self._started = 0.0
        self._closing = False

    def start(self) -> None:
        """Read the zygote's answers from now on (call with the event loop running)."""
        self._watch(self.zygote)

    def stop(self) -> None:
        """End the zygote (it ends its children); no new one is started after this."""
        self._closing = True
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(self.zygote.sock.fileno())
        self._fail(OSError(errno.ESHUTDOWN, "the class is ending"))
        self.zygote.stop()

    async def spawn(self, header: dict[str, Any], fds: list[int]) -> tuple[int, int]:
        """A zygote child on ``fds``: its pid and a pidfd to watch it by (OSError if none)."""
        if self._ready is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._ready), READY_TIMEOUT)
            except asyncio.TimeoutError:  # not the built-in TimeoutError before 3.11
                raise OSError(errno.ETIMEDOUT, "no zygote is ready") from None
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._answers.append(future)
        try:
            self.zygote.spawn(header, fds)
        except OSError:
            self._answers.remove(future)
            raise
        answer, pidfd = await future
        if pidfd is None or "pid" not in answer:
            if pidfd is not None:
                os.close(pidfd)
            raise OSError(errno.ECHILD, str(answer.get("error", "no session from the zygote")))
        return int(answer["pid"]), pidfd

    # ------------------------------------------------------------ the zygote's answers

    def _watch(self, zygote: Zygote) -> None:
        zygote.sock.setblocking(False)
        asyncio.get_running_loop().add_reader(zygote.sock.fileno(), self._readable, zygote)

    def _readable(self, zygote: Zygote) -> None:
        while True:
            try:
                answer, pidfd = Zygote.answer(zygote.sock)
            except BlockingIOError:
                return
            except (OSError, ConnectionError, ValueError) as error:
                self._lost(zygote, str(error))
                return
            if self._ready is not None:  # a new zygote's first word
                if "ready" not in answer:
                    self._lost(zygote, str(answer.get("error", answer)))
                    return
                self._ready.set_result(None)
                self._ready = None
                log("a new zygote is ready: sessions start again")
            elif self._answers:
                self._deliver(self._answers.popleft(), answer, pidfd)
            elif pidfd is not None:
                os.close(pidfd)

    @staticmethod
    def _deliver(future: asyncio.Future[Answer], answer: dict[str, Any], pidfd: int | None) -> None:
        if not future.cancelled():
            future.set_result((answer, pidfd))
        elif pidfd is not None:  # no one waits for this child any more
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            os.close(pidfd)

    def _lost(self, zygote: Zygote, reason: str) -> None:
        """``zygote`` has stopped answering: end it for good and start another."""
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(zygote.sock.fileno())
        zygote.process.kill()
        zygote.stop(timeout=1.0)
        self._fail(OSError(errno.ECHILD, f"the zygote has stopped ({reason})"))
        if self._closing:
            return
        log(f"the zygote has stopped ({reason}): starting a new one; sessions under way go on")
        self._restart()

    def _restart(self) -> None:
        if self._closing:
            return
        loop = asyncio.get_running_loop()
        if self._ready is None:
            self._ready = loop.create_future()
        wait = self._started + RETRY - time.monotonic()
        if wait > 0:  # it died as soon as it started: do not spin
            loop.call_later(wait, self._restart)
            return
        self._started = time.monotonic()
        try:
            self.zygote = launch(self._lesson)
        except OSError as error:
            log(f"cannot start a new zygote: {error.strerror or error}; trying again")
            loop.call_later(RETRY, self._restart)
            return
        self._watch(self.zygote)

    def _fail(self, error: OSError) -> None:
        """Every session waiting for an answer (or a new zygote) gets ``error``."""
        while self._answers:
            future = self._answers.popleft()
            if not future.done():
                future.set_exception(error)
        if self._closing and self._ready is not None and not self._ready.done():
            self._ready.set_exception(error)
            self._ready.add_done_callback(lambda f: f.exception())  # retrieved: no warning
