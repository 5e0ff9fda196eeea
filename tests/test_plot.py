"""The plot teaches at 80×24: points on the rows their ticks name, axis titles, a
current point on the curve drawn, ``v`` to enlarge it, markers that differ
without colour, and short ticks for every value (inf and NaN included).

The figure is read back from the screen the way a student reads it: the tick
labels give each row its value, and a mark must sit on the row whose interval
(its tick ± half a row's step) holds the mark's value.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from screen_rows import screen_strips
from test_app import make_app, shown, wait_for
from textual.pilot import Pilot

from bptui.app.main import BptuiApp
from bptui.app.panels.figure import Layer, draw, labels, nice_step, y_scale
from bptui.app.panels.graph import GraphBox
from bptui.app.panels.plot import LossPlot
from bptui.app.screens.help import HELP
from bptui.lesson.files import load_lesson, seed_lesson

AXIS = re.compile(r"^( *)(\S*?)([┤│└])")
COLOURS = ("red", "green", "blue", "magenta", "yellow", "cyan")


# --------------------------------------------------------------------- reading a figure


def rows_of(lines: list[str]) -> tuple[list[str], list[float], float]:
    """The data rows (after the axis), each row's value and the rows' step, read from
    the tick labels of a figure's lines (header and x axis included)."""
    data = [line for line in lines if AXIS.match(line) and AXIS.match(line)[3] in "┤│"]  # type: ignore[index]
    ticks = {i: float(m[2]) for i, line in enumerate(data) if (m := AXIS.match(line)) and m[2]}
    assert len(ticks) >= 1, lines
    (top, top_value), *rest = sorted(ticks.items())
    if rest:
        bottom, bottom_value = rest[-1]
        step = (top_value - bottom_value) / (bottom - top)
    else:
        step = math.inf  # one labelled row: it holds everything
    values = [top_value - (i - top) * step if rest else top_value for i in range(len(data))]
    margin = len(AXIS.match(data[0])[0])  # type: ignore[index]
    return [line[margin:] for line in data], values, step


def row_holds(lines: list[str], glyph: str, value: float) -> None:
    """``glyph`` appears on exactly the rows whose interval holds ``value``."""
    data, values, step = rows_of(lines)
    rows = [i for i, row in enumerate(data) if glyph in row]
    assert rows, f"no {glyph} in\n" + "\n".join(lines)
    for i in rows:
        assert abs(values[i] - value) <= step / 2 * (1 + 1e-9), (
            f"{glyph} for {value} drawn on the row of {values[i]} (step {step}):\n"
            + "\n".join(lines)
        )


def plot_lines(app: BptuiApp) -> list[str]:
    """The plot's content rows as the screen shows them (no border)."""
    plot = app.query_one(LossPlot)
    region = plot.content_region
    strips = screen_strips(app)
    return [strip.crop(region.x, region.right).text for strip in strips[region.y : region.bottom]]


async def plotted(pilot: Pilot, app: BptuiApp) -> LossPlot:
    """Wait until the plot shows the engine's current state (it follows a frame later)."""
    plot = app.query_one(LossPlot)
    try:
        await wait_for(
            pilot,
            lambda: (
                app.stepper is not None
                and plot._snapshot is not None
                and plot._snapshot.micro_steps == app.stepper.snapshot().micro_steps
            ),
            timeout=30,  # generous: a busy shared machine, not a measurement
        )
    except AssertionError as timed_out:  # say where each part of the app stood
        engine = app.stepper.snapshot().micro_steps if app.stepper is not None else None
        drawn = app.snapshot.micro_steps if app.snapshot is not None else None
        shown = plot._snapshot.micro_steps if plot._snapshot is not None else None
        raise AssertionError(
            f"{timed_out}: engine at {engine}, drawn {drawn}, plotted {shown}, "
            f"plot due {app.frames.plot_due}, frame waiting {app.frames.waiting}, "
            f"keys held {app.keys.holding()}"
        ) from None
    # A new message can change the panels' heights: wait for the screen to settle.
    before = None
    while (now := plot_lines(app)) != before:
        before = now
        await pilot.pause(0.1)
    return plot


# --------------------------------------------------------------------- the figure alone


def test_nice_steps_and_short_labels() -> None:
    assert [nice_step(v) for v in (0.7, 1.0, 1.1, 2.2, 3.5, 0.0055)] == [0.8, 1, 1.5, 2.5, 4, 0.006]
    assert labels([0.15, 0.3], 0.15) == ["0.15", "0.30"]
    assert labels([0.0, 0.25, 0.5], 0.25) == ["0.00", "0.25", "0.50"]
    assert labels([1.0, 1.5, 2.0], 0.5) == ["1.0", "1.5", "2.0"]
    assert labels([0.0, 1e38, 2e38], 1e38) == ["0", "1e38", "2e38"]
    assert labels([1.2e38, 1.4e38], 2e37) == ["1.2e38", "1.4e38"]
    assert labels([2e-6, 4e-6], 2e-6) == ["2e-6", "4e-6"]


@settings(max_examples=200, deadline=None)
@given(
    ys=st.lists(
        st.floats(min_value=-1e30, max_value=1e30, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=30,
    ),
    height=st.integers(min_value=2, max_value=30),
    pick=st.integers(min_value=0),
)
def test_every_point_is_on_the_row_its_tick_names(ys: list[float], height: int, pick: int) -> None:
    """Any values, any height: the marked point lies on the row whose tick interval holds it,
    and the figure has the asked-for number of rows, each within the width."""
    marked = ys[pick % len(ys)]
    layers = [
        Layer([float(i) for i in range(len(ys))], ys, "green"),
        Layer([float(pick % len(ys))], [marked], "red", "●", "now"),
    ]
    lines = [line.plain for line in draw(layers, 40, height, "step")]
    assert len(lines) == height and all(len(line) <= 40 for line in lines)
    row_holds(lines, "●", marked)


def test_the_issues_rows_matrix_and_affine() -> None:
    """The two cases of the issue: loss 1.6 was drawn at the 2.40 tick, loss 4 at 6.00."""
    for ys, now, height in (([2.6, 2.2, 1.9, 1.6], 1.6, 3), ([7.0, 6.1, 5.0, 4.0], 4.0, 5)):
        layers = [Layer([1, 2, 3, 4], ys, "green"), Layer([5], [now], "red", "●")]
        row_holds([line.plain for line in draw(layers, 38, height, "step")], "●", now)


def test_markers_are_drawn_over_lines() -> None:
    """A marker layer listed before a line through the same cell still shows."""
    layers = [Layer([2.0], [2.0], "magenta", "+"), Layer([1.0, 3.0], [1.0, 3.0], "green")]
    assert "+" in "".join(line.plain for line in draw(layers, 30, 6, "step"))


def test_a_scale_of_one_value_puts_it_in_a_row_and_no_loss_below_zero() -> None:
    scale = y_scale(0.0, 0.0, 5)
    assert scale.bottom == 0 and scale.dot(0.0) // 4 == 0
    scale = y_scale(3.0, 3.0, 5)
    assert scale.dot(3.0) // 4 == 2 and scale.bottom > 0


def test_divergence_gives_short_ticks_and_no_crash() -> None:
    """Losses growing to 3e38, then inf and NaN: ticks stay a few characters; the
    non-finite points are left out; with nothing finite the figure says so."""
    ys = [1.0, 50.0, 1e12, 3.2e38, math.inf, math.nan]
    lines = [line.plain for line in draw([Layer(list(range(6)), ys, "green")], 40, 10, "step")]
    assert len(rows_of(lines)[0]) == 8  # header, 8 rows, the x axis
    ticks = [m[2] for line in lines if (m := AXIS.match(line)) and m[2] and m[3] != "└"]
    assert ticks and max(map(len, ticks)) <= 6, ticks
    assert not any(re.search(r"\d{7}", line) for line in lines)
    nothing = draw([Layer([1.0, 2.0], [math.inf, math.nan], "green")], 40, 10, "step")
    assert nothing[0].plain == "no finite loss to plot" and len(nothing) == 10
    huge = draw([Layer([1.0, 2.0], [1.0, 1e307], "green")], 40, 6, "step")
    assert "too large" in huge[0].plain


def test_axis_titles_on_a_short_figure_and_on_a_tall_one() -> None:
    layer = [Layer([1.0, 2.0, 3.0], [3.0, 2.0, 1.5], "green", label="loss of each step")]
    short = [line.plain for line in draw(layer, 40, 4, "step")]
    assert short[-1].startswith("loss└") and short[-1].endswith(" step")
    tall = [line.plain for line in draw([*layer, Layer([], [], "red", "●", "gone")], 40, 12, "w")]
    assert "gone" not in tall[0]  # a layer with nothing drawn is not in the legend
    assert (
        tall[0].startswith("loss  ⠒⠒ loss of each step")
        and re.fullmatch(r" *└[─0-9.]+ w", tall[-1]) is not None
    )


# --------------------------------------------------------------------- in the app at 80×24


async def test_matrix_current_point_is_on_its_row_at_80x24() -> None:
    """matrix plots loss vs step: after the forward pass and after steps, the current
    point sits on the row whose tick interval holds the loss torch computed."""
    app = make_app(load_lesson("matrix"))
    async with app.run_test(size=(80, 24)) as pilot:
        for keys in (["F"], ["B", "u", "z", "s", "s", "s", "F"]):
            await pilot.press(*keys)
            await plotted(pilot, app)
            loss = app.snapshot.current_point[1]  # type: ignore[union-attr, index]
            lines = plot_lines(app)
            row_holds(lines, "●", loss)
            assert lines[-1].startswith("loss└") and lines[-1].endswith(" step")


async def test_affine_loss_vs_step_point_on_its_row_at_80x24() -> None:
    app = make_app(load_lesson("affine"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", "F")
        await plotted(pilot, app)
        assert app.query_one(LossPlot).view == 1
        row_holds(plot_lines(app), "●", app.snapshot.current_point[1])  # type: ignore[union-attr, index]
        await pilot.press(*"sssss", "F")
        await plotted(pilot, app)
        row_holds(plot_lines(app), "●", app.snapshot.current_point[1])  # type: ignore[union-attr, index]


def _on_curve(ws: tuple[float, ...], losses: tuple[float, ...], w: float) -> float:
    """The curve's loss at ``w`` (linear between its grid points)."""
    for i in range(len(ws) - 1):
        if ws[i] <= w <= ws[i + 1]:
            return losses[i] + (losses[i + 1] - losses[i]) * (w - ws[i]) / (ws[i + 1] - ws[i])
    raise AssertionError(f"{w} is outside the curve's grid {ws[0]}..{ws[-1]}")


@pytest.mark.parametrize("lesson", ["linear", "affine"])
async def test_after_z_the_current_point_is_on_the_new_samples_curve(lesson: str) -> None:
    """After z the curve is the next sample's: the point is where w is on that curve,
    on screen on the row of its loss. After u (affine: b moved too) the point stays on
    the curve drawn, which is taken at the parameters the loss was computed with."""
    app = make_app(load_lesson(lesson))
    async with app.run_test(size=(80, 24)) as pilot:
        for keys in (("F", "B", "u"), ("z",), ("F",), ("B", "u", "z", "s", "F", "B", "u", "z")):
            await pilot.press(*keys)
            plot = await plotted(pilot, app)
            curve = plot._curve
            assert curve.point is not None
            w, loss = curve.point
            assert loss == pytest.approx(_on_curve(curve.ws, curve.losses, w), rel=2e-3)
            row_holds(plot_lines(app), "●", loss)
        snap = app.snapshot
        assert snap is not None and snap.current_point is None  # the new sample: no loss yet
        assert w == snap.params[0].data  # where w is now


async def test_v_enlarges_the_plot_then_the_graph_then_goes_back() -> None:
    """At 80×24 v gives the plot the full width and 15+ rows (with its legend), then
    the graph takes the screen, then the chain rule and tensor panels, then the program,
    then the usual layout returns."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("F")
        plot = await plotted(pilot, app)
        graph = app.query_one(GraphBox)
        usual_plot, usual_graph = plot.content_size, graph.size
        assert usual_plot.height <= 5 and "v enlarges" in str(plot.border_title)
        await pilot.press("v")
        await pilot.pause(0.1)
        assert plot.content_size.height >= 15 and plot.content_size.width >= 78
        assert not graph.display or graph.size.height == 0
        lines = plot_lines(app)
        assert lines[0].startswith("loss  ⠒⠒ this sample's loss") and lines[-1].endswith(" w")
        row_holds(lines, "●", app.snapshot.current_point[1])  # type: ignore[union-attr, index]
        await pilot.press("v")
        await pilot.pause(0.1)
        assert graph.size.height > usual_graph.height and plot.size.height == 0
        await pilot.press("v")  # the chain rule and tensor panels
        await pilot.pause(0.1)
        assert graph.size.height == 0 and plot.size.height == 0
        await pilot.press("v")  # the program
        await pilot.pause(0.1)
        assert graph.size.height == 0 and plot.size.height == 0
        await pilot.press("v")
        await pilot.pause(0.1)
        assert plot.content_size == usual_plot and graph.size == usual_graph


async def test_no_color_markers_differ_and_nothing_names_a_colour(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With NO_COLOR every layer keeps its own glyph (curve, steps, the other run, now),
    and neither the legend nor help tells them apart by a colour's name."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("Z", *"sss", "F")
        await plotted(pilot, app)
        lines = plot_lines(app)
        legend = lines[0]
        keys = re.findall(r"  (\S+) (?=\S)", legend)
        assert len(keys) == 4 and len(set(keys)) == 4, legend
        body = "\n".join(lines[1:])
        for key in keys:
            assert key[0] in body, key  # each layer's own glyph is drawn
    assert not any(re.search(rf"\b{c}\b", HELP + legend) for c in COLOURS)


async def test_divergence_in_the_app_keeps_ticks_short() -> None:
    """lr too large: losses grow to 1e38 and beyond, then inf: the plot's ticks stay short."""
    app = make_app(seed_lesson().with_values(lr=2.0))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", *"s" * 40)
        await plotted(pilot, app)
        text = shown(app, LossPlot)
        ticks = [m[2] for line in plot_lines(app) if (m := AXIS.match(line)) and m[3] != "└"]
        assert ticks and max(map(len, ticks)) <= 6 and "e" in "".join(ticks), text
        assert not re.search(r"\d{7}", text), text


async def test_the_node_lessons_plot_names_l_not_a_loss() -> None:
    """node has no target: its L = 5·x·w stands for the layers above, so the plot's
    title and axis say L, never "Loss"."""
    app = make_app(load_lesson("node"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("F")
        plot = await plotted(pilot, app)
        assert str(plot.border_title).startswith("L vs w")
        assert plot_lines(app)[-1].lstrip().startswith("L└") and "loss" not in "\n".join(
            plot_lines(app)
        )
