"""Snapshot tests: each built-in lesson's first backward step, at 80×24 and 120×40.

The picture after ``F`` then ``b`` shows the lesson's graph as torch builds it
(values, the first gradient, grad_fn names), the chain rule's first factor,
the tensor panel for all its parameters, and the code line that ran. Review
changes with ``pytest tests/test_snapshots_lessons.py --snapshot-update``.
"""

from __future__ import annotations

import pytest
from test_snapshots import SIZES, after

from bptui.app.main import BptuiApp
from bptui.lesson.engine import Stepper
from bptui.lesson.files import builtin_names, load_lesson


@pytest.fixture(autouse=True)
def _colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pictures are taken in colour whatever the test machine's NO_COLOR says."""
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.mark.parametrize("name", builtin_names())
@pytest.mark.parametrize("size", SIZES)
def test_first_backward_step(snap_compare, name: str, size: tuple[int, int]) -> None:
    """The lesson after its forward pass (F) and one backward micro-step (b): the loss
    node's backward function has run, so the first gradient (∂loss/∂r, or ∂L/∂z for the
    node lesson) shows in the graph and as the chain rule's first factor."""
    lesson = load_lesson(name)
    app = BptuiApp(lesson, stepper=Stepper(lesson))
    assert snap_compare(app, terminal_size=size, run_before=after("F", "b"))
