"""The classroom's parts without a network: options, the class log, framing, session setup."""

from __future__ import annotations

import os
import signal
import socket
import struct
import threading
from pathlib import Path
from typing import Any

import pytest

from bptui.app.classlink import ClassLink
from bptui.classroom.protocol import (
    VERSION,
    Ask,
    Cmd,
    Command,
    FrameReader,
    Message,
    Revealed,
    Step,
    Withdrawn,
    encode,
    from_json,
    merge,
    to_json,
)
from bptui.serve.child import session_environment
from bptui.serve.classroom import TAKEN_OVER, Classroom
from bptui.serve.options import ServeError, parse_options


def msg(body: dict[str, Any]) -> Message:
    """A message from its wire JSON (without the version)."""
    return from_json({"v": VERSION, **body})


def wire(message: Message) -> dict[str, Any]:
    """A message's wire JSON, without the version."""
    return {k: v for k, v in to_json(message).items() if k != "v"}


def commands(log: list[Command]) -> list[dict[str, Any]]:
    return [wire(Cmd(command))["c"] for command in log]


class FakeMember:
    def __init__(self, role: str) -> None:
        self.role = role
        self.following = False
        self.inbox: list[dict[str, Any]] = []  # as the wire carries them
        self.ended: str | None = None
        self.touched = 0

    def send(self, message: Message) -> None:
        self.inbox.append(wire(message))

    def touch(self) -> None:
        self.touched += 1

    def end(self, reason: str) -> None:
        self.ended = reason

    # A class question's side of a student (with an app of their own: one person).

    name = "ann"
    address = "127.0.0.1"

    def people(self) -> list[FakeMember]:
        return [self]

    def ask(self, ask: Ask) -> None:
        self.inbox.append(wire(ask))

    def revealed(self, qid: int, value: float | None, answer: float | None) -> None:
        said = Withdrawn(qid) if value is None else Revealed(qid, value, answer)
        self.inbox.append(wire(said))

    def last(self, kind: str) -> dict[str, Any]:
        return [m for m in self.inbox if m["t"] == kind][-1]


def test_the_teachers_commands_reach_followers_only() -> None:
    room = Classroom()
    teacher, ann, bo = FakeMember("teacher"), FakeMember("student"), FakeMember("student")
    for member in (teacher, ann, bo):
        room.join(member)
    assert ann.following and ann.last("hello")["teacher"] is True
    assert teacher.last("class")["students"] == 2
    room.receive(bo, msg({"t": "follow", "on": False}))
    room.receive(teacher, msg({"t": "cmd", "c": {"a": "forward"}}))
    assert ann.last("cmd")["c"] == {"a": "forward"} and ann.touched == 1
    assert not [m for m in bo.inbox if m["t"] == "cmd"]
    # A student cannot drive the class.
    room.receive(ann, msg({"t": "cmd", "c": {"a": "reset"}}))
    assert commands(room.log) == [{"a": "forward"}]
    # Rejoining sends the whole log.
    room.receive(bo, msg({"t": "follow", "on": True}))
    assert bo.last("sync")["log"] == [{"a": "forward"}] and bo.following


def test_a_late_joiner_and_a_new_teacher_start_from_the_class_log() -> None:
    room = Classroom()
    teacher = FakeMember("teacher")
    room.join(teacher)
    for command in ({"a": "forward"}, {"a": "next"}, {"a": "next", "n": 3}):
        room.receive(teacher, msg({"t": "cmd", "c": command}))
    assert commands(room.log) == [{"a": "forward"}, {"a": "next", "n": 4}]  # runs of next fold
    late = FakeMember("student")
    room.join(late)
    assert late.last("hello")["log"] == commands(room.log)
    second = FakeMember("teacher")
    room.join(second)
    assert teacher.ended == TAKEN_OVER and room.teacher is second
    assert second.last("hello")["log"] == commands(room.log)
    room.leave(second)
    assert late.last("class")["teacher"] is False


def test_another_lesson_starts_the_log_afresh_and_reaches_explorers_too() -> None:
    """``o``: the log keeps only what replaying needs; an explorer is told, not moved."""
    room = Classroom()
    teacher, ann, bo = FakeMember("teacher"), FakeMember("student"), FakeMember("student")
    for member in (teacher, ann, bo):
        room.join(member)
    room.receive(teacher, msg({"t": "cmd", "c": {"a": "train_step"}}))
    room.receive(bo, msg({"t": "follow", "on": False}))
    room.receive(teacher, msg({"t": "cmd", "c": {"open": "neuron"}}))
    room.receive(teacher, msg({"t": "cmd", "c": {"a": "forward"}}))
    assert commands(room.log) == [{"open": "neuron"}, {"a": "forward"}]
    assert [m["c"] for m in ann.inbox if m["t"] == "cmd"][-2:] == commands(room.log)
    # The explorer hears of the new lesson, and of nothing the teacher does in it.
    assert [m["c"] for m in bo.inbox if m["t"] == "cmd"] == [
        {"a": "train_step"},
        {"open": "neuron"},
    ]
    late = FakeMember("student")
    room.join(late)
    assert late.last("hello")["log"] == [{"open": "neuron"}, {"a": "forward"}]


def test_an_explorers_step_is_kept_until_they_follow_or_leave() -> None:
    room = Classroom()
    teacher, ann, bo = FakeMember("teacher"), FakeMember("student"), FakeMember("student")
    for member in (teacher, ann, bo):
        room.join(member)
    room.receive(ann, msg({"t": "where", "step": 3}))  # a follower has no step of their own
    room.receive(teacher, msg({"t": "where", "step": 9}))
    room.receive(bo, msg({"t": "follow", "on": False}))
    room.receive(bo, msg({"t": "where", "step": 12}))
    assert room.steps == {bo: 12}
    room.receive(bo, msg({"t": "follow", "on": True}))
    assert room.steps == {}
    room.receive(bo, msg({"t": "follow", "on": False}))
    room.receive(bo, msg({"t": "where", "step": 4}))
    room.leave(bo)
    assert room.steps == {}


def test_merge_folds_only_next() -> None:
    log: list[Command] = []
    for command in (Step("undo"), Step("undo"), Step("next"), Step("next", 2)):
        merge(log, command)
    assert log == [Step("undo"), Step("undo"), Step("next", 3)]


def test_frames_survive_any_split() -> None:
    messages = [Cmd(Step("next", i)) for i in range(1, 6)]
    data = b"".join(encode(m) for m in messages)
    for cut in range(1, 12):
        reader = FrameReader()
        got = []
        for i in range(0, len(data), cut):
            got += reader.feed(data[i : i + cut])
        assert got == messages


def test_a_bad_frame_is_an_error_not_a_hang() -> None:
    with pytest.raises(ValueError):
        FrameReader().feed(b"\xff\xff\xff\xff")
    with pytest.raises(ValueError, match="JSON object"):
        FrameReader().feed(struct.pack(">I", 3) + b"[1]")


def test_the_link_reads_hello_and_keeps_what_came_with_it() -> None:
    ours, theirs = socket.socketpair()
    link = ClassLink(ours, "student")
    theirs.sendall(
        encode(msg({"t": "hello", "log": [], "teacher": True, "students": 3}))
        + encode(msg({"t": "cmd", "c": {"a": "forward"}}))
    )
    hello = link.hello(timeout=5)
    assert wire(hello)["t"] == "hello" and link.teacher_present and link.students == 3
    assert link.following and not link.is_teacher
    link.command(Step("next"))  # a student's command is never sent
    link.set_following(False)
    theirs.settimeout(5)
    assert [wire(m) for m in FrameReader().feed(theirs.recv(1000))] == [
        {"t": "follow", "on": False}
    ]
    ours.close()
    theirs.close()


@pytest.mark.parametrize(
    ("color", "term", "colorterm", "expected"),
    [
        (
            "auto",
            "xterm-256color",
            None,
            {"TERM": "xterm-256color", "COLORTERM": "", "NO_COLOR": ""},
        ),
        ("auto", "xterm", "truecolor", {"TERM": "xterm", "COLORTERM": "truecolor", "NO_COLOR": ""}),
        ("truecolor", "xterm", None, {"TERM": "xterm", "COLORTERM": "truecolor", "NO_COLOR": ""}),
        ("256", "vt100", None, {"TERM": "xterm-256color", "COLORTERM": "", "NO_COLOR": ""}),
        ("16", "xterm-256color", None, {"TERM": "xterm-16color", "COLORTERM": "", "NO_COLOR": ""}),
        ("none", "xterm", None, {"TERM": "xterm", "COLORTERM": "", "NO_COLOR": "1"}),
        (
            "auto",
            "\x1b]0;evil\x07",
            None,
            {"TERM": "xterm-256color", "COLORTERM": "", "NO_COLOR": ""},
        ),
    ],
)
def test_session_colour(
    color: str, term: str, colorterm: str | None, expected: dict[str, str]
) -> None:
    assert session_environment(term, color, colorterm) == expected


def test_options_defaults_and_checks(tmp_path: Path) -> None:
    options = parse_options()
    assert (options.host, options.port, options.max_sessions, options.per_address) == (
        "127.0.0.1",
        2222,
        100,
        100,  # a class behind one NAT address fits (it was 10: the 11th was refused)
    )
    assert parse_options({"max_sessions": "40"}).per_address == 40
    assert parse_options({"max_sessions": "40", "per_address": "2"}).per_address == 2
    assert options.idle_timeout == 60 and not options.classroom
    assert parse_options({"idle_timeout": "5"}).idle_timeout == 5
    assert parse_options({"port": "0"}).port == 0  # any free port
    assert parse_options({"password": "correct horse"}).password == "correct horse"
    assert parse_options({"teacher_password": "x"}).classroom
    with pytest.raises(ServeError, match="not a whole number"):
        parse_options({"port": "9" * 5000})
    with pytest.raises(ServeError, match="control characters"):
        parse_options({"password": "a\nb"})
    with pytest.raises(ServeError, match="--host: empty"):
        parse_options({"host": " "})
    with pytest.raises(ServeError, match=r"^unknown setting 'bogus'$"):
        parse_options({"zzz": "1", "bogus": "2"})


def test_logins_are_slowed_per_address_past_the_free_failures() -> None:
    """Typing mistakes cost nothing; past Logins.FREE failures every check from the
    address waits its turn, one a second, however many connections ask at once."""
    from bptui.serve.gate import Logins

    now = [1000.0]
    logins = Logins(clock=lambda: now[0])
    started = [logins.failed("10.0.0.9") for _ in range(Logins.FREE)]
    assert started == [False] * (Logins.FREE - 1) + [True]  # said once, when it starts
    assert logins.wait("10.0.0.8") == 0  # another address is not slowed
    turns = [logins.wait("10.0.0.9") for _ in range(3)]  # three connections at once
    assert turns == [0.0, Logins.SPACING, 2 * Logins.SPACING]
    now[0] += Logins.WINDOW + 1  # the failures are forgotten
    assert logins.wait("10.0.0.9") == 0


def test_logins_remember_a_bounded_number_of_addresses() -> None:
    from bptui.serve.gate import Logins

    logins = Logins(clock=lambda: 0.0)
    for i in range(Logins.MAX_ADDRESSES + 50):
        logins.failed(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
    assert len(logins._failures) == Logins.MAX_ADDRESSES


async def test_a_flood_of_refusals_is_a_few_log_lines() -> None:
    from bptui.serve.logbook import Tally

    lines: list[str] = []
    tally = Tally(period=3600, write=lines.append)
    for _ in range(2000):
        tally.note("10.0.0.9", "wrong password", "teacher")
    tally.note("10.0.0.8", "wrong password", "ann")
    tally.note("10.0.0.7", "no login (60 s)")  # no user name: none in the line
    assert lines == [
        "refused 10.0.0.9 teacher: wrong password",
        "refused 10.0.0.8 ann: wrong password",
        "refused 10.0.0.7: no login (60 s)",
    ]
    tally.flush()
    assert lines[3:] == ["refused 10.0.0.9: wrong password, 1999 more in the last 3600 s"]


def _zygote_pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def test_the_zygote_answers_a_bad_request_and_goes_on() -> None:
    """One bad request (too large, not JSON, no terminal) is answered with an error,
    its descriptors closed; the zygote serves the next request as usual."""
    from bptui.serve import zygote

    fds_before_test = len(os.listdir("/proc/self/fd"))
    server, theirs = _zygote_pair()
    server.settimeout(10)
    loop = threading.Thread(
        target=zygote._serve_requests, args=(theirs, None, zygote._Children()), daemon=True
    )
    loop.start()
    spare = os.open(os.devnull, os.O_RDONLY)
    answers = []
    for request, fds in (
        (b"x" * (zygote._MAX_REQUEST + 10), [spare]),
        (b"{not json", [spare]),
        (b"[1, 2]", [spare]),
        (b"{}", []),
    ):
        socket.send_fds(server, [request], fds)
        answers.append(zygote.Zygote.answer(server))
    os.close(spare)
    server.shutdown(socket.SHUT_WR)  # the server goes: the loop returns
    loop.join(10)
    assert not loop.is_alive()
    assert [(sorted(a), fd) for a, fd in answers] == [(["error"], None)] * 4
    assert "larger than" in answers[0][0]["error"] and "not JSON" in answers[1][0]["error"]
    assert "descriptors" in answers[3][0]["error"]
    server.close()
    theirs.close()
    assert len(os.listdir("/proc/self/fd")) == fds_before_test  # every descriptor closed


def test_a_fork_the_system_refuses_is_an_answer_not_the_end(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import errno

    from bptui.serve import zygote

    def refused() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    server, theirs = _zygote_pair()
    server.settimeout(10)
    children = zygote._Children()
    slave = os.open(os.devnull, os.O_RDONLY)
    zygote._fork_session(theirs, {}, [slave], None, children)  # type: ignore[arg-type]
    answer, pidfd = zygote.Zygote.answer(server)
    assert answer == {"error": "cannot start a process: Resource temporarily unavailable"}
    assert pidfd is None and not children.pids and not children.starting.others()
    with pytest.raises(OSError):
        os.fstat(slave)  # closed
    assert signal.SIGCHLD not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    server.close()
    theirs.close()


def test_the_doorway_makes_room_at_the_busiest_address() -> None:
    """A flood from one address pushes out only its own; among equals, the newcomer's
    own address makes room."""
    from bptui.serve.gate import Doorway

    doorway: Doorway[str] = Doorway(limit=4)
    assert doorway.enter("10.0.0.1", "student") is None
    for i in range(3):
        assert doorway.enter("10.0.0.9", f"flood{i}") is None
    assert doorway.enter("10.0.0.9", "flood3") == "flood0"  # its own oldest
    assert doorway.enter("10.0.0.2", "late student") == "flood1"  # the busiest address's
    assert len(doorway) == 4
    doorway.leave("10.0.0.1", "student")  # logged in: a session runs now
    doorway.leave("10.0.0.1", "student")  # once only
    assert len(doorway) == 3
    assert doorway.enter("10.0.0.2", "third") is None
    # 10.0.0.9 and .2 hold two each: the newcomer's own address makes room
    assert doorway.enter("10.0.0.2", "fourth") == "late student"


def test_the_alternate_screen_is_followed_across_reads() -> None:
    from bptui.serve.terminal import Screen

    screen = Screen()
    screen.saw(b"hello \x1b[?10")
    screen.saw(b"49h\x1b[?25l")  # the switch came in two reads
    assert screen.alternate
    screen.saw(b"frame")
    assert screen.alternate
    screen.saw(b"\x1b[?1049l\x1b[?1049h\x1b[?1049l")
    assert not screen.alternate


def test_the_teacher_calls_explorers_back_and_the_count_says_who_explores() -> None:
    room = Classroom()
    teacher, ann, bo = FakeMember("teacher"), FakeMember("student"), FakeMember("student")
    for member in (teacher, ann, bo):
        room.join(member)
    room.receive(bo, msg({"t": "follow", "on": False}))
    assert teacher.last("class") == {"t": "class", "teacher": True, "students": 2, "exploring": 1}
    room.receive(ann, msg({"t": "recall"}))  # a student cannot call the class back
    assert not [m for m in bo.inbox if m["t"] == "recalled"]
    room.receive(teacher, msg({"t": "recall"}))
    assert bo.last("recalled") == {"t": "recalled"}
    assert not [m for m in ann.inbox if m["t"] == "recalled"]  # ann follows already


def test_group_apps_are_not_counted_as_people_and_joins_are_told_once() -> None:
    told: list = []
    room = Classroom(defer=told.append)
    teacher, group = FakeMember("teacher"), FakeMember("student")
    group.person = False  # type: ignore[attr-defined]
    room.join(teacher)
    room.join(group)
    for _ in range(50):
        room.watch(True)
    assert len(told) == 1  # fifty joins, one announcement waiting
    told.pop()()
    assert teacher.last("class")["students"] == 50


def test_the_server_keeps_its_files_in_the_xdg_data_directory(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bptui.serve.options import data_dir

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert data_dir() == tmp_path / "data" / "bptui"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_dir() == tmp_path / ".local" / "share" / "bptui"


def test_a_window_size_is_clamped_and_an_unsaid_one_is_80_by_24() -> None:
    from bptui.serve.limits import MAX_COLUMNS, MAX_ROWS, clamp_size

    assert clamp_size(0, 0) == (80, 24)  # the client did not say
    assert clamp_size(1, 1) == (1, 1)
    assert clamp_size(10**6, 10**6) == (MAX_COLUMNS, MAX_ROWS)


def test_a_session_that_leaves_frees_its_own_seat_only() -> None:
    """``--per-address 2``: after one of two sessions from an address leaves, one more
    may come, not two (a count dropped too soon lets a NAT address fill the class)."""
    from bptui.serve.server import ClassServer

    class Seat:
        address, role = "10.0.0.9", "student"

    nothing: Any = None  # no zygote and no host key: nothing listens here
    server = ClassServer(parse_options({"per_address": "2"}), nothing, nothing)
    seats: list[Any] = [Seat() for _ in range(4)]
    first, second, third, fourth = seats
    server.seat(first)
    server.seat(second)
    assert server.admit(third) is not None
    assert server.unseat(first) and not server.unseat(first)
    assert server.admit(third) is None
    server.seat(third)
    assert server.admit(fourth) is not None


def test_the_host_key_is_made_private_in_a_data_directory_that_exists(
    monkeypatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from bptui.serve.hostkey import KEY_NAME, fingerprint, load_host_key

    (tmp_path / "bptui").mkdir()  # kept something before, not the key
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    key, path, made = load_host_key(None)
    assert made and path == tmp_path / "bptui" / KEY_NAME and path.stat().st_mode & 0o777 == 0o600
    again, _, made = load_host_key(None)
    assert not made and fingerprint(again) == fingerprint(key)
