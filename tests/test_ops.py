"""The table of operations: every op's formula text and its plain-float derivative.

The chain-rule panel shows, for each local derivative, a formula a student reads
(``ŷ(1−ŷ)``) and that formula worked out on plain floats beside torch's number;
``✓ all agree`` is only as good as both. Here every op of ``OPS`` is checked on
its own: its formula written out for given labels, and its derivative function
against torch's autograd (float64) over random inputs. The engine-level checks
(each built-in lesson and random models: every factor agrees, every chain is
verified) are in ``test_verified.py``.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from bptui.lesson.ops import OPS, PRECEDENCE, format_number, pow_formula

#: Every op's formulas with inputs labelled u, v and the output o: a template that
#: put an input where the output belongs (``u(1−u)`` for σ) reads wrong here.
FORMULAS = {
    "mul": ("v", "u"),
    "add": ("1", "1"),
    "sub": ("1", "−1"),
    "div": ("1/v", "−u/v²"),
    "pow": ("v·u^(v−1)", "o·ln u"),
    "neg": ("−1",),
    "sigmoid": ("o(1−o)",),
    "tanh": ("1−o²",),
    "relu": ("[u>0]",),
    "exp": ("o",),
    "log": ("1/u",),
    "sin": ("cos u",),
    "cos": ("−sin u",),
    "abs": ("sign u",),
    "matmul": ("vᵀ", "uᵀ"),
    "sum": ("1",),
    "bce": ("(u−v)/(u(1−u))", "ln(1−u) − ln u"),
}

#: How each op is written in Python source, with inputs u and v.
SOURCES = {
    "mul": "u * v",
    "add": "u + v",
    "sub": "u - v",
    "div": "u / v",
    "pow": "u ** v",
    "neg": "-u",
    "sigmoid": "torch.sigmoid(u)",
    "tanh": "torch.tanh(u)",
    "relu": "torch.relu(u)",
    "exp": "torch.exp(u)",
    "log": "torch.log(u)",
    "sin": "torch.sin(u)",
    "cos": "torch.cos(u)",
    "abs": "torch.abs(u)",
    "matmul": "u @ v",
    "sum": "torch.sum(u)",
    "bce": "F.binary_cross_entropy(u, torch.tensor([v]))",
}

SYMBOLS = {
    "mul": "×",
    "add": "+",
    "sub": "−",
    "div": "÷",
    "pow": "^",
    "neg": "−",
    "sigmoid": "σ",
    "tanh": "tanh",
    "relu": "relu",
    "exp": "exp",
    "log": "ln",
    "sin": "sin",
    "cos": "cos",
    "abs": "|·|",
    "matmul": "MM",
    "sum": "Σ",
    "bce": "BCE",
}


def test_every_op_is_checked_here():
    """A new op needs its formulas, source and symbol written down here, and an oracle below."""
    assert set(OPS) == set(FORMULAS) == set(SOURCES) == set(SYMBOLS) == set(ORACLES)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_formula_text(name):
    """Each op's formulas, filled in for inputs u, v and output o, read as a teacher writes them."""
    info = OPS[name]
    assert info.name == name
    assert info.arity == len(info.formulas) == len(FORMULAS[name])
    labels = ("u", "v")[: info.arity]
    assert tuple(f.format(*labels, out="o") for f in info.formulas) == FORMULAS[name]
    assert info.source.format(*labels) == SOURCES[name]
    assert info.symbol == SYMBOLS[name]


def test_torch_names_resolve():
    """Each op's torch_name is a real torch (or torch.nn.functional) function."""
    for info in OPS.values():
        fn = getattr(torch, info.torch_name, None) or getattr(F, info.torch_name)
        assert callable(fn), info.name
    assert OPS["bce"].torch_name == "binary_cross_entropy"
    assert {n: OPS[n].torch_name for n in ("mul", "add", "sub", "div", "pow", "neg")} == {
        "mul": "mul",
        "add": "add",
        "sub": "sub",
        "div": "div",
        "pow": "pow",
        "neg": "neg",
    }


def test_pow_formula_for_a_known_exponent():
    """r² reads 2r, r³ reads 3r^2, r^0.5 reads 0.5r^-0.5; exponents 0 and 1 read 0 and 1."""
    assert pow_formula(2.0, "r") == "2r"
    assert pow_formula(3.0, "r") == "3r^2"
    assert pow_formula(-2.0, "z") == "-2z^-3"
    assert pow_formula(0.5, "r") == "0.5r^-0.5"
    assert pow_formula(1.0, "r") == "1"
    assert pow_formula(0.0, "r") == "0"


def test_format_number():
    """Literals as written: 2 not 2.0, 0.5, -3, and huge or non-finite values as repr."""
    assert [format_number(v) for v in (2.0, 0.5, -3.0, 0.0, 1e15, 1e14)] == [
        "2",
        "0.5",
        "-3",
        "0",
        "1000000000000000.0",
        "100000000000000",
    ]
    assert format_number(math.inf) == "inf" and format_number(math.nan) == "nan"


def test_precedence_follows_python():
    """+ − bind loosest, then × ÷ @, then unary minus, then **."""
    assert PRECEDENCE == {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "neg": 3, "pow": 4}


# ------------------------------------------------------- derivative vs torch


def _bce(p, y):
    return F.binary_cross_entropy(p, y)


#: op → (torch function on float64 tensors, a strategy for its inputs). Inputs stay
#: where the op is differentiable and well away from its singular points.
number = st.floats(-4.0, 4.0, allow_nan=False, allow_infinity=False)
away_from_zero = st.one_of(st.floats(-4.0, -0.05), st.floats(0.05, 4.0))
positive = st.floats(0.05, 4.0)
probability = st.floats(0.02, 0.98)
ORACLES = {
    "mul": (torch.mul, st.tuples(number, number)),
    "add": (torch.add, st.tuples(number, number)),
    "sub": (torch.sub, st.tuples(number, number)),
    "div": (torch.div, st.tuples(number, away_from_zero)),
    "pow": (torch.pow, st.tuples(positive, st.floats(-3.0, 3.0))),
    "neg": (torch.neg, st.tuples(number)),
    "sigmoid": (torch.sigmoid, st.tuples(st.floats(-12.0, 12.0))),
    "tanh": (torch.tanh, st.tuples(number)),
    "relu": (torch.relu, st.tuples(away_from_zero)),
    "exp": (torch.exp, st.tuples(number)),
    "log": (torch.log, st.tuples(positive)),
    "sin": (torch.sin, st.tuples(st.floats(-10.0, 10.0))),
    "cos": (torch.cos, st.tuples(st.floats(-10.0, 10.0))),
    "abs": (torch.abs, st.tuples(away_from_zero)),
    "matmul": (torch.matmul, st.tuples(number, number)),
    "sum": (torch.sum, st.tuples(number)),
    "bce": (_bce, st.tuples(probability, st.floats(0.0, 1.0))),
}


def torch_derivatives(name: str, args: tuple[float, ...]) -> tuple[tuple[float, ...], float]:
    """∂out/∂input for each input, and the output, by torch's autograd in float64."""
    fn, _ = ORACLES[name]
    leaves = [torch.tensor([a], dtype=torch.float64, requires_grad=True) for a in args]
    out = fn(*leaves)
    grads = torch.autograd.grad(out.sum(), leaves, allow_unused=True)
    return tuple(0.0 if g is None else g.item() for g in grads), out.item()


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


@pytest.mark.parametrize("name", sorted(ORACLES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_derivative_matches_torch(name, data):
    """An op's plain-float derivative equals torch's autograd at random inputs (float64)."""
    _, inputs = ORACLES[name]
    args = data.draw(inputs, label="inputs")
    want, out = torch_derivatives(name, args)
    got = OPS[name].derivative(args, out)
    assert len(got) == OPS[name].arity
    for position, (g, w) in enumerate(zip(got, want, strict=True)):
        assert close(g, w), (name, position, args, g, w)


def test_derivatives_at_their_edges():
    """Where an op is not smooth the table says what torch says, or NaN where torch has none."""
    relu, absolute = OPS["relu"].derivative, OPS["abs"].derivative
    assert relu((0.0,), 0.0) == (0.0,) == torch_derivatives("relu", (0.0,))[0]
    assert absolute((0.0,), 0.0) == (0.0,) == torch_derivatives("abs", (0.0,))[0]
    assert absolute((-2.0,), 2.0) == (-1.0,)
    # Division by zero: ∞ of the right sign, and NaN for 0/0.
    d = OPS["div"].derivative
    assert d((1.0, 0.0), math.inf)[0] == math.inf
    assert d((-1.0, 0.0), -math.inf)[1] == math.inf
    assert math.isnan(d((0.0, 0.0), math.nan)[1])
    assert OPS["log"].derivative((0.0,), -math.inf) == (math.inf,)
    # A power of a non-positive base: ∂/∂exponent has no real value.
    base, exponent = OPS["pow"].derivative((-2.0, 2.0), 4.0)
    assert base == -4.0 and math.isnan(exponent)
    assert OPS["pow"].derivative((3.0, 0.0), 1.0)[0] == 0.0
    # 0 ** 0 is 1 for every base, 0 included: torch's ∂/∂base is 0 there, not 0·0⁻¹.
    assert OPS["pow"].derivative((0.0, 0.0), 1.0)[0] == 0.0
    assert torch_derivatives("pow", (0.0, 0.0))[0][0] == 0.0
    assert OPS["pow"].derivative((0.0, -1.0), math.inf)[0] == math.inf
    assert math.isnan(OPS["pow"].derivative((-8.0, 1 / 3), math.nan)[0])
    # sin and cos of ±inf are NaN in torch; math raises there (it crashed the snapshot).
    for name in ("sin", "cos"):
        for v in (math.inf, -math.inf, math.nan):
            (got,) = OPS[name].derivative((v,), math.nan)
            assert math.isnan(got) and math.isnan(torch_derivatives(name, (v,))[0][0])
    # bce outside (0, 1) has no derivative with respect to the target.
    assert math.isnan(OPS["bce"].derivative((1.0, 1.0), 0.0)[1])
    assert math.isnan(OPS["bce"].derivative((0.0, 0.0), 0.0)[1])
