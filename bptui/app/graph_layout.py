"""Lay out a small computational graph as lines of terminal text.

Values sit in columns by depth (inputs left, the loss right). Each value is a
block of up to three lines: ``label=value``, then ``∂ gradient`` once the
backward pass reaches it, then torch's backward node (``MulBackward0``). Edges
are drawn with box-drawing characters: every cell an edge passes through
records which sides it connects, and the cell becomes the matching character,
so crossings and joins come out right for any small DAG.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from rich.text import Span, Text

from ..lesson.snapshot import NodeView
from .fmt import short

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

_SUPERSCRIPT = {"2": "²", "3": "³"}

#: Styles (plain ANSI colours, so 16-colour terminals show them too).
VALUE = "bold"
GRAD = "bold magenta"
GRAD_FN = "dim"
EDGE = "cyan"
CURRENT = "reverse bold"


@dataclass
class _Block:
    node: NodeView
    lines: list[tuple[str, str]]  # (text, style)
    layer: int = 0
    slot: int = 0
    x: int = 0


def _head(node: NodeView) -> str:
    """``x=1``, ``× ŷ=1``, ``² loss=1``: the op symbol, the label, the value once known."""
    value = "" if node.value is None else f"={short(node.value)}"
    if node.kind != "op":
        return f"{node.label}{value}"
    consts = [
        a
        for a, i in zip(node.args, node.inputs or (None,) * len(node.args), strict=True)
        if i is None
    ]
    symbol = node.symbol or "?"
    if node.op == "pow" and len(consts) == 1 and consts[0] in _SUPERSCRIPT:
        symbol = _SUPERSCRIPT[consts[0]]
    elif consts:
        symbol = symbol + ",".join(consts)
    return f"{symbol} {node.label}{value}"


def _block(node: NodeView, with_grad_fn: bool) -> _Block:
    lines = [(_head(node), CURRENT if node.current else VALUE)]
    if node.requires_grad:
        lines.append((f"∂ {short(node.grad)}" if node.grad is not None else "", GRAD))
        if with_grad_fn:
            shown = node.grad_fn if (node.kind == "param" or node.value is not None) else None
            lines.append((shown or "", GRAD_FN))
    return _Block(node, lines)


def layout(
    nodes: tuple[NodeView, ...], width: int, height: int, ascii_only: bool = False
) -> list[Text]:
    """Draw ``nodes`` in at most ``width`` × ``height`` cells (best effort when smaller)."""
    for with_grad_fn in (True, False):
        if with_grad_fn and _rows(nodes, with_grad_fn) > height:
            continue  # the number of rows depends on the graph's shape alone
        lines = _draw(nodes, with_grad_fn, ascii_only)
        if len(lines) <= height and max((len(t) for t in lines), default=0) <= width:
            return lines
    return lines


def _rows(nodes: tuple[NodeView, ...], with_grad_fn: bool) -> int:
    """How many rows :func:`_draw` takes, without drawing."""
    blocks = _place({node.name: _block(node, with_grad_fn) for node in nodes})
    step = 3 if with_grad_fn else 2
    return max(b.slot * step + len(b.lines) for b in blocks.values())


def _place(blocks: dict[str, _Block]) -> dict[str, _Block]:
    """Give each block its depth (layer) and vertical slot."""
    order = list(blocks)
    # Depth: leaves 0, an op one more than its deepest input.
    for name in order:
        block = blocks[name]
        inputs = [i for i in block.node.inputs if i is not None and i in blocks]
        block.layer = 1 + max((blocks[i].layer for i in inputs), default=-1) if inputs else 0
    layers: dict[int, list[_Block]] = {}
    for name in order:
        layers.setdefault(blocks[name].layer, []).append(blocks[name])
    # Vertical slots: leaves in order of use; an op at the middle of its inputs.
    for depth in sorted(layers):
        taken: set[int] = set()
        for i, block in enumerate(layers[depth]):
            sources = [blocks[n] for n in block.node.inputs if n is not None and n in blocks]
            want = i if depth == 0 else round(sum(b.slot for b in sources) / len(sources) - 1e-9)
            while want in taken:
                want += 1
            block.slot = want
            taken.add(want)
    return blocks


def _draw(  # noqa: C901, PLR0912, PLR0915 - one pass over the rows; to be split
    nodes: tuple[NodeView, ...], with_grad_fn: bool, ascii_only: bool
) -> list[Text]:
    blocks = _place({node.name: _block(node, with_grad_fn) for node in nodes})
    layers: dict[int, list[_Block]] = {}
    for block in blocks.values():
        layers.setdefault(block.layer, []).append(block)
    step = 3 if with_grad_fn else 2
    gap = 4
    x = 0
    for depth in sorted(layers):
        col_width = max(max(len(t) for t, _ in b.lines) for b in layers[depth])
        col_width = max(col_width, 10 if depth else 6)
        for block in layers[depth]:
            block.x = x + (gap if depth else 0)
        x += col_width + (gap if depth else 0)
    total_w = x + 1
    total_h = max(b.slot * step + len(b.lines) for b in blocks.values())
    chars = [[" "] * total_w for _ in range(total_h)]
    styles: list[list[str | None]] = [[None] * total_w for _ in range(total_h)]
    bits = [[0] * total_w for _ in range(total_h)]

    def link(row: int, col: int, side: int) -> None:
        if 0 <= row < total_h and 0 <= col < total_w:
            bits[row][col] |= side

    for block in blocks.values():
        if block.node.kind != "op":
            continue
        target_row = block.slot * step
        bus = block.x - 2
        for name in block.node.inputs:
            if name is None or name not in blocks:
                continue
            source = blocks[name]
            row = source.slot * step
            start = source.x + len(source.lines[0][0]) + 1
            for col in range(start, bus):
                link(row, col, _E | _W)
            link(row, bus, _W)
            low, high = sorted((row, target_row))
            for r in range(low, high + 1):
                if r > low:
                    link(r, bus, _N)
                if r < high:
                    link(r, bus, _S)
            link(target_row, bus, _E)
        link(target_row, bus + 1, _E | _W)

    table = _ASCII if ascii_only else _BOX
    for r in range(total_h):
        for c in range(total_w):
            if bits[r][c]:
                chars[r][c] = table.get(bits[r][c], "+")
                styles[r][c] = EDGE
    for block in blocks.values():
        for i, (text, style) in enumerate(block.lines):
            row = block.slot * step + i
            for j, ch in enumerate(text):
                if block.x + j < total_w:
                    chars[row][block.x + j] = ch
                    styles[row][block.x + j] = style
    out = []
    for row_chars, row_styles in zip(chars, styles, strict=True):
        # One Text per row, its styled runs given as spans (append is slow per run).
        spans = []
        col = 0
        for run_style, run in groupby(row_styles):
            end = col + len(list(run))
            if run_style:
                spans.append(Span(col, end, run_style))
            col = end
        line = Text("".join(row_chars), no_wrap=True, overflow="crop", spans=spans)
        line.rstrip()
        out.append(line)
    return out
