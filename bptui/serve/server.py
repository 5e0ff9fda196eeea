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
import contextlib
import errno
import fcntl
import hmac
import os
import signal
import socket
import struct
import sys
import termios
import time
from collections import Counter, deque
from typing import Any

import asyncssh

from ..app.classlink import FrameReader, encode
from .classroom import Classroom
from .options import TEACHER, ServeOptions
from .zygote import Zygote

#: Seconds a child gets to leave its screen tidily before it is killed.
GRACE = 2.0
_READ = 65536


def log(text: str) -> None:
    """One line on the server's standard error, with the time."""
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


class Outbox:
    """Non-blocking writes to a descriptor, buffered while it is full."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self._loop = loop
        self._fd = fd
        self._pending = bytearray()
        self._waiting = False
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        self._pending += data
        self._flush()

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
            self._loop.add_writer(self._fd, self._writable)
        elif not self._pending and self._waiting:
            self._waiting = False
            self._loop.remove_writer(self._fd)

    def _writable(self) -> None:
        self._flush()

    def close(self) -> None:
        if self._waiting:
            self._loop.remove_writer(self._fd)
            self._waiting = False
        self.closed = True


class ClassServer:
    """Everything the running server knows: options, zygote, sessions, the class."""

    def __init__(
        self, options: ServeOptions, zygote: Zygote, host_key: asyncssh.SSHKey
    ) -> None:
        self.options = options
        self.zygote = zygote
        self.host_key = host_key
        self.sessions: set[Session] = set()
        self.classroom = Classroom() if options.classroom else None
        self.per_address: Counter[str] = Counter()
        self._answers: deque[asyncio.Future[tuple[dict[str, Any], int | None]]] = deque()
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._idle_task: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- start, stop

    async def start(self) -> int:
        """Listen; returns the port (useful with ``--port 0``). OSError if it cannot."""
        self._loop = asyncio.get_running_loop()
        self.zygote.sock.setblocking(False)
        self._loop.add_reader(self.zygote.sock.fileno(), self._zygote_answered)
        options = self.options
        self._acceptor = await asyncssh.create_server(
            lambda: Connection(self),
            options.host,
            options.port,
            server_host_keys=[self.host_key],
            authorized_client_keys=(
                str(options.authorized_keys) if options.authorized_keys else None
            ),
            encoding=None,
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

    async def stop(self, reason: str = "The class has ended. Thank you for joining!") -> None:
        """Stop listening, end every session with ``reason``, end the zygote."""
        self._closing = True
        if self._acceptor is not None:
            self._acceptor.close()
        if self._idle_task is not None:
            self._idle_task.cancel()
        sessions = list(self.sessions)
        for session in sessions:
            session.end(reason)
        deadline = time.monotonic() + GRACE + 1.0
        while self.sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for session in list(self.sessions):
            session.finish()
        if self._loop is not None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(self.zygote.sock.fileno())
        self.zygote.stop()

    # ---------------------------------------------------------------- sessions

    def admit(self, session: Session) -> str | None:
        """Why ``session`` may not start now, or None when it may."""
        if self._closing:
            return "The class is ending."
        if session.role == "teacher":
            return None
        students = sum(1 for s in self.sessions if s.role != "teacher")
        if students >= self.options.max_sessions:
            return (
                f"The class is full ({self.options.max_sessions} students). "
                "Try again later, or ask your teacher."
            )
        if self.per_address[session.address] >= self.options.per_address:
            return (
                f"Too many sessions from {session.address} "
                f"({self.options.per_address}). Close one and try again."
            )
        return None

    async def spawn(self, header: dict[str, Any], fds: list[int]) -> tuple[int, int]:
        """A zygote child on ``fds``: its pid and a pidfd to watch it by."""
        assert self._loop is not None
        future: asyncio.Future[tuple[dict[str, Any], int | None]] = self._loop.create_future()
        self._answers.append(future)
        try:
            self.zygote.spawn(header, fds)
        except OSError:
            self._answers.remove(future)
            raise
        answer, pidfd = await future
        if pidfd is None or "pid" not in answer:
            raise OSError(errno.ECHILD, "the zygote could not start a session")
        return int(answer["pid"]), pidfd

    def _zygote_answered(self) -> None:
        while True:
            try:
                answer = Zygote.answer(self.zygote.sock)
            except BlockingIOError:
                return
            except (OSError, ConnectionError, ValueError) as error:
                assert self._loop is not None
                self._loop.remove_reader(self.zygote.sock.fileno())
                while self._answers:
                    self._answers.popleft().set_exception(OSError(str(error)))
                if not self._closing:
                    log("the zygote has stopped: no new sessions can start")
                return
            if self._answers:
                self._answers.popleft().set_result(answer)

    async def _watch_idle(self) -> None:
        limit = self.options.idle_timeout * 60
        while True:
            await asyncio.sleep(min(30.0, max(limit / 4, 0.2)))
            now = time.monotonic()
            for session in list(self.sessions):
                if now - session.last_active > limit:
                    minutes = self.options.idle_timeout
                    session.end(
                        f"Closed after {minutes:g} minute{'s' if minutes != 1 else ''} "
                        "without a key press. Connect again to go on."
                    )


class Connection(asyncssh.SSHServer):
    """One SSH connection: authentication, and at most one session."""

    def __init__(self, server: ClassServer) -> None:
        self.server = server
        self.address = "?"
        self.username = ""
        self.sessions = 0

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        peer = conn.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "?"

    def begin_auth(self, username: str) -> bool:
        self.username = username
        options = self.server.options
        if options.classroom and username == TEACHER:
            return True  # the teacher's password
        return options.password is not None or options.authorized_keys is not None

    def password_auth_supported(self) -> bool:
        options = self.server.options
        return options.password is not None or (
            options.classroom and self.username == TEACHER
        )

    def validate_password(self, username: str, password: str) -> bool:
        options = self.server.options
        if options.classroom and username == TEACHER:
            expected = options.teacher_password
        else:
            expected = options.password
        ok = expected is not None and hmac.compare_digest(password.encode(), expected.encode())
        if not ok:
            log(f"refused {self.address} {_name(username)}: wrong password")
        return ok

    def public_key_auth_supported(self) -> bool:
        options = self.server.options
        return options.authorized_keys is not None and not (
            options.classroom and self.username == TEACHER
        )

    def session_requested(self) -> Session | bool:
        if self.sessions:
            log(f"refused {self.address} {_name(self.username)}: a second session")
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


def _name(username: str) -> str:
    """A user name fit for the log (what a client sends is not trusted)."""
    clean = "".join(c for c in username if c.isprintable())[:32]
    return clean or "-"


class Session(asyncssh.SSHServerSession[bytes]):
    """One student's (or the teacher's) terminal, and the app behind it."""

    def __init__(self, server: ClassServer, connection: Connection) -> None:
        self.server = server
        self.address = connection.address
        self.username = connection.username
        options = server.options
        self.role = "teacher" if options.classroom and self.username == TEACHER else "student"
        self.following = False
        self.last_active = time.monotonic()
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._term: str | None = None
        self._size = (80, 24)
        self._master: int | None = None
        self._to_app: Outbox | None = None
        self._link: socket.socket | None = None
        self._to_link: Outbox | None = None
        self._link_reader = FrameReader()
        self._pidfd: int | None = None
        self._pid = 0
        self._farewell: str | None = None
        self._finished = False
        self._reading = False
        self._starting: asyncio.Future[None] | None = None

    # ------------------------------------------------------------ SSH requests

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], _modes: Any) -> bool:
        self._term = term_type or "xterm-256color"
        width, height = term_size[0], term_size[1]
        self._size = (width or 80, height or 24)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        log(f"refused {self.address} {_name(self.username)}: a command ({_name(command)})")
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        log(f"refused {self.address} {_name(self.username)}: subsystem {_name(subsystem)}")
        return False

    def session_started(self) -> None:
        assert self._chan is not None
        if self._term is None:
            port = self.server.options.port
            self._chan.write(
                b"bptui needs a terminal: connect with  ssh -t -p "
                + str(port).encode()
                + b" HOST  (without -T)\r\n"
            )
            log(f"refused {self.address} {_name(self.username)}: no terminal (ssh -T)")
            self._chan.exit(1)
            return
        refusal = self.server.admit(self)
        if refusal is not None:
            self._chan.write(refusal.encode() + b"\r\n")
            log(f"refused {self.address} {_name(self.username)}: {refusal}")
            self._chan.exit(1)
            return
        self.server.sessions.add(self)
        self.server.per_address[self.address] += 1
        self._starting = asyncio.ensure_future(self._start_app())

    async def _start_app(self) -> None:
        assert self._chan is not None
        master, slave = os.openpty()
        _set_size(master, *self._size)
        os.set_blocking(master, False)
        fds = [slave]
        theirs = None
        if self.server.classroom is not None:
            self._link, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            fds.append(theirs.fileno())
        env = self._chan.get_environment()
        header = {
            "term": self._term,
            "color": self.server.options.color,
            "colorterm": env.get("COLORTERM") if isinstance(env, dict) else None,
            "role": self.role,
        }
        try:
            self._pid, self._pidfd = await self.server.spawn(header, fds)
        except OSError as error:
            log(f"cannot start a session for {self.address}: {error}")
            self._master = master
            self._chan.write(b"The server could not start a lesson. Please tell the teacher.\r\n")
            self.finish(code=1)
            return
        finally:
            os.close(slave)
            if theirs is not None:
                theirs.close()
        loop = asyncio.get_running_loop()
        self._master = master
        self._to_app = Outbox(loop, master)
        self._resume_reading()
        loop.add_reader(self._pidfd, self._child_ended)
        if self._link is not None and self.server.classroom is not None:
            self._link.setblocking(False)
            self._to_link = Outbox(loop, self._link.fileno())
            loop.add_reader(self._link.fileno(), self._link_readable)
            self.server.classroom.join(self)
        counts = self._counts()
        log(f"join  {self.address} {_name(self.username)} ({self.role}, {counts})")
        if self._farewell is not None:  # the class ended while this one started
            self.end(self._farewell)

    def _counts(self) -> str:
        students = sum(1 for s in self.server.sessions if s.role != "teacher")
        return f"{students} student{'s' if students != 1 else ''} connected"

    def data_received(self, data: bytes, datatype: int | None) -> None:
        self.last_active = time.monotonic()
        if self._to_app is not None:
            self._to_app.write(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self._size = (width or 80, height or 24)
        if self._master is not None:
            with contextlib.suppress(OSError):
                _set_size(self._master, *self._size)

    def eof_received(self) -> bool:
        return False

    def pause_writing(self) -> None:
        # The student's connection is slow: stop reading the app until it drains.
        self._pause_reading()

    def resume_writing(self) -> None:
        self._resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        # The connection dropped (or closed): the app has no one to show itself to.
        self._farewell = self._farewell or ""
        self._signal(signal.SIGHUP)
        self.finish(code=None)

    # ------------------------------------------------------------ the app

    def _pause_reading(self) -> None:
        if self._reading and self._master is not None:
            asyncio.get_running_loop().remove_reader(self._master)
            self._reading = False

    def _resume_reading(self) -> None:
        if not self._reading and self._master is not None and not self._finished:
            asyncio.get_running_loop().add_reader(self._master, self._app_output)
            self._reading = True

    def _app_output(self) -> None:
        assert self._master is not None
        try:
            data = os.read(self._master, _READ)
        except BlockingIOError:
            return
        except OSError:  # EIO: the app has closed its terminal
            data = b""
        if not data:
            self._pause_reading()
            self.finish()
            return
        if self._chan is not None:
            self._chan.write(data)

    def _child_ended(self) -> None:
        # Whatever the app wrote last is still in the pty: pass it on first.
        if self._master is not None:
            with contextlib.suppress(OSError):
                while data := os.read(self._master, _READ):
                    if self._chan is not None:
                        self._chan.write(data)
        self.finish()

    def _link_readable(self) -> None:
        assert self._link is not None
        try:
            data = self._link.recv(_READ)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self._link.fileno())
            return
        try:
            messages = self._link_reader.feed(data)
        except ValueError as error:
            log(f"bad message from {self.address}'s app: {error}")
            return
        classroom = self.server.classroom
        for message in messages:
            if message.get("t") == "cmd":
                self.last_active = time.monotonic()
            if classroom is not None:
                classroom.receive(self, message)

    # The classroom's side of a member.

    def send(self, message: dict[str, Any]) -> None:
        if self._to_link is not None:
            self._to_link.write(encode(message))

    def touch(self) -> None:
        self.last_active = time.monotonic()

    def end(self, reason: str) -> None:
        """Close the app tidily (its screen is restored), then say ``reason`` and close."""
        self._farewell = reason
        if self._pidfd is None:
            return  # not started yet: _start_app ends it once it has
        self._signal(signal.SIGTERM)
        asyncio.get_running_loop().call_later(GRACE, self._signal, signal.SIGKILL)

    def _signal(self, sig: int) -> None:
        if self._pidfd is not None and not self._finished:
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self._pidfd, sig)

    def finish(self, code: int | None = 0) -> None:
        """The session is over: release everything, make sure the child is gone."""
        if self._finished:
            return
        if self._child_alive():
            self._signal(signal.SIGKILL)
        self._finished = True
        if self.server.classroom is not None and self._to_link is not None:
            self.server.classroom.leave(self)
        self._release()
        if self in self.server.sessions:
            self.server.sessions.discard(self)
            self.server.per_address[self.address] -= 1
            if self.server.per_address[self.address] <= 0:
                del self.server.per_address[self.address]
            log(f"leave {self.address} {_name(self.username)} ({self.role}, {self._counts()})")
        chan = self._chan
        if chan is not None and code is not None:
            with contextlib.suppress(Exception):  # the client may be gone already
                if self._farewell:
                    chan.write(self._farewell.encode() + b"\r\n")
                chan.exit(code)

    def _release(self) -> None:
        """Stop watching and close the pty, the classroom link and the pidfd."""
        for outbox in (self._to_app, self._to_link):
            if outbox is not None:
                outbox.close()
        self._pause_reading()
        loop = asyncio.get_running_loop()
        link = self._link.fileno() if self._link is not None else None
        for fd in (link, self._master, self._pidfd):
            if fd is not None:
                with contextlib.suppress(ValueError, OSError):
                    loop.remove_reader(fd)
        if self._link is not None:
            self._link.close()
        for fd in (self._master, self._pidfd):
            if fd is not None:
                os.close(fd)
        self._master = self._pidfd = None

    def _child_alive(self) -> bool:
        if self._pidfd is None:
            return False
        import select

        readable, _, _ = select.select([self._pidfd], [], [], 0)
        return not readable


def _set_size(fd: int, width: int, height: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
