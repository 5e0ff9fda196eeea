"""Number formatting shared by the panels.

Panels show torch's float32 values; these helpers only decide how many digits
fit. Nothing here computes a value.
"""

from __future__ import annotations

import math
import struct

from rich.cells import cell_len

from ..glyphs import glyph


def short(value: object, digits: int = 5) -> str:
    """Compact form for the graph and plot labels: ``1.0984``, ``-2.705``, ``1.2e+05``;
    a short vector as ``[0.3, -1]``, a matrix (or a long vector) by its shape, ``2×3``."""
    if value is None:
        return "?"
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (list, tuple)):
            return f"{len(value)}{glyph('×', 'x')}{len(value[0])}"  # a shape: 2x3
        if len(value) > 3:
            # Notation, like 2×3 (not translated): the graph lays its text out on a
            # grid of one-cell characters.
            return f"{len(value)}-vector"
        return "[" + ", ".join(short(v, 3) for v in value) + "]"
    assert isinstance(value, (int, float))
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return number(value, digits)


def number(value: float, digits: int = 5) -> str:
    """``value`` in at most ``digits`` significant digits, in whichever of the plain and
    the scientific form is shorter: ``0.0077356``, ``3.6875e-4``, ``1.2e5``.

    A non-zero value never reads as 0: digits are significant, not decimal places.
    """
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    plain = f"{value:.{digits}g}"
    if "e" in plain or (value and abs(value) < 1e-3):
        mantissa, _e, exponent = f"{value:.{digits - 1}e}".partition("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        compact = f"{mantissa}e{int(exponent)}"
        if "e" in plain or len(compact) < len(plain):
            plain = compact
    return "0" if plain == "-0" else plain


def full(value: object) -> str:
    """As many digits as tell this float32 from its neighbours (``1.9999996``, not
    ``2``: numpy's float32 repr, at most 9), or ``None`` as torch prints it."""
    if value is None:
        return "None"
    if isinstance(value, float) and math.isfinite(value):
        return number(value, float32_digits(value))
    return short(value, 7)


def float32_digits(value: float) -> int:
    """The fewest significant digits (at least 7) that read back as the same float32."""
    try:
        target = struct.pack("<f", value)
    except OverflowError:  # not a float32 at all: as many as float32 ever needs
        return 9
    for digits in (7, 8):
        if struct.pack("<f", float(f"{value:.{digits}g}")) == target:
            return digits
    return 9


def rows(value: object, digits: int = 4) -> list[str]:
    """A vector as one row, a matrix as one row per line, columns aligned."""
    if not isinstance(value, (list, tuple)):
        return [short(value, digits)]
    matrix = value if value and isinstance(value[0], (list, tuple)) else [value]
    cells = [[short(v, digits) for v in row] for row in matrix]
    width = max(cell_len(c) for row in cells for c in row)
    return ["[" + " ".join(c.rjust(width) for c in row) + "]" for row in cells]


def is_number(value: object) -> bool:
    return isinstance(value, (int, float))
