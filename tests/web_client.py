"""A browser student without the browser: the page's websocket protocol spoken by
aiohttp, the screen decoded by pyte (as tests/serve_client.py does for SSH).

For the attacks and the bookkeeping (floods, sizes, origins, reconnects) and
the benchmark's many students; tests/browser_client.py drives a real Chromium.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
import pyte
from patience import Deadline


def web_url(banner: list[str]) -> str:
    """The page's address, from the server's banner."""
    for line in banner:
        found = re.search(r"or open (https?://\S+/) in a browser", line)
        if found:
            return found.group(1)
    raise AssertionError(f"no page in the banner: {banner}")


class WebStudent:
    """One page's websocket: logs in, reads the screen, types."""

    def __init__(self, url: str, width: int = 80, height: int = 24) -> None:
        self.url = url
        self.origin = url.rstrip("/")
        self.width, self.height = width, height
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        self.got = 0
        self.token: str | None = None
        self.messages: list[dict[str, Any]] = []
        self.closed = asyncio.Event()
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Future[None] | None = None

    async def connect(self, origin: str | None = None) -> dict[str, Any]:
        """Open the websocket; the server's hello."""
        self.http = self.http or aiohttp.ClientSession()
        self.closed.clear()
        headers = {"Origin": origin if origin is not None else self.origin}
        self.ws = await self.http.ws_connect(self.url + "ws", headers=headers, max_msg_size=0)
        hello = await self.ws.receive_json(timeout=30)
        assert hello["t"] == "hello", hello
        return dict(hello)

    async def login(
        self, user: str = "student", password: str | None = None, lang: str = "en-US"
    ) -> dict[str, Any]:
        """Send a login; the answer (``ok``, ``wrong``); on ``ok`` the screen is read from now."""
        assert self.ws is not None
        await self.ws.send_json(
            {
                "t": "login",
                "user": user,
                "password": password or "",
                "cols": self.width,
                "rows": self.height,
                "lang": lang,
            }
        )
        answer = await self.ws.receive_json(timeout=60)
        if answer["t"] == "ok":
            self.token = answer["token"]
            self._reader = asyncio.ensure_future(self._read())
        return dict(answer)

    @classmethod
    async def join(cls, url: str, user: str = "student", **options: Any) -> WebStudent:
        password = options.pop("password", None)
        student = cls(url, **options)
        await student.connect()
        answer = await student.login(user, password)
        assert answer["t"] == "ok", answer
        return student

    async def resume(self, got: int | None = None) -> dict[str, Any]:
        """A new websocket coming back to the session (``got``: bytes the page had)."""
        await self.connect()
        assert self.ws is not None
        await self.ws.send_json(
            {
                "t": "resume",
                "token": self.token,
                "got": self.got if got is None else got,
                "cols": self.width,
                "rows": self.height,
            }
        )
        answer = await self.ws.receive_json(timeout=30)
        if answer["t"] == "ok":
            self._reader = asyncio.ensure_future(self._read())
        return dict(answer)

    async def _read(self) -> None:
        assert self.ws is not None
        ws = self.ws
        try:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.BINARY:
                    self.got += len(message.data)
                    self.stream.feed(message.data)
                elif message.type == aiohttp.WSMsgType.TEXT:
                    decoded = json.loads(message.data)
                    self.messages.append(decoded)
                    if decoded["t"] == "repaint":
                        self.screen.reset()
                        self.got = 0
        finally:
            if ws is self.ws:
                self.closed.set()

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, condition: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = Deadline(timeout)
        while not deadline.passed():
            if condition(self.text()):
                return self.text()
            if self.closed.is_set():
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"screen never matched; it shows:\n{self.text()}")

    async def press(self, keys: str) -> None:
        assert self.ws is not None
        await self.ws.send_bytes(keys.encode())

    async def resize(self, width: int, height: int) -> None:
        assert self.ws is not None
        self.screen.resize(height, width)
        self.width, self.height = width, height
        await self.ws.send_json({"t": "size", "cols": width, "rows": height})

    async def drop(self) -> None:
        """The websocket goes (a Wi-Fi moment); the session waits for a resume."""
        if self.ws is not None:
            ws, self.ws = self.ws, None
            await ws.close()
        if self._reader is not None:
            await asyncio.wait([self._reader], timeout=10)

    async def close(self) -> None:
        await self.drop()
        if self.http is not None:
            await self.http.close()

    async def abort(self) -> None:
        """The page goes without a goodbye (a browser killed, a flooder's socket that the
        server has stopped reading, where a polite close would wait for an answer that
        cannot come)."""
        ws, self.ws = self.ws, None
        if ws is not None:
            sock = ws.get_extra_info("socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)  # no close frame queued behind the flood
        if self._reader is not None:
            await asyncio.wait([self._reader], timeout=10)
        if self.http is not None:
            await self.http.close()
