"""One SSH connection: who it is (authentication), and at most one session.

asyncssh calls these methods as the client asks; each answer is a decision of
the class's: which user names need which password, which keys admit whom, how
many wrong passwords a connection gets, and that nothing but one interactive
session is ever served (no commands, subsystems or forwarding).
"""

from __future__ import annotations

import asyncio
import hmac

import asyncssh
from asyncssh.packet import SSHPacket

from .gate import MAX_AUTH_TRIES, NO_SESSION_GRACE, Logins
from .host import Host
from .limits import accepts_env
from .logbook import log
from .options import TEACHER
from .session import Session
from .speech import clean_name


class Connection(asyncssh.SSHServer):
    """One SSH connection: authentication, and at most one session."""

    def __init__(self, server: Host) -> None:
        self.server = server
        self.address = "?"
        self.username = ""
        self.sessions = 0
        #: Logged in with the teacher password: the only way to drive the class.
        self.teacher = False
        self.failures = 0
        self._conn: asyncssh.SSHServerConnection | None = None
        #: Closes a logged-in connection that has no session (see NO_SESSION_GRACE).
        self._timer: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------ without a session

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        peer = conn.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "?"
        self._wait_in_doorway()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.doorway.leave(self.address, self)
        self._stop_timer()

    def auth_completed(self) -> None:
        self._start_timer()

    def began(self) -> None:
        """A session runs on this connection now: it holds no place in the doorway."""
        self.server.doorway.leave(self.address, self)
        self._stop_timer()

    def ended(self) -> None:
        """Its session is over: a connection may not open another, so it goes soon."""
        if self._conn is not None and self._conn.is_closed():
            return
        self._wait_in_doorway()
        self._start_timer()

    def _wait_in_doorway(self) -> None:
        doorway = self.server.doorway
        pushed = doorway.enter(self.address, self)
        if pushed is not None:
            full = f"too many connections without a session (--max-connecting {doorway.limit})"
            self.server.tally.note(pushed.address, full)
            pushed.close(abort=True)

    def _start_timer(self) -> None:
        self._stop_timer()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(NO_SESSION_GRACE, self._no_session)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _no_session(self) -> None:
        self._timer = None
        self.server.tally.note(self.address, "no session", clean_name(self.username))
        self.close()

    def close(self, abort: bool = False) -> None:
        """Close the connection (``abort``: at once, without a word to the client)."""
        self.server.doorway.leave(self.address, self)
        self._stop_timer()
        if self._conn is not None:
            if abort:
                self._conn.abort()
            else:
                self._conn.close()

    # ------------------------------------------------------------ who it is

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

    # ------------------------------------------------------------ what it asks for

    def session_requested(self) -> tuple[asyncssh.SSHServerChannel[bytes], Session] | bool:
        if self.sessions or self._conn is None:
            log(f"refused {self.address} {clean_name(self.username)}: a second session")
            return False
        self.sessions += 1
        channel = self._conn.create_server_channel(encoding=None)
        channel.__class__ = SessionChannel
        return channel, Session(self.server, self)

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


class SessionChannel(asyncssh.SSHServerChannel[bytes]):
    """A session's channel, taking only the environment the class uses.

    asyncssh keeps every ``env`` request a client sends, with no bound and no
    hook (3,000 requests of 30 KB added 176 MB to the server). This channel
    keeps a locale and COLORTERM, a few and short (see
    :func:`~.limits.accepts_env`), and refuses the rest. A channel asyncssh made
    becomes one (its class is swapped in Connection.session_requested), so that
    everything else about it stays asyncssh's own.
    """

    def _process_env_request(self, packet: SSHPacket) -> bool:
        peek = SSHPacket(packet.get_remaining_payload())
        name, value = peek.get_string(), peek.get_string()
        kept = self.get_environment_bytes()
        if not accepts_env(name, value, len(kept) - (name in kept)):
            return False
        return bool(super()._process_env_request(packet))
