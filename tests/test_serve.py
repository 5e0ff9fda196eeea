"""``bptui serve`` end to end: a real server on 127.0.0.1, real SSH clients.

Each test starts the installed command (its zygote loads torch once, ~2 s) and
connects with asyncssh; screens are decoded with pyte, so assertions are on
what a student would read. Only loopback is ever used.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path

import asyncssh
import pytest
from serve_client import Student, bptui_command, connect, until

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs Linux pidfds and ptys")

STARTED = "Epoch 1/100"


def first_value(text: str) -> bool:
    return "ŷ=1" in text


# ------------------------------------------------------------------ a session


async def test_a_session_renders_and_steps_the_lesson(shared_server) -> None:  # type: ignore[no-untyped-def]
    srv = shared_server()
    before = srv.pids()
    assert any("students type:  ssh -p" in line for line in srv.banner)
    student = await Student.join(srv.port)
    screen = await student.wait_for(lambda t: "FWD 0/3" in t and "w.grad None" in t)
    assert STARTED in screen and "Graph" in screen
    await student.press(" ")
    screen = await student.wait_for(first_value)
    assert "FWD 1/3" in screen
    await student.press("q")
    assert await student.wait_closed() == 0
    await until(lambda: srv.pids() <= before)  # its app has ended


async def test_a_class_joining_at_once_gets_lessons_plots_and_keys(server) -> None:  # type: ignore[no-untyped-def]
    # While others start, each session puts its plot and footer off: none is left without.
    srv = server()
    students = await asyncio.gather(*(Student.join(srv.port, f"s{i}") for i in range(4)))
    for student in students:
        await student.wait_for(lambda t: "w.grad None" in t and "┤" in t and "q Quit" in t)
    await students[0].press(" ")
    assert "FWD 1/3" in await students[0].wait_for(first_value)
    for student in students:
        student.close()
    await until(lambda: len(srv.pids()) == 1)


async def test_a_server_logging_to_a_file_serves_sessions(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Output to a file (as a teacher keeps a log): sessions still start and step."""
    srv = server(log_file=tmp_path / "class.log")
    student = await Student.join(srv.port)
    await student.wait_for(lambda t: "w.grad None" in t)
    await student.press(" ")
    await student.wait_for(first_value)
    student.close()


async def test_window_size_changes_reach_the_app(shared_server) -> None:  # type: ignore[no-untyped-def]
    srv = shared_server()
    student = await Student.join(srv.port, width=60, height=20)
    await student.wait_for(lambda t: "Enlarge the terminal" in t and "60×20" in t)
    student.screen.resize(24, 80)
    student.process.change_terminal_size(80, 24)
    await student.wait_for(lambda t: STARTED in t)
    student.close()


async def test_the_servers_columns_and_lines_do_not_size_a_student(server) -> None:  # type: ignore[no-untyped-def]
    """A teacher's shell that exports COLUMNS and LINES: each student still gets their
    own window's size (Textual would take the exported one over the terminal's)."""
    srv = server(env={"COLUMNS": "80", "LINES": "24"})
    student = await Student.join(srv.port, width=60, height=20)
    await student.wait_for(lambda t: "Enlarge the terminal" in t and "60×20" in t)
    student.close()


async def test_colour_is_forced_for_the_class(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--color", "none")
    student = await Student.join(srv.port)
    await student.wait_for(lambda t: STARTED in t)
    await asyncio.sleep(0.3)
    # NO_COLOR (no-color.org): no colour codes at all, not even greys.
    assert not re.findall(rb"\x1b\[[0-9;]*?[34]8;[25];", bytes(student.raw))
    student.close()
    srv2 = server("--color", "truecolor")
    student = await Student.join(srv2.port)
    await student.wait_for(lambda t: STARTED in t)
    assert b"8;2;" in student.raw  # 24-bit colour codes, though ssh sent no COLORTERM
    student.close()


# ------------------------------------------------------------------ refusals


async def test_commands_subsystems_and_forwarding_are_refused(server) -> None:  # type: ignore[no-untyped-def]
    srv = server()
    conn = await connect(srv.port)
    command = await conn.run("touch /tmp/bptui-should-not-exist", check=False)
    assert command.exit_status == 1 and "serves the lesson only" in str(command.stderr)
    sftp = await connect(srv.port)
    with pytest.raises((asyncssh.ChannelOpenError, asyncssh.SFTPError)):
        await sftp.start_sftp_client()
    sftp.close()
    conn = await connect(srv.port)  # one session a connection: a new one to go on
    with pytest.raises(asyncssh.ChannelOpenError):
        await conn.create_connection(asyncssh.SSHTCPSession, "127.0.0.1", srv.port)
    with pytest.raises(asyncssh.ChannelListenError):
        await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 9)
    conn.close()
    assert not Path("/tmp/bptui-should-not-exist").exists()
    assert len(srv.pids()) == 1  # no app was started for any of them
    code, log = srv.stop()
    assert code == 0
    assert "refused 127.0.0.1 student: a command" in log
    assert "refused 127.0.0.1 student: subsystem sftp" in log
    assert "port forwarding" in log


async def test_a_session_without_a_terminal_gets_a_hint(shared_server) -> None:  # type: ignore[no-untyped-def]
    srv = shared_server()
    conn = await connect(srv.port)
    result = await conn.run(term_type=None, check=False)  # ssh -T: a shell without a pty
    assert "ssh -t" in str(result.stdout) and result.exit_status == 1
    conn.close()


async def test_class_password_admits_the_right_password_only(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--password", "backprop")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(srv.port, "ann", password="wrong")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(srv.port, "ann")  # no password at all
    student = await Student.join(srv.port, "ann", password="backprop")
    await student.wait_for(lambda t: STARTED in t)
    student.close()


async def test_authorized_keys_admit_listed_keys_only(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = asyncssh.generate_private_key("ssh-ed25519")
    bad = asyncssh.generate_private_key("ssh-ed25519")
    keys = tmp_path / "authorized_keys"
    keys.write_bytes(good.export_public_key())
    srv = server("--authorized-keys", str(keys))
    options = {"known_hosts": None, "agent_path": None, "username": "kim"}
    with pytest.raises(asyncssh.PermissionDenied):
        await asyncssh.connect("127.0.0.1", srv.port, client_keys=[bad], **options)
    conn = await asyncssh.connect("127.0.0.1", srv.port, client_keys=[good], **options)
    conn.close()


async def test_max_sessions_holds(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--max-sessions", "1")
    first = await Student.join(srv.port)
    await first.wait_for(lambda t: STARTED in t)
    second = await Student.join(srv.port)
    assert await second.wait_closed() == 1
    assert "The class is full (1 student)." in second.text()
    await first.press(" ")
    await first.wait_for(first_value)  # the first is untouched
    first.close()
    _code, log = srv.stop()
    assert "refused 127.0.0.1 student: the class is full (--max-sessions 1)" in log


async def test_per_address_limit_holds(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--per-address", "1")
    first = await Student.join(srv.port)
    await first.wait_for(lambda t: STARTED in t)
    second = await Student.join(srv.port)
    assert await second.wait_closed() == 1
    assert "Too many sessions from 127.0.0.1" in second.text()
    first.close()
    _code, log = srv.stop()
    # The teacher's log names the option to raise.
    assert "refused 127.0.0.1 student: too many sessions from 127.0.0.1 (--per-address 1)" in log


# ------------------------------------------------------------------ processes


async def test_killing_one_session_leaves_the_others_working(server) -> None:  # type: ignore[no-untyped-def]
    srv = server()
    zygote = set(srv.pids())
    a = await Student.join(srv.port, "a")
    await a.wait_for(lambda t: STARTED in t)
    a_pid = (srv.pids() - zygote).pop()
    b = await Student.join(srv.port, "b")
    await b.wait_for(lambda t: STARTED in t)
    os.kill(a_pid, signal.SIGKILL)
    await a.wait_closed()
    await b.press(" ")
    await b.wait_for(first_value)
    b.close()
    await until(lambda: srv.pids() == zygote)


async def test_a_dropped_connection_ends_its_app(server) -> None:  # type: ignore[no-untyped-def]
    srv = server()
    zygote = set(srv.pids())
    student = await Student.join(srv.port)
    await student.wait_for(lambda t: STARTED in t)
    assert len(srv.pids() - zygote) == 1
    student.conn.abort()  # as if the laptop lid closed mid-lesson
    await until(lambda: srv.pids() == zygote)
    code, log = srv.stop()
    assert code == 0 and "leave 127.0.0.1 student" in log


async def test_ctrl_c_ends_the_class_cleanly(server) -> None:  # type: ignore[no-untyped-def]
    srv = server()
    students = [await Student.join(srv.port, f"s{i}") for i in range(2)]
    for student in students:
        await student.wait_for(lambda t: STARTED in t)
    started = time.monotonic()
    srv.proc.send_signal(signal.SIGINT)
    for student in students:
        await student.wait_closed()
        assert b"The class has ended" in student.raw
        # The app left its alternate screen before the goodbye (terminal restored).
        assert student.raw.rfind(b"\x1b[?1049l") < student.raw.rfind(b"The class has ended")
    code, log = srv.stop()
    assert code == 0 and time.monotonic() - started < 10
    assert "ending the class on SIGINT (2 session(s) open)" in log and "class ended" in log
    assert srv.pids() == set()


async def test_idle_sessions_are_closed(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--idle-timeout", "0.02")  # 1.2 s
    student = await Student.join(srv.port)
    await student.wait_for(lambda t: STARTED in t)
    await student.wait_closed(timeout=20)
    assert b"without a key press" in student.raw


# ------------------------------------------------------------------ follow mode


async def test_follow_mode_mirrors_branches_and_rejoins(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--teacher-password", "chalk")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(srv.port, "teacher")  # the name is reserved
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(srv.port, "teacher", password="wrong")
    student = await Student.join(srv.port, "ann")
    await student.wait_for(lambda t: "waiting for the teacher" in t)
    teacher = await Student.join(srv.port, "teacher", password="chalk")
    await teacher.wait_for(lambda t: "teacher · 1 student" in t)
    await student.wait_for(lambda t: " following " in t and "waiting" not in t)

    # The student's own stepping keys change nothing while following.
    await student.press(" ")
    await student.wait_for(lambda t: "You are following the teacher" in t)
    assert "FWD 0/3" in student.text()

    # The teacher's steps appear on the student's screen: F, then one backward step.
    await teacher.press("F")
    await teacher.wait_for(lambda t: "BWD 0/3" in t)
    await teacher.press("b")
    await teacher.wait_for(lambda t: "BWD 1/3" in t)
    # A frame reaches the student in pieces: its status row can come before its graph.
    await student.wait_for(lambda t: "BWD 1/3" in t and "r=-1" in t and "∂ 1" in t)

    # t: explore alone; the teacher's next steps no longer arrive.
    await student.press("t")
    await student.wait_for(lambda t: "exploring" in t)
    await student.press("B")
    await student.wait_for(lambda t: "w.grad -2" in t)
    await teacher.press("u")  # refused (backward not finished): a no-op for the class
    await teacher.press("B")
    await teacher.wait_for(lambda t: "UPD" in t)
    await teacher.press("u")
    await teacher.wait_for(lambda t: "w.data 1.02" in t)
    await asyncio.sleep(0.5)
    assert "w.data 1.02" not in student.text()

    # t again: back on the teacher's current step.
    await student.press("t")
    screen = await student.wait_for(lambda t: "w.data 1.02" in t and " following " in t)
    assert "ZERO" in screen

    # A late joiner lands on the teacher's current step.
    late = await Student.join(srv.port, "bo")
    await late.wait_for(lambda t: "w.data 1.02" in t and "ZERO" in t)
    await teacher.wait_for(lambda t: "teacher · 2 students" in t)

    # Undo by the teacher is mirrored too.
    await teacher.press("\x1b[D")  # ←
    await late.wait_for(lambda t: "w.data 1" in t and "w.data 1.02" not in t)
    for session in (student, teacher, late):
        session.close()


async def test_a_returning_teacher_continues_the_class(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--teacher-password", "chalk")
    teacher = await Student.join(srv.port, "teacher", password="chalk")
    await teacher.wait_for(lambda t: STARTED in t)
    await teacher.press("s")
    await teacher.wait_for(lambda t: "Sample 2/3" in t)
    await teacher.press("q")
    await teacher.wait_closed()
    again = await Student.join(srv.port, "teacher", password="chalk")
    await again.wait_for(lambda t: "Sample 2/3" in t and "w.data 1.02" in t)
    again.close()


async def test_without_a_teacher_password_sessions_are_independent(shared_server) -> None:  # type: ignore[no-untyped-def]
    srv = shared_server()
    a = await Student.join(srv.port, "teacher")  # an ordinary name here
    b = await Student.join(srv.port, "b")
    for s in (a, b):
        await s.wait_for(lambda t: STARTED in t)
    await a.press(" t")
    await a.wait_for(first_value)
    await asyncio.sleep(0.5)
    assert not first_value(b.text()) and "following" not in a.text() + b.text()
    a.close()
    b.close()


# ------------------------------------------------------------------ bad input


def run_serve(*args: str, tmp_path: Path) -> tuple[int, str]:
    import subprocess

    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    done = subprocess.run(
        [*bptui_command(), "serve", *args], capture_output=True, text=True, env=env, timeout=60
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "http"], "--port: 'http' is not a whole number"),
        (["--port", "70000"], "--port: 70000 is out of range"),
        (["--max-sessions", "0"], "--max-sessions: 0 is out of range"),
        (["--max-connecting", "0"], "--max-connecting: 0 is out of range"),
        (["--idle-timeout", "-5"], "--idle-timeout: give minutes greater than 0"),
        (["--password", ""], "--password: the password is empty"),
        (["--password", "a", "--authorized-keys", "/etc/hostname"], "either --password or"),
        (["--password", "same", "--teacher-password", "same"], "are the same"),
        (["--host-key", "/nonexistent/key"], "--host-key: /nonexistent/key is not a file"),
        (["--authorized-keys", "/nonexistent"], "--authorized-keys: /nonexistent is not a file"),
        (["--lesson", "nosuch"], "nosuch"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(args: list[str], says: str, tmp_path: Path) -> None:
    code, err = run_serve(*args, tmp_path=tmp_path)
    assert code == 2, err
    assert says in err and "Traceback" not in err


def test_an_unreadable_host_key_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "not-a-key"
    key.write_text("hello\n")
    code, err = run_serve("--host-key", str(key), tmp_path=tmp_path)
    assert code == 2 and "cannot read a private key" in err and "Traceback" not in err


def test_a_malformed_authorized_keys_file_is_refused(tmp_path: Path) -> None:
    keys = tmp_path / "authorized_keys"
    keys.write_text("this is not a key\n")
    code, err = run_serve("--authorized-keys", str(keys), tmp_path=tmp_path)
    assert code == 2 and "--authorized-keys: cannot read" in err and "Traceback" not in err


def test_a_port_in_use_is_refused_before_listening(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run_serve("--port", str(port), tmp_path=tmp_path)
    assert code == 2 and f"port {port} is in use" in err and "Traceback" not in err
    assert err.count("\n") == 1, err  # one line: no warning of asyncssh's imports either


def test_a_lesson_torch_refuses_is_refused_before_listening(tmp_path: Path) -> None:
    code, err = run_serve("--lesson", "matrix", "--x", "1,2", "--y", "1,2", tmp_path=tmp_path)
    assert code == 2 and "Traceback" not in err and "listening" not in err


def test_the_host_key_is_made_once_and_kept(tmp_path: Path) -> None:
    from bptui.serve.hostkey import load_host_key
    from bptui.serve.options import data_dir

    os.environ["XDG_DATA_HOME"] = str(tmp_path)
    try:
        key, path, made = load_host_key(None)
        assert made and path == data_dir() / "ssh_host_ed25519_key"
        assert path.stat().st_mode & 0o777 == 0o600
        again, _, made_again = load_host_key(None)
        assert not made_again and again.get_fingerprint() == key.get_fingerprint()
    finally:
        del os.environ["XDG_DATA_HOME"]


def test_a_corrupt_kept_host_key_says_to_delete_it_or_give_one(tmp_path: Path) -> None:
    """Making one with ssh-keygen would not help: the kept key is read every start."""
    kept = tmp_path / "data" / "bptui" / "ssh_host_ed25519_key"
    kept.parent.mkdir(parents=True)
    kept.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n")
    code, err = run_serve(tmp_path=tmp_path)
    with pytest.raises(asyncssh.KeyImportError) as why:  # asyncssh's words for it
        asyncssh.read_private_key(kept)
    assert code == 2
    assert err == (
        f"bptui serve: error: the kept host key {kept} cannot be read ({why.value}): delete it "
        "to make a new one (students' ssh will say the key changed), or give one with "
        "--host-key FILE\n"
    )
