"""The SSH front end: the server that listens, and what it knows of the class.

asyncssh speaks SSH; this module and its neighbours decide. Only interactive
sessions with a pseudo-terminal are served: exec requests (``ssh host ls``,
scp), subsystems (sftp), port forwarding, agent and X11 forwarding are refused,
and nothing is ever run but the app. :class:`ClassServer` listens, admits each
session within the class's limits, closes idle ones and ends the class; each
connection is a :class:`~.connection.Connection`, each terminal a
:class:`~.session.Session` with its app, a child of the zygote on a pty of its own."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import resource
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import asyncssh

from ..classroom.protocol import Message, Roster, Seat
from ..i18n import N_
from .classroom import Classroom
from .connection import Connection
from .gate import Doorway, Logins
from .groups import Groups, ViewGroup
from .keeper import ZygoteKeeper
from .logbook import Tally, log
from .options import ServeOptions
from .session import GRACE, Session


class ClassServer:
    """Everything the running server knows: options, zygote, sessions, the class."""

    def __init__(
        self,
        options: ServeOptions,
        zygote: ZygoteKeeper,
        host_key: asyncssh.SSHKey,
        authorized_keys: asyncssh.SSHAuthorizedKeys | None = None,
    ) -> None:
        self.options = options
        self.zygote = zygote
        self.host_key = host_key
        #: The keys ``--authorized-keys`` admits, read (and checked) once at start.
        self.authorized_keys = authorized_keys
        self.sessions: set[Session] = set()
        self.classroom = Classroom(self._gather) if options.classroom else None
        #: Followers share one app per view (see groups.py), unless ``--own-apps``.
        self.groups = Groups(self) if options.classroom and not options.own_apps else None
        self.per_address: Counter[str] = Counter()
        self.logins = Logins()
        self.doorway: Doorway[Connection] = Doorway(options.max_connecting)
        #: Floods (wrong passwords, refused connections) said in a few lines.
        self.tally = Tally()
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._idle_task: asyncio.Task[None] | None = None
        #: The page for browser students (``--web``), and the port it listens on.
        self.web: Any = None
        self.web_port: int | None = None
        self._roster_task: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- start, stop

    async def start(self) -> int:
        """Listen; returns the port (useful with ``--port 0``). OSError if it cannot."""
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(self._loop_error)
        _enough_descriptors(self.options)
        self.zygote.start()
        options = self.options
        self._acceptor = await asyncssh.create_server(
            lambda: Connection(self),
            options.host,
            options.port,
            server_host_keys=[self.host_key],
            # Keys are set per user in Connection.begin_auth: given here, asyncssh
            # would accept them for every user name, 'teacher' included.
            public_key_auth=self.authorized_keys is not None,
            host_based_auth=False,
            gss_host=None,  # no Kerberos: a password or a listed key, nothing else
            encoding=None,
            # Keys a client may send ahead of its app (asyncssh's default is 2 MiB a
            # session): a flood is held at this much per session (Session._hold_keys).
            window=256 * 1024,
            line_editor=False,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_scp=False,
            sftp_factory=None,
            login_timeout=60,
            keepalive_interval=30,
            keepalive_count_max=4,
            server_version="bptui",
        )
        if options.web_port is not None:
            from .web import WebFront  # aiohttp: loaded only for a class with a page

            self.web = WebFront(self)
            self.web_port = await self.web.start()
        self._idle_task = asyncio.create_task(self._watch_idle())
        if self.classroom is not None:
            self._roster_task = asyncio.create_task(self._send_rosters())
        sockets = self._acceptor.sockets
        return int(sockets[0].getsockname()[1]) if sockets else options.port

    async def stop(self, reason: str = N_("The class has ended. Thank you for joining!")) -> None:
        """Stop listening, end every session with ``reason`` (said in each student's
        language), end the zygote."""
        self._closing = True
        if self._acceptor is not None:
            self._acceptor.close()
        for task in (self._idle_task, self._roster_task):
            if task is not None:
                task.cancel()
        self.tally.flush()
        sessions = list(self.sessions)
        for session in sessions:
            session.end(reason)
        deadline = time.monotonic() + GRACE + 1.0
        while self.sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for session in list(self.sessions):
            session.finish()
        if self.web is not None:
            await self.web.stop()
        if self.groups is not None:
            self.groups.close()
        self.zygote.stop()

    def _loop_error(self, _loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """An error the event loop met outside a session's code: one line, never a
        traceback (asyncio logs a failed accept() with one, once per connection
        waiting: 53 MB of them when the descriptors ran out)."""
        error = context.get("exception")
        if isinstance(error, OSError) and error.errno in _OUT_OF_RESOURCES:
            what = f"cannot accept a connection: {error.strerror} (see ulimit -n, --max-connecting)"
        else:
            what = f"{context.get('message', 'error')}: {error!r}" if error else context["message"]
        self.tally.note("the server", what, verb="error in")

    # ---------------------------------------------------------------- sessions

    def admit(self, session: Session) -> tuple[str, dict[str, Any], str] | None:
        """Why ``session`` may not start now, or None: a message marked with ``N_`` and
        its fields, said in the student's language, and the reason for the log, which
        names the option a teacher would change."""
        if self._closing:
            return N_("The class is ending."), {}, "the class is ending"
        if session.role == "teacher":
            return None
        options = self.options
        students = sum(1 for s in self.sessions if s.role != "teacher")
        if students >= options.max_sessions:
            full = (
                N_("The class is full ({count} student). Try again later, or ask your teacher.")
                if options.max_sessions == 1
                else N_(
                    "The class is full ({count} students). Try again later, or ask your teacher."
                )
            )
            why = f"the class is full (--max-sessions {options.max_sessions})"
            return full, {"count": options.max_sessions}, why
        if self.per_address[session.address] >= options.per_address:
            crowded = N_("Too many sessions from {address} ({count}). Close one and try again.")
            why = f"too many sessions from {session.address} (--per-address {options.per_address})"
            return crowded, {"address": session.address, "count": options.per_address}, why
        return None

    def seat(self, session: Session) -> None:
        """``session`` was admitted: it counts against the limits until it leaves."""
        self.sessions.add(session)
        self.per_address[session.address] += 1

    def unseat(self, session: Session) -> bool:
        """``session`` has left; whether it had a seat."""
        if session not in self.sessions:
            return False
        self.sessions.discard(session)
        self.per_address[session.address] -= 1
        if self.per_address[session.address] <= 0:
            del self.per_address[session.address]
        return True

    async def spawn(self, header: dict[str, Any], fds: list[int]) -> tuple[int, int]:
        """A zygote child on ``fds``: its pid and a pidfd to watch it by (OSError if none)."""
        return await self.zygote.spawn(header, fds)

    def _gather(self, call: Callable[[], None]) -> None:
        """Run ``call`` a moment from now: the class's head count, told to every app
        once for a burst of joins (100 students joining at once cost 100 renders in
        each app when each join was told at once)."""
        asyncio.get_running_loop().call_later(GATHER, call)

    # The view groups' side of the server (see groups.Hub).

    def joined(self, group: ViewGroup) -> None:
        if self.classroom is not None:
            self.classroom.join(group)

    def left(self, group: ViewGroup) -> None:
        if self.classroom is not None:
            self.classroom.leave(group)

    def heard(self, group: ViewGroup, message: Message) -> None:
        if self.classroom is not None:
            self.classroom.receive(group, message)

    def roster(self) -> Roster:
        """Every student connected, for the teacher's class view."""
        now = time.monotonic()
        questions = self.classroom.questions if self.classroom is not None else None
        steps = self.classroom.steps if self.classroom is not None else {}
        seats = (
            Seat(
                s.name,
                s.address,
                s.watching or s.following,
                int(now - s.last_active),
                *(questions.score(s) if questions is not None else (0, 0)),
                steps.get(s),
            )
            for s in self.sessions
            if s.role != "teacher"
        )
        return Roster(tuple(sorted(seats, key=lambda seat: (seat.name, seat.address))))

    async def _send_rosters(self) -> None:
        """The teacher's app is told who is in the class every few seconds (idle
        times grow), and sooner when the class changes (see Classroom)."""
        while True:
            await asyncio.sleep(ROSTER_EVERY)
            classroom = self.classroom
            if classroom is not None and classroom.teacher is not None:
                classroom.teacher.send(self.roster())

    async def _watch_idle(self) -> None:
        limit = self.options.idle_timeout * 60
        while True:
            await asyncio.sleep(min(30.0, max(limit / 4, 0.2)))
            now = time.monotonic()
            for session in list(self.sessions):
                if now - session.last_active > limit:
                    minutes = self.options.idle_timeout
                    idle = (
                        N_(
                            "Closed after {minutes} minute without a key press. Connect again to go on."
                        )
                        if minutes == 1
                        else N_(
                            "Closed after {minutes} minutes without a key press. "
                            "Connect again to go on."
                        )
                    )
                    session.end(idle, minutes=f"{minutes:g}")


#: Seconds over which joins and leaves are gathered into one head count.
GATHER = 0.2
#: Seconds between two rosters sent to the teacher's app.
ROSTER_EVERY = 2.0

#: What accept() says when the server has run out of descriptors or memory.
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


def _enough_descriptors(options: ServeOptions) -> None:
    """Raise the open-file limit as far as this user may, and say so in the log if it
    is still short of what the class may use: each session holds about four
    descriptors (its connection, pty, pidfd and class link), each connection
    without a session one."""
    need = 4 * (options.max_sessions + 1) + options.max_connecting + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(need, soft) if hard == resource.RLIM_INFINITY else max(min(need, hard), soft)
    if wanted > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    if soft < need:
        log(
            f"the open-file limit ({soft}) is below what --max-sessions {options.max_sessions} "
            f"and --max-connecting {options.max_connecting} may need (~{need}): "
            "raise it (ulimit -n) or lower them"
        )
