"""A real headless Chromium for the browser students' tests and benchmark.

``tests/browser/driver.mjs`` runs Chromium (``@sparticuz/chromium``) through
``puppeteer-core``, both installed by ``make test`` from ``tests/browser``'s
lock file; this module starts it and sends it one command a line. Without
``node`` (or the packages) :func:`why_no_browser` says why and how to get them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from patience import Deadline

HERE = Path(__file__).parent / "browser"
INSTALL = "cd tests/browser && npm ci (make test does it when npm is installed)"


def why_no_browser() -> str | None:
    """Why the browser tests cannot run here, with how to fix it; None when they can."""
    if shutil.which("node") is None:
        return (
            "the browser tests need Node.js 20+ (node and npm): install it "
            "(apt-get install nodejs npm, or https://nodejs.org), then make test"
        )
    if not (HERE / "node_modules" / "puppeteer-core").is_dir():
        return f"the browser tests need tests/browser's npm packages: {INSTALL}"
    return None


class Browser:
    """One Chromium; pages are numbers (see driver.mjs's operations)."""

    def __init__(self, proc: asyncio.subprocess.Process, version: str) -> None:
        self.proc = proc
        self.version = version
        self._next = 1
        self._lock = asyncio.Lock()

    @classmethod
    async def start(cls) -> Browser:
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(HERE / "driver.mjs"),
            cwd=HERE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=16 * 1024 * 1024,
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if not line:
            raise RuntimeError("the headless browser did not start (see its output above)")
        return cls(proc, json.loads(line)["value"])

    async def call(self, op: str, **args: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        async with self._lock:
            ident = self._next
            self._next += 1
            self.proc.stdin.write(json.dumps({"id": ident, "op": op, **args}).encode() + b"\n")
            await self.proc.stdin.drain()
            line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the headless browser has gone")
        answer = json.loads(line)
        assert answer["id"] == ident, answer
        if not answer["ok"]:
            raise RuntimeError(answer["error"])
        return answer["value"]

    async def open(self, url: str, **args: Any) -> Page:
        opened = await self.call("open", url=url, **args)
        return Page(self, opened["page"], opened["status"], opened["headers"])

    async def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()


class Page:
    """One tab of the browser."""

    def __init__(self, browser: Browser, ident: int, status: int, headers: dict[str, str]) -> None:
        self.browser = browser
        self.id = ident
        self.status = status
        self.headers = headers

    async def eval(self, js: str) -> Any:
        return await self.browser.call("eval", page=self.id, js=js)

    async def text(self) -> str:
        """What the terminal shows ('' before it is open)."""
        return str(await self.eval("window.bptui ? window.bptui.text() : ''"))

    async def wait_for(self, condition: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = Deadline(timeout)
        while not deadline.passed():
            text = await self.text()
            if condition(text):
                return text
            await asyncio.sleep(0.1)
        raise AssertionError(f"the page never matched; its terminal shows:\n{await self.text()}")

    async def wait_js(self, js: str, timeout: float = 30.0) -> Any:
        """Until ``js`` is truthy in the page; its value."""
        deadline = Deadline(timeout)
        while not deadline.passed():
            value = await self.eval(js)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"never true in the page: {js}")

    async def join(self, user: str = "student", password: str | None = None) -> None:
        """Fill in the login form and press Join."""
        await self.wait_js("!document.getElementById('login').hidden")
        await self.browser.call("type", page=self.id, selector="#user", text=user)
        if password is not None:
            await self.browser.call("type", page=self.id, selector="#password", text=password)
        await self.browser.call("click", page=self.id, selector="#join")

    async def press(self, key: str) -> None:
        """A key by its name (``ArrowDown``, ``Escape``, ``F1``) or a character."""
        await self.browser.call("press", page=self.id, key=key)

    async def keys(self, text: str) -> None:
        await self.browser.call("keys", page=self.id, text=text)

    async def size(self) -> tuple[int, int]:
        cols, rows = await self.eval("[window.bptui.term.cols, window.bptui.term.rows]")
        return int(cols), int(rows)

    async def viewport(self, width: int, height: int) -> None:
        await self.browser.call("viewport", page=self.id, width=width, height=height)

    async def record(self) -> dict[str, list[str]]:
        return dict(await self.browser.call("record", page=self.id))

    async def screenshot(self, path: Path) -> None:
        await self.browser.call("screenshot", page=self.id, path=str(path))

    async def close(self) -> None:
        await self.browser.call("close", page=self.id)
