"""The teacher opens another lesson for the class (``o``), end to end.

A real server on 127.0.0.1 and real asyncssh clients whose screens pyte decodes:
a follower in a view group and a follower with an app of their own switch with
the teacher; an explorer is told and keeps their lesson until ``t``; a late
joiner lands on the class's lesson; the class view shows an explorer's step.
"""

from __future__ import annotations

import sys

import pytest
from serve_client import Student

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs Linux pidfds and ptys")

#: ``neuron``'s place in the picker (the default lesson first, then the others by name).
DOWN_TO_NEURON = "\x1b[B" * 5
#: The status bar of the neuron lesson's first sample (it has four; the note's lesson three).
NEURON = "Sample 1/4"


async def open_neuron(session: Student) -> None:
    """``o``, the arrow keys and enter: the neuron lesson, from its start."""
    await session.press("o")
    await session.wait_for(lambda t: "Open a lesson from its start" in t)
    await session.press(DOWN_TO_NEURON + "\r")
    await session.wait_for(lambda t: "Now: A neuron" in t and NEURON in t)


async def test_the_teachers_lesson_moves_followers_and_is_told_to_explorers(server) -> None:  # type: ignore[no-untyped-def]
    srv = server("--teacher-password", "chalk")
    teacher = await Student.join(srv.port, "teacher", password="chalk", width=100, height=30)
    ann = await Student.join(srv.port, "ann")  # follows in a view group
    bo = await Student.join(srv.port, "bo")  # follows with an app of their own (g)
    cy = await Student.join(srv.port, "cy")  # explores
    await teacher.wait_for(lambda t: "teacher · 3 students" in t)
    await bo.press("g")
    await cy.press("t")
    await cy.wait_for(lambda t: "Exploring alone" in t)
    await cy.press("ss")

    # The class view says where the explorer is.
    await teacher.press("C")
    await teacher.wait_for(lambda t: "exploring, 2 steps done" in t)
    await teacher.press("\x1b")
    await teacher.wait_for(lambda t: "exploring," not in t)

    # A follower's o does nothing but say how to choose a lesson of their own.
    await ann.press("o")
    await ann.wait_for(lambda t: "press t to explore" in t)

    await open_neuron(teacher)
    for follower in (ann, bo):
        await follower.wait_for(lambda t: "has opened A neuron" in t and NEURON in t)
    screen = await cy.wait_for(lambda t: "moved the class on to A neuron" in t)
    assert NEURON not in screen  # the explorer keeps their lesson
    await teacher.press("f")
    await ann.wait_for(lambda t: "FWD 1/" in t)

    # A late joiner lands on the class's lesson and step.
    dan = await Student.join(srv.port, "dan")
    await dan.wait_for(lambda t: NEURON in t and "FWD 1/" in t)
    # The explorer follows again: the class's lesson, at the class's step.
    await cy.press("t")
    await cy.wait_for(lambda t: NEURON in t and "FWD 1/" in t)
    for session in (teacher, ann, bo, cy, dan):
        session.close()


async def test_an_explorer_opens_a_lesson_of_their_own(server) -> None:  # type: ignore[no-untyped-def]
    """A student exploring alone may use o: their own app changes, the class does not."""
    srv = server("--teacher-password", "chalk")
    teacher = await Student.join(srv.port, "teacher", password="chalk")
    ann = await Student.join(srv.port, "ann")
    bo = await Student.join(srv.port, "bo")
    await teacher.wait_for(lambda t: "teacher · 2 students" in t)
    await bo.press("g")  # an app of their own, kept when they follow again
    await bo.press("t")
    await bo.wait_for(lambda t: "Exploring alone" in t)
    await open_neuron(bo)
    await teacher.press("f")
    await ann.wait_for(lambda t: "FWD 1/3" in t)
    assert NEURON not in ann.text() and NEURON not in teacher.text()
    # Following again: the class's lesson, not the one the explorer opened.
    await bo.press("t")
    await bo.wait_for(lambda t: "FWD 1/3" in t and NEURON not in t)
    for session in (teacher, ann, bo):
        session.close()


async def test_a_late_joiner_with_an_app_of_their_own_replays_onto_the_lesson(server) -> None:  # type: ignore[no-untyped-def]
    """``--own-apps``: the late joiner's app replays the class log, the lesson's start first."""
    srv = server("--teacher-password", "chalk", "--own-apps")
    teacher = await Student.join(srv.port, "teacher", password="chalk")
    await teacher.wait_for(lambda t: "teacher · 0 students" in t)
    await teacher.press("s")
    await open_neuron(teacher)
    await teacher.press("s")
    await teacher.wait_for(lambda t: "Sample 2/4" in t)
    late = await Student.join(srv.port, "ann")
    await late.wait_for(lambda t: "Sample 2/4" in t and " following " in t)
    for session in (teacher, late):
        session.close()
