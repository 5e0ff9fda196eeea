"""``bptui trace``: JSON lines, CSV and Markdown carry the engine's records, exactly.

JSON has no inf or NaN, so a diverged run writes them as strings and marks its
records ``"diverged": true``; every line must still be strict JSON.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math

import pytest

from bptui.cli import main
from bptui.lesson import Stepper, seed_lesson
from bptui.trace import run_trace

KEYS = [
    "step",
    "epoch",
    "sample",
    "x",
    "y",
    "loss",
    "params",
    "grads",
    "params_after",
    "nodes",
    "factors",
    "diverged",
]
NESTED = ("params", "grads", "params_after", "nodes", "factors")
CSV_PREFIX = {
    "params": "param",
    "grads": "grad",
    "params_after": "param_after",
    "nodes": "node",
    "factors": "factor",
}


def strict_json(line: str) -> dict:
    """Parse one line, refusing the non-standard NaN/Infinity tokens."""

    def refuse(token: str):
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(line, parse_constant=refuse)


def trace(lesson, fmt: str) -> str:
    out = io.StringIO()
    run_trace(lesson, out, fmt)
    return out.getvalue()


def number(value) -> float:
    """A JSON or CSV cell as a float: "inf", "-inf" and "nan" are read as such."""
    return float(value)


def same(a: float, b: float) -> bool:
    return (a != a and b != b) or a == b


def flatten(row: dict) -> dict[str, float]:
    flat = {k: row[k] for k in ("step", "epoch", "sample", "x", "y", "loss")}
    for key in NESTED:
        for name, value in row[key].items():
            flat[f"{CSV_PREFIX[key]}_{name}"] = value
    return flat


@pytest.fixture(scope="module")
def two_epochs():
    lesson = seed_lesson().with_values(epochs=2)
    return lesson, [strict_json(line) for line in trace(lesson, "jsonl").splitlines()]


@pytest.fixture(scope="module")
def diverged():
    lesson = seed_lesson().with_values(lr=1.0, epochs=25)
    return lesson, [strict_json(line) for line in trace(lesson, "jsonl").splitlines()]


def test_jsonl_keys_and_counters(two_epochs):
    """One object per step with every documented key; step, epoch, sample are 1-based."""
    lesson, rows = two_epochs
    assert len(rows) == 6
    for i, row in enumerate(rows):
        assert list(row) == KEYS
        assert (row["step"], row["epoch"], row["sample"]) == (i + 1, i // 3 + 1, i % 3 + 1)
        assert (row["x"], row["y"]) == (lesson.x[i % 3], lesson.y[i % 3])
        assert list(row["params"]) == list(row["grads"]) == list(row["params_after"]) == ["w"]
        assert list(row["nodes"]) == ["yhat", "r", "loss"]
        assert list(row["factors"]) == ["dloss/dr", "dr/dyhat", "dyhat/dw"]
        assert row["nodes"]["loss"] == row["loss"]
        assert row["diverged"] is False
    # The parameters chain: each step starts where the last one ended.
    for prev, row in itertools.pairwise(rows):
        assert row["params"]["w"] == prev["params_after"]["w"]


def test_jsonl_values_are_the_engines(two_epochs):
    """The written numbers are the engine's records, exactly (repr round-trips)."""
    lesson, rows = two_epochs
    s = Stepper(lesson)
    s.run_to_end()
    assert [r.to_dict() for r in s.records] == [
        {k: v for k, v in row.items() if k != "diverged"} for row in rows
    ]
    first = rows[0]
    assert first["loss"] == 1.0 and first["grads"]["w"] == -2.0
    assert first["params_after"]["w"] == 1.0199999809265137
    assert first["factors"] == {"dloss/dr": -2.0, "dr/dyhat": 1.0, "dyhat/dw": 1.0}


def test_csv_is_the_jsonl_flattened(two_epochs):
    """CSV: the same columns flattened (param_w, node_r, factor_dloss/dr…), the same numbers."""
    lesson, rows = two_epochs
    table = list(csv.DictReader(io.StringIO(trace(lesson, "csv"))))
    assert len(table) == len(rows)
    for row, cells in zip(rows, table, strict=False):
        flat = flatten(row)
        assert list(cells) == [*flat, "diverged"]
        for key, value in flat.items():
            assert number(cells[key]) == value, key
        assert cells["diverged"] == "False"
    assert table[0]["param_after_w"] == "1.0199999809265137"


def test_markdown_has_one_row_per_step(two_epochs):
    """md: a title, then a table whose header, rule and rows have the same number of cells."""
    lesson, rows = two_epochs
    text = trace(lesson, "md")
    assert text.startswith("# ")
    table = [line for line in text.splitlines() if line.startswith("|")]
    header, rule, body = table[0], table[1], table[2:]
    n = header.count("|")
    assert set(rule.replace("|", "").replace("---:", "")) == set()
    assert rule.count("|") == n
    assert len(body) == len(rows) == 6
    heads = [c.strip() for c in header.strip("|").split("|")]
    assert heads[:5] == ["step", "epoch", "sample", "x", "y"] and "loss" in heads
    for row, line in zip(rows, body, strict=False):
        assert line.count("|") == n
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[:3] == [str(row["step"]), str(row["epoch"]), str(row["sample"])]
        # Rounded for reading, but the same numbers.
        loss = float(cells[heads.index("loss")])
        assert loss == pytest.approx(row["loss"], rel=1e-6)
        after = float(cells[heads.index("w after")])
        assert after == pytest.approx(row["params_after"]["w"], rel=1e-6)


def test_diverged_jsonl(diverged):
    """A diverging run is no error: strict JSON, "inf"/"nan" strings, "diverged": true."""
    _, rows = diverged
    assert len(rows) == 75
    flags = [row["diverged"] for row in rows]
    first = flags.index(True)
    assert not any(flags[:first]) and all(flags[first:])
    for row in rows[:first]:
        assert isinstance(row["loss"], float) and math.isfinite(row["loss"])
    strings = [row["loss"] for row in rows if isinstance(row["loss"], str)]
    strings += [r["params_after"]["w"] for r in rows if isinstance(r["params_after"]["w"], str)]
    assert "inf" in strings and "nan" in strings
    assert set(strings) <= {"inf", "-inf", "nan"}
    assert rows[-1]["loss"] == "nan" and rows[-1]["params_after"]["w"] == "nan"
    for row in rows:  # every float-valued cell is a finite float or one of those strings
        for value in flatten(row).values():
            finite = isinstance(value, float) and math.isfinite(value)
            assert isinstance(value, int) or finite or value in ("inf", "-inf", "nan")


def test_diverged_csv_and_markdown(diverged):
    """CSV writes inf/nan cells and diverged True; md marks the diverged rows."""
    lesson, rows = diverged
    table = list(csv.DictReader(io.StringIO(trace(lesson, "csv"))))
    assert [c["diverged"] for c in table] == [str(r["diverged"]) for r in rows]
    for row, cells in zip(rows, table, strict=False):
        for key, value in flatten(row).items():
            assert same(number(cells[key]), number(value)), key
    assert table[-1]["loss"] == "nan"
    md = [line for line in trace(lesson, "md").splitlines() if line.startswith("| ")][1:]
    assert len(md) == 75
    assert ["(diverged)" in line for line in md] == [row["diverged"] for row in rows]
    assert "nan" in md[-1] and "inf" in "".join(md)


def test_output_file(tmp_path, capsys):
    """-o FILE writes the trace there (nothing on stdout) and reports the final w on stderr."""
    for fmt in ("jsonl", "csv", "md"):
        path = tmp_path / f"trace.{fmt}"
        assert main(["trace", "--epochs", "2", "--format", fmt, "-o", str(path)]) == 0
        out, err = capsys.readouterr()
        assert out == ""
        assert str(path) in err and "6 steps" in err
        assert path.read_text(encoding="utf-8") == trace(seed_lesson().with_values(epochs=2), fmt)
    assert main(["trace", "--epochs", "2"]) == 0
    out, _ = capsys.readouterr()
    assert out == (tmp_path / "trace.jsonl").read_text(encoding="utf-8")


def test_options_reach_the_trace(capsys):
    """Lesson options change the trace: data, initial w, learning rate, epochs."""
    argv = ["trace", "--x", "-1,2", "--y", "3,0", "--init", "w=0.5", "--lr", "0.1", "--epochs", "3"]
    assert main(argv) == 0
    rows = [strict_json(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 6
    assert [(r["x"], r["y"]) for r in rows[:2]] == [(-1.0, 3.0), (2.0, 0.0)]
    assert rows[0]["params"]["w"] == 0.5
    # w ← w − 0.1·2(xw − y)x with x = −1, y = 3, in float32
    assert rows[0]["params_after"]["w"] == pytest.approx(0.5 - 0.1 * 2 * (-0.5 - 3) * -1, rel=1e-6)


def test_unknown_format_is_an_error():
    """run_trace refuses a format it does not know (the CLI's choices keep users away)."""
    with pytest.raises(ValueError):
        run_trace(seed_lesson().with_values(epochs=1), io.StringIO(), "xml")
