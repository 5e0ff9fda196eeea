"""ASCII mode end to end: every byte a real ``bptui`` writes to its terminal is 7-bit.

The installed command runs on a pseudo-terminal (as in test_pty.py), with
``--ascii`` or under ``LANG=C`` without it, through a walk of keys that brings up
each phase, the help, both plots, the enlarged views and the edit form; every
byte read back, from the first to the last after ``q``, is checked. Then a
classroom: ``bptui serve`` decides for each student, from what their ssh sends.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

import pytest
from serve_client import Server, Student, connect
from test_pty import ESCAPE, Terminal, bptui_command

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs a Linux pseudo-terminal")

#: (key, what the screen shows once it has acted).
WALK: tuple[tuple[bytes, Callable[[str], bool]], ...] = (
    (b"F", lambda t: "BWD 0/" in t),
    (b"B", lambda t: "UPD" in t),
    (b"u", lambda t: "ZERO" in t),
    (b"z", lambda t: "Sample 2/" in t),
    (b"?", lambda t: "one step at a time" in t),
    (ESCAPE, lambda t: "one step at a time" not in t),
    (b"g", lambda t: "vs step" in t),
    (b"v", lambda t: "vs step" in t),
    (b"E", lambda t: "enter applies" in t),
    (ESCAPE, lambda t: "enter applies" not in t),
)


class Recorder(Terminal):
    """A terminal that keeps every byte the child wrote."""

    def __init__(self, argv: list[str], width: int = 80, height: int = 24) -> None:
        super().__init__(argv, width, height)
        self.raw = bytearray()
        feed = self.stream.feed

        def keep(data: bytes) -> None:
            self.raw += data
            feed(data)

        self.stream.feed = keep  # type: ignore[method-assign]


@pytest.fixture
def plain_locale(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Set the locale the child process starts with (LC_ALL and LC_CTYPE unset)."""

    def set_locale(lang: str) -> None:
        for name in ("LC_ALL", "LC_CTYPE", "LC_MESSAGES", "LANG"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("LANG", lang)

    return set_locale


def not_ascii(raw: bytes) -> str:
    """Where ``raw`` has bytes above 127 (empty when it has none)."""
    bad = [i for i, byte in enumerate(raw) if byte > 127]
    if not bad:
        return ""
    at = bad[0]
    return f"{len(bad)} bytes above 127, the first in {raw[max(0, at - 60) : at + 20]!r}"


@pytest.mark.parametrize("lesson", ["linear", "collapse", "matrix"])
@pytest.mark.parametrize("how", ["--ascii", "LANG=C"])
def test_every_byte_is_ascii(lesson: str, how: str, plain_locale: Callable[[str], None]) -> None:
    plain_locale("C" if how == "LANG=C" else "C.UTF-8")
    flags = ["--ascii"] if how == "--ascii" else []
    term = Recorder([*bptui_command(), "--lesson", lesson, *flags])
    try:
        text = term.wait_for(lambda t: ".grad" in t, timeout=60)
        assert "dloss/d" in text and "\u2202" not in text  # ∂ spelled d: ASCII mode is on
        for key, acted in WALK:
            term.send(key)
            term.wait_for(acted, timeout=20)
        term.send(b"q")
        assert term.wait_exit(timeout=60) == 0, term.text()
        while term.read(0.1):  # what it wrote last, leaving the alternate screen
            pass
    finally:
        term.close()
    assert len(term.raw) > 10_000  # the whole session, not just its first frame
    problem = not_ascii(bytes(term.raw))
    assert not problem, problem


def test_a_utf8_terminal_gets_the_usual_characters(plain_locale: Callable[[str], None]) -> None:
    """The same check on a UTF-8 terminal finds ∂ and the boxes: ASCII mode is not forced."""
    plain_locale("C.UTF-8")
    term = Recorder(bptui_command())
    try:
        text = term.wait_for(lambda t: "w.grad" in t, timeout=60)
        assert "\u2202loss/\u2202w" in text and "─Graph──" in text
        term.send(b"q")
        assert term.wait_exit(timeout=60) == 0
    finally:
        term.close()
    assert not_ascii(bytes(term.raw))


# ------------------------------------------------------------------ a classroom


async def join(port: int, term: str, env: dict[str, str]) -> Student:
    """A student whose ssh sends ``env`` (as OpenSSH's SendEnv LANG LC_* does)."""
    conn = await connect(port)
    process = await conn.create_process(term_type=term, term_size=(80, 24), encoding=None, env=env)
    return Student(conn, process, 80, 24)


async def session_bytes(student: Student) -> bytes:
    """Every byte of a session: its first frame, a step back and forth, the help, q."""
    await student.wait_for(lambda t: "w.grad None" in t, timeout=60)
    for key, acted in ((" ", lambda t: "1/3" in t), ("?", lambda t: "one step" in t)):
        await student.press(key)
        await student.wait_for(acted)
    await student.press("\x1b")
    await student.wait_for(lambda t: "one step" not in t)
    await student.press("q")
    assert await student.wait_closed() == 0
    return bytes(student.raw)


@pytest.mark.parametrize(
    ("term", "env", "plain"),
    [
        ("xterm-256color", {"LANG": "C"}, True),  # the locale it sent: C
        ("xterm-256color", {"LANG": "de_DE.ISO-8859-1"}, True),
        ("vt100", {}, True),  # no locale sent: the terminal type decides
        ("xterm-256color", {"LANG": "en_US.UTF-8"}, False),
        ("xterm-256color", {}, False),
    ],
)
async def test_serve_decides_for_each_student(
    shared_server: Callable[..., Server], term: str, env: dict[str, str], plain: bool
) -> None:
    srv = shared_server()
    student = await join(srv.port, term, env)
    try:
        raw = await session_bytes(student)
    finally:
        student.close()
    assert (not_ascii(raw) == "") is plain, not_ascii(raw) or raw[-2000:]


async def test_serve_ascii_is_for_every_student(server: Callable[..., Server]) -> None:
    """``bptui serve --ascii``: a UTF-8 student gets ASCII too; ``--no-ascii`` the reverse."""
    for flag, plain in (("--ascii", True), ("--no-ascii", False)):
        srv = server(flag)
        env = {"LANG": "en_US.UTF-8"} if plain else {"LANG": "C"}
        student = await join(srv.port, "xterm-256color", env)
        try:
            raw = await session_bytes(student)
        finally:
            student.close()
        assert (not_ascii(raw) == "") is plain, flag
        srv.stop(signal.SIGINT)
