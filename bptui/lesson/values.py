"""Numbers as a student reads them, and whether they are finite. No torch.

A value the engine shows is a float (the note's scalars) or nested lists of
floats (a vector or a matrix); these helpers take either.
"""

from __future__ import annotations

import math
import struct
from typing import TypeAlias

#: A value as plain Python: a float, or nested lists (from torch) or tuples (a
#: lesson's data) of floats for a vector or matrix.
Value: TypeAlias = "float | list[Value] | tuple[Value, ...]"
#: A lesson's value as given: a number, or nested tuples for a vector or matrix.
Data: TypeAlias = "float | tuple[Data, ...]"
#: A value that may also be missing (a gradient before the first backward pass).
MaybeValue: TypeAlias = "Value | None"


#: float32 steps a value is moved by to see how far rounding can move its gradient
#: (each operation of the forward pass rounds to about one).
FLOAT32_STEPS = 4


def float32_spacing(value: float) -> float:
    """The gap between ``value`` and the next float32 up (2**-23 of its power of two)."""
    if not math.isfinite(value):
        return math.inf
    _mantissa, exponent = math.frexp(abs(value) or 1.0)
    return math.ldexp(1.0, exponent - 24)


def format_value(value: float | None) -> str:
    """A float32 value as a student reads it: up to 7 significant digits."""
    if value is None:
        return "None"
    if value != value:
        return "nan"
    if value in (math.inf, -math.inf):
        return "inf" if value > 0 else "-inf"
    return f"{value:.7g}"


def format_float32(value: float) -> str:
    """A float32 in as many digits as tell it from its neighbours (``1.9999996``,
    where 7 significant digits read ``2``): numpy's float32 repr, at most 9 digits."""
    if not math.isfinite(value):
        return format_value(value)
    try:
        target = struct.pack("<f", value)
    except OverflowError:
        return f"{value:.9g}"
    for digits in (7, 8):
        if struct.pack("<f", float(f"{value:.{digits}g}")) == target:
            return f"{value:.{digits}g}"
    return f"{value:.9g}"


def format_plain(value: object) -> str:
    """A value or a nested list of values: ``-2``, ``[0.5, -1]``."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_plain(v) for v in value) + "]"
    return format_value(value)  # type: ignore[arg-type]


def all_finite(value: object) -> bool:
    """A number, or every number of a (nested) list, is finite."""
    if isinstance(value, (list, tuple)):
        return all(all_finite(v) for v in value)
    return math.isfinite(value)  # type: ignore[arg-type]


def nonzero(value: object) -> bool:
    """A gradient that holds something (not None, not all zeros)."""
    if isinstance(value, list):
        return any(nonzero(v) for v in value)
    return value not in (None, 0.0)


def float_or_nan(value: object) -> float:
    """A scalar as itself; a vector or matrix (not one point of a plot) as NaN."""
    return value if isinstance(value, float) else math.nan
