"""View groups end to end: followers at the same view share one app.

Real servers on 127.0.0.1, real asyncssh clients whose screens pyte decodes:
a member of a group must see, cell for cell, what a follower with an app of
their own sees (``--own-apps``), however late they join; a resize, a stalled
connection, ``t``, ``L`` and a crashed group app are each tried.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyte
import pytest
from patience import Deadline
from serve_client import Student

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs Linux pidfds and ptys")

TEACHER = ("--teacher-password", "chalk")


def cells(screen: pyte.Screen) -> list[list[tuple[Any, ...]]]:
    """Every cell's character, colours and attributes."""
    return [
        [tuple(screen.buffer[y][x]) for x in range(screen.columns)] for y in range(screen.lines)
    ]


async def same_screen(a: Student, b: Student, timeout: float = 20.0) -> None:
    """Until ``a`` and ``b`` show the same cells (AssertionError with both screens)."""
    deadline = Deadline(timeout)
    while not deadline.passed():
        if cells(a.screen) == cells(b.screen):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"screens differ:\n{a.text()}\n----\n{b.text()}")


async def group_apps(log: Path, timeout: float = 20.0, count: int = 1) -> list[int]:
    """The pids of the group apps the server's log says it started (at least ``count``)."""
    deadline = Deadline(timeout)
    while not deadline.passed():
        pids = [int(p) for p in re.findall(r"app started \(pid (\d+)\)", log.read_text())]
        if len(pids) >= count:
            return pids
        await asyncio.sleep(0.1)
    raise AssertionError(f"the log names {count} group app(s) started:\n{log.read_text()}")


async def a_class(server, tmp_path: Path) -> tuple[Path, Any, Student]:  # type: ignore[no-untyped-def]
    """A server with a teacher password whose log goes to a file, and its teacher."""
    log = tmp_path / "serve.log"
    srv = server(*TEACHER, log_file=log, stderr=subprocess.STDOUT)
    return log, srv, await Student.join(srv.port, "teacher", password="chalk")


async def test_a_member_sees_what_a_follower_with_its_own_app_sees(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    shared = server(*TEACHER, log_file=tmp_path / "shared.log", stderr=subprocess.STDOUT)
    alone = server(*TEACHER, "--own-apps")
    teachers = [await Student.join(s.port, "teacher", password="chalk") for s in (shared, alone)]
    member = await Student.join(shared.port, "ann")
    follower = await Student.join(alone.port, "ann")
    for teacher in teachers:
        await teacher.wait_for(lambda t: "teacher · 1 student" in t)
        await teacher.press("F")
        await teacher.wait_for(lambda t: "BWD 0/3" in t)
        await teacher.press("b")
        await teacher.wait_for(lambda t: "BWD 1/3" in t)
    await member.wait_for(lambda t: "BWD 1/3" in t and " following " in t)
    await same_screen(member, follower)
    assert len(await group_apps(tmp_path / "shared.log")) == 1
    for session in (*teachers, member, follower):
        session.close()


async def test_a_late_joiner_gets_the_whole_screen_from_the_group(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    log, srv, teacher = await a_class(server, tmp_path)
    early = await Student.join(srv.port, "ann")
    await early.wait_for(lambda t: " following " in t)
    # 500 training steps asked for; the lesson has 300 (100 epochs of 3 samples).
    await teacher.press("s" * 500)
    await teacher.wait_for(lambda t: "Epoch 100/100  finished" in t, timeout=120)
    await early.wait_for(lambda t: "Epoch 100/100  finished" in t, timeout=60)
    late = await Student.join(srv.port, "bo")
    await same_screen(early, late)
    # Painted from the group's screen: no app was started for the late joiner,
    # and what it got begins with a whole-screen paint, not an app starting up.
    assert len(await group_apps(log)) == 1
    assert late.raw.startswith(b"\x1b[?1049h")
    assert b"\x1b[2J" in late.raw[:200]
    for session in (teacher, early, late):
        session.close()


async def test_a_resize_moves_a_member_to_the_group_of_its_size(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    log, srv, teacher = await a_class(server, tmp_path)
    small = await Student.join(srv.port, "ann")
    wide = await Student.join(srv.port, "bo", width=125, height=42)
    await wide.wait_for(lambda t: " following " in t)
    await group_apps(log, count=2)
    assert "group 80x24" in log.read_text() and "group 120x40" in log.read_text()
    # 125×42 is drawn at 120×40, top left: its last columns and rows stay blank.
    assert all(line[120:].strip() == "" for line in wide.screen.display)
    await wide.wait_for(lambda _: "Help" in wide.screen.display[39])  # the footer: the last row
    assert not wide.screen.display[40].strip()

    small.screen.resize(42, 125)
    small.process.change_terminal_size(125, 42)
    await same_screen(small, wide)
    await teacher.press("f")
    await small.wait_for(lambda t: "FORWARD 1/3" in t)
    await same_screen(small, wide)
    assert len(await group_apps(log)) == 2  # no app started for the move
    for session in (teacher, small, wide):
        session.close()


async def test_t_and_l_give_a_student_their_own_app_at_the_class_step(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    log, srv, teacher = await a_class(server, tmp_path)
    ann = await Student.join(srv.port, "ann")
    bo = await Student.join(srv.port, "bo")
    cy = await Student.join(srv.port, "cy")
    await teacher.wait_for(lambda t: "teacher · 3 students" in t)
    await teacher.press("F")
    await cy.wait_for(lambda t: "BWD 0/3" in t)

    # A stepping key is refused on that student's screen only.
    await cy.press(" ")
    await cy.wait_for(lambda t: "You are following the teacher: press t" in t)
    assert "You are following the teacher: press t" not in bo.text()

    await ann.press("t")
    await ann.wait_for(lambda t: "exploring" in t and "BWD 0/3" in t)
    await ann.press("b")
    await ann.wait_for(lambda t: "BWD 1/3" in t)
    await bo.press("L")
    await bo.wait_for(lambda t: "跟随" in t and "反向 0/3" in t)
    await teacher.press("B")
    await teacher.wait_for(lambda t: "UPD" in t)
    # Still following, in Chinese, in an app of its own.
    await bo.wait_for(lambda t: "跟随" in t and "w.grad -2" in t)
    await cy.wait_for(lambda t: "UPD" in t)
    assert "UPD" not in ann.text()
    assert len(await group_apps(log)) == 1  # ann's and bo's own apps are not group apps
    await teacher.wait_for(lambda t: "teacher · 3 students" in t)  # people, not apps

    # t again: ann follows in the group again, at the teacher's step.
    await ann.press("t")
    await ann.wait_for(lambda t: "UPD" in t and " following " in t)
    await same_screen(ann, cy)
    for session in (teacher, ann, bo, cy):
        session.close()


async def test_a_stalled_member_does_not_hold_up_the_others(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    srv = server(*TEACHER)
    teacher = await Student.join(srv.port, "teacher", password="chalk")
    ann = await Student.join(srv.port, "ann")
    slow = await Student.join(srv.port, "slow")
    await slow.wait_for(lambda t: " following " in t)
    slow.process.channel.pause_reading()  # stops taking the screen: its window fills
    for n in range(1, 31):
        await teacher.press("s")
        await ann.wait_for(lambda t, n=n: f"Epoch {1 + n // 3}/100" in t, timeout=30)
    slow.process.channel.resume_reading()
    await same_screen(ann, slow)
    for session in (teacher, ann, slow):
        session.close()


async def test_a_crashed_group_app_is_replaced_and_its_members_stay(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    log, srv, teacher = await a_class(server, tmp_path)
    ann = await Student.join(srv.port, "ann")
    await ann.wait_for(lambda t: " following " in t)
    await teacher.press("s")
    await ann.wait_for(lambda t: "Sample 2/3" in t)
    (pid,) = await group_apps(log)
    os.kill(pid, signal.SIGKILL)
    await group_apps(log, count=2)
    await ann.wait_for(lambda t: "Sample 2/3" in t and " following " in t)
    await teacher.press("s")
    await ann.wait_for(lambda t: "Sample 3/3" in t)
    assert not ann.closed.is_set()
    for session in (teacher, ann):
        session.close()


async def test_a_members_key_flood_reaches_no_app_and_slows_no_one(server) -> None:  # type: ignore[no-untyped-def]
    srv = server(*TEACHER)
    teacher = await Student.join(srv.port, "teacher", password="chalk")
    ann = await Student.join(srv.port, "ann")
    flood = await Student.join(srv.port, "flood")
    await flood.wait_for(lambda t: " following " in t)
    before = len(flood.raw)
    # Two megabytes of stepping keys, mouse reports and half sequences.
    flood.process.stdin.write((b" \x1b[<0;3;4M\x1b[" + b"n" * 61) * 32768)
    await teacher.press("s")
    await ann.wait_for(lambda t: "Sample 2/3" in t)
    await flood.wait_for(lambda t: "Sample 2/3" in t)
    await teacher.press("s")
    await ann.wait_for(lambda t: "Sample 3/3" in t)
    await same_screen(ann, flood, timeout=60)  # the note has gone: the group's screen again
    # A note or two, not one per key: the flood cost the server a bounded amount.
    assert flood.raw[before:].count(b"You are following the teacher: press t") < 20
    assert not flood.closed.is_set()
    for session in (teacher, ann, flood):
        session.close()
