"""The operations a lesson graph may use, described without torch.

Each operation knows how it is drawn (``symbol``), which torch call computes it
(``torch_name``, resolved by the engine), and its local derivatives twice over:
as a formula a student reads (``formulas``) and as a plain-float function
(``derivative``) that the engine checks against the number torch computes.
The formulas are never used in place of torch's numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

# A local-derivative function gets the input values and the output value
# (all plain floats) and returns one derivative per input.
Derivative = Callable[[tuple[float, ...], float], tuple[float, ...]]


@dataclass(frozen=True)
class OpInfo:
    """How one operation looks, is computed, and differentiates."""

    name: str
    arity: int
    symbol: str
    torch_name: str
    #: One template per input; ``{0}``, ``{1}`` are the inputs' labels, ``{out}`` the output's.
    formulas: tuple[str, ...]
    derivative: Derivative
    #: How the operation reads in Python source, ``{0} * {1}`` and so on.
    source: str


def _sigmoid(v: float) -> float:
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


def _safe_div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        return math.copysign(math.inf, a) if a else math.nan


def _finite_or_nan(fn: Callable[[float], float]) -> Callable[[float], float]:
    """``fn`` that gives NaN, as torch does, where math raises (``cos(inf)``)."""
    return lambda v: fn(v) if math.isfinite(v) else math.nan


_cos, _sin = _finite_or_nan(math.cos), _finite_or_nan(math.sin)


def _pow_derivative(args: tuple[float, ...], out: float) -> tuple[float, ...]:
    base, exponent = args
    try:
        d_base = exponent * base ** (exponent - 1) if exponent != 0 else 0.0
    except (ZeroDivisionError, OverflowError):
        d_base = math.inf
    if isinstance(d_base, complex):
        d_base = math.nan
    d_exp = out * math.log(base) if base > 0 else math.nan
    return (d_base, d_exp)


OPS: dict[str, OpInfo] = {
    op.name: op
    for op in (
        OpInfo("mul", 2, "×", "mul", ("{1}", "{0}"), lambda a, o: (a[1], a[0]), "{0} * {1}"),
        OpInfo("add", 2, "+", "add", ("1", "1"), lambda a, o: (1.0, 1.0), "{0} + {1}"),
        OpInfo("sub", 2, "−", "sub", ("1", "−1"), lambda a, o: (1.0, -1.0), "{0} - {1}"),
        OpInfo(
            "div",
            2,
            "÷",
            "div",
            ("1/{1}", "−{0}/{1}²"),
            lambda a, o: (_safe_div(1.0, a[1]), -_safe_div(a[0], a[1] * a[1])),
            "{0} / {1}",
        ),
        OpInfo(
            "pow", 2, "^", "pow", ("{1}·{0}^({1}−1)", "{out}·ln {0}"), _pow_derivative, "{0} ** {1}"
        ),
        OpInfo("neg", 1, "−", "neg", ("−1",), lambda a, o: (-1.0,), "-{0}"),
        OpInfo(
            "sigmoid",
            1,
            "σ",
            "sigmoid",
            ("{out}(1−{out})",),
            lambda a, o: (o * (1.0 - o),),
            "torch.sigmoid({0})",
        ),
        OpInfo(
            "tanh", 1, "tanh", "tanh", ("1−{out}²",), lambda a, o: (1.0 - o * o,), "torch.tanh({0})"
        ),
        OpInfo(
            "relu",
            1,
            "relu",
            "relu",
            ("[{0}>0]",),
            lambda a, o: (1.0 if a[0] > 0 else 0.0,),
            "torch.relu({0})",
        ),
        OpInfo("exp", 1, "exp", "exp", ("{out}",), lambda a, o: (o,), "torch.exp({0})"),
        OpInfo(
            "log",
            1,
            "ln",
            "log",
            ("1/{0}",),
            lambda a, o: (_safe_div(1.0, a[0]),),
            "torch.log({0})",
        ),
        OpInfo("sin", 1, "sin", "sin", ("cos {0}",), lambda a, o: (_cos(a[0]),), "torch.sin({0})"),
        OpInfo(
            "cos", 1, "cos", "cos", ("−sin {0}",), lambda a, o: (-_sin(a[0]),), "torch.cos({0})"
        ),
        OpInfo(
            "abs",
            1,
            "|·|",
            "abs",
            ("sign {0}",),
            lambda a, o: (math.copysign(1.0, a[0]) if a[0] else 0.0,),
            "torch.abs({0})",
        ),
        OpInfo(
            "matmul", 2, "MM", "matmul", ("{1}ᵀ", "{0}ᵀ"), lambda a, o: (a[1], a[0]), "{0} @ {1}"
        ),
        OpInfo("sum", 1, "Σ", "sum", ("1",), lambda a, o: (1.0,), "torch.sum({0})"),
        OpInfo(
            "bce",
            2,
            "BCE",
            "binary_cross_entropy",
            ("({0}−{1})/({0}(1−{0}))", "ln(1−{0}) − ln {0}"),
            lambda a, o: (
                _safe_div(a[0] - a[1], a[0] * (1.0 - a[0])),
                math.log(1.0 - a[0]) - math.log(a[0]) if 0.0 < a[0] < 1.0 else math.nan,
            ),
            "F.binary_cross_entropy({0}, torch.tensor([{1}]))",
        ),
    )
}

# Python's operator precedence, for writing a graph back as source without
# unneeded parentheses. Function-call forms bind tightest.
PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "neg": 3, "pow": 4}


def pow_formula(exponent: float, base_label: str) -> str:
    """The readable derivative of ``base ** exponent`` for a known exponent: ``2r`` for r²."""
    if exponent == 0:
        return "0"
    if exponent == 1:
        return "1"
    coeff = format_number(exponent)
    if exponent == 2:
        return f"{coeff}{base_label}"
    return f"{coeff}{base_label}^{format_number(exponent - 1)}"


def format_number(value: float) -> str:
    """A literal as a teacher would write it: ``2`` not ``2.0``, ``0.5`` not ``5e-01``."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
