"""One SSH session: a terminal, the app behind it, and the bytes between them.

The session asks the server for a child of the zygote on a pty of its own,
copies the app's output to the client and the client's keys to the app,
passes window-size changes on, and watches the child through a pidfd: a
session whose child ends is closed, and a child whose connection drops is
ended. In a classroom it is also a member of the class (see
:mod:`bptui.serve.classroom`), with a Unix socket to its app.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import select
import signal
import socket
import struct
import termios
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import asyncssh

from .. import glyphs, i18n
from ..app.settings import Settings
from ..classroom.protocol import Cmd, FrameReader, Message, encode
from ..i18n import N_
from .limits import clamp_size, clean_colorterm, clean_term
from .logbook import log
from .outbox import Outbox
from .terminal import RESTORE, Screen

if TYPE_CHECKING:
    from .connection import Connection
    from .server import ClassServer

#: Seconds a child gets to leave its screen tidily before it is killed.
GRACE = 2.0
STOPPED = N_(
    "Your lesson stopped unexpectedly. Connect again to go on; tell the teacher if it happens again."
)
_READ = 65536


def client_language(env: Mapping[str, str], default: str) -> str:
    """The language a student's ssh client asks for with the locale it sends
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``; OpenSSH sends them with ``SendEnv``),
    else ``default`` (the server's ``--lang`` or locale). A Chinese locale in a
    charset other than UTF-8 (``zh_CN.GBK``) gets English: the app writes UTF-8."""
    sent = {name: str(env[name]) for name in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(name)}
    if not sent:
        return default
    language = i18n.from_environment(sent)
    decisive = next(sent[n] for n in ("LC_ALL", "LC_MESSAGES", "LANG") if n in sent)
    charset = decisive.partition(".")[2].partition("@")[0].lower().replace("-", "")
    return i18n.DEFAULT if language != i18n.DEFAULT and charset not in ("", "utf8") else language


def say(language: str, message: str, **fields: Any) -> str:
    """``message`` (marked with ``N_``) in ``language``, its fields filled in: the
    server speaks to each student in theirs."""
    spoken = i18n.language()
    try:
        i18n.set_language(language)
        return i18n._(message).format(**fields)
    finally:
        i18n.set_language(spoken)


def clean_name(username: str) -> str:
    """A user name fit for the log (what a client sends is not trusted)."""
    clean = "".join(c for c in username if c.isprintable())[:32]
    return clean or "-"


class Session(asyncssh.SSHServerSession[bytes]):
    """One student's (or the teacher's) terminal, and the app behind it."""

    def __init__(self, server: ClassServer, connection: Connection) -> None:
        self.server = server
        self.connection = connection
        options = server.options
        self.role = "teacher" if connection.teacher else "student"
        self.following = False
        #: The student's language: their ssh client's locale, else the server's.
        self.language = options.settings.language
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
        self._farewell: str | None = None
        self._finished = False
        self._reading = False
        self._starting: asyncio.Future[None] | None = None
        self._screen = Screen()

    @property
    def address(self) -> str:
        """The address the student connects from."""
        return self.connection.address

    @property
    def who(self) -> str:
        """The address and user name, for the log."""
        return f"{self.connection.address} {clean_name(self.connection.username)}"

    # ------------------------------------------------------------ SSH requests

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], _modes: Any
    ) -> bool:
        self._term = clean_term(term_type)
        self._size = clamp_size(term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        """Taken, to be refused with a reason (see :meth:`_only_the_lesson`): nothing runs."""
        log(f"refused {self.who}: a command ({clean_name(command)})")
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        """Taken, to be refused with a reason, as a command is (sftp)."""
        log(f"refused {self.who}: subsystem {clean_name(subsystem)}")
        return True

    def _only_the_lesson(self) -> None:
        """A command or subsystem: the reason on the client's standard error, and exit
        status 1. Refusing the request itself left OpenSSH saying only "exec request
        failed on channel 0" (and it quits before it shows anything sent with it)."""
        assert self._chan is not None
        why = N_("bptui serves the lesson only, and runs no commands: connect with  ssh {target}")
        self._chan.write_stderr(say(self.language, why, target=self._target()).encode() + b"\r\n")
        self._chan.exit(1)

    def _target(self) -> str:
        """``-p PORT HOST``: the address and port this client reached, to type again."""
        assert self._chan is not None
        reached = self._chan.get_extra_info("sockname")
        host, port = (reached[0], reached[1]) if reached else (self.server.options.host, 22)
        return f"-p {port} {host}" if port != 22 else str(host)

    def session_started(self) -> None:
        assert self._chan is not None
        self.language = client_language(self._chan.get_environment(), self.language)
        if self._chan.get_command() is not None or self._chan.get_subsystem() is not None:
            self._only_the_lesson()
            return
        if self._term is None:
            hint = N_(
                "bptui needs a terminal, and this ssh asked for none: connect with  ssh -t {target}"
            )
            self._chan.write(say(self.language, hint, target=self._target()).encode() + b"\r\n")
            log(f"refused {self.who}: no terminal")
            self._chan.exit(1)
            return
        refusal = self.server.admit(self)
        if refusal is not None:
            message, fields, why = refusal
            self._chan.write(say(self.language, message, **fields).encode() + b"\r\n")
            log(f"refused {self.who}: {why}")
            self._chan.exit(1)
            return
        self.server.seat(self)
        self.connection.began()
        self._starting = asyncio.ensure_future(self._start_app())

    def _settings(self, env: dict[str, str]) -> Settings:
        """The class's settings, in ASCII for a terminal that cannot show UTF-8: the
        client's LANG or LC_ALL when its ssh sends them (SendEnv), else its TERM."""
        options = self.server.options
        if options.ascii_per_student and not glyphs.utf8_client(env, self._term or ""):
            return replace(options.settings, ascii_only=True)
        return options.settings

    def _header(self) -> dict[str, Any]:
        """The zygote's request for this session (every value cleaned: see limits.py)."""
        assert self._chan is not None
        # What the client's ssh sent (asyncssh gives a read-only mapping, not a dict).
        env = dict(self._chan.get_environment())
        settings = self._settings(env)
        if settings.ascii_only:
            self.language = i18n.DEFAULT  # Chinese cannot be written in 7-bit ASCII
        settings = replace(settings, language=self.language)
        return {
            "term": self._term,
            "color": self.server.options.color,
            "colorterm": clean_colorterm(env.get("COLORTERM")),
            "role": self.role,
            "settings": settings.to_header(),
            # A page in a browser (serve/webchannel.py) takes handouts as downloads.
            "browser": getattr(self._chan, "browser", False) is True,
        }

    def _gone(self) -> bool:
        """Whether the session is over (a method: it changes while _start_app awaits)."""
        return self._finished

    async def _start_app(self) -> None:
        if self._gone():
            return  # the connection went before its app was asked for
        master, slave = os.openpty()
        _set_size(master, *self._size)
        os.set_blocking(master, False)
        fds = [slave]
        theirs = None
        if self.server.classroom is not None:
            self._link, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            fds.append(theirs.fileno())
        try:
            _pid, pidfd = await self.server.spawn(self._header(), fds)
        except OSError as error:
            log(f"cannot start a session for {self.address}: {error}")
            self._master = master
            if not self._gone():
                sorry = N_("The server could not start a lesson. Please tell the teacher.")
                self._show(say(self.language, sorry).encode() + b"\r\n")
            self.finish(code=1)
            return
        finally:
            os.close(slave)
            if theirs is not None:
                theirs.close()
        if self._gone():
            # The connection went while the app started: no one will see it, and no
            # limit counts it any more. It goes now, with its terminal and pidfd.
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            os.close(pidfd)
            os.close(master)
            return
        self._pidfd = pidfd  # the app is watched by its pidfd
        self._app_started(master)

    def _app_started(self, master: int) -> None:
        loop = asyncio.get_running_loop()
        self._master = master
        self._to_app = Outbox(loop, master, flow=self._hold_keys)
        self._resume_reading()
        assert self._pidfd is not None
        loop.add_reader(self._pidfd, self._child_ended)
        if self._link is not None and self.server.classroom is not None:
            self._link.setblocking(False)
            self._to_link = Outbox(loop, self._link.fileno())
            loop.add_reader(self._link.fileno(), self._link_readable)
            self.server.classroom.join(self)
        counts = self._counts()
        log(f"join  {self.who} ({self.role}, {counts})")
        if self._farewell is not None:  # the class ended while this one started
            self._farewell_now()

    def _counts(self) -> str:
        students = sum(1 for s in self.server.sessions if s.role != "teacher")
        return f"{students} student{'s' if students != 1 else ''} connected"

    def data_received(self, data: bytes, datatype: int | None) -> None:
        self.last_active = time.monotonic()
        if self._to_app is not None:
            self._to_app.write(data)

    def _hold_keys(self, hold: bool) -> None:
        """Stop taking keys from the client while its app has a backlog (see Outbox)."""
        if self._chan is not None:
            if hold:
                self._chan.pause_reading()
            else:
                self._chan.resume_reading()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self._size = clamp_size(width, height)
        if self._master is not None:
            with contextlib.suppress(OSError):
                _set_size(self._master, *self._size)

    def eof_received(self) -> bool:
        """No more keys (``ssh -tt < /dev/null``): the app still shows itself, as
        under sshd; answering False would close the channel for its output too."""
        return True

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
        self._show(data)

    def _show(self, data: bytes) -> None:
        """The app's output to the student; a channel closed for it ends the session."""
        if self._chan is None:
            return
        self._screen.saw(data)
        try:
            self._chan.write(data)
        except (OSError, asyncssh.Error):
            self._signal(signal.SIGHUP)
            self.finish(code=None)

    def _child_ended(self) -> None:
        # Whatever the app wrote last is still in the pty: pass it on first.
        if self._master is not None:
            with contextlib.suppress(OSError):
                while not self._finished and (data := os.read(self._master, _READ)):
                    self._show(data)
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
            if isinstance(message, Cmd):
                self.last_active = time.monotonic()
            if classroom is not None:
                classroom.receive(self, message)

    # The classroom's side of a member.

    def send(self, message: Message) -> None:
        if self._to_link is not None:
            self._to_link.write(encode(message))

    def touch(self) -> None:
        self.last_active = time.monotonic()

    def end(self, reason: str, **fields: Any) -> None:
        """Close the app tidily (its screen is restored), then say ``reason`` (English,
        marked with ``N_``; said in the student's language) and close."""
        self._farewell = say(self.language, reason, **fields) if reason else reason
        self._farewell_now()

    def _farewell_now(self) -> None:
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
        if self.server.unseat(self):
            self.connection.ended()
            log(f"leave {self.who} ({self.role}, {self._counts()})")
        chan = self._chan
        if chan is not None and code is not None:
            with contextlib.suppress(Exception):  # the client may be gone already
                if self._screen.alternate:  # the app ended without restoring the terminal
                    chan.write(RESTORE)
                    if not self._farewell:
                        log(f"the app of {self.who} ended unexpectedly")
                        self._farewell, code = say(self.language, STOPPED), 1
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
        ended = select.poll()  # not select(): a pidfd may be numbered past 1024
        ended.register(self._pidfd, select.POLLIN)
        return not ended.poll(0)


def _set_size(fd: int, width: int, height: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
