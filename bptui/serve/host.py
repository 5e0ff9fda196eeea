"""What a connection and a session need of the server that holds them.

:class:`Host` is the server as its connections and sessions see it: the
class's options and limits, the class and its view groups, and the zygote.
They depend on this, not on :mod:`bptui.serve.server`, which imports them: the
server knows its sessions, a session knows only a host.
"""

from __future__ import annotations

from typing import Any, Protocol

import asyncssh

from .classroom import Classroom
from .gate import Doorway, Logins
from .groups import Groups
from .logbook import Tally
from .options import ServeOptions


class Host(Protocol):
    """The server, as a connection or session uses it."""

    options: ServeOptions
    authorized_keys: asyncssh.SSHAuthorizedKeys | None
    classroom: Classroom | None
    groups: Groups | None
    #: Connections are held as ``Any``: naming their class here would make a cycle.
    doorway: Doorway[Any]
    logins: Logins
    tally: Tally
    sessions: set[Any]

    def admit(self, session: Any) -> tuple[str, dict[str, Any], str] | None:
        """Why ``session`` may not start now, or None."""

    def seat(self, session: Any) -> None:
        """``session`` was admitted: it counts against the limits until it leaves."""

    def unseat(self, session: Any) -> bool:
        """``session`` has left; whether it had a seat."""

    async def spawn(self, header: dict[str, Any], fds: list[int]) -> tuple[int, int]:
        """A zygote child on ``fds``: its pid and a pidfd to watch it by."""


class Door(Protocol):
    """How a session's student came in (an SSH connection): who, and from where."""

    address: str
    username: str
    #: Logged in with the teacher password: the only way to drive the class.
    teacher: bool

    def began(self) -> None:
        """A session runs on this connection now."""

    def ended(self) -> None:
        """Its session is over."""
