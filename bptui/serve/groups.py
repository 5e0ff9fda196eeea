"""View groups: one app draws for every student who follows at the same view.

Students who follow the teacher at the same size, language, charset and colours
see byte for byte the same screen, so one app (a child of the zygote, following
the class log like any student's) draws it for all of them. The server copies
its output to each member's connection and keeps a model of its screen
(:class:`~.mirror.Mirror`) to paint a member who joins late, resizes or fell
behind. A member's keys never reach the shared app: the session reads them
(see :mod:`bptui.serve.keys`) and gives a student who wants to do more than
watch an app of their own.

Sizes are rounded down to a few buckets (:func:`bucket`), so a class with the
usual window sizes needs a handful of apps; a student's window at or above a
bucket shows that bucket's screen in its top-left corner, never cut.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..classroom.protocol import Ask, Message
from ..i18n import N_
from .logbook import log
from .mirror import Mirror
from .process import AppProcess

#: The widths and heights a group draws at. They include the layout's own
#: breakpoints (bptui/app/sizes.py: 72×22 the smallest, compact below 30 rows,
#: wide from 110 columns), so a student gets the layout their window would.
WIDTHS = (20, 40, 60, 72, 80, 90, 100, 110, 120, 132, 150, 180, 210, 250)
HEIGHTS = (6, 12, 18, 22, 24, 27, 30, 35, 40, 45, 50, 60)
#: Most groups at once: past it (many odd views, or a client resizing through
#: every size), a follower gets an app of their own, as every student once did.
MAX_GROUPS = 24
#: A group whose last member left keeps its app this long (a resize, a `t` and back).
LINGER = 15.0
#: A member whose connection has taken nothing for this long is let go.
STALLED = 60.0
#: A group app that ends this many times in a minute is not started again.
CRASHES = 3
STOPPED = N_(
    "Your lesson stopped unexpectedly. Connect again to go on; tell the teacher if it happens again."
)


def bucket(columns: int, rows: int) -> tuple[int, int]:
    """The size a group draws at for a window of ``columns`` × ``rows``: the largest
    bucket that fits; a window smaller than the smallest bucket is its own size.
    (Below 72×22 the app only asks for a larger window, at any size.)"""
    if columns < WIDTHS[0] or rows < HEIGHTS[0]:
        return columns, rows
    return max(w for w in WIDTHS if w <= columns), max(h for h in HEIGHTS if h <= rows)


@dataclass(frozen=True)
class View:
    """Everything that makes two students' screens differ."""

    columns: int
    rows: int
    language: str
    ascii_only: bool
    term: str
    colorterm: str | None

    def __str__(self) -> str:
        charset = "ascii" if self.ascii_only else "utf-8"
        colours = self.colorterm or "-"
        return f"{self.columns}x{self.rows} {self.language} {charset} {self.term} {colours}"


class Watcher(Protocol):
    """A member as the group sees it: a session following in this group."""

    def show(self, data: bytes) -> None:
        """Bytes to the student's terminal."""

    def writable(self) -> bool:
        """Whether their connection takes more now (it is not backed up)."""

    def lost(self, reason: str) -> None:
        """End the member's session with ``reason`` (marked with ``N_``)."""

    def touch(self) -> None:
        """The class moved on: following counts as being active."""

    @property
    def name(self) -> str:
        """The student's user name, cleaned."""

    @property
    def address(self) -> str:
        """Where they connect from."""

    def ask(self, ask: Ask) -> None:
        """A class question on their screen."""

    def revealed(self, qid: int, value: float | None, answer: float | None) -> None:
        """The class question's value (None: withdrawn), and their verdict, on their screen."""


class Hub(Protocol):
    """What a group needs from the server."""

    async def spawn(self, header: dict[str, Any], fds: list[int]) -> tuple[int, int]:
        """A zygote child on ``fds``: its pid and a pidfd."""

    def joined(self, group: ViewGroup) -> None:
        """The group's app is up: it is a member of the class (its Hello is sent)."""

    def left(self, group: ViewGroup) -> None:
        """The group's app has gone."""

    def heard(self, group: ViewGroup, message: Message) -> None:
        """A class message from the group's app."""


class ViewGroup:
    """One shared app and the members who watch it."""

    role = "student"
    following = True
    #: Not a person: the class's head count leaves it out.
    person = False

    def __init__(self, hub: Hub, view: View, header: dict[str, Any]) -> None:
        self.hub = hub
        self.view = view
        self.header = header
        self.members: list[Watcher] = []
        #: Members skipped while their connection was backed up: painted whole when it drains.
        self.behind: dict[Watcher, float] = {}
        self.mirror = Mirror(view.columns, view.rows)
        self.app: AppProcess | None = None
        self._crashes: list[float] = []
        self._linger: asyncio.TimerHandle | None = None
        self._restart: asyncio.Future[None] | None = None
        self.starting: asyncio.Future[None] | None = None
        self.closed = False

    # ------------------------------------------------------------ the app

    async def start(self) -> None:
        """Start the group's app (again, after a crash: the mirror starts afresh)."""
        self.mirror = Mirror(self.view.columns, self.view.rows)
        app = AppProcess(self._output, self._app_ended, self._message)
        self.app = app
        try:
            await app.start(
                self.hub.spawn, self.header, (self.view.columns, self.view.rows), linked=True
            )
        except OSError as error:
            log(f"cannot start the app of group {self.view}: {error}")
            self._give_up()
            return
        if app.finished or self.closed:
            return
        log(f"group {self.view}: app started (pid {app.pid})")
        self.hub.joined(self)

    def _output(self, data: bytes) -> None:
        data = self.mirror.feed(data)
        if not data:
            return
        now = time.monotonic()
        for member in self.members:
            if member in self.behind:
                self._catch_up(member, now)
            elif member.writable():
                member.show(data)
            else:
                self.behind[member] = now

    def _catch_up(self, member: Watcher, now: float) -> None:
        if member.writable():
            del self.behind[member]
            member.show(self.mirror.repaint())
        elif now - self.behind[member] > STALLED:
            del self.behind[member]
            member.lost(N_("Your connection stopped taking the lesson's screen: connect again."))

    def drained(self, member: Watcher) -> None:
        """``member``'s connection takes bytes again: paint it whole if it missed some."""
        if member in self.behind:
            self._catch_up(member, time.monotonic())

    def _message(self, message: Message) -> None:
        self.hub.heard(self, message)

    def _app_ended(self) -> None:
        self.hub.left(self)
        if self.closed:
            return
        now = time.monotonic()
        self._crashes = [t for t in self._crashes if now - t < 60] + [now]
        log(f"group {self.view}: its app ended unexpectedly")
        if len(self._crashes) >= CRASHES or not self.members:
            self._give_up()
        else:
            self._restart = asyncio.ensure_future(self.start())

    def _give_up(self) -> None:
        for member in list(self.members):
            member.lost(STOPPED)
        self.close()

    # The classroom's side of the group (see bptui.serve.classroom.Member).

    def send(self, message: Message) -> None:
        if self.app is not None:
            self.app.send(message)

    def touch(self) -> None:
        """The teacher stepped: the group's members are not idle."""
        for member in self.members:
            member.touch()

    def end(self, reason: str) -> None:
        for member in list(self.members):
            member.lost(reason)

    def people(self) -> list[Watcher]:
        """The students watching: each is asked a class question on their own screen."""
        return list(self.members)

    # ------------------------------------------------------------ members

    def add(self, member: Watcher) -> None:
        """``member`` watches from now on, from a whole screen."""
        self._stop_linger()
        self.members.append(member)
        if self.app is not None and not self.app.finished:
            member.show(self.mirror.repaint())

    def remove(self, member: Watcher, linger: Callable[[], None]) -> None:
        """``member`` watches no more; ``linger`` is called when the group has been
        empty for :data:`LINGER` seconds."""
        if member in self.members:
            self.members.remove(member)
        self.behind.pop(member, None)
        if not self.members and not self.closed:
            self._stop_linger()
            self._linger = asyncio.get_running_loop().call_later(LINGER, linger)

    def _stop_linger(self) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None

    def close(self) -> None:
        """End the app; the group is gone."""
        self.closed = True
        self._stop_linger()
        if self.app is not None and not self.app.finished:
            self.app.close()
            self.hub.left(self)


class Groups:
    """Every view group of the class, by view."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.groups: dict[View, ViewGroup] = {}

    def room_for(self, view: View) -> bool:
        """Whether a member at ``view`` can watch a group (there is one, or room for it)."""
        group = self.groups.get(view)
        return (group is not None and not group.closed) or len(self.groups) < MAX_GROUPS

    def attach(self, member: Watcher, view: View, header: dict[str, Any]) -> ViewGroup | None:
        """``member`` joins the group of ``view``, started for it if there is none;
        None if there is none and no room for one (see :data:`MAX_GROUPS`)."""
        group = self.groups.get(view)
        if group is None or group.closed:
            if not self.room_for(view):
                return None
            group = ViewGroup(self.hub, view, header)
            self.groups[view] = group
            group.starting = asyncio.ensure_future(group.start())
        group.add(member)
        return group

    def detach(self, member: Watcher, group: ViewGroup) -> None:
        group.remove(member, lambda: self._retire(group))

    def _retire(self, group: ViewGroup) -> None:
        if not group.members:
            if self.groups.get(group.view) is group:
                del self.groups[group.view]
            group.close()
            log(f"group {group.view}: closed (no one left)")

    def close(self) -> None:
        for group in list(self.groups.values()):
            group.close()
        self.groups.clear()

    @property
    def apps(self) -> int:
        return sum(1 for g in self.groups.values() if g.app is not None and g.app.running)
