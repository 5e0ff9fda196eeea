"""The teacher's side of the class, end to end: the class view, calling explorers back.

A real server on 127.0.0.1 and real asyncssh clients (screens read with pyte).
"""

from __future__ import annotations

import sys

import pytest
from serve_client import Student

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs Linux pidfds and ptys")


async def test_the_class_view_lists_students_and_b_calls_explorers_back(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--teacher-password", "chalk")
    teacher = await Student.join(srv.port, "teacher", password="chalk", width=100, height=30)
    ann = await Student.join(srv.port, "ann")
    bo = await Student.join(srv.port, "bo")
    # SSH refuses control characters in a user name (SASLprep); markup is allowed.
    evil = await Student.join(srv.port, "[reverse]evil[/]")
    await teacher.wait_for(lambda t: "teacher · 3 students" in t)
    await bo.press("t")
    await bo.wait_for(lambda t: "exploring" in t)
    await teacher.wait_for(lambda t: "teacher · 3 students · 1 exploring" in t)

    await teacher.press("C")
    screen = await teacher.wait_for(lambda t: "following 2 · exploring 1" in t)
    rows = [line for line in screen.splitlines() if "127.0.0.1" in line]
    assert len(rows) == 3
    assert "bo" in rows[0] and "exploring" in rows[0]  # explorers first
    assert any("ann" in row and "following" in row for row in rows)
    # A name from the network is shown as text, never read as markup.
    assert any("[reverse]evil[/]" in row for row in rows)

    await teacher.press("b")
    await bo.wait_for(lambda t: "The teacher called the class back" in t or " following " in t)
    await teacher.wait_for(lambda t: "following 3 · exploring 0" in t)
    await teacher.press("\x1b")
    await teacher.wait_for(lambda t: "teacher · 3 students" in t and "exploring" not in t)
    # Back in a view group: the teacher's next step reaches bo.
    await teacher.press("f")
    await bo.wait_for(lambda t: "FWD 1/3" in t and " following " in t)
    for session in (teacher, ann, bo, evil):
        session.close()
