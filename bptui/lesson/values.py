"""Numbers as a student reads them, and whether they are finite. No torch.

A value the engine shows is a float (the note's scalars) or nested lists of
floats (a vector or a matrix); these helpers take either.
"""

from __future__ import annotations

import math
import struct
from typing import TypeAlias

from ..glyphs import glyph

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


# ------------------------------------------------------------- numbers as text
# Every number bptui shows is spelled here: the engine's sentences, the panels,
# the plot's ticks, the narration file and the handouts.


def non_finite(value: float) -> str | None:
    """``nan``, ``inf`` or ``-inf`` as torch prints them; None for a finite number."""
    if value != value:
        return "nan"
    if value in (math.inf, -math.inf):
        return "inf" if value > 0 else "-inf"
    return None


def format_value(value: float | None) -> str:
    """A float32 value as a student reads it: up to 7 significant digits."""
    if value is None:
        return "None"
    return non_finite(value) or f"{value:.7g}"


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


def format_float32(value: float) -> str:
    """A float32 in as many digits as tell it from its neighbours (``1.9999996``,
    where 7 significant digits read ``2``): numpy's float32 repr, at most 9 digits."""
    if not math.isfinite(value):
        return format_value(value)
    return f"{value:.{float32_digits(value)}g}"


def exponent_form(value: float, decimals: int) -> str:
    """``value`` in scientific form without the noise: ``1.20e+38`` → ``1.2e38``,
    ``5.00e-07`` → ``5e-7`` (``decimals`` in the mantissa, trailing zeros dropped)."""
    mantissa, _e, exponent = f"{value:.{decimals}e}".partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def number(value: float, digits: int = 5) -> str:
    """``value`` in at most ``digits`` significant digits, in whichever of the plain and
    the scientific form is shorter: ``0.0077356``, ``3.6875e-4``, ``1.2e5``.

    A non-zero value never reads as 0: digits are significant, not decimal places.
    """
    word = non_finite(value)
    if word is not None:
        return word
    plain = f"{value:.{digits}g}"
    if "e" in plain or (value and abs(value) < 1e-3):
        compact = exponent_form(value, digits - 1)
        if "e" in plain or len(compact) < len(plain):
            plain = compact
    return "0" if plain == "-0" else plain


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
    return number(value, digits)


def full(value: object) -> str:
    """As many digits as tell this float32 from its neighbours (``1.9999996``, not
    ``2``: numpy's float32 repr, at most 9), or ``None`` as torch prints it."""
    if value is None:
        return "None"
    if isinstance(value, float) and math.isfinite(value):
        return number(value, float32_digits(value))
    return short(value, 7)


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
