"""The built-in lessons against plain torch: every value the Stepper records is torch's.

Each built-in lesson's model is written out here by hand, as a student would
write it after the note (``x_val * w``, ``torch.sigmoid(...)``, ``(yhat - y_val) ** 2``),
and trained with the note's per-sample SGD loop. The Stepper builds the same
ops in the same order, so its predictions, losses, gradients and updates must
equal this oracle bit for bit. The oracle never looks at the lesson's nodes.
"""

from __future__ import annotations

import csv
import json
import math
import sys

import pytest
import torch
import torch.nn.functional as F

from bptui.cli import main
from bptui.lesson import Node, Stepper, seed_lesson
from bptui.lesson.files import builtin_names, builtin_path, describe_builtins, load_lesson


def _linear(x_val, p):
    return x_val * p["w"]


def _affine(x_val, p):
    return x_val * p["w"] + p["b"]


def _collapse(x_val, p):
    return p["w2"] * (p["w1"] * x_val + p["b1"]) + p["b2"]


def _neuron(x_val, p):
    return torch.sigmoid(x_val * p["w"] + p["b"])


def _two_layer(x_val, p):
    return p["w2"] * torch.sigmoid(p["w1"] * x_val + p["b1"]) + p["b2"]


#: name → (hand-written model, parameters in the lesson's order with initial values).
ORACLES = {
    "linear": (_linear, {"w": 1.0}),
    "affine": (_affine, {"w": 1.0, "b": 0.0}),
    "collapse": (_collapse, {"w1": 0.5, "b1": 0.0, "w2": 0.5, "b2": 0.0}),
    "neuron": (_neuron, {"w": 0.5, "b": 0.0}),
    "two-layer": (_two_layer, {"w1": 1.0, "b1": 0.0, "w2": 1.0, "b2": 0.0}),
}

#: Lessons whose loss is (ŷ − y)² over a prediction; "node" is checked on its own.
SQUARED = sorted(ORACLES)


def squared(yhat, y_val):
    return (yhat - y_val) ** 2


def bce(yhat, y_val):
    return F.binary_cross_entropy(yhat, torch.tensor([y_val]))


def oracle_run(model, init, lesson, loss_fn):
    """The note's training loop on plain torch; one dict of plain floats per step."""
    params = {}
    for name, value in init.items():
        tensor = torch.tensor([value], dtype=torch.float32)
        tensor.requires_grad = True
        params[name] = tensor
    rows = []
    for _epoch in range(lesson.epochs):
        for x_val, y_val in zip(lesson.x, lesson.y, strict=True):
            before = {n: p.item() for n, p in params.items()}
            yhat = model(x_val, params)
            residual = yhat - y_val
            loss = loss_fn(yhat, y_val)
            loss.backward()
            grads = {n: p.grad.item() for n, p in params.items()}
            for p in params.values():
                p.data = p.data - lesson.lr * p.grad.data
            for p in params.values():
                p.grad.data.zero_()
            rows.append(
                {
                    "x": x_val,
                    "y": y_val,
                    "params": before,
                    "yhat": yhat.item(),
                    "r": residual.item(),
                    "loss": loss.item(),
                    "grads": grads,
                    "params_after": {n: p.item() for n, p in params.items()},
                }
            )
    return rows


def stepper_run(lesson):
    stepper = Stepper(lesson)
    stepper.run_to_end()
    return stepper.records


def compare(records, rows, *, residual=True):
    """Every record equals the oracle's row exactly (same float32 ops, same order)."""
    assert len(records) == len(rows)
    for record, row in zip(records, rows, strict=True):
        where = f"step {record.step}"
        assert (record.x, record.y) == (row["x"], row["y"]), where
        assert record.params == row["params"], where
        assert record.nodes["yhat"] == row["yhat"], where
        if residual:
            assert record.nodes["r"] == row["r"], where
        assert record.loss == row["loss"] == record.nodes["loss"], where
        assert record.grads == row["grads"], where
        assert record.params_after == row["params_after"], where


@pytest.mark.parametrize("name", SQUARED)
def test_builtin_lesson_matches_plain_torch(name):
    """A squared-loss built-in lesson's whole run equals the hand-written torch loop bit for bit."""
    lesson = load_lesson(name)
    model, init = ORACLES[name]
    assert lesson.params == tuple(init.items())
    assert lesson.loss_kind == "squared"
    records = stepper_run(lesson)
    rows = oracle_run(model, init, lesson, squared)
    compare(records, rows)
    assert len(records) == lesson.epochs * lesson.n_samples


@pytest.mark.parametrize("name", SQUARED)
def test_builtin_lesson_with_other_values_matches(name):
    """Changed data, start values, rate and epochs still give the oracle's numbers exactly."""
    model, init = ORACLES[name]
    start = {n: 0.25 * (i + 1) - 0.6 for i, n in enumerate(init)}
    lesson = load_lesson(name).with_values(
        x=[0.5, -1.5, 2.25], y=[0.3, 0.1, 0.7], init=start, lr=0.03, epochs=2
    )
    records = stepper_run(lesson)
    compare(records, oracle_run(model, start, lesson, squared))
    assert len(records) == 6


def test_builtin_lessons_are_all_checked():
    """Every built-in lesson has an oracle here (a new lesson needs one)."""
    # node, matrix and layer have oracles of their own (here and in test_matrix.py).
    assert set(builtin_names()) == set(ORACLES) | {"node", "matrix", "layer"}
    assert builtin_names()[0] == "linear"


def test_neuron_bce_matches_binary_cross_entropy():
    """neuron --loss bce: the loss and its gradients are torch's binary_cross_entropy's."""
    lesson = load_lesson("neuron", overrides={"loss": "bce"})
    assert lesson.loss_kind == "bce"
    assert lesson.residual is None
    lesson = lesson.with_values(epochs=3)
    model, init = ORACLES["neuron"]
    records = stepper_run(lesson)
    rows = oracle_run(model, init, lesson, bce)
    compare(records, rows, residual=False)
    assert "r" not in records[0].nodes


def test_neuron_bce_by_hand_formula():
    """The bce loss is −(y·ln ŷ + (1−y)·ln(1−ŷ)) and its w gradient (ŷ−y)·x, to float32 rounding."""
    lesson = load_lesson("neuron", overrides={"loss": "bce"}).with_values(epochs=1)
    for record in stepper_run(lesson):
        yhat, y = record.nodes["yhat"], record.y
        by_hand = -(y * math.log(yhat) + (1 - y) * math.log(1 - yhat))
        assert record.loss == pytest.approx(by_hand, rel=1e-5, abs=1e-7)
        assert record.grads["w"] == pytest.approx((yhat - y) * record.x, rel=1e-5, abs=1e-7)
        assert record.grads["b"] == pytest.approx(yhat - y, rel=1e-5, abs=1e-7)


def test_node_lesson_upstream_gradient():
    """node: L = 5·z, z = x·w; at x = 2, w = 3 torch gives ∂L/∂x = 15 and ∂L/∂w = 10."""
    lesson = load_lesson("node")
    assert lesson.input_grad and lesson.loss_kind == "upstream"
    assert lesson.param_names == ("w",)
    stepper = Stepper(lesson)
    stepper.finish_forward()
    stepper.finish_backward()
    snap = stepper.snapshot()
    chains = {chain.param: chain for chain in snap.chains}
    assert set(chains) == {"w", "x"}
    assert chains["w"].torch_grad == 10.0 and chains["w"].param_grad == 10.0
    assert chains["x"].torch_grad == 15.0
    assert chains["w"].product == 10.0 and chains["x"].product == 15.0
    assert chains["w"].finite_diff == pytest.approx(10.0, rel=1e-6)
    assert chains["x"].finite_diff == pytest.approx(15.0, rel=1e-6)
    x_view = next(view for view in snap.nodes if view.name == "x")
    assert x_view.grad == 15.0
    assert x_view.requires_grad

    # The same in plain torch.
    x = torch.tensor([2.0], requires_grad=True)
    w = torch.tensor([3.0], requires_grad=True)
    z = x * w
    big_l = z * 5
    big_l.backward()
    assert (x.grad.item(), w.grad.item()) == (15.0, 10.0)

    stepper.run_to_end()
    (record,) = stepper.records
    assert record.nodes == {"yhat": z.item(), "loss": big_l.item()} == {"yhat": 6.0, "loss": 30.0}
    assert record.grads == {"w": 10.0}
    after = torch.tensor([3.0]) - 0.01 * torch.tensor([10.0])
    assert record.params_after == {"w": after.item()}


def test_collapse_also_node_equals_prediction():
    """collapse: ŷ' = (w2·w1)·x + (w2·b1 + b2) equals ŷ to float32 rounding in every record."""
    lesson = load_lesson("collapse")
    assert lesson.label("also0_yhat") == "ŷ'"
    records = stepper_run(lesson)
    assert len(records) == lesson.epochs * lesson.n_samples
    for record in records:
        p = record.params
        scale = abs(p["w2"] * p["w1"] * record.x) + abs(p["w2"] * p["b1"]) + abs(p["b2"])
        assert record.nodes["also0_yhat"] == pytest.approx(
            record.nodes["yhat"], rel=1e-5, abs=1e-6 * max(scale, 1.0)
        ), f"step {record.step}"


def test_collapse_also_node_is_not_trained():
    """The ŷ' node is shown, not trained: it gets no gradient and needs none."""
    lesson = load_lesson("collapse").with_values(epochs=1)
    stepper = Stepper(lesson)
    stepper.finish_forward()
    stepper.finish_backward()
    snap = stepper.snapshot()
    also = [view for view in snap.nodes if view.name.startswith("also0_")]
    assert also and all(view.grad is None and not view.requires_grad for view in also)


def test_default_lesson_is_the_seed():
    """load_lesson('linear') is the seed's graph (ŷ = x·w, r = ŷ − y, loss = r²) = seed_lesson()."""
    lesson = load_lesson("linear")
    assert lesson.nodes == (
        Node("yhat", "ŷ", "mul", ("x", "w")),
        Node("r", "r", "sub", ("yhat", "y")),
        Node("loss", "loss", "pow", ("r", 2.0)),
    )
    assert lesson.params == (("w", 1.0),)
    assert (lesson.x, lesson.y) == ((1.0, 2.0, 3.0), (2.0, 4.0, 6.0))
    assert (lesson.lr, lesson.epochs) == (0.01, 100)
    assert (lesson.prediction, lesson.residual, lesson.loss_kind) == ("yhat", "r", "squared")
    assert not lesson.input_grad
    assert seed_lesson() == lesson
    assert load_lesson(None) == lesson
    assert load_lesson(str(builtin_path("linear"))) == lesson


def test_default_lesson_first_step_is_the_notes():
    """The seed's first step: ŷ = 1, loss = 1, ∂loss/∂w = −2, w after = 1.02."""
    record = stepper_run(seed_lesson().with_values(epochs=1))[0]
    assert record.nodes == {"yhat": 1.0, "r": -1.0, "loss": 1.0}
    assert record.grads == {"w": -2.0}
    assert record.params_after == {"w": (torch.tensor([1.0]) - 0.01 * torch.tensor([-2.0])).item()}


# ---------------------------------------------------------------- the command line


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("name", builtin_names())
def test_trace_every_builtin_lesson(name, tmp_path, capsys):
    """bptui trace NAME writes every step; param columns are named after the lesson's parameters."""
    lesson = load_lesson(name)
    out = tmp_path / "trace.jsonl"
    assert main(["trace", name, "-o", str(out)]) == 0
    rows = read_jsonl(out)
    assert len(rows) == lesson.epochs * lesson.n_samples
    names = list(lesson.param_names)
    for row in rows:
        assert list(row["params"]) == names
        assert list(row["grads"]) == names
        assert list(row["params_after"]) == names
        assert row["diverged"] is False
    last = stepper_run(lesson)[-1]
    assert rows[-1]["params_after"] == last.params_after
    assert rows[-1]["loss"] == last.loss
    steps = "1 step" if len(rows) == 1 else f"{len(rows)} steps"
    assert f"bptui trace: {steps} written to " in capsys.readouterr().err


@pytest.mark.parametrize("name", builtin_names())
def test_trace_csv_param_columns(name, tmp_path):
    """bptui trace --lesson NAME --format csv: param_, grad_, param_after_ columns per parameter."""
    out = tmp_path / "trace.csv"
    argv = ["trace", "--lesson", name, "--epochs", "1", "--format", "csv", "-o", str(out)]
    assert main(argv) == 0
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    lesson = load_lesson(name)
    assert len(rows) == lesson.n_samples
    header = list(rows[0])
    for prefix in ("param", "grad", "param_after"):
        columns = [
            c
            for c in header
            if c.startswith(prefix + "_")
            and (prefix != "param" or not c.startswith("param_after_"))
        ]
        assert columns == [f"{prefix}_{n}" for n in lesson.param_names]


LESSON_FILE = """\
# A teacher's copy of the neuron lesson, with a tanh.
title = "My tanh unit"
model = "tanh(x * k + c)"
x = [-1.0, 0.5, 2.0]
y = [-0.5, 0.25, 0.75]
lr = 0.1
epochs = 3

[init]
c = 0.1
k = -0.3
"""


def test_trace_lesson_file(tmp_path):
    """bptui trace FILE: a lesson file runs, parameters in its init order, equal to the oracle."""
    path = tmp_path / "mine.toml"
    path.write_text(LESSON_FILE, encoding="utf-8")
    out = tmp_path / "trace.jsonl"
    assert main(["trace", str(path), "-o", str(out)]) == 0
    rows = read_jsonl(out)
    assert len(rows) == 9
    for row in rows:
        assert list(row["params"]) == ["c", "k"]
        assert list(row["grads"]) == ["c", "k"]
        assert list(row["params_after"]) == ["c", "k"]

    lesson = load_lesson(str(path))
    assert lesson.name == "mine" and lesson.title == "My tanh unit"
    oracle = oracle_run(
        lambda x_val, p: torch.tanh(x_val * p["k"] + p["c"]),
        {"c": 0.1, "k": -0.3},
        lesson,
        squared,
    )
    for row, expected in zip(rows, oracle, strict=True):
        assert row["params"] == expected["params"]
        assert row["nodes"]["yhat"] == expected["yhat"]
        assert row["loss"] == expected["loss"]
        assert row["grads"] == expected["grads"]
        assert row["params_after"] == expected["params_after"]


def test_trace_subprocess_builtin(tmp_path):
    """python -m bptui trace --lesson two-layer --format md: a table with w1, b1, w2, b2 columns."""
    import subprocess

    out = tmp_path / "handout.md"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bptui",
            "trace",
            "--lesson",
            "two-layer",
            "--epochs",
            "1",
            "--format",
            "md",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| step"))
    cells = [c.strip() for c in header.strip("|").split("|")]
    for name in ("w1", "b1", "w2", "b2"):
        assert name in cells and f"{name}.grad" in cells and f"{name} after" in cells
    assert sum(1 for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()) == 5


def test_lessons_command_lists_every_builtin(capsys):
    """bptui lessons: every built-in lesson with its title, and where the files are."""
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    rows = describe_builtins()
    assert [name for name, _, _ in rows] == builtin_names()
    for name, title, path in rows:
        assert title == load_lesson(name).title
        assert any(
            line.split() and line.split()[0] == name and line.rstrip().endswith(title)
            for line in lines
        ), name
        assert path.exists()
    assert str(rows[0][2].parent) in out
