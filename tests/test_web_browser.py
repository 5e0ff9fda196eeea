"""Browser students in a real headless Chromium (tests/browser_client.py).

The page as a student meets it: the login form, the lesson drawn by xterm.js
in the DOM, keys typed into it, the window resized, the connection dropped.
Skipped, with the reason and the fix, where Node.js or tests/browser's npm
packages are missing (``make test`` installs them when npm is there).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from browser_client import Browser, why_no_browser
from patience import Deadline
from serve_client import Student
from web_client import web_url

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="needs Linux pidfds and ptys"),
    pytest.mark.skipif(why_no_browser() is not None, reason=str(why_no_browser())),
]

STARTED = "Epoch 1/100"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    started = await Browser.start()
    yield started
    await started.close()


async def test_a_student_page_shows_the_lesson_from_this_server_only(
    shared_server, browser
) -> None:  # type: ignore[no-untyped-def]
    srv = shared_server("--web", "0")
    url = web_url(srv.banner)
    page = await browser.open(url)
    assert page.status == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    await page.join("ann")
    await page.wait_for(lambda t: STARTED in t and "Graph" in t and "w.grad None" in t, 60)
    # The text is in the page's DOM (xterm.js's DOM renderer): screen readers read it.
    await page.wait_js("document.querySelector('.xterm-rows').innerText.includes('Chain rule')")
    await page.press(" ")
    await page.wait_for(lambda t: "ŷ=1" in t)
    await page.press("F1")  # the help, not the browser's
    await page.wait_for(lambda t: "Keys" in t or "keys" in t)
    await page.press("Escape")
    await page.wait_for(lambda t: "ŷ=1" in t and "Graph" in t)
    record = await page.record()
    hosts = {urlsplit(request).netloc for request in record["requests"]}
    assert hosts == {urlsplit(url).netloc}, record["requests"]
    assert not record["errors"], record["errors"]
    assert not [line for line in record["console"] if "Content Security Policy" in line]


async def test_the_teachers_key_over_ssh_reaches_the_page_and_t_explores_alone(  # type: ignore[no-untyped-def]
    server, browser
) -> None:
    srv = server("--web", "0", "--teacher-password", "chalk")
    url = web_url(srv.banner)
    teacher = await Student.join(srv.port, "teacher", "chalk")
    await teacher.wait_for(lambda t: STARTED in t, 60)
    ann, bo = await browser.open(url), await browser.open(url)
    await ann.join("ann", "")
    await bo.join("bo", "")
    for page in (ann, bo):
        await page.wait_for(lambda t: "following" in t, 60)
    await teacher.press(" ")
    for page in (ann, bo):
        await page.wait_for(lambda t: "ŷ=1" in t)
    await ann.press("t")
    await ann.wait_for(lambda t: "exploring" in t)
    await ann.press(" ")
    await ann.wait_for(lambda t: "2/3]" in t)
    await bo.wait_for(lambda t: "1/3]" in t)
    assert "2/3]" not in await bo.text() and "2/3]" not in teacher.text()
    teacher.close()


async def test_a_wrong_class_password_is_refused_on_the_page(server, browser) -> None:  # type: ignore[no-untyped-def]
    srv = server("--web", "0", "--password", "backprop")
    page = await browser.open(web_url(srv.banner))
    await page.join("ann", "guess")
    said = await page.wait_js("document.getElementById('message').textContent")
    assert "Wrong password" in said
    assert await page.eval("document.getElementById('terminal').hidden")
    await page.browser.call("type", page=page.id, selector="#password", text="backprop")
    await page.browser.call("click", page=page.id, selector="#join")
    await page.wait_for(lambda t: STARTED in t, 60)


async def test_the_terminal_fits_the_window_and_comes_back_after_a_drop(server, browser) -> None:  # type: ignore[no-untyped-def]
    srv = server("--web", "0")
    page = await browser.open(web_url(srv.banner), width=1000, height=600)
    await page.join("ann")
    await page.wait_for(lambda t: STARTED in t, 60)
    wide = await page.size()
    await page.viewport(500, 300)  # too small for the lesson at any usual font size
    await page.wait_js(f"window.bptui.term.cols < {wide[0]} && window.bptui.term.rows < {wide[1]}")
    narrow = await page.size()
    assert narrow[0] < wide[0] and narrow[1] < wide[1], (wide, narrow)
    # The app is told the page's new size (too small for the lesson, it says so).
    await page.wait_for(lambda t: f"(it is {narrow[0]}×{narrow[1]})" in t)
    await page.viewport(1000, 600)
    await page.wait_for(lambda t: "Graph" in t and "Chain rule" in t)
    await page.press("ArrowRight")  # a step forward, as space
    await page.wait_for(lambda t: "ŷ=1" in t)
    await page.eval("window.bptui.drop()")  # the websocket drops; the page comes back
    await page.press(" ")  # typed while it does: kept, and sent once it is back
    await page.wait_js("window.bptui.joins() == 2")
    await page.wait_for(lambda t: "2/3]" in t)
    _code, log = srv.stop()
    assert log.count("join  127.0.0.1 ann") == 1


async def test_x_saves_the_handout_in_the_browsers_downloads(
    shared_server, browser, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    srv = shared_server("--web", "0")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    page = await browser.open(web_url(srv.banner), downloads=str(downloads))
    await page.join("ann")
    await page.wait_for(lambda t: STARTED in t, 60)
    await page.press(" ")
    await page.press("x")
    await page.wait_for(lambda t: "Sent to your browser's downloads" in t)
    await page.press("X")

    def saved() -> list[str]:
        """The files whole in the downloads (Chromium writes ``….crdownload`` first)."""
        return sorted(p.suffix for p in downloads.glob("bptui-*") if p.suffix in (".md", ".svg"))

    deadline = Deadline(30)
    while not deadline.passed() and (len(saved()) < 2 or list(downloads.glob("*.crdownload"))):
        await asyncio.sleep(0.1)
    names = sorted(p.suffix for p in downloads.glob("bptui-*"))
    assert names == [".md", ".svg"], list(downloads.iterdir())
    handout = next(downloads.glob("*.md")).read_text()
    assert handout.startswith("#") and "Where the session is" in handout
