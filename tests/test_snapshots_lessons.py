"""Snapshot tests: each built-in lesson's first backward step, at 80×24 and 120×40.

The picture after ``F`` then ``b`` shows the lesson's graph as torch builds it
(values, the first gradient, grad_fn names), the chain rule's first factor,
the tensor panel for all its parameters, and the code line that ran. Review
changes with ``pytest tests/test_snapshots_lessons.py --snapshot-update``, and
look at each new picture before storing it.

Three lessons' graphs are wider than 80 columns (two-layer, collapse, matrix): at
80×24 the graph box follows the loss node to the right, so a picture would show a
part of the graph that depends on the follow. Those are checked by the screen's text
instead: the first factor in the chain panel, and the graph's gradient on screen.
"""

from __future__ import annotations

import pytest
from test_app import make_app, press, shown
from test_snapshots import after

from bptui.app.main import BptuiApp
from bptui.app.panels.chain import ChainPanel
from bptui.app.panels.graph import GraphBox
from bptui.app.panels.status import StatusBar
from bptui.lesson.engine import Stepper
from bptui.lesson.files import builtin_names, load_lesson
from bptui.lesson.values import short

#: Lessons whose graph is wider than an 80-column terminal.
WIDE = ("two-layer", "collapse", "matrix")
FITS = [name for name in builtin_names() if name not in WIDE]


@pytest.fixture(autouse=True)
def _colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pictures are taken in colour whatever the test machine's NO_COLOR says."""
    monkeypatch.delenv("NO_COLOR", raising=False)


#: (size, lesson) pairs that have a picture: every lesson at 120×40, those that fit at 80×24.
PICTURES = [
    pytest.param(size, name, id=f"{size[0]}x{size[1]}-{name}")
    for size in ((80, 24), (120, 40))
    for name in builtin_names()
    if size == (120, 40) or name not in WIDE
]


@pytest.mark.parametrize(("size", "name"), PICTURES)
def test_first_backward_step(snap_compare, name: str, size: tuple[int, int]) -> None:
    """The lesson after its forward pass (F) and one backward micro-step (b): the loss
    node's backward function has run, so the first gradient (∂loss/∂r, ∂loss/∂r² in
    matrix, ∂L/∂z in node) shows under its node in the graph and as the chain rule's
    first factor; the tensor panel lists every parameter, the code marks l.backward()."""
    lesson = load_lesson(name)
    app = BptuiApp(lesson, stepper=Stepper(lesson))
    assert snap_compare(app, terminal_size=size, run_before=after("F", "b"))


@pytest.mark.parametrize("name", WIDE)
async def test_first_backward_step_of_a_wide_graph_at_80x24(name: str) -> None:
    """A graph wider than 80 columns after F b: the chain panel shows the first factor's
    number and the status BWD 1/n; the graph has followed the backward pass to the loss
    node, so the first gradient is on screen under its node without a key."""
    app = make_app(load_lesson(name))
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "F", "b")
        snap = app.snapshot
        (factor,) = [f for f in snap.factors if f.value is not None]
        if snap.chains[0].elements:
            # A matrix: one element's chain, its numbers once backward reaches z1 (the
            # graph shows the vector factors arriving).
            assert "∂loss/∂W[0,0] = ∂loss/∂z1[0] · ∂z1[0]/∂W[0,0]" in shown(app, ChainPanel)
        else:
            assert short(factor.value) in shown(app, ChainPanel)
        assert f"BWD 1/{snap.phase_steps}" in shown(app, StatusBar)
        gradient = f"∂ {short(snap.node(factor.wrt).grad)}"
        box = app.query_one(GraphBox)
        assert box.max_scroll_x > 0 and box.scroll_x > 0
        assert gradient in shown(app, GraphBox)
