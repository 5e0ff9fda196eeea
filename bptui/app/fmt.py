"""Number formatting shared by the panels.

Panels show torch's float32 values; these helpers only decide how many digits
fit. Nothing here computes a value.
"""

from __future__ import annotations

import math


def short(value: object, digits: int = 5) -> str:
    """Compact form for the graph and plot labels: ``1.0984``, ``-2.705``, ``1.2e+05``;
    a short vector as ``[0.3, -1]``, a matrix (or a long vector) by its shape, ``2×3``."""
    if value is None:
        return "?"
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (list, tuple)):
            return f"{len(value)}×{len(value[0])}"
        if len(value) > 3:
            return f"{len(value)}-vector"
        return "[" + ", ".join(short(v, 3) for v in value) + "]"
    assert isinstance(value, (int, float))
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


def full(value: object) -> str:
    """float32 precision (7 significant digits), or ``None`` as torch prints it."""
    if value is None:
        return "None"
    return short(value, 7)


def rows(value: object, digits: int = 4) -> list[str]:
    """A vector as one row, a matrix as one row per line, columns aligned."""
    if not isinstance(value, (list, tuple)):
        return [short(value, digits)]
    matrix = value if value and isinstance(value[0], (list, tuple)) else [value]
    cells = [[short(v, digits) for v in row] for row in matrix]
    width = max(len(c) for row in cells for c in row)
    return ["[" + " ".join(c.rjust(width) for c in row) + "]" for row in cells]


def is_number(value: object) -> bool:
    return isinstance(value, (int, float))
