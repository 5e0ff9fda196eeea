"""The SSH front end: who may connect, and a bptui app on a terminal for each.

asyncssh speaks SSH; this module decides. Only interactive sessions with a
pseudo-terminal are served: exec requests (``ssh host ls``, scp), subsystems
(sftp), port forwarding, agent and X11 forwarding are refused, and nothing is
ever run but the app. Each session's app is a child of the zygote on a pty of
its own; this process copies bytes between the pty and the SSH channel, passes
window-size changes on, and watches the child through a pidfd, so that a
session whose child ends is closed and a child whose connection drops is ended.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections import Counter
from typing import Any

import asyncssh

from ..i18n import N_
from .classroom import Classroom
from .gate import MAX_AUTH_TRIES, Logins
from .keeper import ZygoteKeeper
from .logbook import Tally, log
from .options import TEACHER, ServeOptions
from .session import GRACE, Session, clean_name


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
        self.classroom = Classroom() if options.classroom else None
        self.per_address: Counter[str] = Counter()
        self.logins = Logins()
        #: Floods (wrong passwords, refused connections) said in a few lines.
        self.tally = Tally()
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._idle_task: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- start, stop

    async def start(self) -> int:
        """Listen; returns the port (useful with ``--port 0``). OSError if it cannot."""
        self._loop = asyncio.get_running_loop()
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
        self._idle_task = asyncio.create_task(self._watch_idle())
        sockets = self._acceptor.sockets
        return int(sockets[0].getsockname()[1]) if sockets else options.port

    async def stop(self, reason: str = N_("The class has ended. Thank you for joining!")) -> None:
        """Stop listening, end every session with ``reason`` (said in each student's
        language), end the zygote."""
        self._closing = True
        if self._acceptor is not None:
            self._acceptor.close()
        if self._idle_task is not None:
            self._idle_task.cancel()
        self.tally.flush()
        sessions = list(self.sessions)
        for session in sessions:
            session.end(reason)
        deadline = time.monotonic() + GRACE + 1.0
        while self.sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for session in list(self.sessions):
            session.finish()
        self.zygote.stop()

    # ---------------------------------------------------------------- sessions

    def admit(self, session: Session) -> tuple[str, dict[str, Any]] | None:
        """Why ``session`` may not start now (a message marked with ``N_`` and its
        fields, said in the student's language and logged in English), or None."""
        if self._closing:
            return N_("The class is ending."), {}
        if session.role == "teacher":
            return None
        students = sum(1 for s in self.sessions if s.role != "teacher")
        if students >= self.options.max_sessions:
            full = N_("The class is full ({count} students). Try again later, or ask your teacher.")
            return full, {"count": self.options.max_sessions}
        if self.per_address[session.address] >= self.options.per_address:
            crowded = N_("Too many sessions from {address} ({count}). Close one and try again.")
            return crowded, {"address": session.address, "count": self.options.per_address}
        return None

    async def spawn(self, header: dict[str, Any], fds: list[int]) -> tuple[int, int]:
        """A zygote child on ``fds``: its pid and a pidfd to watch it by (OSError if none)."""
        return await self.zygote.spawn(header, fds)

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


class Connection(asyncssh.SSHServer):
    """One SSH connection: authentication, and at most one session."""

    def __init__(self, server: ClassServer) -> None:
        self.server = server
        self.address = "?"
        self.username = ""
        self.sessions = 0
        #: Logged in with the teacher password: the only way to drive the class.
        self.teacher = False
        self.failures = 0
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        peer = conn.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "?"

    def begin_auth(self, username: str) -> bool:
        """Called again whenever the client changes the user name it asks for."""
        self.username = username
        self.teacher = False
        options = self.server.options
        teacher = options.classroom and username == TEACHER
        if self._conn is not None:
            # The listed keys admit students only: 'teacher' needs the teacher password.
            self._conn.set_authorized_keys(None if teacher else self.server.authorized_keys)
        if teacher:
            return True
        return options.password is not None or options.authorized_keys is not None

    def password_auth_supported(self) -> bool:
        options = self.server.options
        return options.password is not None or (options.classroom and self.username == TEACHER)

    async def validate_password(self, username: str, password: str) -> bool:
        """Checked in the address's turn (see :class:`~.gate.Logins`); the connection
        is closed after :data:`~.gate.MAX_AUTH_TRIES` wrong passwords."""
        server = self.server
        wait = server.logins.wait(self.address)
        if wait > 0:
            await asyncio.sleep(wait)
        options = server.options
        if options.classroom and username == TEACHER:
            expected = options.teacher_password
        else:
            expected = options.password
        ok = expected is not None and hmac.compare_digest(password.encode(), expected.encode())
        self.teacher = ok and options.classroom and username == TEACHER
        if ok:
            return True
        self.failures += 1
        who = clean_name(username)
        server.tally.note(self.address, "wrong password", who)
        if server.logins.failed(self.address):
            log(
                f"slowing logins from {self.address}: {Logins.FREE} wrong passwords in "
                f"{Logins.WINDOW / 60:g} minutes (one check a second from now on)"
            )
        if self.failures >= MAX_AUTH_TRIES and self._conn is not None:
            cut = f"disconnected after {MAX_AUTH_TRIES} wrong passwords"
            server.tally.note(self.address, cut, who)
            self._conn.disconnect(
                asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "Too many authentication failures"
            )
        return False

    def public_key_auth_supported(self) -> bool:
        options = self.server.options
        return options.authorized_keys is not None and not (
            options.classroom and self.username == TEACHER
        )

    def session_requested(self) -> Session | bool:
        if self.sessions:
            log(f"refused {self.address} {clean_name(self.username)}: a second session")
            return False
        self.sessions += 1
        return Session(self.server, self)

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        log(f"refused {self.address}: remote port forwarding")
        return False

    def connection_requested(self, *args: object) -> bool:
        log(f"refused {self.address}: port forwarding")
        return False

    def unix_connection_requested(self, *args: object) -> bool:
        return False

    def unix_server_requested(self, *args: object) -> bool:
        return False
