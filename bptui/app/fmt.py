"""Number formatting shared by the panels.

Panels show torch's float32 values; these helpers only decide how many digits
fit. Nothing here computes a value.
"""

from __future__ import annotations

import math


def short(value: float | None, digits: int = 5) -> str:
    """Compact form for the graph and plot labels: ``1.0984``, ``-2.705``, ``1.2e+05``."""
    if value is None:
        return "?"
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


def full(value: float | None) -> str:
    """float32 precision (7 significant digits), or ``None`` as torch prints it."""
    if value is None:
        return "None"
    return short(value, 7)


def signed(value: float) -> str:
    """A factor inside a product: negative numbers get parentheses, ``2·(-1)``."""
    text = short(value)
    return f"({text})" if text.startswith("-") else text
