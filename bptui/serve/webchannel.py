"""A browser student's terminal as a session sees it: a channel and a connection.

A :class:`~.session.Session` is driven by asyncssh through a few entry points
and writes to the channel asyncssh gives it. :class:`WebChannel` is that
channel for a websocket: the app's output goes to the page as binary frames,
the page's keys come back through :meth:`~.session.Session.data_received`. The
session cannot tell the difference. What a websocket adds is kept here:

- the output is queued for the page, bounded: past :data:`HIGH` bytes waiting the
  session is told to pause (:meth:`~.session.Session.pause_writing`), so a slow
  page holds its own app back instead of growing the server;
- a websocket that drops (a Wi-Fi moment) leaves the session running for
  :data:`RESUME_GRACE` seconds: the page comes back with its token and the
  number of bytes it had, and gets what it missed (from the last :data:`KEEP`
  bytes), or a full repaint when more was missed;
- a handout the app hands over in-band (iTerm2's ``OSC 1337 ; File=`` sequence,
  see :mod:`bptui.app.handout`) is cut out of the output and sent to the page as
  a download.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import re
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .session import Session

#: Output waiting for the page before its app is paused (resumed at a quarter).
HIGH = 256 * 1024
#: Output kept to replay to a page that reconnects having missed some.
KEEP = 256 * 1024
#: The first bytes an app writes (its terminal modes): replayed before a full repaint.
PROLOGUE = 4096
#: Seconds a session waits for its page to come back after the websocket drops.
RESUME_GRACE = 45.0
#: Largest output frame to the page.
FRAME = 64 * 1024
#: Largest file the app may hand to the page (an SVG screenshot of a big window is ~1 MB).
MAX_FILE = 8 * 1024 * 1024

_FILE_START = b"\x1b]1337;File="


class Socket(Protocol):
    """What the channel needs of a websocket (aiohttp's ``WebSocketResponse``)."""

    async def send_bytes(self, data: bytes) -> None: ...
    async def send_str(self, data: str) -> None: ...
    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


class FileCutter:
    """Cuts ``ESC ] 1337 ; File=ARGS : BASE64 BEL`` out of a stream of output.

    A sequence may arrive in pieces; one longer than :data:`MAX_FILE` (base64)
    is dropped whole, and so is one that does not parse: the terminal never
    sees any of it."""

    def __init__(self) -> None:
        self._held = bytearray()  # a sequence begun and not ended, or a possible start
        self._inside = False
        self._too_big = False

    def feed(self, data: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
        """The output to show, and the files cut out of it (name, content)."""
        out = bytearray()
        files: list[tuple[str, bytes]] = []
        data = bytes(self._held) + data if not self._inside else data
        if not self._inside:
            self._held.clear()
        while data:
            if not self._inside:
                start = data.find(_FILE_START)
                if start < 0:
                    keep = _partial_start(data)
                    out += data[: len(data) - keep]
                    self._held += data[len(data) - keep :]
                    return bytes(out), files
                out += data[:start]
                data = data[start + len(_FILE_START) :]
                self._inside, self._too_big = True, False
                self._held.clear()
            end = data.find(b"\x07")
            if end < 0:
                self._hold(data)
                return bytes(out), files
            self._hold(data[:end])
            data = data[end + 1 :]
            if not self._too_big and (found := _parse_file(bytes(self._held))) is not None:
                files.append(found)
            self._inside = False
            self._held.clear()
        return bytes(out), files

    def _hold(self, data: bytes) -> None:
        if self._too_big or len(self._held) + len(data) > MAX_FILE * 4 // 3 + 4096:
            self._too_big = True
            self._held.clear()
            return
        self._held += data


def _partial_start(data: bytes) -> int:
    """How many bytes at the end of ``data`` could begin :data:`_FILE_START`."""
    for n in range(min(len(_FILE_START) - 1, len(data)), 0, -1):
        if _FILE_START.startswith(data[-n:]):
            return n
    return 0


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _parse_file(sequence: bytes) -> tuple[str, bytes] | None:
    """``name=B64;size=N;inline=0:B64`` → (a safe file name, the content), or None."""
    args, sep, payload = sequence.partition(b":")
    if not sep:
        return None
    fields = dict(part.partition(b"=")[::2] for part in args.split(b";"))
    try:
        name = base64.b64decode(fields.get(b"name", b""), validate=True).decode("utf-8")
        content = base64.b64decode(payload, validate=True)
    except (binascii.Error, UnicodeDecodeError):
        return None
    name = _SAFE_NAME.sub("-", name).strip("-.")[:100] or "bptui-handout"
    return name, content


class WebConnection:
    """The connection a browser session belongs to: who it is (see
    :class:`~.connection.Connection`, its SSH counterpart)."""

    def __init__(self, address: str, username: str, teacher: bool) -> None:
        self.address = address
        self.username = username
        self.teacher = teacher
        #: Told when the session begins (it holds no place among the logging-in).
        self.on_began: Callable[[], None] = lambda: None

    def began(self) -> None:
        self.on_began()

    def ended(self) -> None:
        """Its session is over; the channel's ``exit`` closes the websocket."""


class WebChannel:
    """A session's channel to a browser page (see the module's description)."""

    #: Read by the session: its app hands handouts to the page instead of refusing them.
    browser = True

    def __init__(
        self,
        token: str,
        sockname: tuple[str, int],
        peername: tuple[str, int],
        environment: Mapping[str, str],
        on_gone: Callable[[WebChannel], None],
    ) -> None:
        self.token = token
        self.session: Session | None = None
        self.size = (80, 24)
        self._extra: dict[str, Any] = {"sockname": sockname, "peername": peername}
        self._environment = dict(environment)
        self._on_gone = on_gone
        self._ws: Socket | None = None
        self._queue: deque[bytes | str] = deque()
        self._queued = 0
        #: Output bytes handed to a websocket, and the last KEEP of them.
        self.delivered = 0
        self._tail = bytearray()
        self._prologue = bytearray()
        self._paused = False
        self.reading = asyncio.Event()
        self.reading.set()
        self._wake = asyncio.Event()
        self.exited = False
        self._gone = False
        self._grace: asyncio.TimerHandle | None = None
        self._cutter = FileCutter()
        self._sender = asyncio.ensure_future(self._send_loop())

    # ------------------------------------------------------------ what Session calls

    def write(self, data: bytes) -> None:
        if self._gone or self.exited:
            raise BrokenPipeError("the page is gone")
        shown, files = self._cutter.feed(data)
        for name, content in files:
            self._push(json.dumps(_download(name, content)))
        if shown:
            if len(self._prologue) < PROLOGUE:
                self._prologue += shown[: PROLOGUE - len(self._prologue)]
            self._push(shown)

    def write_stderr(self, data: bytes) -> None:
        self.write(data)

    def exit(self, code: int) -> None:
        """The session is over: the page is told, then its websocket closed."""
        if self.exited or self._gone:
            return
        self._push(json.dumps({"t": "exit", "code": code}))
        self.exited = True
        self._on_gone(self)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._extra.get(name, default)

    def get_environment(self) -> Mapping[str, str]:
        return self._environment

    def get_command(self) -> None:
        return None

    def get_subsystem(self) -> None:
        return None

    def pause_reading(self) -> None:
        self.reading.clear()

    def resume_reading(self) -> None:
        self.reading.set()

    def close(self) -> None:
        self.exit(0)

    # ------------------------------------------------------------ the websocket

    def attach(self, ws: Socket, got: int | None) -> None:
        """``ws`` is the page now; ``got``: the output bytes it already has (None: a
        new page, or one that had no session yet)."""
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        old, self._ws = self._ws, ws
        if old is not None:
            _later(old.close(code=4000, message=b"taken over"))
        if got is not None:
            self._resume(got)
        self._wake.set()

    def _resume(self, got: int) -> None:
        missed = self.delivered - got
        if 0 <= missed <= len(self._tail):
            if missed:
                self._queue.appendleft(bytes(self._tail[len(self._tail) - missed :]))
                self._queued += missed
                self.delivered -= missed  # counted again as it goes out
            return
        # Too much missed (or a reloaded page): a fresh screen, the app's modes,
        # and a repaint, which a change of window size makes the app draw.
        self._tail.clear()
        self.delivered = 0
        self._queue.appendleft(bytes(self._prologue))
        self._queue.appendleft(json.dumps({"t": "repaint"}))
        self._queued += len(self._prologue)
        self.repaint()

    def resize(self, columns: int, rows: int) -> None:
        """The page's terminal has this size now (cleaned by the caller)."""
        self.size = (columns, rows)
        if self.session is not None:
            self.session.terminal_size_changed(columns, rows, 0, 0)

    def repaint(self) -> None:
        """Have the whole screen drawn again: a view group paints a member from its model
        when told the same size; an app of the student's own, when its window changes
        size and back."""
        if self.session is None:
            return
        columns, rows = self.size
        if getattr(self.session, "watching", False):
            self.session.terminal_size_changed(columns, rows, 0, 0)
            return
        self.session.terminal_size_changed(columns, max(1, rows - 1), 0, 0)
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, self._size_back)

    def _size_back(self) -> None:
        if self.session is not None and not self._gone:
            self.session.terminal_size_changed(*self.size, 0, 0)

    def detach(self, ws: Socket) -> None:
        """``ws`` closed: the session waits for its page to come back."""
        if ws is not self._ws:
            return  # an old one, already replaced
        self._ws = None
        if self.exited or self._gone:
            self._end()
            return
        loop = asyncio.get_running_loop()
        self._grace = loop.call_later(RESUME_GRACE, self._lost)

    def _lost(self) -> None:
        """The page did not come back: the session ends as a dropped SSH connection does."""
        self._grace = None
        self._end()
        if self.session is not None:
            self.session.connection_lost(None)

    def _end(self) -> None:
        if not self._gone:
            self._gone = True
            self._on_gone(self)
            self._sender.cancel()
            if self._grace is not None:
                self._grace.cancel()
            if self._ws is not None:
                _later(self._ws.close())

    def tell(self, message: dict[str, Any]) -> None:
        """A control message to the page, in turn with the output."""
        self._push(json.dumps(message))

    def _push(self, item: bytes | str) -> None:
        self._queue.append(item)
        if isinstance(item, bytes):
            self._queued += len(item)
            if self._queued > HIGH and not self._paused and self.session is not None:
                self._paused = True
                self.session.pause_writing()
        self._wake.set()

    async def _send_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue and self._ws is not None:
                ws = self._ws
                item = self._queue.popleft()
                if isinstance(item, bytes):
                    while (
                        self._queue
                        and isinstance(self._queue[0], bytes)
                        and len(item) + len(self._queue[0]) <= FRAME
                    ):
                        nxt = self._queue.popleft()
                        assert isinstance(nxt, bytes)
                        item += nxt
                    self._queued -= len(item)
                try:
                    if isinstance(item, bytes):
                        await ws.send_bytes(item)
                        self._delivered(item)
                    else:
                        await ws.send_str(item)
                except (ConnectionError, RuntimeError, OSError):
                    # Not sent: kept for the page's return (or thrown away with the session).
                    self._queue.appendleft(item)
                    self._queued += len(item) if isinstance(item, bytes) else 0
                    self.detach(ws)
                    break
                self._flow()
            if self.exited and not self._queue and self._ws is not None:
                with contextlib.suppress(Exception):
                    await self._ws.close(code=1000, message=b"session over")
                self._end()
                return

    def _delivered(self, data: bytes) -> None:
        self.delivered += len(data)
        self._tail += data
        if len(self._tail) > KEEP:
            del self._tail[: len(self._tail) - KEEP]

    def _flow(self) -> None:
        if self._paused and self._queued <= HIGH // 4 and self.session is not None:
            self._paused = False
            self.session.resume_writing()


#: Closes under way (kept, so that they are not collected before they end).
_CLOSING: set[asyncio.Future[Any]] = set()


def _later(closing: Coroutine[Any, Any, Any]) -> None:
    future = asyncio.ensure_future(closing)
    _CLOSING.add(future)
    future.add_done_callback(_CLOSING.discard)


def _download(name: str, content: bytes) -> dict[str, str]:
    kind = "image/svg+xml" if name.endswith(".svg") else "text/markdown"
    return {
        "t": "download",
        "name": name,
        "type": kind,
        "data": base64.b64encode(content).decode("ascii"),
    }
