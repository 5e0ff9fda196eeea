"""``bptui serve --web PORT``: the class in a browser tab, on the server's event loop.

An aiohttp server beside the SSH one. It serves one page (``webpage/``: the
page, its script and xterm.js, vendored) and one websocket. A page logs in
over the websocket (the class password, or ``teacher`` and the teacher
password, checked as the SSH side checks them, slowed by the same
:class:`~.gate.Logins`), then drives a :class:`~.session.Session` through the
entry points asyncssh uses, with a :class:`~.webchannel.WebChannel` for a
channel: the class, its limits and its log do not know a browser from an SSH
client.

Everything from the network is bounded: a message is at most
:data:`MAX_MESSAGE` bytes, a login :data:`MAX_LOGIN`; a page has
:data:`LOGIN_TIMEOUT` seconds to log in and :data:`~.gate.MAX_AUTH_TRIES`
wrong passwords; pages logging in count against ``--max-connecting``; window
sizes are clamped and applied at most every :data:`RESIZE_EVERY` seconds. A
websocket whose Origin is not the page's own host is refused (another site's
page cannot open a session), and every answer carries security headers: a
Content-Security-Policy allowing this origin only, no framing, no sniffing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import re
import secrets
import ssl
import time
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from ..i18n import _
from .gate import MAX_AUTH_TRIES, Doorway, Logins
from .limits import clamp_size
from .logbook import log
from .options import TEACHER, ServeError, ServeOptions
from .session import Session
from .speech import clean_name
from .webchannel import WebChannel, WebConnection

if TYPE_CHECKING:
    from .host import Host

#: Largest websocket message a page may send (keys, a paste, a resize, a login).
MAX_MESSAGE = 64 * 1024
#: Largest login message (a name and a password).
MAX_LOGIN = 4096
#: Seconds a page has to log in once its websocket is open.
LOGIN_TIMEOUT = 60.0
#: Seconds between two window sizes applied (a page dragged wider sends many).
RESIZE_EVERY = 0.1
#: Seconds between pings; a page that answers none for twice that is closed.
HEARTBEAT = 15.0

_FILES = {
    "": ("index.html", "text/html"),
    "page.js": ("page.js", "text/javascript"),
    "page.css": ("page.css", "text/css"),
    "xterm.js": ("vendor/xterm.js", "text/javascript"),
    "xterm.css": ("vendor/xterm.css", "text/css"),
    "addon-fit.js": ("vendor/addon-fit.js", "text/javascript"),
    "LICENSE.xterm": ("vendor/LICENSE", "text/plain"),
}

#: Every answer's security headers. xterm.js sets its colours and cell sizes in
#: <style> elements it makes itself: styles need 'unsafe-inline' (no other origin).
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-cache",
}

_LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z0-9]{2,8}))?")


def tls_context(options: ServeOptions) -> ssl.SSLContext | None:
    """HTTPS with ``--web-cert`` and ``--web-key``, else None (ServeError if they do not load)."""
    if options.web_cert is None or options.web_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(options.web_cert, options.web_key)
    except (OSError, ssl.SSLError) as error:
        raise ServeError(
            _("--web-cert/--web-key: cannot load them: {reason}").format(
                reason=getattr(error, "reason", None) or error.strerror or error
            )
        ) from None
    return context


def browser_locale(value: object) -> str | None:
    """``zh-CN`` (``navigator.language``) → ``zh_CN.UTF-8``, as ssh would send LANG."""
    if not isinstance(value, str) or not (found := _LANGUAGE.fullmatch(value)):
        return None
    language, region = found.group(1).lower(), found.group(2)
    return f"{language}_{region.upper()}.UTF-8" if region else f"{language}.UTF-8"


def same_origin(request: web.Request) -> bool:
    """Whether the request's Origin is the host the page was served from."""
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()


def _whole(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


class WebFront:
    """The page and the websocket; the sessions belong to the :class:`~.server.ClassServer`."""

    def __init__(self, server: Host) -> None:
        self.server = server
        options = server.options
        #: Connections without a session (loading the page, logging in, silent), bounded.
        self.doorway: Doorway[Guard] = Doorway(options.max_connecting)
        self.guards: dict[asyncio.BaseTransport, Guard] = {}
        #: Sessions a page may come back to, by their secret token.
        self.channels: dict[str, WebChannel] = {}
        folder = resources.files("bptui.serve") / "webpage"
        self.files = {
            name: ((folder / path).read_bytes(), kind) for name, (path, kind) in _FILES.items()
        }
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    async def start(self) -> int:
        """Listen on ``--web``; returns the port. OSError if it cannot."""
        options = self.server.options
        app = web.Application(client_max_size=MAX_LOGIN)
        app.router.add_get("/", self._file)
        app.router.add_get("/ws", self._websocket)
        app.router.add_get("/{name}", self._file)
        app.on_response_prepare.append(_headers)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, keepalive_timeout=15.0
        )
        await self._runner.setup()
        handlers = self._runner.server
        assert handlers is not None
        self._listener = await asyncio.get_running_loop().create_server(
            lambda: Guard(self, handlers()),
            options.host,
            options.web_port,
            ssl=tls_context(options),
            backlog=128,
            reuse_address=True,
        )
        return int(self._listener.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"the class has ended")
        if self._listener is not None:
            self._listener.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------ HTTP

    async def _file(self, request: web.Request) -> web.Response:
        found = self.files.get(request.match_info.get("name", ""))
        if found is None:
            raise web.HTTPNotFound()
        body, kind = found
        return web.Response(body=body, content_type=kind, charset="utf-8")

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        address = str(request.remote or "?")
        if not same_origin(request):
            self.server.tally.note(address, "a websocket from another origin")
            raise web.HTTPForbidden(text="bptui: this page's websocket is for its own origin only")
        ws = web.WebSocketResponse(
            max_msg_size=MAX_MESSAGE, heartbeat=HEARTBEAT, compress=False, autoping=True
        )
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            channel = await self._log_in(request, ws, address)
            if channel is not None:
                await self._pump(request, ws, channel)
        finally:
            self._sockets.discard(ws)
            with contextlib.suppress(Exception):
                await ws.close()
        return ws

    # ------------------------------------------------------------ logging in

    async def _log_in(
        self, request: web.Request, ws: web.WebSocketResponse, address: str
    ) -> WebChannel | None:
        """The page's session (new, or the one it comes back to), or None."""
        options = self.server.options
        await ws.send_str(
            json.dumps(
                {
                    "t": "hello",
                    "password": options.password is not None,
                    "teacher": options.classroom,
                }
            )
        )
        failures = 0
        deadline = time.monotonic() + LOGIN_TIMEOUT
        while True:
            try:
                message = await ws.receive(timeout=max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                self.server.tally.note(address, "no login (60 s)")
                return None
            if message.type != WSMsgType.TEXT or len(message.data) > MAX_LOGIN:
                return None
            try:
                asked = json.loads(message.data)
            except ValueError:
                return None
            if not isinstance(asked, dict):
                return None
            if asked.get("t") == "resume":
                return await self._resume(ws, asked)
            if asked.get("t") != "login":
                return None
            username = clean_name(str(asked.get("user") or "student"))
            password = asked.get("password")
            teacher = await self._check(address, username, password)
            if teacher is None:
                failures += 1
                left = MAX_AUTH_TRIES - failures
                await ws.send_str(json.dumps({"t": "wrong", "left": left}))
                if left <= 0:
                    cut = f"disconnected after {MAX_AUTH_TRIES} wrong passwords"
                    self.server.tally.note(address, cut, username)
                    return None
                continue
            return self._begin(request, ws, address, username, teacher, asked)

    async def _check(self, address: str, username: str, password: object) -> bool | None:
        """Whether the login makes the teacher; None for a wrong password (as
        :meth:`~.connection.Connection.validate_password` decides, in the same turns)."""
        server, options = self.server, self.server.options
        teacher = options.classroom and username == TEACHER
        expected = options.teacher_password if teacher else options.password
        if expected is None:
            return False  # an open class: any name, no password
        wait = server.logins.wait(address)
        if wait > 0:
            await asyncio.sleep(wait)
        given = password if isinstance(password, str) else ""
        if hmac.compare_digest(given.encode()[:1024], expected.encode()):
            return teacher
        server.tally.note(address, "wrong password", username)
        if server.logins.failed(address):
            log(
                f"slowing logins from {address}: {Logins.FREE} wrong passwords in "
                f"{Logins.WINDOW / 60:g} minutes (one check a second from now on)"
            )
        return None

    def _begin(
        self,
        request: web.Request,
        ws: web.WebSocketResponse,
        address: str,
        username: str,
        teacher: bool,
        asked: dict[str, Any],
    ) -> WebChannel:
        """A session for a page that has logged in, started as asyncssh starts one."""
        connection = WebConnection(address, username, teacher)
        connection.on_began = lambda: self._seated(request)
        env = {"LANG": lang} if (lang := browser_locale(asked.get("lang"))) else {}
        sock = request.transport.get_extra_info("sockname") if request.transport else None
        channel = WebChannel(
            secrets.token_urlsafe(32),
            (str(sock[0]), int(sock[1])) if sock else ("?", 0),
            (address, 0),
            env,
            self._forget,
        )
        self.channels[channel.token] = channel
        session = Session(self.server, connection)
        channel.session = session
        channel.size = clamp_size(_whole(asked.get("cols"), 80), _whole(asked.get("rows"), 24))
        channel.tell({"t": "ok", "token": channel.token})
        channel.attach(ws, None)
        session.connection_made(channel)  # type: ignore[arg-type]
        session.pty_requested("xterm-256color", (*channel.size, 0, 0), None)
        session.shell_requested()
        session.session_started()
        return channel

    async def _resume(self, ws: web.WebSocketResponse, asked: dict[str, Any]) -> WebChannel | None:
        token = asked.get("token")
        channel = self.channels.get(token) if isinstance(token, str) else None
        if channel is None or channel.exited:
            await ws.send_str(json.dumps({"t": "gone"}))
            return None
        await ws.send_str(json.dumps({"t": "ok", "token": channel.token}))
        got = asked.get("got")
        channel.attach(ws, got if isinstance(got, int) and got >= 0 else 0)
        size = clamp_size(_whole(asked.get("cols"), 0), _whole(asked.get("rows"), 0))
        if size != channel.size:
            channel.resize(*size)
        return channel

    def _seated(self, request: web.Request) -> None:
        """The request's connection has a session now: it holds no place in the doorway."""
        guard = self.guards.get(request.transport) if request.transport else None
        if guard is not None:
            self.doorway.leave(guard.address, guard)

    def _forget(self, channel: WebChannel) -> None:
        self.channels.pop(channel.token, None)

    # ------------------------------------------------------------ a session's keys

    async def _pump(
        self, request: web.Request, ws: web.WebSocketResponse, channel: WebChannel
    ) -> None:
        """The page's keys and window sizes to its session, until the websocket closes."""
        self._seated(request)
        last_size = 0.0
        later: asyncio.TimerHandle | None = None
        try:
            while not ws.closed:
                await channel.reading.wait()  # the app has a backlog: the page waits
                message = await ws.receive()
                session = channel.session
                if message.type == WSMsgType.BINARY and session is not None:
                    session.data_received(bytes(message.data), None)
                elif message.type == WSMsgType.TEXT:
                    size = _size_of(message.data)
                    if size is None:
                        continue
                    if later is not None:
                        later.cancel()
                    wait = last_size + RESIZE_EVERY - time.monotonic()
                    if wait <= 0:
                        last_size = time.monotonic()
                        channel.resize(*size)
                    else:
                        loop = asyncio.get_running_loop()
                        later = loop.call_later(wait, channel.resize, *size)
                        last_size = time.monotonic() + wait
                elif message.type in _ENDS:
                    break
        finally:
            if later is not None:
                later.cancel()
            channel.detach(ws)


class Guard(asyncio.Protocol):
    """aiohttp's protocol for one TCP connection, counted in the doorway until its
    page has a session: connections that say nothing, or never log in, are at most
    ``--max-connecting`` (one more closes the oldest of the busiest address), and
    aiohttp closes a silent one after its keep-alive timeout."""

    def __init__(self, front: WebFront, inner: Any) -> None:
        self.front = front
        self.inner = inner
        self.address = "?"
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "?"
        front = self.front
        front.guards[transport] = self
        pushed = front.doorway.enter(self.address, self)
        if pushed is not None and pushed.transport is not None:
            limit = front.doorway.limit
            full = f"too many connections without a session (--max-connecting {limit})"
            front.server.tally.note(pushed.address, full)
            pushed.transport.abort()  # type: ignore[attr-defined]
        self.inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.front.doorway.leave(self.address, self)
        if self.transport is not None:
            self.front.guards.pop(self.transport, None)
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()  # type: ignore[no-any-return]

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


_ENDS = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


def _size_of(text: str) -> tuple[int, int] | None:
    """``{"t": "size", "cols": C, "rows": R}`` → a clamped size, else None."""
    try:
        asked = json.loads(text)
    except ValueError:
        return None
    if not isinstance(asked, dict) or asked.get("t") != "size":
        return None
    return clamp_size(_whole(asked.get("cols"), 0), _whole(asked.get("rows"), 0))


async def _headers(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
