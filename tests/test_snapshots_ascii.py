"""Snapshot tests of ASCII mode (``--ascii``, or a terminal that is not UTF-8) at 80×24.

Every box is ``+ - |``, ∂ is ``d``, ŷ is ``y_hat``, ✓ is ``ok``, the plot's curve is
drawn with ``' - .`` and its points with ``o`` and ``@``. Re-record after an intended
change with ``pytest tests/test_snapshots_ascii.py --snapshot-update`` and look at them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest
from test_snapshots import press_and_wait
from textual.pilot import Pilot

from bptui import glyphs
from bptui.app.main import BptuiApp
from bptui.app.panels.plot import LossPlot
from bptui.app.settings import Settings
from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper


@pytest.fixture(autouse=True)
def _colour_and_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In colour whatever NO_COLOR says; ASCII mode off again for the next test."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield
    glyphs.set_ascii(False)


def ascii_app() -> BptuiApp:
    lesson = seed_lesson()
    return BptuiApp(lesson, Stepper(lesson), Settings(ascii_only=True))


def after(*keys: str) -> Callable[[Pilot], Awaitable[None]]:
    """Press ``keys``; wait until the frame shows the engine's state and the plot is drawn."""

    def ready(app: BptuiApp) -> bool:
        if app.stepper is None or app.snapshot is None:
            return False
        now = glyphs.plain(app.stepper.snapshot())
        return app.snapshot == now and app.query_one(LossPlot).plotted

    return press_and_wait(keys, ready)


def test_backward_pass_done(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The note's lesson after its forward and backward passes (F B): every gradient in the
    graph as ``d -2`` and so on, the chain rule ``dloss/dw = dloss/dr * dr/dy_hat * dy_hat/dw``
    with its numbers and ``ok all agree``, the plot's curve and points in ASCII."""
    assert snap_compare(ascii_app(), terminal_size=(80, 24), run_before=after("F", "B"))


def test_help(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The help page in ASCII: its box, arrows (->), bullets (-) and the chain rule."""
    assert snap_compare(ascii_app(), terminal_size=(80, 24), run_before=after("question_mark"))
