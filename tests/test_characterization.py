"""Characterization: every snapshot and every trace, pinned as text and numbers.

A scripted session for each built-in lesson (and a diverging learning rate)
presses keys in and out of order, toggles every mode, undoes, resets and edits,
and records the whole snapshot after every action, together with the action's
result, the message, the records and a loss curve. ``bptui trace`` is recorded
in all three formats. The engine can be reorganised freely as long as these
records stay the same; a change of behaviour shows up here first.

What is pinned, and how, so that it holds on any CPU:

* **the text, exactly**: every character but the numbers (each number is
  replaced by ``#``), hashed with SHA-256. Words, structure, ``nan``/``inf``,
  the order and count of values: any change fails.
* **the numbers, to a tolerance**: another CPU's matrix kernels sum in another
  order and round the last bit of a float32 differently, and a hundred epochs
  of training carry that on. The numbers are cut into 128 consecutive blocks;
  each block is pinned by a weighted sum and the sum of magnitudes, compared
  within ``RTOL`` of its magnitudes. A value moved by more than a few parts in
  10⁵ of its block fails; a different rounding of the last bits never does.

``test_a_different_summation_order_passes`` proves the second point: it runs the
matrix lessons with every matrix product summed in reverse order (what another
CPU's SIMD path does), sees the exact text hash change, and the check pass.
The seed lesson stays bit-exact against the note's program in ``test_seed.py``.

To accept an intended change, run with ``BPTUI_CHARACTERIZE=write`` and review
the diff of ``tests/characterization.json``.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from bptui.lesson import Stepper
from bptui.lesson.files import describe_builtins, load_lesson
from bptui.trace import FORMATS, run_trace

EXPECTED = Path(__file__).with_name("characterization.json")

#: Out-of-order keys first, then the natural order, modes, undo, an edit and a reset.
SCRIPT = (
    "undo",
    "zero",
    "update",
    "backward",
    "forward",
    "forward",
    "update",
    "backward",
    "finish_forward",
    "forward",
    "backward",
    "finish_backward",
    "backward",
    "update",
    "update",
    "forward",
    "finish_forward",
    "finish_backward",
    "update",
    "zero",
    "zero",
    "next",
    "next",
    "train_step",
    "undo",
    "undo",
    "undo",
    "toggle_skip_zero",
    "train_step",
    "train_step",
    "next",
    "next",
    "toggle_skip_zero",
    "toggle_batch",
    "finish_epoch",
    "next",
    "toggle_batch",
    "toggle_sum_loss",
    "train_step",
    "train_step",
    "undo",
    "toggle_sum_loss",
    "edit",
    "train_step",
    "forward",
    "edit",
    "undo",
    "reset",
    "undo",
    "finish_epoch",
    "run_epochs",
    "reset",
    "run_to_end",
    "next",
    "forward",
    "undo",
    "undo",
)


#: Blocks the numbers of one record are cut into; each block is pinned by two sums.
BLOCKS = 128
#: How far a block's sums may move, relative to the magnitude of its numbers.
RTOL = 1e-5
ATOL = 1e-12
#: A number as the engine, the trace and ``repr`` write it; not the digit of a name (W1).
NUMBER = re.compile(r"(?<![\w.])-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Fingerprint:
    """A record's text without its numbers (hashed), and its numbers in blocks."""

    text: str
    count: int
    blocks: tuple[tuple[float, float], ...]

    @classmethod
    def of(cls, record: str) -> Fingerprint:
        numbers = [float(token) for token in NUMBER.findall(record)]
        skeleton = NUMBER.sub("#", record)
        return cls(
            text=hashlib.sha256(skeleton.encode()).hexdigest(),
            count=len(numbers),
            blocks=tuple(_block_sums(numbers)),
        )

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "count": self.count, "blocks": [list(b) for b in self.blocks]}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Fingerprint:
        blocks = data["blocks"]
        assert isinstance(blocks, list)
        return cls(str(data["text"]), int(str(data["count"])), tuple(tuple(b) for b in blocks))

    def differences(self, expected: Fingerprint) -> list[str]:
        """What moved, in words; empty when this record matches ``expected``."""
        if self.text != expected.text:
            return ["the text changed (words, structure or the number of values)"]
        found = []
        for index, (mine, theirs) in enumerate(zip(self.blocks, expected.blocks, strict=True)):
            scale = RTOL * max(mine[1], theirs[1]) + ATOL
            if abs(mine[0] - theirs[0]) > scale or abs(mine[1] - theirs[1]) > scale:
                first, last = _block_range(self.count, index)
                found.append(f"numbers {first}-{last} of {self.count}: sums {mine}, were {theirs}")
        return found


def _block_range(count: int, index: int) -> tuple[int, int]:
    blocks = min(BLOCKS, count)
    return index * count // blocks, (index + 1) * count // blocks


def _block_sums(numbers: list[float]) -> Iterator[tuple[float, float]]:
    """Per block: a weighted sum (weights 1..2 by position, so a swap shows) and Σ|x|."""
    for index in range(min(BLOCKS, len(numbers))):
        first, last = _block_range(len(numbers), index)
        chunk = range(first, last)
        weighted = math.fsum(numbers[i] * (1.0 + (i % 5) / 4) for i in chunk)
        magnitude = math.fsum(abs(numbers[i]) for i in chunk)
        yield float(f"{weighted:.12g}"), float(f"{magnitude:.12g}")


def _run(stepper: Stepper, action: str) -> object:
    if action == "edit":
        first = stepper.lesson.param_names[0]
        params = {} if stepper.params[first].numel() != 1 else {first: 0.5}
        return stepper.edit(lr=stepper.lesson.lr * 2, params=params)
    if action == "run_epochs":
        return stepper.run_epochs(2)
    return getattr(stepper, action)()


def session_record(lesson_name: str, lr: float | None = None) -> str:
    lesson = load_lesson(lesson_name)
    if lr is not None:
        lesson = lesson.with_values(lr=lr)
    stepper = Stepper(lesson)
    states = []
    for action in ("start", *SCRIPT):
        try:
            result = "-" if action == "start" else repr(_run(stepper, action))
        except Exception as error:  # an error is behaviour too
            result = f"{type(error).__name__}: {error}"
        snap = stepper.snapshot()
        first = snap.params[0]
        curve: object = None
        if isinstance(first.data, float) and not lesson.vector_data and not snap.finished:
            grid = [first.data - 1.0 + 0.25 * i for i in range(9)]
            curve = stepper.loss_curve(first.name, grid, {p.name: p.data for p in snap.params})
        records = [r.to_dict() for r in stepper.iter_records(max(0, stepper.steps_done - 3))]
        state = (
            action,
            result,
            repr(snap),
            repr(stepper.message),
            stepper.phase,
            stepper.epoch,
            stepper.sample,
            stepper.steps_done,
            stepper.micro_steps,
            repr(stepper.modes),
            repr(records),
            repr(curve),
            repr(stepper.history()),
        )
        states.append(repr(state))
    return "\n".join(states)


def trace_record(lesson_name: str, fmt: str, lr: float | None = None) -> str:
    lesson = load_lesson(lesson_name)
    if lr is not None:
        lesson = lesson.with_values(lr=lr)
    out = io.StringIO()
    run_trace(lesson, out, fmt)
    return out.getvalue()


CASES = [(name, None) for name, _, _ in describe_builtins()] + [("linear", 0.25)]


def _key(name: str, lr: float | None) -> str:
    return name if lr is None else f"{name}@lr={lr}"


def _expected() -> dict[str, dict[str, object]]:
    return json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}


def _check(key: str, record: str) -> None:
    found = Fingerprint.of(record)
    if os.environ.get("BPTUI_CHARACTERIZE") == "write":
        data = _expected()
        data[key] = found.to_json()
        lines = (f" {json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(data.items()))
        EXPECTED.write_text("{\n" + ",\n".join(lines) + "\n}\n")  # a line a record
        return
    stored = _expected().get(key)
    assert stored is not None, f"{key} was never recorded: run with BPTUI_CHARACTERIZE=write"
    differences = found.differences(Fingerprint.from_json(stored))
    assert not differences, f"behaviour of {key} changed: " + "; ".join(differences[:3])


@pytest.mark.parametrize(("name", "lr"), CASES, ids=[_key(n, lr) for n, lr in CASES])
def test_session_unchanged(name: str, lr: float | None) -> None:
    """Every snapshot after every scripted action reads as it did."""
    _check("session:" + _key(name, lr), session_record(name, lr))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("name", "lr"), CASES, ids=[_key(n, lr) for n, lr in CASES])
def test_trace_unchanged(name: str, lr: float | None, fmt: str) -> None:
    """``bptui trace`` writes the same text and numbers in every format."""
    _check(f"trace:{fmt}:" + _key(name, lr), trace_record(name, fmt, lr))


def _reversed_matmul(original: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """``torch.matmul`` whose value is the shared dimension summed in reverse order, as
    another CPU's kernel may sum it: the same products, rounded differently in the last
    bits. torch's own graph is kept (the value is written into torch's result), so the
    engine sees the same ``grad_fn`` and the same chain of local derivatives."""

    def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        result = original(a, b)
        with torch.no_grad():
            order = torch.arange(a.shape[-1] - 1, -1, -1)
            b_order = b.index_select(0 if b.dim() == 1 else -2, order)
            result.copy_(original(a.index_select(-1, order), b_order))
        return result

    return matmul


@pytest.mark.parametrize("name", ["layer", "matrix"])
def test_a_different_summation_order_passes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another rounding of every matrix product changes the digits, not the verdict."""
    plain = session_record(name), trace_record(name, "jsonl")
    monkeypatch.setattr(torch, "matmul", _reversed_matmul(torch.matmul))
    reordered = session_record(name), trace_record(name, "jsonl")
    assert reordered[1] != plain[1], "the reversed sums should round some value differently"
    for key, record in zip((f"session:{name}", f"trace:jsonl:{name}"), reordered, strict=True):
        stored = Fingerprint.from_json(_expected()[key])
        assert Fingerprint.of(record).differences(stored) == []


@pytest.mark.parametrize(
    ("changed", "what"),
    [
        (lambda text: text.replace('"loss": 1.6000', '"loss": 1.6100', 1), "numbers "),
        (lambda text: text.replace("step", "stop", 1), "the text changed"),
        (lambda text: text + " 1", "the text changed"),
    ],
)
def test_a_real_change_fails(changed: Callable[[str], str], what: str) -> None:
    """A value moved by 0.01, a changed word and an extra number are each caught."""
    record = trace_record("matrix", "jsonl")
    stored = Fingerprint.from_json(_expected()["trace:jsonl:matrix"])
    assert Fingerprint.of(record).differences(stored) == []
    found = Fingerprint.of(changed(record)).differences(stored)
    assert found and what in found[0]


def test_another_cpu_kernel_passes() -> None:
    """The matrix lessons pass with torch's portable kernels (ATEN_CPU_CAPABILITY=default,
    read when torch loads), as on a CPU without AVX2."""
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default")
    env.pop("BPTUI_CHARACTERIZE", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            __file__,
            "-k",
            "unchanged and (layer or matrix) and not csv and not md",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]


def test_a_learning_rate_a_thousandth_off_fails() -> None:
    """A behaviour change as small as lr × 1.001 moves the pinned numbers."""
    lesson = load_lesson("layer")
    out = io.StringIO()
    run_trace(lesson.with_values(lr=lesson.lr * 1.001), out, "jsonl")
    stored = Fingerprint.from_json(_expected()["trace:jsonl:layer"])
    assert Fingerprint.of(out.getvalue()).differences(stored)


def test_last_record_is_the_last_of_records() -> None:
    """``last_record()`` (what ``bptui trace -o`` reports) is ``records[-1]``, built alone."""
    stepper = Stepper(load_lesson("affine").with_values(epochs=2))
    assert stepper.last_record() is None
    stepper.run_to_end()
    assert stepper.last_record() == stepper.records[-1]
    assert stepper.last_record().step == stepper.steps_done == 2 * stepper.lesson.n_samples
