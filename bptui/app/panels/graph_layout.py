"""Lay out a small computational graph as lines of terminal text.

Values sit in columns by depth (the loss right); a data value or parameter sits
just left of the first operation that uses it. Each value is a block of one to
three lines, by :class:`Mode`: ``label=value``, ``∂ gradient`` once the backward
pass reaches it, and torch's backward node (``MulBackward0``).

Where the blocks go depends on the graph's shape alone, so it is worked out
once per shape (:func:`place`) and every step only writes the values in.
Every value owns its row from its block to the last operation that reads it:
no wire can run into another value's label, and an operation usually sits on
the row of its first input, so a chain reads as one straight line. Each
operation whose inputs come from other rows gets its own vertical bus, in the
gap left of its column. A wire joins a bus with a ``┬ ┴ ┐ ┘ ├`` (never a
``┼``); where a wire only passes a bus, the bus is drawn unbroken (``─│─``) so
the two cannot be read as joined.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rich.text import Span, Text
from textual.geometry import Region

from ...glyphs import ascii_only, shown
from ...lesson.snapshot import NodeView
from ...lesson.values import full, short
from .. import palette

# Side bits of an edge cell, and the character for each combination.
_N, _E, _S, _W = 1, 2, 4, 8
_BOX = {
    _E | _W: "─",
    _N | _S: "│",
    _S | _E: "┌",
    _S | _W: "┐",
    _N | _E: "└",
    _N | _W: "┘",
    _N | _S | _E: "├",
    _N | _S | _W: "┤",
    _E | _W | _S: "┬",
    _E | _W | _N: "┴",
    _N | _E | _S | _W: "┼",
    _E: "─",
    _W: "─",
    _N: "│",
    _S: "│",
}
_ASCII = {bits: ("-" if ch == "─" else "|" if ch == "│" else "+") for bits, ch in _BOX.items()}
#: A wire passing a bus it does not join: the bus is drawn through it.
_CROSS = 16

_SUPERSCRIPT = {"2": "²", "3": "³"}

#: Styles, by role: each theme (and NO_COLOR) gives them their look (see palette.py).
VALUE, GRAD, GRAD_FN, EDGE, CURRENT = (
    palette.VALUE,
    palette.GRAD,
    palette.GRAD_FN,
    palette.EDGE,
    palette.CURRENT,
)

#: The smallest column, so that columns move little as values appear.
MIN_COLUMN = 6


@dataclass(frozen=True)
class Mode:
    """How many rows a value takes, and whether torch's backward node is shown."""

    rows: int
    names: bool


#: head / ∂ gradient / grad_fn: the full picture.
FULL = Mode(3, True)
#: head ∂ gradient / grad_fn.
NAMES = Mode(2, True)
#: head / ∂ gradient.
PLAIN = Mode(2, False)
#: head ∂ gradient, one row a value.
ONE = Mode(1, False)


def choose_mode(slots: int, height: int, names: bool | None) -> Mode:
    """The fullest mode whose rows fit ``height``; the most compact if none does.

    ``names`` None picks automatically; True or False keeps only the modes
    that show (or hide) torch's backward nodes.
    """
    modes = {None: (FULL, NAMES, ONE), True: (FULL, NAMES), False: (PLAIN, ONE)}[names]
    for mode in modes:
        if slots * mode.rows <= height:
            return mode
    return modes[-1]


@dataclass(frozen=True)
class Placement:
    """Where each value goes, from the graph's shape alone."""

    #: The operations that read each value.
    users: dict[str, list[str]]

    #: Column (depth) of each value.
    layer: dict[str, int]
    #: Row slot of each value.
    slot: dict[str, int]
    #: Each operation with a vertical bus: its track in the gap left of its column (0 nearest).
    track: dict[str, int]
    #: Tracks in the gap left of each column.
    tracks: tuple[int, ...]
    slots: int


Shape = tuple[tuple[str, str, tuple[str | None, ...], bool], ...]


def shape(nodes: tuple[NodeView, ...]) -> Shape:
    """What the placement and the wires depend on: names, kinds, inputs, and which
    values have a gradient (a row for it)."""
    return tuple((n.name, n.kind, n.inputs, n.requires_grad) for n in nodes)


@lru_cache(maxsize=32)
def place(graph: Shape) -> Placement:
    """Give every value a column and a row slot, and every bus a track."""
    names = [name for name, _, _, _ in graph]
    known = set(names)
    inputs = {name: [i for i in ins if i is not None and i in known] for name, _, ins, _ in graph}
    ops = [name for name, kind, _, _ in graph if kind == "op"]
    layer, span = _layers(names, inputs, set(ops))
    slot = _Rows(inputs, span).fill(names, ops)
    track, tracks = _tracks(names, inputs, layer, slot)
    users = {name: [u for u in ops if name in inputs[u]] for name in names}
    return Placement(users, layer, slot, track, tracks, 1 + max(slot.values(), default=0))


def _layers(
    names: list[str], inputs: dict[str, list[str]], ops: set[str]
) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:
    """Each value's column: an operation one right of its deepest input, a leaf just left
    of the first operation that reads it. And the half-columns it holds on its row
    (2L is column L, 2L-1 the gap left of it): an operation from its gap, a leaf from its
    column, each to the gap of the last operation that reads it."""
    layer: dict[str, int] = {}
    for name in names:  # nodes come in the order they are computed
        layer[name] = 1 + max((layer.get(i, 0) for i in inputs[name]), default=-1)
    users: dict[str, list[str]] = {name: [] for name in names}
    for name in names:
        for i in inputs[name]:
            users[i].append(name)
    for name in names:
        if name not in ops and users[name]:
            layer[name] = max(0, min(layer[u] for u in users[name]) - 1)
    span = {
        name: (
            2 * layer[name] - (1 if name in ops else 0),
            max((2 * layer[u] - 1 for u in users[name]), default=2 * layer[name]),
        )
        for name in names
    }
    return layer, span


class _Rows:
    """Row slots, each holding values whose stretches of the row do not overlap."""

    def __init__(self, inputs: dict[str, list[str]], span: dict[str, tuple[int, int]]) -> None:
        self.inputs, self.span = inputs, span
        self.rows: list[list[str]] = []
        self.slot: dict[str, int] = {}

    def clash(self, a: str, b: str) -> bool:
        (a0, a1), (b0, b1) = self.span[a], self.span[b]
        if a1 < b0 or b1 < a0:
            return False
        # An input's wire may run straight into the operation it ends at.
        return not ((a in self.inputs[b] and a1 == b0) or (b in self.inputs[a] and b1 == a0))

    def free(self, name: str, s: int) -> bool:
        return s >= len(self.rows) or not any(self.clash(name, o) for o in self.rows[s])

    def take(self, name: str, s: int) -> None:
        while len(self.rows) <= s:
            self.rows.append([])
        self.rows[s].append(name)
        self.slot[name] = s

    def fill(self, names: list[str], ops: list[str]) -> dict[str, int]:
        """An operation on the row of its first placed input if it can (a chain is one
        straight line), else the first free row; its new leaves as near it as they fit."""
        slot = self.slot
        for name in ops:
            waiting = [i for i in self.inputs[name] if i not in slot]
            wanted = [slot[i] for i in self.inputs[name] if i in slot]
            s = next(
                s
                for s in [*wanted, *range(len(self.rows) + 1)]
                if self.free(name, s) and (wanted or not waiting or self.free(waiting[0], s))
            )
            self.take(name, s)
            for leaf in waiting:
                if leaf not in slot:  # the same leaf twice (x*x) is placed once
                    near = [t for d in range(len(self.rows) + 2) for t in (s + d, s - d)]
                    self.take(leaf, next(t for t in near if t >= 0 and self.free(leaf, t)))
        for name in names:  # values no operation reads
            if name not in slot:
                self.take(name, next(s for s in range(len(self.rows) + 1) if self.free(name, s)))
        return slot


def _tracks(
    names: list[str], inputs: dict[str, list[str]], layer: dict[str, int], slot: dict[str, int]
) -> tuple[dict[str, int], tuple[int, ...]]:
    """A track for each bus: buses whose rows overlap in one gap get different tracks, and
    an operation's bus is nearer its column than every other bus that reaches its row, so
    the stub from its bus to its label meets no other bus (a wire that joined the stub
    would seem to feed that bus's operation too)."""
    spans = {}
    for name in names:
        joins = {slot[name], *(slot[i] for i in inputs[name])}
        if len(joins) > 1:
            spans[name] = (min(joins), max(joins))
    # nearer[u]: the buses that must be nearer their column than u.
    nearer: dict[str, list[str]] = {u: [] for u in spans}
    for t in spans:
        for u, (low, high) in spans.items():
            if u != t and layer[u] == layer[t] and low <= slot[t] <= high:
                nearer[u].append(t)
    track: dict[str, int] = {}
    used: dict[int, list[tuple[int, int, int]]] = {}
    waiting = sorted(spans, key=lambda n: spans[n][1] - spans[n][0])
    while waiting:
        ready = [u for u in waiting if all(t in track for t in nearer[u])] or waiting[:1]
        name = ready[0]
        waiting.remove(name)
        low, high = spans[name]
        taken = used.setdefault(layer[name], [])
        k = 1 + max((track[t] for t in nearer[name] if t in track), default=-1)
        while any(t == k and not (b < low or high < a) for t, a, b in taken):
            k += 1
        taken.append((k, low, high))
        track[name] = k
    depth = max(layer.values(), default=0)
    tracks = tuple(
        1 + max((track[n] for n in track if layer[n] == d), default=0) for d in range(depth + 1)
    )
    return track, tracks


Line = list[tuple[str, str]]


def _number(value: object, precise: bool) -> str:
    """A value as the graph shows it: 5 significant digits, or (``P``) every digit
    that tells this float32 from its neighbours, as ``print`` shows it."""
    return full(value) if precise else short(value)


def _head(node: NodeView, precise: bool = False) -> str:
    """``x=1``, ``× ŷ=1``, ``² loss=1``: the op symbol, the label, the value once known."""
    value = "" if node.value is None else f"={_number(node.value, precise)}"
    if node.kind != "op":
        return f"{node.label}{value}"
    consts = [
        a
        for a, i in zip(node.args, node.inputs or (None,) * len(node.args), strict=True)
        if i is None
    ]
    symbol = node.symbol or "?"
    if node.op == "pow" and len(consts) == 1 and consts[0] in _SUPERSCRIPT:
        symbol = shown(_SUPERSCRIPT[consts[0]])
    elif consts:
        symbol = symbol + ",".join(consts)
    if ascii_only() and symbol in ("-", "+"):  # else it would read as a wire's - or +
        symbol = f"({symbol})"
    return f"{symbol} {node.label}{value}"


def _block(node: NodeView, mode: Mode, precise: bool = False) -> list[Line]:
    """A value's lines in ``mode``, each a list of (text, style) runs."""
    head = (_head(node, precise), CURRENT if node.current else VALUE)
    if not node.requires_grad:
        return [[head]]
    grad = shown(f"∂ {_number(node.grad, precise)}") if node.grad is not None else ""
    name = (node.grad_fn or "") if (node.kind == "param" or node.value is not None) else ""
    if mode.rows == 1 or mode is NAMES:
        first = [head, (" " + grad, GRAD)] if grad else [head]
        return [first, [(name, GRAD_FN)]] if mode.names else [first]
    return [[head], [(grad, GRAD)], [(name, GRAD_FN)]][: mode.rows]


def _width(line: Line) -> int:
    return sum(len(text) for text, _ in line)


@dataclass(frozen=True)
class Drawing:
    """The graph's lines, and where the current values are in them."""

    lines: list[Text]
    #: Where each value the last micro-step touched is.
    focus: tuple[Region, ...]
    #: The same, each with the inputs it reads.
    around: tuple[Region, ...]
    #: Each column's width: pass them back as ``floor`` so that columns never narrow.
    widths: tuple[int, ...]


def draw(
    nodes: tuple[NodeView, ...],
    mode: Mode,
    ascii_only: bool = False,
    floor: tuple[int, ...] = (),
    precise: bool = False,
) -> Drawing:
    """Draw ``nodes`` in ``mode``; columns at least ``floor`` wide; every digit of each
    value if ``precise``."""
    key = shape(nodes)
    at = place(key)
    blocks = {node.name: _block(node, mode, precise) for node in nodes}
    widths = [MIN_COLUMN] * len(at.tracks)
    for name, lines in blocks.items():
        widths[at.layer[name]] = max(widths[at.layer[name]], *(_width(ln) for ln in lines))
    if len(floor) == len(widths):
        widths = [max(w, f) for w, f in zip(widths, floor, strict=True)]
    xs = _columns(at, tuple(widths))
    edges, edge_spans = _edges(key, mode.rows, tuple(widths), ascii_only)
    chars = [list(row) for row in edges]
    spans = [list(row) for row in edge_spans]
    focus, around = [], []
    for node in nodes:
        lines, x, y = blocks[node.name], xs[at.layer[node.name]], at.slot[node.name] * mode.rows
        if at.users[node.name]:  # its wire, from its label to the end of its column
            start, end = (
                x + _width(lines[0]) + 1,
                xs[at.layer[node.name]] + widths[at.layer[node.name]] + 1,
            )
            chars[y][start:end] = ("-" if ascii_only else "─") * (end - start)
            spans[y].append(Span(start, end, EDGE))
        for i, line in enumerate(lines):
            col = x
            for text, style in line:
                chars[y + i][col : col + len(text)] = text
                if text:
                    spans[y + i].append(Span(col, col + len(text), style))
                col += len(text)
        if node.current:
            here = Region(x, y, max(_width(line) for line in lines), len(lines))
            focus.append(here)
            # With the inputs it reads (and, in the backward pass, sends gradients to).
            feeds = [i for i in node.inputs if i is not None and i in blocks]
            around.append(
                Region.from_union(
                    [
                        here,
                        *(
                            Region(xs[at.layer[i]], at.slot[i] * mode.rows, 1, len(blocks[i]))
                            for i in feeds
                        ),
                    ]
                )
            )
    texts = [_text("".join(row).rstrip(), tuple(sp)) for row, sp in zip(chars, spans, strict=True)]
    return Drawing(texts, tuple(focus), tuple(around), tuple(widths))


_TEXTS: dict[tuple[str, tuple[Span, ...]], Text] = {}


def _text(plain: str, spans: tuple[Span, ...]) -> Text:
    """One row as Text, its styled runs given as spans (append is slow per run). A step
    changes a few rows: the others are the Text of the step before (Text() is not cheap)."""
    key = (plain, spans)
    text = _TEXTS.get(key)
    if text is None:
        if len(_TEXTS) > 1024:
            _TEXTS.clear()
        text = _TEXTS[key] = Text(plain, no_wrap=True, overflow="crop", spans=list(spans))
    return text


def _columns(at: Placement, widths: tuple[int, ...]) -> list[int]:
    """Where each column starts: after the one before and the tracks of its gap."""
    xs = [0]
    for d in range(1, len(widths)):
        xs.append(xs[-1] + widths[d - 1] + 2 + 2 * at.tracks[d])
    return xs


@lru_cache(maxsize=16)
def _edges(
    graph: Shape, rows: int, widths: tuple[int, ...], ascii_only: bool
) -> tuple[tuple[str, ...], tuple[tuple[Span, ...], ...]]:
    """The wires of a graph drawn with columns ``widths`` wide, each from the end of its
    value's column on (what lies between a label and its column's end is drawn per step):
    they change only when the graph, the mode or a column's width does."""
    at = place(graph)
    xs = _columns(at, widths)
    top = {name: at.slot[name] * rows for name, _, _, _ in graph}
    height = max(top[name] + (rows if grad else 1) for name, _, _, grad in graph)
    canvas = _GraphCanvas(height)
    for name, kind, inputs, _ in graph:
        if kind == "op":
            x = xs[at.layer[name]]
            feeds = [i for i in inputs if i is not None and i in top]
            bus = x - 2 - 2 * at.track.get(name, 0)
            ends = [(top[i], xs[at.layer[i]] + widths[at.layer[i]] + 1) for i in feeds]
            canvas.wire(ends, bus, (top[name], x))
    chars, spans = canvas.cells(xs[-1] + widths[-1], ascii_only)
    return tuple("".join(row) for row in chars), tuple(tuple(row) for row in spans)


class _GraphCanvas:
    """Edge cells: which sides each connects, and which are a bus passing a wire."""

    def __init__(self, height: int) -> None:
        self.bits: list[dict[int, int]] = [{} for _ in range(height)]

    def link(self, row: int, col: int, sides: int) -> None:
        cells = self.bits[row]
        cells[col] = cells.get(col, 0) | sides

    def wire(self, sources: list[tuple[int, int]], bus: int, target: tuple[int, int]) -> None:
        """Wires from each (row, first column) in ``sources`` to the ``bus`` column, down
        or up it, and along ``target``'s row to its label at (row, column)."""
        joins = {target[0]}
        for row, start in sources:
            for col in range(start, bus):
                self.link(row, col, _E | _W)
            self.link(row, bus, _W)
            joins.add(row)
        low, high = min(joins), max(joins)
        for r in range(low, high + 1):
            crossing = 0 if r in joins else _CROSS
            self.link(r, bus, (_N if r > low else 0) | (_S if r < high else 0) | crossing)
        self.link(target[0], bus, _E)
        for col in range(bus + 1, target[1]):
            self.link(target[0], col, _E | _W)

    def cells(self, width: int, ascii_only: bool) -> tuple[list[list[str]], list[list[Span]]]:
        """Each row's characters, and the spans of its runs of edge cells."""
        table = _ASCII if ascii_only else _BOX
        chars, spans = [], []
        for cells in self.bits:
            row = [" "] * width
            runs: list[Span] = []
            for col in sorted(cells):
                b = cells[col]
                row[col] = table[_N | _S] if b & _CROSS else table.get(b, "+")
                if runs and runs[-1].end == col:
                    runs[-1] = Span(runs[-1].start, col + 1, EDGE)
                else:
                    runs.append(Span(col, col + 1, EDGE))
            chars.append(row)
            spans.append(runs)
        return chars, spans
