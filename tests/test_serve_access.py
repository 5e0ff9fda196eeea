"""``bptui serve``'s doors, end to end: a real server on 127.0.0.1, real SSH clients.

What gets in and what does not: passwords that are nearly right (case, a prefix,
a space at either end, one letter more) for the class and the teacher password;
each password for the other's door; a key press keeping a session from the idle
timeout; and the forwarding kinds :mod:`bptui.serve.server` promises to refuse
besides TCP (see test_serve.py): Unix sockets both ways, the agent and X11.
"""

from __future__ import annotations

import socket
import struct
import sys
import time
from pathlib import Path

import asyncssh
import pytest
from patience import patience
from serve_client import Student, connect, until

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs Linux pidfds and ptys")

STARTED = "Epoch 1/100"
CLASS_PASSWORD = "backprop"
TEACHER_PASSWORD = "chalk"


def near_misses(password: str) -> list[str]:
    """Passwords one slip away from ``password``."""
    return [
        password.capitalize(),
        password.upper(),
        password[:-1],  # a prefix
        password[:1],
        password + " ",  # a trailing space, as pasted
        " " + password,
        password + password[-1],
    ]


async def refused(port: int, username: str, password: str) -> bool:
    try:
        conn = await connect(port, username, password=password)
    except asyncssh.PermissionDenied:
        return True
    conn.close()
    return False


# ------------------------------------------------------------------ passwords


async def test_the_class_password_admits_it_exactly(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--password", CLASS_PASSWORD)
    let_in = [p for p in near_misses(CLASS_PASSWORD) if not await refused(srv.port, "ann", p)]
    assert let_in == []
    student = await Student.join(srv.port, "ann", password=CLASS_PASSWORD)
    await student.wait_for(lambda t: STARTED in t)
    student.close()
    code, log = srv.stop()
    # The first refusal is a line of its own; repeats are summed up (serve/logbook.py).
    assert code == 0 and log.count("refused 127.0.0.1 ann: wrong password") == 1


async def test_the_teacher_password_admits_it_exactly(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--teacher-password", TEACHER_PASSWORD)
    let_in = [p for p in near_misses(TEACHER_PASSWORD) if not await refused(srv.port, "teacher", p)]
    assert let_in == []
    teacher = await Student.join(srv.port, "teacher", password=TEACHER_PASSWORD)
    await teacher.wait_for(lambda t: "teacher · 0 students" in t)
    teacher.close()


async def test_each_password_opens_only_its_own_door(server) -> None:  # type: ignore[no-untyped-def]
    """The class password does not make a teacher, nor the teacher's a student; the
    teacher's name is the exact word (another spelling is a student's name)."""
    srv = server("--password", CLASS_PASSWORD, "--teacher-password", TEACHER_PASSWORD)
    assert await refused(srv.port, "teacher", CLASS_PASSWORD)
    assert await refused(srv.port, "ann", TEACHER_PASSWORD)
    assert await refused(srv.port, "Teacher", TEACHER_PASSWORD)
    assert await refused(srv.port, "teacher ", TEACHER_PASSWORD)
    student = await Student.join(srv.port, "Teacher", password=CLASS_PASSWORD)
    await student.wait_for(lambda t: "waiting for the teacher" in t)  # a student
    teacher = await Student.join(srv.port, "teacher", password=TEACHER_PASSWORD)
    await teacher.wait_for(lambda t: "teacher · 1 student" in t)
    for session in (student, teacher):
        session.close()


# ------------------------------------------------------------------ idle timeout


async def test_key_presses_keep_a_session_from_the_idle_timeout(server) -> None:  # type: ignore[no-untyped-def]
    """With an idle timeout of a few seconds (longer on a busy machine, where a frame
    between two presses takes longer), a student who keeps pressing keys for twice
    that stays; once the keys stop, the session is closed."""
    limit = patience(4.0)
    srv = server("--idle-timeout", f"{limit / 60:.4f}")
    student = await Student.join(srv.port)
    await student.wait_for(lambda t: STARTED in t)
    stop_at = time.monotonic() + 2 * limit
    presses = 0
    while time.monotonic() < stop_at:
        before = student.text()
        await student.press(" ")  # each press waits until the screen has taken it
        await student.wait_for(lambda t: t != before)  # noqa: B023
        presses += 1
    assert not student.closed.is_set() and b"without a key press" not in student.raw
    assert presses > 1
    await student.wait_closed(timeout=limit + 60)
    assert b"without a key press" in student.raw


# ------------------------------------------------------------------ forwarding


async def test_unix_socket_forwarding_is_refused_both_ways(shared_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A client may not reach a Unix socket on the server, nor make the server listen
    on one."""
    srv = shared_server()
    before = srv.pids()
    target = tmp_path / "private.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(target))
        listener.listen()
        listener.setblocking(False)
        conn = await connect(srv.port)
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_unix_connection(str(target))
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected to it
        opened = tmp_path / "opened-by-the-server.sock"
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_path(str(opened), str(target))
        assert not opened.exists()
        conn.close()
    assert srv.pids() <= before  # no app was started


async def test_agent_forwarding_is_refused(shared_server) -> None:  # type: ignore[no-untyped-def]
    """The agent request asyncssh (like OpenSSH) sends without asking for an answer is
    sent here with one: the server says no."""
    srv = shared_server()
    before = srv.pids()
    conn = await connect(srv.port)
    chan, _session = await conn.create_session(
        asyncssh.SSHClientSession, term_type="xterm", term_size=(80, 24)
    )
    assert await chan._make_request(b"auth-agent-req@openssh.com") is False
    # The session's app, started and ended before the next test on this server
    # counts the server's processes.
    await until(lambda: srv.pids() > before)
    chan.close()
    conn.close()
    await until(lambda: srv.pids() <= before)


def _xauthority(path: Path) -> None:
    """An Xauthority file with one entry for any host's display 0 (a made-up cookie)."""

    def field(data: bytes) -> bytes:
        return struct.pack(">H", len(data)) + data

    family_wild = 65535
    path.write_bytes(
        struct.pack(">H", family_wild)
        + field(b"")
        + field(b"0")
        + field(b"MIT-MAGIC-COOKIE-1")
        + field(bytes(16))
    )


async def test_x11_forwarding_is_refused(shared_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    srv = shared_server()
    before = srv.pids()
    auth = tmp_path / "Xauthority"
    _xauthority(auth)
    conn = await connect(srv.port)
    with pytest.raises(asyncssh.ChannelOpenError, match="X11 forwarding request failed"):
        await conn.create_process(
            term_type="xterm",
            term_size=(80, 24),
            x11_forwarding=True,
            x11_display="127.0.0.1:0",
            x11_auth_path=str(auth),
        )
    conn.close()
    assert srv.pids() <= before  # no app was started
