"""Autoplay: `p` steps on its own at a chosen speed, `+` and `-` change the speed.

Each tick takes as many micro-steps as the speed asks for in one frame, and stops
at the lesson's end or a divergence. In a class, a teacher's tick is one command
(``Step("next", done)``), so followers take the same steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import App

from ..classroom.protocol import Command, Step
from ..lesson.snapshot import Kind, Message

if TYPE_CHECKING:
    from ..lesson.engine import Stepper

#: Autoplay speeds in micro-steps per second.
SPEEDS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
#: The shortest time between two draws (30 frames a second).
FRAME = 1 / 30


class AutoplayKeys(App[int]):
    """The app's autoplay keys; the rest of the app is :class:`~bptui.app.main.BptuiApp`."""

    stepper: Stepper | None
    _note: Message | None
    _autoplay: Any = None
    _speed = 3

    if TYPE_CHECKING:  # given by the classroom mixin and the app

        def _refused_while_following(self) -> bool: ...
        def _schedule_render(self) -> None: ...
        def send_command(self, command: Command) -> None: ...

    def action_autoplay(self) -> None:
        """p: autoplay on or off."""
        if self._refused_while_following():
            return
        if self._autoplay is None:
            self._start_autoplay()
        else:
            self._stop_autoplay()
        self._schedule_render()

    def action_faster(self) -> None:
        self._set_speed(self._speed + 1)

    def action_slower(self) -> None:
        self._set_speed(self._speed - 1)

    def _autoplay_label(self) -> str | None:
        if self._autoplay is None:
            return None
        return f"{SPEEDS[self._speed]}/s"

    def _set_speed(self, speed: int) -> None:
        self._speed = max(0, min(len(SPEEDS) - 1, speed))
        if self._autoplay is not None:
            self._stop_autoplay()
            self._start_autoplay()
        self._schedule_render()

    def _start_autoplay(self) -> None:
        rate = SPEEDS[self._speed]
        interval = max(1 / rate, FRAME)
        per_tick = max(1, round(rate * interval))
        self._autoplay = self.set_interval(interval, lambda: self._autoplay_tick(per_tick))
        self.refresh_bindings()

    def _stop_autoplay(self) -> None:
        if self._autoplay is not None:
            self._autoplay.stop()
            self._autoplay = None
        self.refresh_bindings()

    def _autoplay_tick(self, steps: int) -> None:
        stepper = self.stepper
        if stepper is None:
            return
        self._note = None
        done = 0
        for _ in range(steps):
            done += 1
            if not stepper.next():
                break
            message = stepper.message
            if message is not None and message.kind is Kind.DIVERGED:
                break
        self.send_command(Step("next", done))
        self._schedule_render()
