"""Autoplay: `p` steps on its own at a chosen speed, `+` and `-` change the speed.

Each tick takes as many micro-steps as the speed asks for in one frame, and stops
at the lesson's end or a divergence. In a class, a teacher's tick is one command
(``Step("next", done)``), so followers take the same steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App

from ..classroom.commands import Step
from ..lesson.snapshot import Kind
from .session import LessonSession

#: Autoplay speeds in micro-steps per second.
SPEEDS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
#: The shortest time between two draws (30 frames a second).
FRAME = 1 / 30


class Autoplay:
    """The app's autoplay: a timer of the app's that steps the session."""

    def __init__(self, app: App[Any], session: LessonSession, draw: Callable[[], None]) -> None:
        self._app = app
        self._session = session
        #: Asks for a frame (throttled by the app).
        self._draw = draw
        self._timer: Any = None
        self._speed = 3

    @property
    def playing(self) -> bool:
        return self._timer is not None

    def toggle(self) -> None:
        """p: autoplay on or off."""
        if self._timer is None:
            self.start()
        else:
            self.stop()
        self._draw()

    def faster(self) -> None:
        self._set_speed(self._speed + 1)

    def slower(self) -> None:
        self._set_speed(self._speed - 1)

    def label(self) -> str | None:
        """The speed for the status bar, None when not playing."""
        if self._timer is None:
            return None
        return f"{SPEEDS[self._speed]}/s"

    def _set_speed(self, speed: int) -> None:
        self._speed = max(0, min(len(SPEEDS) - 1, speed))
        if self._timer is not None:
            self.stop()
            self.start()
        self._draw()

    def start(self) -> None:
        rate = SPEEDS[self._speed]
        interval = max(1 / rate, FRAME)
        per_tick = max(1, round(rate * interval))
        self._timer = self._app.set_interval(interval, lambda: self._tick(per_tick))
        self._app.refresh_bindings()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._app.refresh_bindings()

    def _tick(self, steps: int) -> None:
        session = self._session
        stepper = session.stepper
        if stepper is None:
            return
        session.note = None
        done = 0
        for _ in range(steps):
            done += 1
            if not stepper.next():
                break
            message = stepper.message
            if message is not None and message.kind is Kind.DIVERGED:
                break
        session.send_command(Step("next", done))
        self._draw()
