"""``bptui serve --web``: the page and its websocket, without a browser.

A real server on 127.0.0.1 and clients that speak the page's protocol with
aiohttp (tests/web_client.py), screens decoded by pyte. The attacks of a
hostile network (another site's page, oversized frames, floods, silent
sockets, wrong passwords) and the bookkeeping (the same class and limits as
SSH, a dropped websocket coming back). tests/test_web_browser.py runs the
page itself in Chromium.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from patience import patience
from serve_client import Student, bptui_command, rss_mib, until
from web_client import WebStudent, web_url

from bptui.serve.options import ServeError, parse_options
from bptui.serve.web import HEADERS, _size_of, browser_locale
from bptui.serve.webchannel import MAX_FILE, FileCutter

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs Linux pidfds and ptys")

STARTED = "Epoch 1/100"
PAGE = Path(__file__).parent.parent / "bptui" / "serve" / "webpage"


# ------------------------------------------------------------------ in process


def _osc(name: str, content: bytes) -> bytes:
    encoded = base64.b64encode(name.encode()).decode()
    return (
        f"\x1b]1337;File=name={encoded};size={len(content)};inline=0:".encode()
        + base64.b64encode(content)
        + b"\x07"
    )


def test_a_handout_is_cut_out_of_the_output_even_in_pieces() -> None:
    stream = b"before" + _osc("bptui-seed-1.md", b"# Handout\n") + b"after\x1b]133;A\x07"
    for size in (1, 3, 7, len(stream)):
        cutter = FileCutter()
        shown, files = b"", []
        for i in range(0, len(stream), size):
            out, found = cutter.feed(stream[i : i + size])
            shown += out
            files += found
        assert shown == b"beforeafter\x1b]133;A\x07", size
        assert files == [("bptui-seed-1.md", b"# Handout\n")]


def test_a_handout_too_big_or_bad_is_dropped_and_names_are_made_safe() -> None:
    cutter = FileCutter()
    huge = b"\x1b]1337;File=name=eA==:" + b"A" * (MAX_FILE * 2) + b"\x07tail"
    shown, files = cutter.feed(huge)
    assert (shown, files) == (b"tail", [])
    assert cutter.feed(b"\x1b]1337;File=name=!!:%%\x07x") == (b"x", [])
    _, files = FileCutter().feed(_osc("../../etc/passwd", b"x"))
    assert files == [("etc-passwd", b"x")]
    largest = bytes(range(256)) * (MAX_FILE // 256)  # exactly the limit: it comes through
    assert FileCutter().feed(_osc("big.md", largest)) == (b"", [("big.md", largest)])


def test_the_browser_language_becomes_a_locale() -> None:
    assert browser_locale("zh-CN") == "zh_CN.UTF-8"
    assert browser_locale("en") == "en.UTF-8"
    assert browser_locale("x" * 300) is None
    assert browser_locale(["zh"]) is None


def test_a_pages_size_is_read_clamped_and_anything_else_is_not_a_size() -> None:
    assert _size_of('{"t": "size", "cols": 100, "rows": 30}') == (100, 30)
    assert _size_of('{"t": "size", "cols": 9999, "rows": true}') == (600, 24)
    assert _size_of('{"t": "key"}') is None and _size_of("junk") is None


def test_web_options_are_checked(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    assert parse_options({"web": "8080"}).web_port == 8080
    for given, says in (
        ({"web": "80800"}, "--web: 80800 is out of range; use 0 to 65535"),
        ({"web": "8080", "web_cert": str(cert)}, "give both --web-cert and --web-key"),
        ({"web_cert": str(cert), "web_key": str(cert)}, "--web-cert needs --web PORT"),
        ({"web": "2222", "port": "2222"}, "--web 2222 is the SSH port too"),
        ({"web": "8080", "authorized_keys": str(cert)}, "--web cannot admit by --authorized-keys"),
    ):
        with pytest.raises(ServeError) as refused:
            parse_options(given)
        assert str(refused.value).startswith(says), refused.value


def test_xterm_is_vendored_with_its_licence_and_version() -> None:
    vendor = PAGE / "vendor"
    assert "Permission is hereby granted, free of charge" in (vendor / "LICENSE").read_text()
    assert "@xterm/xterm` 6.0.0" in (vendor / "README.md").read_text()
    page = (PAGE / "index.html").read_text()
    assert "http" not in page.replace('"http-equiv"', "")  # nothing from another host
    assert "<script>" not in page and "style=" not in page  # nothing inline for the CSP


# ------------------------------------------------------------------ a real server


async def test_the_page_and_its_files_carry_the_security_headers(shared_server) -> None:  # type: ignore[no-untyped-def]
    srv = shared_server("--web", "0")
    url = web_url(srv.banner)
    async with aiohttp.ClientSession() as http:
        for path in ("", "page.js", "xterm.js", "xterm.css", "addon-fit.js", "LICENSE.xterm"):
            async with http.get(url + path) as response:
                assert response.status == 200, path
                if not path:
                    assert await response.read() == (PAGE / "index.html").read_bytes()
                for name, value in HEADERS.items():
                    assert response.headers[name] == value
        csp = HEADERS["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        for path in ("nothing", "..%2Fweb.py", "vendor/xterm.js", "%2e%2e/options.py"):
            async with http.get(url + path) as response:
                assert response.status == 404, path
                assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_another_sites_page_cannot_open_a_session(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--web", "0")
    url = web_url(srv.banner)
    port = url.rsplit(":", 1)[1].strip("/")
    for origin in ("http://evil.example", f"http://127.0.0.1.evil.example:{port}", "null", ""):
        student = WebStudent(url)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await student.connect(origin=origin)
        assert refused.value.status == 403
        await student.close()
    async with aiohttp.ClientSession() as http:  # no Origin at all
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(url + "ws")
    _code, log = srv.stop()
    assert "a websocket from another origin" in log


async def test_a_browser_student_joins_the_same_class_as_ssh(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--web", "0", "--teacher-password", "chalk")
    url = web_url(srv.banner)
    assert any("or open http://127.0.0.1:" in line for line in srv.banner)
    teacher = await Student.join(srv.port, "teacher", "chalk")
    await teacher.wait_for(lambda t: STARTED in t, timeout=60)
    web = await WebStudent.join(url, "ann")
    await web.wait_for(lambda t: "waiting for the teacher" in t or "following" in t, 60)
    await teacher.press(" ")
    await web.wait_for(lambda t: "ŷ=1" in t)  # the teacher's step, in the browser
    await teacher.wait_for(lambda t: "1 student" in t)
    await web.press("t")  # exploring alone: the teacher does not move
    await web.wait_for(lambda t: "exploring" in t)
    await web.press(" ")
    await web.wait_for(lambda t: "FWD 2/3" in t)
    assert "FWD 2/3" not in teacher.text()
    await web.press("q")
    await until(lambda: web.closed.is_set())
    assert web.messages[-1] == {"t": "exit", "code": 0}
    await web.close()
    teacher.close()
    _code, log = srv.stop()
    assert "join  127.0.0.1 ann (student, 1 student connected)" in log


async def test_passwords_are_checked_on_the_page_as_over_ssh(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--web", "0", "--password", "pw", "--teacher-password", "tpw")
    url = web_url(srv.banner)
    student = WebStudent(url)
    hello = await student.connect()
    assert hello == {"t": "hello", "password": True, "teacher": True}
    assert (await student.login("ann", "nope"))["t"] == "wrong"
    assert (await student.login("teacher", "pw"))[
        "t"
    ] == "wrong"  # the class's is not the teacher's
    for left in (3, 2, 1, 0):
        assert await student.login("ann", "x") == {"t": "wrong", "left": left}
    assert (await student.ws.receive(timeout=30)).type in (  # type: ignore[union-attr]
        aiohttp.WSMsgType.CLOSE,
        aiohttp.WSMsgType.CLOSED,
    )
    await student.close()
    teacher = await WebStudent.join(url, "teacher", password="tpw")
    await teacher.wait_for(lambda t: STARTED in t and "students" in t, 60)
    await teacher.close()
    _code, log = srv.stop()
    assert "refused 127.0.0.1 ann: wrong password" in log
    assert "disconnected after 6 wrong passwords" in log


async def test_handouts_go_to_the_page_and_never_to_the_servers_disk(
    shared_server,
) -> None:  # type: ignore[no-untyped-def]
    srv = shared_server("--web", "0")
    student = await WebStudent.join(web_url(srv.banner), "ann", width=100, height=30)
    await student.wait_for(lambda t: STARTED in t, 60)
    await student.press("x")
    await student.wait_for(lambda t: "Sent to your browser's downloads" in t)
    await student.press("X")
    await until(lambda: len([m for m in student.messages if m["t"] == "download"]) == 2)
    markdown, svg = (m for m in student.messages if m["t"] == "download")
    assert markdown["name"].startswith("bptui-") and markdown["name"].endswith(".md")
    assert markdown["type"] == "text/markdown"
    assert base64.b64decode(markdown["data"]).decode().startswith("#")
    assert svg["name"].endswith(".svg") and b"<svg" in base64.b64decode(svg["data"])
    assert svg["type"] == "image/svg+xml"
    assert "1337" not in student.text()  # the sequence never reaches the screen
    await student.close()
    assert not list(srv.directory.rglob("bptui-*.md")) and not list(Path.cwd().glob("bptui-*.md"))


async def test_the_class_limits_count_browser_students(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--web", "0", "--max-sessions", "1")
    url = web_url(srv.banner)
    first = await WebStudent.join(url, "ann")
    await first.wait_for(lambda t: STARTED in t, 60)
    ssh = await Student.join(srv.port, "bo")
    await ssh.wait_for(lambda t: "The class is full" in t)
    second = await WebStudent.join(url, "cy")
    await second.wait_for(lambda t: "The class is full" in t)
    await until(lambda: second.closed.is_set())
    assert second.messages[-1] == {"t": "exit", "code": 1}
    for student in (first, second):
        await student.close()
    ssh.close()


async def test_a_dropped_websocket_comes_back_to_its_own_lesson(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--web", "0")
    url = web_url(srv.banner)
    student = await WebStudent.join(url, "ann")
    await student.wait_for(lambda t: STARTED in t, 60)
    await student.press("  ")
    await student.wait_for(lambda t: "FWD 2/3" in t)
    await student.drop()
    assert (await student.resume())["t"] == "ok"
    await student.press(" ")  # the same lesson, where it was
    await student.wait_for(lambda t: "BWD 0/3" in t)
    # A reloaded page (it has nothing): what it missed is all there was, replayed;
    # one that claims more than there was gets a fresh screen, drawn whole.
    for got in (0, 10**12):
        await student.drop()
        student.screen.reset()
        assert (await student.resume(got=got))["t"] == "ok"
        await student.wait_for(lambda t: "BWD 0/3" in t and "Graph" in t)
    assert {"t": "repaint"} in student.messages
    await student.close()
    stranger = WebStudent(url)
    await stranger.connect()
    stranger.token = "not-a-token"
    assert (await stranger.resume())["t"] == "gone"
    await stranger.close()
    _code, log = srv.stop()
    assert log.count("join  127.0.0.1 ann") == 1


_CLOSED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


async def test_a_follower_comes_back_at_the_classs_current_step(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--web", "0", "--teacher-password", "chalk")
    url = web_url(srv.banner)
    teacher = await Student.join(srv.port, "teacher", "chalk")
    await teacher.wait_for(lambda t: STARTED in t, 60)
    student = await WebStudent.join(url, "ann")
    await student.wait_for(lambda t: "following" in t, 60)
    # What it missed, replayed onto the screen the page kept: the teacher's step made
    # while it was away (only what changed: the panel titles are not sent again).
    await student.drop()
    await teacher.press(" ")
    await teacher.wait_for(lambda t: "ŷ=1" in t)
    assert "ŷ=1" not in student.text()
    assert (await student.resume())["t"] == "ok"
    await student.wait_for(lambda t: "ŷ=1" in t and "following" in t and "Graph" in t)
    assert {"t": "repaint"} not in student.messages  # replayed, not painted whole
    # Too much missed (a page that claims more than there was): painted whole.
    await student.drop()
    await teacher.press("\x7f")  # backspace: the step undone
    await teacher.wait_for(lambda t: "ŷ=1" not in t)
    student.screen.reset()
    assert (await student.resume(got=10**12))["t"] == "ok"
    await student.wait_for(lambda t: "ŷ=1" not in t and "following" in t and "Graph" in t)
    assert {"t": "repaint"} in student.messages
    await student.close()
    teacher.close()


async def test_oversized_frames_and_junk_close_only_their_own_socket(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--web", "0")
    url = web_url(srv.banner)
    student = await WebStudent.join(url, "ann")
    await student.wait_for(lambda t: STARTED in t, 60)
    for junk in (b"x" * (2 * 2**20), "{" * 5000, '{"t": "size"}', "[]"):
        attacker = WebStudent(url)
        await attacker.connect()
        assert attacker.ws is not None
        if isinstance(junk, bytes):
            await attacker.ws.send_bytes(junk)
        else:
            await attacker.ws.send_str(junk)
        closing = await attacker.ws.receive(timeout=30)
        assert closing.type in _CLOSED, (junk[:20], closing)
        await attacker.close()
    await student.press(" ")
    await student.wait_for(lambda t: "ŷ=1" in t)
    await student.close()
    _code, log = srv.stop()
    assert "Traceback" not in log


async def test_floods_of_keys_and_sizes_are_bounded(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--web", "0")
    url = web_url(srv.banner)
    student = await WebStudent.join(url, "ann")
    await student.wait_for(lambda t: STARTED in t, 60)
    before = rss_mib(srv.proc.pid)
    assert student.ws is not None
    for i in range(2000):  # a window dragged about very fast, and absurd sizes
        await student.ws.send_json({"t": "size", "cols": 60 + i % 40, "rows": 10**9})
    keys = b"j" * 60000
    sent = 0
    while sent < 64 * 2**20:
        try:
            await asyncio.wait_for(student.ws.send_bytes(keys), timeout=5)
        except asyncio.TimeoutError:
            break  # the server stopped reading: held back
        sent += len(keys)
    grown = rss_mib(srv.proc.pid) - before
    assert grown < 40, f"the server grew by {grown:.0f} MiB after {sent >> 20} MiB of keys"
    other = await WebStudent.join(url, "bo")
    await other.wait_for(lambda t: STARTED in t, 60)
    await other.close()
    await student.abort()  # the server reads it no more: a close would wait for an answer


async def test_silent_sockets_and_idle_pages_do_not_keep_a_student_out(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--web", "0", "--max-connecting", "6")
    url = web_url(srv.banner)
    port = int(url.rsplit(":", 1)[1].strip("/"))
    silent = []
    idle = []
    try:
        for _ in range(30):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            silent.append(sock)
        for _ in range(8):  # pages open that never log in, each closing an older one
            page = WebStudent(url)
            idle.append(page)
            # Closed before its hello, to make room for the next: fine.
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                await page.connect()
        student = await WebStudent.join(url, "ann")
        await student.wait_for(lambda t: STARTED in t, 60)
        await student.close()
        # The oldest page was closed to make room for the newer ones.
        first = idle[0].ws
        if first is not None:
            closing = await first.receive(timeout=patience(10))
            assert closing.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
            ), closing
    finally:
        for sock in silent:
            sock.close()
        for page in idle:
            await page.close()
    _code, log = srv.stop()
    assert "too many connections without a session (--max-connecting 6)" in log
    assert "Traceback" not in log


def _self_signed(directory: Path) -> tuple[Path, Path]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_the_page_over_https(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cert, key = _self_signed(tmp_path)
    srv = server("--web", "0", "--web-cert", str(cert), "--web-key", str(key))
    url = web_url(srv.banner)
    assert url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    student = WebStudent(url)
    student.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
    async with student.http.get(url) as response:
        assert response.status == 200 and "Content-Security-Policy" in response.headers
    await student.connect()
    assert (await student.login("ann"))["t"] == "ok"
    await student.wait_for(lambda t: STARTED in t, 60)
    await student.close()
    async with aiohttp.ClientSession() as http:  # plain HTTP to it gets nothing
        with pytest.raises(aiohttp.ClientError):
            await http.get(url.replace("https:", "http:"))


def _tls_args(cert: Path, key: Path) -> list[str]:
    return ["--web-cert", str(cert), "--web-key", str(key)]


def test_a_certificate_that_does_not_load_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    done = subprocess.run(
        [*bptui_command(), "serve", "--port", "0", "--web", "0", *_tls_args(bad, bad)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, XDG_DATA_HOME=str(tmp_path)),
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("bptui serve: error: --web-cert/--web-key: cannot load")
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_page_port_in_use_is_one_line_naming_web(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*bptui_command(), "serve", "--port", "0", "--web", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ, XDG_DATA_HOME=str(tmp_path), LANG="C.UTF-8"),
        )
    assert done.returncode == 2
    assert f"port {port} is in use" in done.stderr and "--web" in done.stderr
    assert "--port" not in done.stderr
