"""Who may connect, try to log in, and how often: the server's answer to floods.

Plain bookkeeping (no asyncssh). A connection that has no session running
(still logging in, or logged in and asking for nothing) holds a place in the
:class:`Doorway`, which has a bounded number. A connection gets
:data:`MAX_AUTH_TRIES` wrong passwords, as OpenSSH's ``MaxAuthTries``; an
address that keeps failing is slowed (:class:`Logins`), since a guesser simply
opens a new connection.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

#: Wrong passwords on one connection before it is closed (OpenSSH's MaxAuthTries).
MAX_AUTH_TRIES = 6
#: Seconds a logged-in connection may go without a session before it is closed.
NO_SESSION_GRACE = 10.0

C = TypeVar("C")


class Doorway(Generic[C]):
    """The connections that have no session running, at most ``limit`` at once.

    When one more comes, the oldest from the address that holds the most places
    makes room (the newcomer's own address first, among equals). One client
    that opens sockets and says nothing, or logs in and asks for nothing, only
    ever pushes out its own; students from other addresses come in as before,
    and a student behind the same address as the flood still gets a place.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._waiting: dict[str, dict[C, None]] = {}  # address -> its connections, oldest first
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def enter(self, address: str, connection: C) -> C | None:
        """``connection`` takes a place; returns the one to close to make room, if any."""
        pushed = None
        if self._count >= self.limit and self._waiting:
            busiest = max(self._waiting, key=lambda a: (len(self._waiting[a]), a == address))
            pushed = next(iter(self._waiting[busiest]))
            self.leave(busiest, pushed)
        self._waiting.setdefault(address, {})[connection] = None
        self._count += 1
        return pushed

    def leave(self, address: str, connection: C) -> None:
        """``connection`` has a session now, or has closed."""
        held = self._waiting.get(address)
        if held is not None and connection in held:
            del held[connection]
            self._count -= 1
            if not held:
                del self._waiting[address]


class Logins:
    """Failed logins per address, and the turn each password check waits for.

    Typing mistakes cost nothing: up to :attr:`FREE` failures within
    :attr:`WINDOW` seconds. Past that, every password check from the address,
    right or wrong, on any of its connections, waits for its turn, one every
    :attr:`SPACING` seconds: a guesser that opens many connections at once
    still gets one guess a second, and the class password still works, slowly,
    for students who share the address (a school behind one NAT address).
    """

    FREE = 10
    WINDOW = 600.0
    SPACING = 1.0
    #: Addresses remembered at once (the oldest are forgotten first).
    MAX_ADDRESSES = 4096

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._turn: dict[str, float] = {}

    def wait(self, address: str) -> float:
        """Seconds the next password check from ``address`` waits (its turn is taken)."""
        now = self._clock()
        if self._recent(address, now) < self.FREE:
            return 0.0
        turn = max(now, self._turn.get(address, now))
        self._turn[address] = turn + self.SPACING
        return turn - now

    def failed(self, address: str) -> bool:
        """Count a failure from ``address``; True when this one starts the slowing."""
        now = self._clock()
        failures = self._failures.pop(address, None) or deque(maxlen=self.FREE * 4)
        self._failures[address] = failures  # last in the dict: the most recent
        failures.append(now)
        while len(self._failures) > self.MAX_ADDRESSES:
            oldest = next(iter(self._failures))
            del self._failures[oldest]
            self._turn.pop(oldest, None)
        return self._recent(address, now) == self.FREE

    def _recent(self, address: str, now: float) -> int:
        failures = self._failures.get(address)
        if failures is None:
            return 0
        while failures and now - failures[0] > self.WINDOW:
            failures.popleft()
        if not failures:
            del self._failures[address]
            self._turn.pop(address, None)
        return len(failures)
