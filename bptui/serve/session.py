"""One SSH session: a terminal, the app behind it, and the bytes between them.

A session shows one of two apps. Its own (:class:`~.process.AppProcess`, a
child of the zygote on a pty of its own): the teacher's, an explorer's, a
student's without a class, or anyone's with ``--own-apps``; the app's output
goes to the client and the client's keys to the app. Or, for a student who
follows the teacher, a view group's (:mod:`bptui.serve.groups`), shared with
every follower at the same view: the session reads their keys itself and moves
them to an app of their own when they want more than to watch (``t``, ``L``…).
A session whose app ends is closed, and an app whose connection drops is ended.
In a classroom the app is also a member of the class (see
:mod:`bptui.serve.classroom`), with a Unix socket to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from typing import Any

import asyncssh

from ..classroom.protocol import Ask, Cmd, Follow, Message, Revealed, Withdrawn
from ..i18n import N_
from .asking import PromptRow
from .groups import STOPPED, View, ViewGroup, bucket
from .host import Door, Host
from .keys import Kind, lasting
from .limits import app_header, clamp_size, clean_term
from .logbook import log
from .member import Following
from .notes import Notes
from .process import AppProcess
from .speech import clean_name, client_language, say
from .terminal import RESTORE, Screen

#: Seconds a child gets to leave its screen tidily before it is killed.
GRACE = 2.0
#: What a following student is told when a key of theirs would step the lesson.
FOLLOWING = N_("You are following the teacher: press t to explore on your own.")
REJOINED = N_("Following the teacher again, at their current step. Press t to explore alone.")
#: Seconds a group member's window keeps one size before they move to its group.
RESIZED = 0.3
#: Keys kept for an app that is starting (the rest of a paste is dropped).
_PENDING = 4096


class Session(asyncssh.SSHServerSession[bytes]):
    """One student's (or the teacher's) terminal, and the app behind it."""

    def __init__(self, server: Host, connection: Door) -> None:
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
        self._head: dict[str, Any] = {}
        #: The student's own app, if they have one ...
        self._app: AppProcess | None = None
        #: ... else the view group whose app they watch (see groups.py).
        self._group: ViewGroup | None = None
        self._member = Following(PromptRow(self._show, lambda: self.language))
        self._notes = Notes(self._show, lambda: self._group)
        self._writable = True
        self._farewell: str | None = None
        self._finished = False
        self._joined = False
        self._starting: asyncio.Future[None] | None = None
        self._screen = Screen()

    @property
    def address(self) -> str:
        """The address the student connects from."""
        return self.connection.address

    @property
    def name(self) -> str:
        """The user name the student gave, cleaned (what a client sends is not trusted)."""
        return clean_name(self.connection.username)

    @property
    def watching(self) -> bool:
        """Whether the student follows the teacher in a view group (no app of their own)."""
        return self._group is not None

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
        self._starting = asyncio.ensure_future(self._begin())

    def _header(self) -> dict[str, Any]:
        """The zygote's request for this session (every value cleaned: see limits.py)."""
        assert self._chan is not None
        # What the client's ssh sent (asyncssh gives a read-only mapping, not a dict).
        env = dict(self._chan.get_environment())
        browser = getattr(self._chan, "browser", False) is True
        head, self.language = app_header(self.server.options, env, self._term, self.language)
        # A page in a browser (serve/webchannel.py) takes handouts as downloads.
        return {**head, "role": self.role, "browser": browser}

    def _gone(self) -> bool:
        """Whether the session is over (a method: it changes while an app starts)."""
        return self._finished

    async def _begin(self) -> None:
        if self._gone():
            return  # the connection went before its app was asked for
        self._head = self._header()
        if self._grouped():
            self._join_group()
        else:
            await self._start_app()

    def _grouped(self) -> bool:
        """A student who follows watches a view group's app, not one of their own."""
        return self.server.groups is not None and self.role == "student"

    def _arrived(self) -> None:
        if not self._joined:
            self._joined = True
            log(f"join  {self.who} ({self.role}, {self._counts()})")

    # ------------------------------------------------------------ in a view group

    def _view(self) -> View:
        settings = self._head["settings"]
        return View(
            *bucket(*self._size),
            language=str(settings.get("language", self.language)),
            ascii_only=bool(settings.get("ascii_only", False)),
            term=str(self._head["term"]),
            colorterm=self._head["colorterm"],
        )

    def _join_group(self) -> None:
        groups, classroom = self.server.groups, self.server.classroom
        assert groups is not None and classroom is not None
        self._group = groups.attach(self, self._view(), self._head)
        if self._group is None:  # too many groups: an app of their own, as before groups
            self._starting = asyncio.ensure_future(self._start_app())
            return
        classroom.watch(True)
        classroom.ask(self)  # a question open: a joiner is asked too
        self._arrived()
        if self._farewell is not None:  # the class ended while this one joined
            self.finish()

    def _leave_group(self) -> None:
        group, groups, classroom = self._group, self.server.groups, self.server.classroom
        if group is None or groups is None or classroom is None:
            return
        self._group = None
        groups.detach(self, group)
        classroom.watch(False)
        self._notes.clear()

    def _member_keys(self, data: bytes) -> None:
        """A group member's keys: the server acts on them; the shared app never sees them."""
        asking = self._member.asking
        keys = self._member.keys.feed(data, escape=asking.prompt.editing)
        refused = typed = False
        for i, (kind, key) in enumerate(keys):
            if asking.prompt.takes(key):  # their answer to a class question
                typed, answer = True, asking.type(key)
                if answer is not None and self.server.classroom is not None:
                    self.server.classroom.answered(self, answer.qid, answer.value)
                continue
            if kind is Kind.QUIT:
                self._member.quitting = True
                self.finish()
                return
            if kind in (Kind.EXPLORE, Kind.VIEW):
                # An app of their own, at the class's step, where this key (and
                # whatever came after it) takes effect.
                rest = [k for _, k in keys[i:]]
                self._member.plain = kind is Kind.EXPLORE and not any(lasting(k) for k in rest[1:])
                self._leave_group()
                asking.close()  # their app asks it, unless they answered already
                self._member.pending = bytearray(b"".join(rest))
                self._starting = asyncio.ensure_future(self._start_app())
                return
            refused = refused or kind is Kind.LESSON
        if typed:
            asking.draw(self._group)
        if refused:
            self._toast(FOLLOWING)

    # ------------------------------------------------------------ class questions

    def people(self) -> list[Session]:
        """The student whose app this is (a class question counts people)."""
        return [self]

    def ask(self, ask: Ask) -> None:
        """A class question: on this member's screen, or to their app (not to an app
        taken to explore from its first key: its ``t`` would be typed as an answer)."""
        if self._group is not None:
            self._member.asking.start(ask, self._group)
        elif self._app is not None and self._member.pending[:1] != b"t":
            self._app.send(ask)

    def revealed(self, qid: int, value: float | None, answer: float | None) -> None:
        """The teacher revealed torch's ``value`` (None: they left first: withdrawn):
        this student hears it, and their verdict."""
        if self._group is not None:
            self._member.asking.reveal(value, answer, self._group)
        elif self._app is not None:
            self._app.send(Withdrawn(qid) if value is None else Revealed(qid, value, answer))

    def _toast(self, message: str) -> None:
        """A note (marked with ``N_``) on this student's screen only, in their language."""
        if self._group is not None:
            self._notes.say(say(self.language, message), self._group)

    # The group's side of a member (see bptui.serve.groups.Watcher).

    def show(self, data: bytes) -> None:
        self._show(data)
        # The app may have drawn over what the server wrote on this member's screen.
        self._notes.again(self._group)
        self._member.asking.draw(self._group, again=True)

    def writable(self) -> bool:
        return self._writable

    def lost(self, reason: str) -> None:
        self.end(reason)

    # ------------------------------------------------------------ an app of their own

    async def _start_app(self) -> None:
        app = AppProcess(
            self._show, lambda: self._app_ended(app), self._app_message, self._hold_keys
        )
        self._app = app
        classroom = self.server.classroom
        try:
            await app.start(self.server.spawn, self._head, self._size, classroom is not None)
        except OSError as error:
            log(f"cannot start a session for {self.address}: {error}")
            if not self._gone():
                sorry = N_("The server could not start a lesson. Please tell the teacher.")
                self._show(say(self.language, sorry).encode() + b"\r\n")
            self.finish(code=1)
            return
        if self._gone() or self._app is not app:
            # The connection went while the app started: no one will see it, and no
            # limit counts it any more. It goes now, with its terminal and pidfd.
            app.close()
            return
        if classroom is not None:
            classroom.join(self)
        if self._member.pending:
            app.write(bytes(self._member.pending))
            self._member.pending.clear()
        self._arrived()
        if self._farewell is not None:  # the class ended while this one started
            self._farewell_now()

    def _app_ended(self, app: AppProcess) -> None:
        if self._app is app:
            self.finish()

    def _app_message(self, message: Message) -> None:
        if isinstance(message, Cmd):
            self.last_active = time.monotonic()
        if (
            isinstance(message, Follow)
            and message.on
            and self._member.plain
            and self.server.groups is not None
            and self.server.groups.room_for(self._view())
        ):
            self._back_to_group()
            return
        if self.server.classroom is not None:
            self.server.classroom.receive(self, message)

    def _back_to_group(self) -> None:
        """``t`` again in an app taken only to explore: the student watches a group's
        app again, and their own goes (its screen is not read any more)."""
        app, classroom = self._app, self.server.classroom
        if classroom is not None:
            classroom.leave(self)
        self._app = None
        if app is not None:
            app.close()
        self._join_group()
        self._toast(REJOINED)

    def _counts(self) -> str:
        students = sum(1 for s in self.server.sessions if s.role != "teacher")
        return f"{students} student{'s' if students != 1 else ''} connected"

    def data_received(self, data: bytes, datatype: int | None) -> None:
        self.last_active = time.monotonic()
        if self._group is not None:
            self._member_keys(data)
            return
        if self._member.plain and any(lasting(k) for _, k in self._member.keys.feed(data)):
            self._member.plain = False  # their own view now: they keep their app
        if self._app is not None and self._app.running:
            self._app.write(data)
        elif len(self._member.pending) + len(data) <= _PENDING:
            self._member.pending += data  # the app is starting: its keyhold keeps them

    def _hold_keys(self, hold: bool) -> None:
        """Stop taking keys from the client while its app has a backlog (see Outbox)."""
        if self._chan is not None:
            if hold:
                self._chan.pause_reading()
            else:
                self._chan.resume_reading()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self._size = clamp_size(width, height)
        if self._app is not None:
            self._app.resize(*self._size)
        if self._group is not None:
            # A window dragged to a new size sends many sizes: the last one counts.
            if self._member.resize is not None:
                self._member.resize.cancel()
            self._member.resize = asyncio.get_running_loop().call_later(RESIZED, self._resized)

    def _resized(self) -> None:
        self._member.resize = None
        group = self._group
        if group is None:
            return
        if self._view() == group.view:
            self._show(group.mirror.repaint())  # the window was redrawn by the terminal
        else:
            self._leave_group()
            self._join_group()

    def eof_received(self) -> bool:
        """No more keys (``ssh -tt < /dev/null``): the app still shows itself, as
        under sshd; answering False would close the channel for its output too."""
        return True

    def pause_writing(self) -> None:
        # The student's connection is slow: stop reading their app until it drains
        # (a group skips them, and paints them whole once it has).
        self._writable = False
        if self._app is not None:
            self._app.pause()

    def resume_writing(self) -> None:
        self._writable = True
        if self._app is not None:
            self._app.resume()
        if self._group is not None:
            self._group.drained(self)

    def connection_lost(self, exc: Exception | None) -> None:
        # The connection dropped (or closed): the app has no one to show itself to.
        self._farewell = self._farewell or ""
        if self._app is not None:
            self._app.signal(signal.SIGHUP)
        self.finish(code=None)

    def _show(self, data: bytes) -> None:
        """Output to the student; a channel closed for it ends the session."""
        if self._chan is None or self._finished:
            return
        self._screen.saw(data)
        try:
            self._chan.write(data)
        except (OSError, asyncssh.Error):
            if self._app is not None:
                self._app.signal(signal.SIGHUP)
            self.finish(code=None)

    # The classroom's side of a member.

    def send(self, message: Message) -> None:
        if self._app is not None:
            self._app.send(message)

    def touch(self) -> None:
        self.last_active = time.monotonic()

    def end(self, reason: str, **fields: Any) -> None:
        """Close the app tidily (its screen is restored), then say ``reason`` (English,
        marked with ``N_``; said in the student's language) and close."""
        self._farewell = say(self.language, reason, **fields) if reason else reason
        self._farewell_now()

    def _farewell_now(self) -> None:
        if self._group is not None:
            self.finish()
            return
        if self._app is None or not self._app.running:
            return  # not started yet: _start_app ends it once it has
        self._app.signal(signal.SIGTERM)
        asyncio.get_running_loop().call_later(GRACE, self._app.signal, signal.SIGKILL)

    def finish(self, code: int | None = 0) -> None:
        """The session is over: release everything, make sure the app is gone."""
        if self._finished:
            return
        watching = self._group is not None
        self._leave_group()
        self._finished = True
        if self.server.classroom is not None:
            self.server.classroom.gone([self])
        self._member.asking.close()
        if self._app is not None:
            if self.server.classroom is not None:
                self.server.classroom.leave(self)
            self._app.close()
        if self.server.unseat(self):
            self.connection.ended()
            log(f"leave {self.who} ({self.role}, {self._counts()})")
        chan = self._chan
        if chan is not None and code is not None:
            with contextlib.suppress(Exception):  # the client may be gone already
                if self._screen.alternate:  # the app ended without restoring the terminal
                    chan.write(RESTORE)
                    if not self._farewell and not watching and not self._member.quitting:
                        log(f"the app of {self.who} ended unexpectedly")
                        self._farewell, code = say(self.language, STOPPED), 1
                if self._farewell:
                    chan.write(self._farewell.encode() + b"\r\n")
                chan.exit(code)
