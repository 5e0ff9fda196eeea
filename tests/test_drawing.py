"""How the app draws a key press: only the lines that changed, the plot a frame
later, garbage collection between frames. These keep a key press cheap (see
``bench/bench_keys.py``); the tests check the behaviour, not the time.
"""

from __future__ import annotations

import gc
from collections import Counter

from test_app import make_app, press, screen_text, shown
from textual.widgets import Static

from bptui.app.collect import FULL_GC_EVERY, GC_THRESHOLD
from bptui.app.main import BptuiApp
from bptui.app.panels.graph import GraphPanel
from bptui.app.panels.lines import LinePanel, _key
from bptui.app.panels.message import MessageBar
from bptui.app.panels.plot import LossPlot
from bptui.app.panels.tensor import TensorPanel
from bptui.lesson.snapshot import Kind, Message


def _spy_rows(monkeypatch) -> Counter:  # type: ignore[no-untyped-def]
    """Count the rows each panel renders from here on."""
    rendered: Counter = Counter()
    original = LinePanel._render_row

    def spy(self, y, width, style):  # type: ignore[no-untyped-def]
        rendered[(type(self).__name__, y)] += 1
        return original(self, y, width, style)

    monkeypatch.setattr(LinePanel, "_render_row", spy)
    return rendered


async def test_a_micro_step_renders_only_the_lines_it_changed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The second forward micro-step: in every text panel, exactly the rows whose
    text or style changed are rendered again (on the graph: r gains its value
    and ŷ loses the highlight), and no more."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "f")
        panels = list(app.query(LinePanel))
        before = {type(p).__name__: [_key(line) for line in p._lines] for p in panels}
        rendered = _spy_rows(monkeypatch)
        await press(pilot, "f")
        for panel in panels:
            name = type(panel).__name__
            after = [_key(line) for line in panel._lines]
            pairs = zip(before[name], after, strict=True)
            changed = {y for y, (a, b) in enumerate(pairs) if a != b}
            assert {y for n, y in rendered if n == name} == changed, name
        graph_rows = {y for n, y in rendered if n == "GraphPanel"}
        assert graph_rows and len(graph_rows) < len(app.query_one(GraphPanel)._lines)
        assert "r=-1" in shown(app, GraphPanel)


async def test_a_line_whose_style_alone_changes_is_repainted(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The highlight moving off a node changes no character, only the style."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "f")
        graph = app.query_one(GraphPanel)
        row = next(y for y, line in enumerate(graph._lines) if "ŷ=1" in line.plain)
        rendered = _spy_rows(monkeypatch)
        await press(pilot, "f")
        assert ("GraphPanel", row) in rendered


async def test_a_message_of_more_rows_grows_the_bar_and_a_short_one_keeps_two() -> None:
    """The bar keeps two rows for short messages (no relayout between them) and
    grows for a long one, which is shown whole."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "space")
        bar = app.query_one(MessageBar)
        assert bar.size.height == 2
        long = "A teaching moment long enough to need three rows at 80 columns. " * 3
        bar.show(Message(Kind.TEACH, long.strip()))
        await pilot.pause()
        assert bar.size.height == 3
        assert "three rows" in " ".join(shown(app, MessageBar).split())
        bar.show(Message(Kind.STEP, "Short."))
        await pilot.pause()
        assert bar.size.height == 2 and "Short." in shown(app, MessageBar)


async def test_the_plot_follows_the_numbers_in_the_next_frame() -> None:
    """A forward pass computes the loss: the tensor panel shows it in the key's
    frame, and the plot's current point (the red dot at loss 1) arrives after."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        plot = app.query_one(LossPlot)
        await press(pilot, "F")
        assert "loss 1" in shown(app, TensorPanel)
        assert plot._snapshot is not None and plot._snapshot.current_point == (1.0, 1.0)
        assert "●" in shown(app, LossPlot)


async def test_collections_wait_for_the_pause_after_a_frame_and_the_threshold_is_restored(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """While the app runs, automatic young collections are rare and the app
    collects after each key's frame instead, everything every few frames; when
    it exits, the process's own threshold is back."""
    before = gc.get_threshold()
    collected: list[int] = []
    original = gc.collect

    def spy(generation: int = 2) -> int:
        collected.append(generation)
        return original(generation)

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert gc.get_threshold()[0] == GC_THRESHOLD
        monkeypatch.setattr(gc, "collect", spy)
        for _ in range(FULL_GC_EVERY + 2):
            await press(pilot, "space")
        # Young generations after each frame, and now and then everything: a
        # frame's own timers die old, and only a full collection frees them.
        assert collected.count(1) >= FULL_GC_EVERY and 2 in collected
    assert gc.get_threshold() == before


async def test_a_panel_redrawn_at_a_new_width_builds_its_lines_for_that_width() -> None:
    """The status bar abbreviates the phases when it is narrow and spells them out
    again when it is wide: its lines follow the width on a resize."""
    app: BptuiApp = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "space")
        assert "FWD 1/3" in screen_text(app)
        await pilot.resize_terminal(140, 30)
        await pilot.pause(0.1)
        assert "FORWARD 1/3" in screen_text(app)
        assert not app.query_one("#too-small", Static).display


async def test_at_the_smallest_size_a_long_teaching_message_is_shown_whole() -> None:
    """At 72×22 the accumulation warning needs four rows: the code and plot panels
    give them up (the bar is docked), rather than the message losing its end."""
    from bptui.app.sizes import MIN_HEIGHT, MIN_WIDTH

    app = make_app()
    async with app.run_test(size=(MIN_WIDTH, MIN_HEIGHT)) as pilot:
        await press(pilot, "s", "F", "B", "u", "F", "B")
        assert app.snapshot is not None and app.snapshot.message is not None
        text = " ".join(shown(app, MessageBar).split())
        assert app.snapshot.message.kind is Kind.TEACH
        assert " ".join(app.snapshot.message.text.split()) in text


def test_the_chain_rule_product_moves_to_its_own_row_when_the_panel_is_narrow() -> None:
    """∂loss/∂w's product is the chain rule's result: beside the factors when it
    fits, else on the next row as ``= -2``, never cut to an ellipsis."""
    from bptui.app.panels.chain import chain_lines
    from bptui.lesson import seed_lesson
    from bptui.lesson.engine import Stepper

    stepper = Stepper(seed_lesson())
    stepper.finish_forward()
    stepper.finish_backward()
    chain = stepper.snapshot().chains[0]
    wide = [line.plain for line in chain_lines(chain, 80)]
    assert len(wide) == 3 and wide[2].endswith("= -2")
    width = len(wide[0]) + 3  # the factors fit on one row, the product beside them not
    narrow = [line.plain for line in chain_lines(chain, width)]
    assert len(narrow) == 4 and narrow[2].rstrip() == wide[2][: -len(" = -2")].rstrip()
    assert narrow[3].split() == ["=", "-2"]
    assert all(len(line) <= width for line in narrow)
