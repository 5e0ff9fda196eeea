"""Snapshot tests of the themes for lit rooms and projectors, at 80×24.

Stored in ``tests/__snapshots__/test_snapshots_rooms/``; after an intended change of
the look, review the new pictures and store them with ``--snapshot-update``.
"""

from __future__ import annotations

import pytest
from test_snapshots import after

from bptui.app.main import BptuiApp
from bptui.app.settings import Settings
from bptui.i18n import set_language
from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper


@pytest.fixture(autouse=True)
def _colour_and_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pictures in colour and in English, whatever the test machine says."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    set_language("en")


def themed(theme: str) -> BptuiApp:
    lesson = seed_lesson()
    return BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(theme=theme))


def test_projector_mid_backward(snap_compare) -> None:
    """The projector theme after F b b: black background, white text, full-strength
    cyan borders and wires, gradients ∂ -2 in bold pink, the chain's formulas in bold
    cyan, the plot's axes and the status bar's other phases in white (no dim text),
    and every panel's text in bold."""
    assert snap_compare(
        themed("projector"), terminal_size=(80, 24), run_before=after("F", "b", "b")
    )


def test_light_after_update(snap_compare) -> None:
    """The light theme after F B u: dark text on white, blue borders, gradients in
    purple, ✓ all agree in green, the update line reversed in the code."""
    assert snap_compare(themed("light"), terminal_size=(80, 24), run_before=after("F", "B", "u"))
