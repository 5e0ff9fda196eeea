"""A line plot drawn as text, with every mark on the row its tick names.

Each data row of the figure stands for one interval of the y axis, of a round
width (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten), and its tick is
that interval's middle: a point is drawn (as a braille dot or a marker glyph) on the row whose
interval contains it, so a point of loss 1.6 sits on the row labelled 1.6, not
on whichever row a general-purpose plotting library rounded a tick to. Ticks
are short for every magnitude (``1.2e38``, never 39 digits), and non-finite
values are left out rather than drawn or crashed on.

Layers are told apart by their glyph as well as their colour (a braille line,
``•``, ``+``, ``●``), so the figure reads the same with ``NO_COLOR``. The axes
carry titles: the y title above the ticks (or in the corner on a short figure),
the x title at the end of the x axis. Pure layout: Rich ``Text`` lines, no widget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text

from ...glyphs import ascii_only, glyph, shown
from ...i18n import _
from ...lesson.values import exponent_form
from .. import palette

#: Braille dot bits, indexed [row from the top 0-3][column 0-1].
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
#: The bits of dots ``first``..``last`` (from the bottom) of a cell's column ``side``.
_SPANS = tuple(
    tuple(
        tuple(sum(_DOTS[3 - d][side] for d in range(first, last + 1)) for last in range(4))
        for first in range(4)
    )
    for side in range(2)
)
#: Each braille cell's character, by its dot bits.
_BRAILLE = tuple(chr(0x2800 + bits) for bits in range(256))


def _ascii_dot(bits: int) -> str:
    """A braille cell in ASCII: ``'`` ``-`` ``.`` by where its dots are, ``|`` if steep."""
    rows = [r for r in range(4) if bits & (_DOTS[r][0] | _DOTS[r][1])]
    if not rows:
        return " "
    if rows[-1] - rows[0] >= 2:
        return "|"
    middle = (rows[0] + rows[-1]) / 2
    return "'" if middle < 1 else "-" if middle <= 2 else "."


#: Each braille cell in ASCII mode (see :func:`_ascii_dot`).
_ASCII_DOTS = tuple(_ascii_dot(bits) for bits in range(256))
#: Multipliers (of a power of ten) for a row's step, and for the x ticks' step.
ROW_STEPS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
TICK_STEPS = (1.0, 2.0, 2.5, 5.0)
#: A figure this tall has a header row (y title and legend) above the data.
HEADER_FROM = 7
#: Ticks on every row up to this many rows, every other row above it.
EVERY_ROW_UP_TO = 8
AXIS = palette.AXIS
#: Significant digits after the first in a tick in exponent form.
MAX_DIGITS = 5
#: Values beyond this are not plotted (their differences would overflow).
LARGEST = 1e300


@dataclass(frozen=True)
class Layer:
    """One series: a braille line through its points, or a glyph at each point."""

    xs: Sequence[float]
    ys: Sequence[float]
    style: str
    #: None: a braille line joining consecutive points; else this character at each point.
    glyph: str | None = None
    #: Legend text (long, and short for a narrow figure); empty: not in the legend.
    label: str = ""
    short: str = ""

    @property
    def key(self) -> str:
        """What the legend shows for this layer's marks."""
        return shown(self.glyph) if self.glyph else glyph("⠒⠒", "--")


@dataclass(frozen=True)
class Scale:
    """Rows of the y axis: row ``k`` (from the bottom) holds ``[mid(k) - step/2, mid(k) + step/2)``."""

    bottom: float  # the middle of the lowest row
    step: float
    rows: int

    def mid(self, row: int) -> float:
        return self.bottom + row * self.step

    def dot(self, y: float) -> int:
        """The braille dot row (4 a text row, from the bottom) of ``y``, clamped."""
        d = math.floor((y - self.bottom) / self.step * 4 + 2)
        return min(max(d, 0), self.rows * 4 - 1)


def nice_step(raw: float, choices: tuple[float, ...] = ROW_STEPS) -> float:
    """The smallest of ``choices`` times a power of ten that is at least ``raw`` (> 0).

    Rows choose from many (few rows stay empty), x ticks from the roundest."""
    raw = max(raw, 1e-300)
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (*choices, 10.0):
        if m * power >= raw * (1 - 1e-12):
            return m * power
    return 10 * power  # pragma: no cover - the loop always returns


def y_scale(lo: float, hi: float, rows: int) -> Scale:
    """The finest nice row step with which ``rows`` rows hold [lo, hi].

    Never finer than a ten-thousandth of the values: float32 noise on a loss
    that has settled is drawn as the flat line it is, and ticks stay short.
    """
    if hi <= lo:
        # One value (or none): rows a tenth of it apart, the value in a middle row.
        step = nice_step(abs(lo) / 10 if lo else 1.0)
        bottom = round(lo / step) * step - (rows // 2) * step
        if lo >= 0 > bottom:  # a loss: no negative rows below a value of 0 or more
            bottom = round(lo / step) * step - min(rows // 2, round(lo / step)) * step
        return Scale(bottom, step, rows)
    step = nice_step(max((hi - lo) / rows, max(abs(lo), abs(hi)) * 1e-4))
    while True:
        bottom = math.floor(lo / step + 0.5) * step
        if math.floor((hi - bottom) / step + 0.5) <= rows - 1:
            return Scale(bottom, step, rows)
        step = nice_step(step * 1.0001)


def labels(values: Sequence[float], step: float) -> list[str]:
    """Tick labels, as short as tells them apart at ``step`` apart: ``0.25``, ``1.2e38``."""
    big = max((abs(v) for v in values), default=0.0)
    if big == 0:
        return ["0" for _ in values]
    first = math.floor(math.log10(step) + 1e-9)
    mantissa = step / 10.0**first
    extra = 0 if abs(mantissa - round(mantissa)) < 1e-6 else 1  # 1.5, 2.5: one digit more
    decimals = max(0, -first + extra)
    if 1e-3 <= big < 1e6 and decimals <= 7:
        return [f"{0.0 if v == 0 else v:.{decimals}f}" for v in values]
    digits = min(MAX_DIGITS, max(0, math.floor(math.log10(big)) - first + extra))
    return [_exp(v, digits) for v in values]


def _exp(value: float, digits: int) -> str:
    """``1.20e+38`` → ``1.2e38``; ``5.00e-07`` → ``5e-7``."""
    return "0" if value == 0 else exponent_form(value, digits)


def _finite_range(values: Sequence[float]) -> tuple[float, float] | None:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    return min(finite), max(finite)


def _x_ticks(lo: float, hi: float, columns: int, whole: bool) -> tuple[list[float], list[str]]:
    """Nice x ticks in [lo, hi] with room for their labels on ``columns`` columns
    (whole numbers only if ``whole``: steps are counted)."""
    if hi <= lo:
        one = 1.0 if whole else nice_step(abs(lo) / 10 if lo else 1.0, TICK_STEPS)
        return [lo], labels([lo], one)
    for count in range(max(2, columns // 6), 1, -1):
        step = nice_step((hi - lo) / count, TICK_STEPS)
        if whole:
            step = max(step, 1.0)
        first = math.ceil(lo / step - 1e-9)
        ticks = [(first + i) * step for i in range(count + 2)]
        ticks = [t for t in ticks if t <= hi + step * 1e-9]
        texts = labels(ticks, step)
        if sum(len(t) + 2 for t in texts) <= columns:
            return ticks, texts
    return [], []


class _PlotCanvas:
    """Cells of the data area: a braille pattern or a glyph, and a style."""

    def __init__(self, columns: int, scale: Scale, x_lo: float, x_hi: float) -> None:
        self.columns, self.scale = columns, scale
        self.x_lo, self.x_span = x_lo, x_hi - x_lo
        rows = scale.rows
        self.bits = [[0] * columns for _ in range(rows)]
        self.glyph: list[list[str | None]] = [[None] * columns for _ in range(rows)]
        self.style = [[""] * columns for _ in range(rows)]

    def x_dot(self, x: float) -> int:
        if self.x_span <= 0:
            return self.columns  # the middle
        d = math.floor((x - self.x_lo) / self.x_span * (self.columns * 2))
        return min(max(d, 0), self.columns * 2 - 1)

    def column(self, x: float) -> int:
        return self.x_dot(x) // 2

    def _cell(self, dx: int, dy: int) -> tuple[int, int]:
        """(text row from the top, column) of a dot."""
        return self.scale.rows - 1 - dy // 4, dx // 2

    def mark(self, x: float, y: float, glyph: str, style: str) -> None:
        row, col = self._cell(self.x_dot(x), self.scale.dot(y))
        self.glyph[row][col] = glyph
        self.style[row][col] = style

    def plot(self, layer: Layer) -> None:
        if layer.glyph is None:
            self.line(layer.xs, layer.ys, layer.style)
            return
        for x, y in zip(layer.xs, layer.ys, strict=False):
            if math.isfinite(x) and math.isfinite(y):
                self.mark(x, y, shown(layer.glyph), layer.style)

    def line(self, xs: Sequence[float], ys: Sequence[float], style: str) -> None:
        """Braille dots along the segments between consecutive finite points."""
        last: tuple[int, int] | None = None
        for x, y in zip(xs, ys, strict=False):
            if not (math.isfinite(x) and math.isfinite(y)):
                last = None
                continue
            here = (self.x_dot(x), self.scale.dot(y))
            if last is None:
                self._span(here[0], here[1], here[1], style)
            else:
                self._segment(last, here, style)
            last = here

    def _segment(self, a: tuple[int, int], b: tuple[int, int], style: str) -> None:
        """The dots of a segment, one dot column at a time, each a vertical span
        (a steep segment costs a few cells per column, not one call per dot)."""
        (x0, y0), (x1, y1) = (a, b) if a[0] <= b[0] else (b, a)
        dx, dy = x1 - x0, y1 - y0
        if dx == 0:
            self._span(x0, y0 if dy >= 0 else y1, y1 if dy >= 0 else y0, style)
            return
        slope = dy / dx
        for i in range(dx + 1):
            ya = y0 + slope * (i - 0.5 if i else 0)
            yb = y0 + slope * (i + 0.5 if i < dx else dx)
            if ya > yb:
                ya, yb = yb, ya
            self._span(x0 + i, round(ya), round(yb), style)

    def _span(self, x: int, lo: int, hi: int, style: str) -> None:
        """Dots lo..hi (from the bottom) of dot column ``x``."""
        col, spans, top = x >> 1, _SPANS[x & 1], self.scale.rows - 1
        bits, glyph, styles = self.bits, self.glyph, self.style
        for cell in range(lo >> 2, (hi >> 2) + 1):
            base = cell * 4
            row = top - cell
            bits[row][col] |= spans[lo - base if lo > base else 0][
                hi - base if hi < base + 3 else 3
            ]
            glyph[row][col] = None
            styles[row][col] = style

    def row_text(self, row: int) -> Text:
        """The row's cells, one span per run of one style."""
        bits, glyphs, styles = self.bits[row], self.glyph[row], self.style[row]
        dots = _ASCII_DOTS if ascii_only() else _BRAILLE
        chars = [
            g if (g := glyphs[c]) is not None else (dots[bits[c]] if bits[c] else " ")
            for c in range(self.columns)
        ]
        text = Text("".join(chars))
        start = 0
        for col in range(1, self.columns + 1):
            if col == self.columns or styles[col] != styles[start]:
                if styles[start]:
                    text.stylize(styles[start], start, col)
                start = col
        return text


def draw(
    layers: Sequence[Layer],
    width: int,
    height: int,
    xlabel: str,
    ylabel: str = "loss",
    whole_x: bool = False,
) -> list[Text]:
    """The figure of ``layers`` in ``width`` × ``height`` cells, one ``Text`` a row;
    ``whole_x``: the x values are counts (steps), ticked at whole numbers only."""
    if width <= 0 or height <= 0:
        return [Text("")]
    xr, yr = _ranges(layers)
    header = height >= HEADER_FROM
    rows = height - 1 - header
    if xr is None or yr is None:
        return _note(_("no finite loss to plot"), height)
    if max(map(abs, (*xr, *yr))) > LARGEST:
        return _note(_("the values are too large to plot"), height)
    if rows < 1:
        return _note("", height)
    scale = y_scale(yr[0], yr[1], rows)
    ticks = _y_ticks(scale)
    margin = max(len(t) for t in ticks)
    if not header:
        margin = max(margin, cell_len(ylabel))
    columns = width - margin - 1 - cell_len(xlabel) - 1  # the x title follows the x axis
    if columns < 4:
        return _note(_("too narrow to plot"), height)
    canvas = _PlotCanvas(columns, scale, *xr)
    for layer in sorted(layers, key=lambda layer: layer.glyph is not None):
        canvas.plot(layer)  # lines first: a marker is never hidden under a line
    lines = [_legend(layers, ylabel, width)] if header else []
    for top in range(rows):
        k = rows - 1 - top
        line = Text(ticks[k].rjust(margin), style=AXIS)
        line.append(glyph("┤", "+") if ticks[k] else glyph("│", "|"), AXIS)
        line.append_text(canvas.row_text(top))
        lines.append(line)
    lines.append(_x_axis(canvas, xr, margin, "" if header else ylabel, xlabel, whole_x))
    return lines


def _ranges(
    layers: Sequence[Layer],
) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """The x and y ranges of the layers' finite points."""
    points = [
        (x, y)
        for layer in layers
        for x, y in zip(layer.xs, layer.ys, strict=False)
        if math.isfinite(x) and math.isfinite(y)
    ]
    return _finite_range([x for x, _y in points]), _finite_range([y for _x, y in points])


def _y_ticks(scale: Scale) -> list[str]:
    """Each row's tick label from the bottom: every row's on a short figure, else
    every other row's, on the multiples of two steps (0.5, 1.0, … not 0.25, 0.75, …)."""
    texts = labels([scale.mid(k) for k in range(scale.rows)], scale.step)
    if scale.rows <= EVERY_ROW_UP_TO:
        return texts
    odd = round(scale.bottom / scale.step) % 2
    return [texts[k] if (k + odd) % 2 == 0 else "" for k in range(scale.rows)]


def _note(text: str, height: int) -> list[Text]:
    return [Text(text, style=palette.HINT)] + [Text("") for _ in range(height - 1)]


def _x_axis(
    canvas: _PlotCanvas, xr: tuple[float, float], margin: int, corner: str, xlabel: str, whole: bool
) -> Text:
    """``loss└──0.5────1.0───── w``: the axis, its ticks' labels on it (each over its
    own column, moved in at the ends), the x title after it."""
    columns = canvas.columns
    cells = [glyph("─", "-")] * columns
    end = -2
    for value, text in zip(*_x_ticks(xr[0], xr[1], columns, whole), strict=True):
        col = canvas.column(value)
        start = min(max(col - len(text) // 2, col - len(text) + 1, 0), col, columns - len(text))
        if start <= end + 1 or start < 0:
            continue  # would touch the previous label, or cannot fit
        cells[start : start + len(text)] = list(text)
        end = start + len(text) - 1
    line = Text(" " * (margin - cell_len(corner)) + corner, style=AXIS)
    line.append(glyph("└", "+") + "".join(cells), AXIS)
    line.append(" " + xlabel, palette.LABEL)
    return line


def _legend(layers: Sequence[Layer], ylabel: str, width: int) -> Text:
    """The y title, then each labelled layer's glyph and name (short ones if long do not fit)."""
    named = [layer for layer in layers if layer.label and len(layer.xs)]
    for short in (False, True):
        parts = [
            (layer.key, (layer.short or layer.label) if short else layer.label, layer.style)
            for layer in named
        ]
        length = cell_len(ylabel) + sum(2 + cell_len(k) + 1 + cell_len(t) for k, t, _s in parts)
        if length <= width:
            break
    line = Text(ylabel, style=palette.LABEL)
    for key, label, style in parts:
        if line.cell_len + 3 + cell_len(key) + cell_len(label) > width:
            break
        line.append("  ")
        line.append(key, style)
        line.append(" " + label)
    return line
