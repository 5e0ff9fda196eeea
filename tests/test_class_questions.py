"""Class questions end to end: the teacher asks, the class answers, torch reveals.

A real server on 127.0.0.1 and real asyncssh clients whose screens pyte decodes:
followers in view groups answer on their own screens (the server's prompt), a
follower with an app of their own in its quiz prompt; the teacher's screen
counts the answers as they arrive; the reveal reaches everyone.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from patience import Deadline
from serve_client import Student

from bptui.app.quiz import question_for
from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs Linux pidfds and ptys")

#: What the seed lesson's first micro-step asks, and torch's answer.
FIRST = question_for(
    *(lambda s: (s.snapshot(), (s.next(), s.snapshot())[1]))(Stepper(seed_lesson()))
)
assert FIRST is not None
ASKED = f"{FIRST.prompt} = _"
VALUE = f"{FIRST.value:g}"
WRONG = "-2"


async def asked(student: Student) -> None:
    await student.wait_for(lambda t: ASKED in t)


async def answer(student: Student, text: str) -> None:
    await student.press(text + "\r")
    await student.wait_for(lambda t: "You said" in t)


async def handout(folder: Path, timeout: float = 20.0) -> str:
    deadline = Deadline(timeout)
    while not deadline.passed():
        found = sorted(folder.glob("bptui-*.md"))
        if found:
            return found[0].read_text()
        await asyncio.sleep(0.1)
    raise AssertionError("no handout was written")


async def test_a_class_question_is_asked_tallied_and_revealed(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Five followers in view groups, one joining mid-question: 3 right, 1 wrong, 1
    silent; the teacher sees it live, and the reveal tells each of them."""
    folder = tmp_path / "handouts"
    folder.mkdir()
    srv = server("--teacher-password", "chalk", cwd=folder)
    teacher = await Student.join(srv.port, "teacher", password="chalk", width=100, height=30)
    names = ["ann", "bo", "[reverse]cy*_|", "di"]
    students = [await Student.join(srv.port, name) for name in names]
    await teacher.wait_for(lambda t: "teacher · 4 students" in t)
    await teacher.press("Q")
    await teacher.wait_for(lambda t: "Quiz on" in t)
    await teacher.press(" ")
    await teacher.wait_for(lambda t: "Class question: " + FIRST.prompt in t)
    for student in students:
        await asked(student)
    late = await Student.join(srv.port, "ed")  # joins mid-question: asked too
    await asked(late)
    ann, bo, cy, di = students
    for student in (ann, bo, late):
        await answer(student, VALUE)
    await answer(cy, "7")  # wrong first: the last answer counts
    await answer(cy, WRONG)
    # di says nothing.
    shown = await teacher.wait_for(
        lambda t: "answered 4 of 5 · right 3 · wrong 1 · not answered 1" in t and WRONG in t
    )
    assert FIRST.prompt in shown
    bars = [line for line in shown.splitlines() if f"wrong {WRONG}" in line]
    assert len(bars) == 1 and "█" in bars[0] and bars[0].rstrip().endswith("1"), shown
    assert f"{FIRST.name} = {VALUE}" not in shown  # not before the reveal (a projector)

    await teacher.press(" ")  # the teacher's next key reveals
    await teacher.wait_for(lambda t: "3 of 5 right, 1 wrong, 1 not answered" in t)
    for student in (ann, bo, late):
        await student.wait_for(lambda t: f"Right: {FIRST.name} = {VALUE}" in t)
    await cy.wait_for(lambda t: f"Not quite: you said {WRONG}, torch says" in t)
    await di.wait_for(lambda t: f"Not answered (not scored): {FIRST.name} = {VALUE}" in t)
    for student in (*students, late):  # torch's value is on every screen
        await student.wait_for(lambda t: f"{FIRST.name}={VALUE}" in t.replace(" ", ""))

    # Scores in the class view; the name from the network shown as typed.
    await teacher.press("C")
    view = await teacher.wait_for(lambda t: "[reverse]cy*_|" in t and "1/1" in t)
    rows = [line for line in view.splitlines() if "cy*_|" in line]
    assert len(rows) == 1 and "0/1" in rows[0], view
    await teacher.press("\x1b")
    await teacher.wait_for(lambda t: "following 5" not in t)
    await teacher.press("x")
    await teacher.wait_for(lambda t: "Handout written" in t)
    text = await handout(folder)
    assert "| 1 | ŷ | 1 | 3 | 1 | 1 | \\-2 ×1 |" in text
    assert "| \\[reverse\\]cy\\*\\_\\| | 127\\.0\\.0\\.1 | 0 | 1 |" in text
    assert "| di | 127\\.0\\.0\\.1 | 0 | 1 |" in text
    for session in (teacher, *students, late):
        session.close()


async def test_a_follower_with_an_app_of_their_own_answers_in_its_prompt(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--teacher-password", "chalk", "--own-apps")
    teacher = await Student.join(srv.port, "teacher", password="chalk", width=100, height=30)
    ann = await Student.join(srv.port, "ann")
    explorer = await Student.join(srv.port, "bo")
    await teacher.wait_for(lambda t: "teacher · 2 students" in t)
    await explorer.press("t")
    await teacher.wait_for(lambda t: "1 exploring" in t)
    await teacher.press("Q")
    await teacher.wait_for(lambda t: "Quiz on" in t)
    await teacher.press(" ")
    await ann.wait_for(lambda t: f"{FIRST.prompt} =" in t)
    await teacher.wait_for(lambda t: "answered 0 of 1" in t)  # the explorer is not asked
    await ann.press(WRONG + "\r")
    await teacher.wait_for(lambda t: "answered 1 of 1 · right 0 · wrong 1" in t)
    await teacher.press(" ")
    await ann.wait_for(
        lambda t: f"Not quite: you said {WRONG}, torch says {FIRST.name} = {VALUE}" in t
    )
    assert ASKED not in explorer.text() and f"{FIRST.prompt} =" not in explorer.text()
    for session in (teacher, ann, explorer):
        session.close()
