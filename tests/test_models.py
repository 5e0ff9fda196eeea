"""Custom models (``--model``): random expressions against an independent torch oracle.

Hypothesis writes expression strings from a small grammar (x, parameters a, b,
c, w, small constants, + - * /, sigmoid/tanh/exp/sin/cos, ``**`` with small
integer exponents, depth ≤ 3). bptui parses each into its whitelisted graph and
runs it with the Stepper; the oracle here walks Python's ``ast`` of the SAME
string and computes it with torch, then autograd gives the gradients. Nothing
is ever ``eval``-ed, here or in bptui.

The two may differ in the last bit (bptui hands data-only operations a float32
tensor, the oracle does so for every constant), so values are compared to
float32 rounding, and only where the expression is well conditioned: where the
oracle's float32 result agrees with its own float64 result.
"""

from __future__ import annotations

import ast
import json
import math
import operator

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bptui.cli import main
from bptui.lesson.engine import Stepper
from bptui.lesson.expr import parse_model
from bptui.lesson.files import load_lesson

PARAMS = ("a", "b", "c", "w")
CONSTANTS = ("0.5", "1", "2", "3", "1.5", "0.25")
EXPONENTS = ("-2", "-1", "0", "1", "2", "3")
FUNCS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "exp": torch.exp,
    "sin": torch.sin,
    "cos": torch.cos,
}
BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def expressions(depth: int) -> st.SearchStrategy[str]:
    """Expression strings of at most ``depth`` nested operations."""
    leaf = st.sampled_from(("x", *PARAMS, *CONSTANTS))
    if depth == 0:
        return leaf
    sub = expressions(depth - 1)

    def binary(parts: tuple[str, str, str, bool]) -> str:
        left, op, right, parens = parts
        text = f"{left} {op} {right}"
        return f"({text})" if parens else text

    pair = st.tuples(sub, st.sampled_from("+-*/"), sub, st.booleans()).map(binary)
    return st.one_of(
        pair,
        st.tuples(st.sampled_from(sorted(FUNCS)), sub).map(lambda t: f"{t[0]}({t[1]})"),
        pair,
        st.tuples(sub, st.sampled_from(EXPONENTS)).map(lambda t: f"({t[0]}) ** {t[1]}"),
        sub.map(lambda s: f"-({s})"),
        leaf,
    )


def with_parameter(parts: tuple[str, str]) -> str:
    """A model needs a parameter to learn: multiply one in if the expression has none."""
    text, name = parts
    return text if params_in_order(text) else f"{name} * ({text})"


models = st.tuples(expressions(3), st.sampled_from(PARAMS)).map(with_parameter)


# ------------------------------------------------------------------ the oracle


def _exponent(node: ast.AST) -> float:
    """The number right of ``**`` (``2`` or ``-2``), read from the tree."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_exponent(node.operand)
    raise AssertionError(f"unexpected exponent {ast.dump(node)}")


def evaluate(node: ast.AST, env: dict[str, torch.Tensor], dtype: torch.dtype) -> torch.Tensor:
    """The expression's value with torch ops: a tiny recursive walk, never eval."""
    if isinstance(node, ast.Expression):
        return evaluate(node.body, env, dtype)
    if isinstance(node, ast.Constant):
        return torch.tensor(float(node.value), dtype=dtype)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -evaluate(node.operand, env, dtype)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
        return evaluate(node.operand, env, dtype)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return evaluate(node.left, env, dtype) ** _exponent(node.right)
    if isinstance(node, ast.BinOp):
        return BINARY[type(node.op)](
            evaluate(node.left, env, dtype), evaluate(node.right, env, dtype)
        )
    if isinstance(node, ast.Call):
        return FUNCS[node.func.id](evaluate(node.args[0], env, dtype))
    raise AssertionError(f"the oracle does not know {ast.dump(node)}")


def oracle_step(tree, x, y, params, dtype):
    """One sample: ŷ, loss = (ŷ − y)² and every parameter's gradient, by plain autograd."""
    env = {"x": torch.tensor(x, dtype=dtype)}
    leaves = {}
    for name, value in params.items():
        leaves[name] = torch.tensor([value], dtype=dtype, requires_grad=True)
    env.update(leaves)
    yhat = evaluate(tree, env, dtype)
    loss = (yhat - y) ** 2
    if not loss.requires_grad:  # pragma: no cover - every model has a parameter
        return None
    loss.sum().backward()
    grads = {n: (None if t.grad is None else t.grad.item()) for n, t in leaves.items()}
    return yhat.item(), loss.item(), grads


def close(a, b, rel=1e-5, floor=1e-9) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= rel * max(abs(a), abs(b)) + floor


def finite(*values) -> bool:
    return all(v is None or math.isfinite(v) for v in values)


def params_in_order(text: str) -> tuple[str, ...]:
    """Parameter names in the order they first appear in the source."""
    names = [n for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)]
    names = [n for n in names if n.id not in ("x", *FUNCS)]
    names.sort(key=lambda n: (n.lineno, n.col_offset))
    return tuple(dict.fromkeys(n.id for n in names))


values = st.floats(-2.0, 2.0, width=32, allow_subnormal=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=models,
    data=st.lists(st.tuples(values, values), min_size=1, max_size=3),
    inits=st.fixed_dictionaries(dict.fromkeys(PARAMS, values)),
    lr=st.sampled_from((0.001, 0.01, 0.05)),
)
def test_random_model_matches_torch_oracle(text, data, inits, lr):
    """A random model's prediction, loss, gradients and update equal torch's to float32 rounding."""
    model = parse_model(text)  # the grammar's models are all accepted
    assert model.params == params_in_order(text)
    lesson = load_lesson(None, overrides={"model": text})
    init = {p: inits[p] for p in model.params}
    xs = [x for x, _ in data]
    ys = [y for _, y in data]
    lesson = lesson.with_values(x=xs, y=ys, init=init, lr=lr, epochs=1)
    assert set(lesson.param_names) == set(model.params)
    stepper = Stepper(lesson)
    stepper.run_to_end()
    records = stepper.records
    assert len(records) == len(data)

    tree = ast.parse(text, mode="eval")
    checked = 0
    for record in records:
        # Which records to compare is decided by the oracle alone: an engine bug that
        # gives NaN or inf where the oracle has a number fails the test, it is not skipped.
        single = oracle_step(tree, record.x, record.y, record.params, torch.float32)
        double = oracle_step(tree, record.x, record.y, record.params, torch.float64)
        yhat, loss, grads = single
        if not finite(yhat, loss, *grads.values()):
            continue
        # Well conditioned: float32 rounding does not move the oracle's own result.
        if not (close(yhat, double[0], 2e-6, 1e-12) and close(loss, double[1], 2e-6, 1e-12)):
            continue
        if not all(close(grads[n], double[2][n], 2e-6, 1e-12) for n in grads):
            continue
        checked += 1

        where = f"{text!r} at x={record.x}, y={record.y}, params={record.params}"
        assert close(record.nodes["yhat"], yhat), where
        assert close(record.loss, loss), where
        assert record.grads.keys() == grads.keys()
        for name in grads:
            assert close(record.grads[name], grads[name]), (name, where)
        for name, before in record.params.items():
            step = torch.tensor([before]) - lr * torch.tensor([record.grads[name]])
            assert record.params_after[name] == step.item(), (name, where)
    assume(checked)


@pytest.mark.parametrize(
    "text",
    [
        "x * w",
        "sigmoid(x * a + b)",
        "a * tanh(b * x + c) - w",
        "exp(-(x - a) ** 2 / b)",
        "sin(a * x) + cos(b * x) ** 2",
        "(x * a + 1) ** -2 * b",
        "a / (1 + b ** 2) + 0.5 * x",
        "-(-a) * x",
        "1 / (1 + exp(-x * w))",
        "0.5 / (x + a)",
        "x / (w * x) + b",
    ],
)
def test_fixed_models_match_torch_oracle(text):
    """Hand-picked models, two epochs of SGD: every step equals the oracle to float32 rounding."""
    lesson = load_lesson(None, overrides={"model": text}).with_values(
        x=[-1.0, 0.5, 2.0],
        y=[0.25, -0.5, 1.0],
        init={p: 0.3 + 0.2 * i for i, p in enumerate(parse_model(text).params)},
        lr=0.01,
        epochs=2,
    )
    stepper = Stepper(lesson)
    stepper.run_to_end()
    tree = ast.parse(text, mode="eval")
    for record in stepper.records:
        yhat, loss, grads = oracle_step(tree, record.x, record.y, record.params, torch.float32)
        assert close(record.nodes["yhat"], yhat) and close(record.loss, loss), record.step
        assert all(close(record.grads[n], grads[n]) for n in grads), record.step


def test_number_divided_by_expression_steps_backward():
    """c / t (in torch t.reciprocal() * c) steps backward with ∂(c/t)/∂t = −c/t² from torch."""
    lesson = load_lesson(None, overrides={"model": "1 / (1 + exp(-x * w))"}).with_values(
        x=[1.0], y=[0.0], init={"w": 0.5}, epochs=1
    )
    stepper = Stepper(lesson)
    stepper.finish_forward()
    while stepper.phase.name == "BACKWARD":
        assert stepper.backward()
    snap = stepper.snapshot()
    div = next(n for n in lesson.nodes if n.name == "yhat")
    assert div.op == "div" and div.args[0] == 1.0
    (factor,) = [f for f in snap.factors if f.out == "yhat"]
    t = 1.0 + math.exp(-0.5)
    assert factor.value == pytest.approx(-1.0 / t**2, rel=1e-6)
    assert factor.agrees
    (chain,) = snap.chains
    assert chain.product == pytest.approx(chain.torch_grad, rel=1e-6)
    assert chain.agree
    w = torch.tensor([0.5], requires_grad=True)
    ((1 / (1 + torch.exp(-1.0 * w)) - 0.0) ** 2).backward()
    assert chain.torch_grad == pytest.approx(w.grad.item(), rel=1e-6)


def test_model_replaces_file_model_and_keeps_data():
    """--model over the default lesson keeps its data, rate, epochs, and w's start if used."""
    base = load_lesson(None)
    lesson = load_lesson(None, overrides={"model": "x * w + b"})
    assert (lesson.x, lesson.y, lesson.lr, lesson.epochs) == (base.x, base.y, base.lr, base.epochs)
    assert lesson.params == (("w", 1.0), ("b", 1.0))
    other = load_lesson(None, overrides={"model": "tanh(x * k) + c"})
    assert other.params == (("k", 1.0), ("c", 1.0))


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("text", "init", "names"),
    [
        ("tanh(x * k) + c", "k=0.5", ["k", "c"]),
        ("x * w + b", "b=0.25", ["w", "b"]),
        ("sigmoid(w2 * x + b2) * v", "v=2,w2=-1", ["w2", "b2", "v"]),
    ],
)
def test_trace_model_option(tmp_path, text, init, names):
    """bptui trace --model EXPR: param columns are named after the model's parameters."""
    out = tmp_path / "t.jsonl"
    code = main(
        [
            "trace",
            "--model",
            text,
            "--init",
            init,
            "--x",
            "-1,2",
            "--y",
            "0.5,1",
            "--epochs",
            "2",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    rows = read_jsonl(out)
    assert len(rows) == 4
    given_init = dict(item.split("=") for item in init.split(","))
    for row in rows:
        assert list(row["params"]) == names
        assert list(row["grads"]) == names
        assert list(row["params_after"]) == names
        assert row["loss"] == pytest.approx((row["nodes"]["yhat"] - row["y"]) ** 2, rel=1e-5)
    for name in names:
        assert rows[0]["params"][name] == float(given_init.get(name, 1.0))
    tree = ast.parse(text, mode="eval")
    for row in rows:
        yhat, loss, grads = oracle_step(tree, row["x"], row["y"], row["params"], torch.float32)
        assert close(row["nodes"]["yhat"], yhat) and close(row["loss"], loss)
        assert all(close(row["grads"][n], grads[n]) for n in names)


def test_trace_model_with_lesson_file_model_replaced(tmp_path):
    """--model over a lesson file: the file's init for parameters the new model lacks is dropped."""
    path = tmp_path / "l.toml"
    path.write_text(
        'model = "x * w + b"\nx = [1.0, 2.0]\ny = [1.0, 3.0]\nlr = 0.1\nepochs = 1\n'
        "[init]\nw = 2.0\nb = 0.5\n",
        encoding="utf-8",
    )
    out = tmp_path / "t.jsonl"
    assert main(["trace", str(path), "--model", "x * w * q", "-o", str(out)]) == 0
    rows = read_jsonl(out)
    assert list(rows[0]["params"]) == ["w", "q"]
    assert rows[0]["params"] == {"w": 2.0, "q": 1.0}
