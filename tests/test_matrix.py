"""The matrix lesson: one fully connected layer W·x + b on vector data, against plain torch."""

from __future__ import annotations

import json

import pytest
import torch

from bptui.cli import main
from bptui.lesson.engine import Stepper
from bptui.lesson.files import load_lesson
from bptui.lesson.snapshot import Phase


def oracle(lesson):
    """The note's loop with W a matrix, b a vector and the loss summed over the outputs."""
    (w_name, w_init), (b_name, b_init) = lesson.params
    W = torch.tensor(w_init, dtype=torch.float32)
    b = torch.tensor(b_init, dtype=torch.float32)
    W.requires_grad = True
    b.requires_grad = True
    rows = []
    for _ in range(lesson.epochs):
        for x_val, y_val in zip(lesson.x, lesson.y, strict=True):
            x_t, y_t = torch.tensor(x_val), torch.tensor(y_val)
            before = {w_name: W.tolist(), b_name: b.tolist()}
            yhat = W @ x_t + b
            loss = torch.sum((yhat - y_t) ** 2)
            loss.backward()
            grads = {w_name: W.grad.tolist(), b_name: b.grad.tolist()}
            W.data = W.data - lesson.lr * W.grad.data
            b.data = b.data - lesson.lr * b.grad.data
            W.grad.data.zero_()
            b.grad.data.zero_()
            rows.append(
                (
                    before,
                    yhat.tolist(),
                    loss.item(),
                    grads,
                    {w_name: W.tolist(), b_name: b.tolist()},
                )
            )
    return rows


@pytest.mark.parametrize("name", ["matrix", "layer"])
def test_matrix_lesson_matches_plain_torch_bit_for_bit(name):
    """Every step's W, b, ŷ, loss, gradients and update equal the plain torch loop exactly
    (matrix: 3 inputs → 2 outputs; layer: the note's 5 inputs → 6 outputs)."""
    lesson = load_lesson(name).with_values(epochs=5)
    stepper = Stepper(lesson)
    stepper.run_to_end()
    records = stepper.records
    rows = oracle(lesson)
    assert len(records) == len(rows) == 5 * lesson.n_samples
    for record, (before, yhat, loss, grads, after) in zip(records, rows, strict=True):
        assert record.params == before
        assert record.nodes["yhat"] == yhat
        assert record.loss == loss
        assert record.grads == grads
        assert record.params_after == after


def test_matrix_graph_shows_mm_and_add_with_matrix_gradients():
    """After the backward pass the MM and ADD nodes carry torch's backward names and W.grad
    is the outer product of ∂loss/∂ŷ and x, as a 2×3 matrix in the snapshot."""
    stepper = Stepper(load_lesson("matrix"))
    stepper.finish_forward()
    stepper.finish_backward()
    snap = stepper.snapshot()
    assert snap.phase is Phase.UPDATE
    mm = snap.node("z1")
    assert (mm.op, mm.grad_fn) == ("matmul", "MvBackward0")
    assert snap.node("yhat").grad_fn == "AddBackward0"
    w = snap.param("W")
    dyhat = snap.node("yhat").grad
    x = list(snap.x)
    assert w.grad == [
        [torch.tensor(g, dtype=torch.float32).mul(xi).item() for xi in x] for g in dyhat
    ]
    chain = next(c for c in snap.chains if c.param == "W")
    assert chain.torch_grad == w.grad and chain.finite_diff is None


def test_matrix_trace_writes_nested_lists(tmp_path, capsys):
    """bptui trace writes vectors and matrices as nested JSON lists (and JSON cells in CSV)."""
    out = tmp_path / "m.jsonl"
    assert main(["trace", "matrix", "--epochs", "1", "-o", str(out)]) == 0
    first = json.loads(out.read_text().splitlines()[0])
    assert first["x"] == [1.0, 2.0, 3.0]
    assert len(first["params"]["W"]) == 2 and len(first["params"]["W"][0]) == 3
    csv_out = tmp_path / "m.csv"
    assert main(["trace", "matrix", "--epochs", "1", "--format", "csv", "-o", str(csv_out)]) == 0
    header, row = csv_out.read_text().splitlines()[:2]
    assert "param_W" in header and '"[[0.10000000149011612' in row


@pytest.mark.parametrize(
    "bad, why",
    [
        ("x = [[1.0, 2.0], [1.0]]", "same shape"),
        ("x = [[[1.0]], [[2.0]]]", "at most a matrix"),
    ],
)
def test_bad_vector_data_is_refused(tmp_path, capsys, bad, why):
    """Ragged or too deep data in a lesson file is a clear error (exit 2), not a traceback."""
    path = tmp_path / "bad.toml"
    path.write_text(
        f'model = "W @ x + b"\n{bad}\ny = [[1.0], [2.0]]\nlr = 0.1\nepochs = 1\n'
        "[init]\nW = [[1.0, 1.0]]\nb = [0.0]\n"
    )
    assert main(["trace", str(path)]) == 2
    err = capsys.readouterr().err
    assert why in err and "Traceback" not in err
