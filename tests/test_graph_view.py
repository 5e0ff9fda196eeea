"""The graph panel at 80×24 and 120×40: every lesson's whole graph is reachable, the
node being computed is always on screen, torch's backward nodes can be read in every
lesson, and the wires read as the graph (a wire that passes a bus does not join it).

Screens are read as the terminal shows them (the compositor's text of the graph box).
"""

from __future__ import annotations

import re

import pytest
from screen_rows import screen_strips
from test_app import make_app, press, wait_for
from textual.pilot import Pilot

from bptui.app.main import BptuiApp
from bptui.app.panels.graph import GraphBox, GraphPanel
from bptui.app.panels.graph_layout import (
    FULL,
    NAMES,
    ONE,
    PLAIN,
    _head,
    choose_mode,
    draw,
    place,
    shape,
)
from bptui.lesson.engine import Stepper
from bptui.lesson.files import builtin_names, load_lesson
from bptui.lesson.snapshot import NodeView
from bptui.lesson.values import short

SMALL, LARGE = (80, 24), (120, 40)


def graph_text(app: BptuiApp) -> str:
    """The graph box's content as the terminal shows it (the border and title left out)."""
    box = app.query_one(GraphBox)
    region = box.scrollable_content_region
    strips = screen_strips(app)
    return "\n".join(
        strip.crop(region.x, region.right).text for strip in strips[region.y : region.bottom]
    )


def graph_title(app: BptuiApp) -> str:
    return str(app.query_one(GraphBox).border_title)


async def every_view(pilot: Pilot, app: BptuiApp) -> str:
    """The text of every view of the graph that the scroll keys reach, one after another:
    { to the top and [ to the left, then ] across each row of views and } down."""
    box = app.query_one(GraphBox)
    views = []
    while box.scroll_y > 0:
        await pilot.press("left_curly_bracket")
        await pilot.pause()
    while True:
        while box.scroll_x > 0:
            await pilot.press("left_square_bracket")
            await pilot.pause()
        while True:
            views.append(graph_text(app))
            if box.scroll_x >= box.max_scroll_x:
                break
            await pilot.press("right_square_bracket")
            await pilot.pause()
        if box.scroll_y >= box.max_scroll_y:
            return "\n\n".join(views)
        await pilot.press("right_curly_bracket")
        await pilot.pause()


def heads(app: BptuiApp, current: bool | None = None) -> list[str]:
    """The first line of each node as the graph writes it (``× z1=0.5``)."""
    assert app.snapshot is not None
    return [_head(n) for n in app.snapshot.nodes if current is None or n.current == current]


CASES = [
    pytest.param(name, keys, id=f"{name}-{'+'.join(keys)}")
    for name in builtin_names()
    for keys in (("F",), ("F", "B"), ("s",))
]


@pytest.mark.parametrize(("name", "keys"), CASES)
async def test_the_current_node_is_on_screen_and_every_node_reachable_at_80x24(
    name: str, keys: tuple[str, ...]
) -> None:
    """After F, after F B and after s, at 80×24: each value the last micro-step
    touched is on screen whole, without scrolling by hand; and scrolling with [ ] { }
    brings every value of the graph on screen whole."""
    app = make_app(load_lesson(name))
    async with app.run_test(size=SMALL) as pilot:
        await press(pilot, *keys)
        await pilot.pause()
        touched = heads(app, current=True)
        assert touched, "the last micro-step touched no value"
        on_screen = graph_text(app)
        assert any(head in on_screen for head in touched), (touched, on_screen)
        seen = await every_view(pilot, app)
        missing = [head for head in heads(app) if head not in seen]
        assert not missing, (missing, seen)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "120x40"])
async def test_the_view_follows_each_forward_and_backward_step(size: tuple[int, int]) -> None:
    """Stepping with space through a whole training step of the collapse lesson (the
    largest graph), the value being computed is on screen after every single key."""
    app = make_app(load_lesson("collapse"))
    async with app.run_test(size=size) as pilot:
        panel = app.query_one(GraphPanel)
        if panel.mode is not None and not panel.mode.names:
            await press(pilot, "y")  # torch's names too: the graph is then taller than its box
        for _ in range(20):
            await press(pilot, "space")
            touched = heads(app, current=True)
            text = graph_text(app)
            assert not touched or any(head in text for head in touched), (touched, text)


@pytest.mark.parametrize("name", builtin_names())
async def test_torch_backward_node_names_can_be_read_in_every_lesson(name: str) -> None:
    """Every value's grad_fn (MulBackward0, AccumulateGrad, …) is shown under it at
    120×40 without a key; at 80×24 the title says y shows them when they do not fit,
    and after y they are all reachable by scrolling."""
    app = make_app(load_lesson(name))
    async with app.run_test(size=LARGE) as pilot:
        await press(pilot, "F", "B")
        assert app.snapshot is not None
        names = [n.grad_fn for n in app.snapshot.nodes if n.grad_fn]
        assert "AccumulateGrad" in names and len(names) > 2
        seen = await every_view(pilot, app)
        for node in app.snapshot.nodes:
            if node.grad_fn:
                assert node.grad_fn in seen, (node.name, node.grad_fn, seen)
    app = make_app(load_lesson(name))
    async with app.run_test(size=SMALL) as pilot:
        await press(pilot, "F", "B")
        panel = app.query_one(GraphPanel)
        assert panel.mode is not None
        if not panel.mode.names:
            assert "y grad_fn" in graph_title(app)
            await press(pilot, "y")
            await wait_for(pilot, lambda: panel.mode is not None and panel.mode.names)
        assert "y grad_fn" not in graph_title(app)
        seen = await every_view(pilot, app)
        for node in app.snapshot.nodes:
            if node.grad_fn:
                assert node.grad_fn in seen, (node.name, node.grad_fn)


async def test_y_shows_and_hides_torch_backward_nodes() -> None:
    """y hides the grad_fn names of a lesson that shows them, and shows them again."""
    app = make_app(load_lesson("affine"))
    async with app.run_test(size=SMALL) as pilot:
        await press(pilot, "F", "B")
        assert "MulBackward0" in graph_text(app) and "AddBackward0" in graph_text(app)
        await press(pilot, "y")
        await wait_for(pilot, lambda: "MulBackward0" not in graph_text(app))
        assert "y grad_fn" in graph_title(app)
        assert "∂ -4" in graph_text(app)  # gradients stay
        await press(pilot, "y")
        await wait_for(pilot, lambda: "MulBackward0" in graph_text(app))


async def test_curly_brackets_scroll_the_graph_up_and_down() -> None:
    """{ and } scroll a graph taller than its box: collapse with its grad_fn names at 80×24."""
    app = make_app(load_lesson("collapse"))
    async with app.run_test(size=SMALL) as pilot:
        await press(pilot, "F", "y")
        box = app.query_one(GraphBox)
        await wait_for(pilot, lambda: box.max_scroll_y > 0)
        assert "{ } ↕" in graph_title(app)
        while box.scroll_y > 0:
            await pilot.press("left_curly_bracket")
            await pilot.pause()
        top = graph_text(app)
        assert "loss=" in top.splitlines()[0]  # the first row: the model's chain
        await pilot.press("right_curly_bracket")
        await wait_for(pilot, lambda: box.scroll_y > 0)
        assert graph_text(app) != top
        await pilot.press("left_curly_bracket")
        await wait_for(pilot, lambda: box.scroll_y == 0)


# --------------------------------------------------------------- the layout alone

#: The sides each wire glyph connects.
_ARMS = {
    "─": "EW",
    "│": "NS",
    "┌": "SE",
    "┐": "SW",
    "└": "NE",
    "┘": "NW",
    "├": "NSE",
    "┤": "NSW",
    "┬": "EWS",
    "┴": "EWN",
    "┼": "NESW",
}


class Picture:
    """A drawn graph read as a student would: a wire leaves a value to the right, passes
    every │ it crosses (a bus it does not join) and feeds every bus it meets with a join
    (┬ ┴ ┐ ┘ ┤ ┼), until it ends; a bus feeds the one operation its stub leads to (a row
    that runs from the bus straight into a label). A bus with no such stub, or with two,
    fails the reading."""

    def __init__(self, lines: list[str], nodes: tuple[NodeView, ...]) -> None:
        self.starts: dict[tuple[int, int], str] = {}
        self.wires: dict[str, tuple[int, int]] = {}
        for node in nodes:
            head = _head(node)
            pattern = re.compile(r"(?:^|(?<=[ ─]))" + re.escape(head) + r"(?= |$)")
            found = [(r, m.start()) for r, ln in enumerate(lines) for m in pattern.finditer(ln)]
            assert len(found) == 1, (head, found)
            ((row, col),) = found
            self.starts[(row, col)] = node.name
            col += len(head) + 1
            if lines[row][col : col + 2] == "∂ ":  # the gradient beside the value (one-row modes)
                col += len(f"∂ {short(node.grad)}") + 1
            self.wires[node.name] = (row, col)
        self.grid = [line.ljust(max(map(len, lines)) + 2) for line in lines]

    def east(self, row: int, col: int) -> int:
        """From (row, col) along ─ and crossings to where the wire stops."""
        while self.grid[row][col] in "─│":
            col += 1
        return col

    def outlet(self, row: int, col: int) -> str:
        """The operation the bus through (row, col) feeds."""
        rows, r = [row], row
        while "N" in _ARMS.get(self.grid[r][col], ""):
            r -= 1
            rows.append(r)
        r = row
        while "S" in _ARMS.get(self.grid[r][col], ""):
            r += 1
            rows.append(r)
        found = {
            self.starts[(r, self.east(r, col + 1))]
            for r in rows
            if "E" in _ARMS[self.grid[r][col]] and (r, self.east(r, col + 1)) in self.starts
        }
        assert len(found) == 1, (row, col, found)
        return found.pop()

    def readers(self, name: str) -> set[str]:
        """The operations the wire out of ``name`` feeds."""
        reached: set[str] = set()
        row, col = self.wires[name]
        while True:
            col = self.east(row, col)
            ch = self.grid[row][col]
            if (row, col) in self.starts:
                return reached | {self.starts[(row, col)]}
            if ch not in _ARMS:
                assert ch == " " and col == self.wires[name][1], (name, row, col, ch)
                return reached  # a value nothing reads
            if "N" in _ARMS[ch] or "S" in _ARMS[ch]:
                reached.add(self.outlet(row, col))
            if "E" not in _ARMS[ch]:
                return reached
            col += 1


def read_wires(lines: list[str], nodes: tuple[NodeView, ...]) -> dict[str, set[str]]:
    """Each value's readers as the picture shows them."""
    picture = Picture(lines, nodes)
    return {node.name: picture.readers(node.name) for node in nodes}


def nodes_of(
    name: str, keys: str = "FB", overrides: dict[str, str] | None = None
) -> tuple[NodeView, ...]:
    """The lesson's values after ``keys`` (F: the forward pass, B: the backward pass)."""
    stepper = Stepper(load_lesson(name, overrides))
    for key in keys:
        {"F": stepper.finish_forward, "B": stepper.finish_backward}[key]()
    return stepper.snapshot().nodes


MODELS = [
    "w2 * (w1 * x + b1) + b2",
    "(w2 * w1) * x + (w2 * b1 + b2)",
    "x * w * w + b * x",
    "sigmoid(x * a + b) * c + tanh(x * d) * e",
    "x * x * w",
]


@pytest.mark.parametrize(
    "nodes",
    [pytest.param(nodes_of(name), id=name) for name in builtin_names()]
    + [
        pytest.param(nodes_of("linear", "FB", {"model": m}), id=f"model-{i}")
        for i, m in enumerate(MODELS)
    ],
)
@pytest.mark.parametrize("mode", [FULL, NAMES, PLAIN, ONE], ids=lambda m: f"{m.rows}{m.names}")
def test_the_wires_read_as_the_graph(nodes: tuple[NodeView, ...], mode: object) -> None:
    """Following the wires out of every value reaches exactly the operations that read
    it: none is joined to a bus it only passes (the collapse lesson's x once seemed to
    feed w2·w1), and no wire runs into a label it does not feed."""
    lines = [t.plain for t in draw(nodes, mode).lines]  # type: ignore[arg-type]
    truth = {n.name: {m.name for m in nodes if n.name in m.inputs} for n in nodes}
    assert read_wires(lines, nodes) == truth, "\n".join(lines)


def test_collapse_wires_do_not_cross_into_a_join() -> None:
    """In collapse, x feeds z1 = w1·x and z2' = z1'·x only; the buses it passes are drawn
    unbroken (─│─), never as the ┼ of a join."""
    nodes = nodes_of("collapse")
    lines = [t.plain for t in draw(nodes, ONE).lines]
    (row,) = [line for line in lines if line.startswith("x=1 ")]
    wire = row[len("x=1 ") :].rstrip()
    assert "┼" not in wire and "│" in wire, row
    feeds = {n.name for n in nodes if "x" in n.inputs}
    assert len(feeds) == 2 and read_wires(lines, nodes)["x"] == feeds


def test_the_mode_is_the_fullest_that_fits() -> None:
    """Three rows a value (grad_fn under the gradient) when they fit, then two, then one."""
    assert choose_mode(2, 7, None) is FULL
    assert choose_mode(7, 14, None) is NAMES
    assert choose_mode(7, 7, None) is ONE
    assert choose_mode(9, 7, None) is ONE
    assert choose_mode(9, 7, True) is NAMES  # y: names even if it scrolls
    assert choose_mode(2, 7, False) is PLAIN


def test_the_placement_and_wires_are_worked_out_once_per_graph() -> None:
    """Steps change values, not the graph's shape: the placement is computed once, and
    the wires once per mode and column widths (columns only ever widen)."""
    from bptui.app.panels.graph_layout import _edges

    place.cache_clear()
    stepper = Stepper(load_lesson("collapse"))
    floor: tuple[int, ...] = ()
    misses = []
    for _ in range(3):  # three training steps: forward, backward, update, zeroing
        _edges.cache_clear()
        for _ in range(22):
            stepper.next()
            floor = draw(stepper.snapshot().nodes, ONE, floor=floor).widths
        misses.append(_edges.cache_info().misses)
    assert place.cache_info().misses == 1
    assert misses[-1] * 4 < misses[0] and misses[-1] < 22 / 4, misses  # columns settle
    assert place(shape(stepper.snapshot().nodes)).slots == 7


async def test_a_resize_redraws_the_graph_for_its_new_room() -> None:
    """collapse fits its box at 80×24 only one row a value; grown to 120×40 the box has
    room for torch's names as well, and shrunk back the graph is one row a value again."""
    app = make_app(load_lesson("collapse"))
    async with app.run_test(size=SMALL) as pilot:
        await press(pilot, "F", "B")
        panel = app.query_one(GraphPanel)
        assert panel.mode is ONE and "AccumulateGrad" not in graph_text(app)
        await pilot.resize_terminal(*LARGE)
        await wait_for(pilot, lambda: panel.mode is NAMES)
        await wait_for(pilot, lambda: "AccumulateGrad" in graph_text(app))
        await pilot.resize_terminal(*SMALL)
        await wait_for(pilot, lambda: panel.mode is ONE)
        touched = heads(app, current=True)
        await wait_for(pilot, lambda: any(head in graph_text(app) for head in touched))


async def test_affine_fits_80_columns_with_torch_names() -> None:
    """The affine lesson's graph, grad_fn names and all, fits 80×24 without scrolling."""
    app = make_app(load_lesson("affine"))
    async with app.run_test(size=SMALL) as pilot:
        await press(pilot, "F", "B")
        box = app.query_one(GraphBox)
        assert box.max_scroll_x == 0 and box.max_scroll_y == 0
        text = graph_text(app)
        assert "x=1 " in text and "PowBackward0" in text and "AccumulateGrad" in text
        assert graph_title(app) == "Graph"
