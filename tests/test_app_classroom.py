"""The app's classroom side through Pilot: what it sends as teacher, what it does as student.

The classroom server is replaced by the other end of a socket pair, so each test
reads exactly the messages the app sends and feeds it the ones a server would.
"""

from __future__ import annotations

import socket
from typing import Any

from test_app import make_app, shown, wait_for

from bptui.app.classlink import ClassLink
from bptui.app.panels.message import MessageBar
from bptui.app.panels.status import StatusBar
from bptui.classroom.protocol import VERSION, Cmd, Command, FrameReader, encode, from_json, to_json
from bptui.lesson import Phase, seed_lesson
from bptui.lesson.engine import Stepper
from bptui.lesson.files import load_lesson

SIZE = (80, 24)


class FakeServer:
    def __init__(self, role: str) -> None:
        self.ours, theirs = socket.socketpair()
        self.link = ClassLink(theirs, role)
        self.reader = FrameReader()
        self.ours.setblocking(False)

    def received(self) -> list[dict[str, Any]]:
        messages = []
        while True:
            try:
                data = self.ours.recv(65536)
            except BlockingIOError:
                return messages
            messages += [
                {k: v for k, v in to_json(m).items() if k != "v"} for m in self.reader.feed(data)
            ]

    def send(self, message: dict[str, Any]) -> None:
        """``message`` as the wire's JSON (without the version), checked by the protocol."""
        self.ours.sendall(encode(from_json({"v": VERSION, **message})))


def command(body: dict[str, Any]) -> Command:
    """A command from its wire JSON, as a follower's app receives it."""
    message = from_json({"v": VERSION, "t": "cmd", "c": body})
    assert isinstance(message, Cmd)
    return message.command


def classroom_app(role: str) -> tuple[Any, FakeServer]:
    server = FakeServer(role)
    app = make_app()
    app.session.link = server.link
    return app, server


def following_app(language: str = "en") -> tuple[Any, FakeServer]:
    """A student's app, speaking ``language``, its engine naming keys as the app does:
    it follows once the server says a teacher is there."""
    from bptui.app.keymap import ENGINE_LABELS
    from bptui.app.main import BptuiApp
    from bptui.app.settings import Settings

    lesson = seed_lesson()
    server = FakeServer("student")
    app = BptuiApp(
        lesson,
        stepper=Stepper(lesson, labels=ENGINE_LABELS),
        settings=Settings(language=language),
        link=server.link,
    )
    return app, server


async def test_the_teachers_steps_edits_and_autoplay_are_sent() -> None:
    app, server = classroom_app("teacher")
    async with app.run_test(size=SIZE) as pilot:
        server.send({"t": "class", "teacher": True, "students": 3})
        await pilot.pause(0.1)
        assert "teacher · 3 students" in shown(app, StatusBar)
        await pilot.press("space", "F", "left")
        await pilot.pause()
        assert server.received() == [
            {"t": "cmd", "c": {"a": "next"}},
            {"t": "cmd", "c": {"a": "finish_forward"}},
            {"t": "cmd", "c": {"a": "undo"}},
        ]
        await pilot.press("s")
        await pilot.pause()
        assert server.received() == [{"t": "cmd", "c": {"a": "train_step"}}]
        await pilot.press("E")
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ == "EditScreen"
        app.screen.query_one("#edit-lr").value = "0.5"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause(0.1)
        edits = [m["c"]["edit"] for m in server.received() if "edit" in m.get("c", {})]
        assert edits and edits[0]["lr"] == 0.5
        assert app.stepper is not None and app.stepper.lesson.lr == 0.5
        # t means nothing to the teacher, and is hidden from the footer.
        assert app.check_action("toggle_follow", ()) is False
        await pilot.press("p")
        await pilot.pause(0.5)
        await pilot.press("p")
        runs = [m["c"] for m in server.received() if m["c"].get("a") == "next"]
        assert runs and all(c.get("n", 1) >= 1 for c in runs)  # n=1 is left out
        # The same commands on a fresh stepper give the teacher's state exactly.
        replayed = make_app()
        assert replayed.stepper is not None
        for body in (
            {"a": "next"},
            {"a": "finish_forward"},
            {"a": "undo"},
            {"a": "train_step"},
            {"edit": edits[0]},
            *runs,
        ):
            replayed.session.apply_command(command(body))
        assert replayed.stepper.snapshot().params == app.stepper.snapshot().params
        assert replayed.stepper.micro_steps == app.stepper.micro_steps


async def test_a_student_follows_explores_and_rejoins() -> None:
    app, server = classroom_app("student")
    async with app.run_test(size=SIZE) as pilot:
        server.send({"t": "class", "teacher": True, "students": 1})
        await pilot.pause(0.1)
        assert " following " in shown(app, StatusBar)
        assert "You are following the teacher" in shown(app, MessageBar)
        assert app.stepper is not None
        # Own stepping keys change nothing while following, and say why.
        for key in ("space", "f", "s", "e", "r", "Z", "E", "p"):
            await pilot.press(key)
        await pilot.pause()
        assert app.stepper.micro_steps == 0 and not app.stepper.modes.skip_zero
        assert server.received() == []
        assert "Press t to explore" in shown(app, MessageBar)
        # The teacher's commands are applied.
        server.send({"t": "cmd", "c": {"a": "finish_forward"}})
        server.send({"t": "cmd", "c": {"a": "next", "n": 2}})
        await pilot.pause(0.1)
        assert app.stepper.phase is Phase.BACKWARD and app.stepper.snapshot().phase_step == 2
        # t: explore alone; the teacher's commands are ignored; own keys work.
        await pilot.press("t")
        await pilot.pause()
        # The server hears where the explorer is (for the teacher's class view).
        assert server.received() == [{"t": "follow", "on": False}, {"t": "where", "step": 0}]
        assert "exploring" in shown(app, StatusBar)
        server.send({"t": "cmd", "c": {"a": "reset"}})
        await pilot.press("B")
        await pilot.pause(0.1)
        assert app.stepper.phase is Phase.UPDATE
        # t again: ask to follow; the server's sync replaces the lesson with the class's.
        await pilot.press("t")
        await pilot.pause()
        assert server.received() == [{"t": "follow", "on": True}]
        server.send({"t": "sync", "log": [{"a": "forward"}], "teacher": True, "students": 1})
        await pilot.pause(0.1)
        assert app.stepper.micro_steps == 1 and app.stepper.phase is Phase.FORWARD
        assert " following " in shown(app, StatusBar)
        assert "Following the teacher again" in shown(app, MessageBar)


async def test_another_lesson_moves_a_follower_and_is_told_to_an_explorer() -> None:
    app, server = classroom_app("student")
    async with app.run_test(size=SIZE) as pilot:
        server.send({"t": "class", "teacher": True, "students": 1})
        server.send({"t": "cmd", "c": {"a": "train_step"}})
        server.send({"t": "cmd", "c": {"open": "neuron"}})
        server.send({"t": "cmd", "c": {"a": "forward"}})
        await wait_for(pilot, lambda: app.stepper is not None and app.stepper.micro_steps == 1)
        assert app.stepper.lesson == load_lesson("neuron")
        assert app.stepper.steps_done == 0  # nothing of the lesson before
        # Exploring: the teacher's next lesson is told, not taken.
        await pilot.press("t")
        await pilot.press("s", "s")
        await wait_for(pilot, lambda: {"t": "where", "step": 2} in server.received())
        server.send({"t": "cmd", "c": {"open": "affine"}})
        await wait_for(pilot, lambda: "moved the class on to Affine" in shown(app, MessageBar))
        assert app.stepper.lesson == load_lesson("neuron") and app.stepper.steps_done == 2
        # Following again: the class log from the lesson the server started with.
        await pilot.press("t")
        server.send({"t": "sync", "log": [{"open": "affine"}], "teacher": True, "students": 1})
        await wait_for(pilot, lambda: app.stepper.lesson == load_lesson("affine"))
        server.send({"t": "sync", "log": [{"a": "forward"}], "teacher": True, "students": 1})
        await wait_for(pilot, lambda: app.stepper.lesson == app.session.shelf.started)
        assert app.stepper.micro_steps == 1


async def test_a_student_without_a_teacher_is_told_so() -> None:
    app, server = classroom_app("student")
    async with app.run_test(size=SIZE) as pilot:
        server.send({"t": "class", "teacher": False, "students": 1})
        await pilot.pause(0.1)
        assert "waiting for the teacher" in shown(app, StatusBar)
        server.ours.close()  # the server has gone
        await pilot.pause(0.1)
        assert "classroom server has closed: the lesson goes on here" in shown(app, MessageBar)
        await pilot.press("space")  # on their own now: keys work
        await pilot.pause()
        assert app.stepper is not None and app.stepper.micro_steps == 1


async def test_outside_a_classroom_t_is_hidden_and_does_nothing() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.check_action("toggle_follow", ()) is False
        await pilot.press("t")
        await pilot.pause()
        assert app.stepper is not None and app.stepper.micro_steps == 0
        assert "following" not in shown(app, StatusBar)


def test_replay_reaches_the_same_state_as_stepping() -> None:
    lesson = seed_lesson()
    app = make_app(lesson)
    app.session.replay(
        tuple(
            command(body)
            for body in (
                {"a": "finish_epoch"},
                {"a": "skip_zero_mode"},
                {"a": "next", "n": 17},
                {"a": "undo"},
                {"edit": {"lr": 0.02, "params": {"w": 1.5}}},
                {"a": "train_step"},
            )
        )
    )
    direct = Stepper(lesson)
    direct.finish_epoch()
    direct.toggle_skip_zero()
    for _ in range(17):
        direct.next()
    direct.undo()
    direct.edit(lr=0.02, params={"w": 1.5})
    direct.train_step()
    assert app.stepper is not None
    assert app.stepper.snapshot().params == direct.snapshot().params
    assert app.stepper.history() == direct.history()
