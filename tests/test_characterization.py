"""Characterization: every snapshot and every trace byte, pinned by hash.

A scripted session for each built-in lesson (and a diverging learning rate)
presses keys in and out of order, toggles every mode, undoes, resets and edits,
and hashes the whole snapshot after every action, together with the action's
result, the message, the records and a loss curve. ``bptui trace`` is hashed in
all three formats. The engine can be reorganised freely as long as these
hashes stay the same; a change of behaviour shows up here first.

To accept an intended change, run with ``BPTUI_CHARACTERIZE=write`` and review
the diff of ``tests/characterization.json``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import pytest

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


def _run(stepper: Stepper, action: str) -> object:
    if action == "edit":
        first = stepper.lesson.param_names[0]
        params = {} if stepper.params[first].numel() != 1 else {first: 0.5}
        return stepper.edit(lr=stepper.lesson.lr * 2, params=params)
    if action == "run_epochs":
        return stepper.run_epochs(2)
    return getattr(stepper, action)()


def session_hash(lesson_name: str, lr: float | None = None) -> str:
    lesson = load_lesson(lesson_name)
    if lr is not None:
        lesson = lesson.with_values(lr=lr)
    stepper = Stepper(lesson)
    digest = hashlib.sha256()
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
        digest.update(repr(state).encode())
    return digest.hexdigest()


def trace_hash(lesson_name: str, fmt: str, lr: float | None = None) -> str:
    lesson = load_lesson(lesson_name)
    if lr is not None:
        lesson = lesson.with_values(lr=lr)
    out = io.StringIO()
    run_trace(lesson, out, fmt)
    return hashlib.sha256(out.getvalue().encode()).hexdigest()


CASES = [(name, None) for name, _, _ in describe_builtins()] + [("linear", 0.25)]


def _key(name: str, lr: float | None) -> str:
    return name if lr is None else f"{name}@lr={lr}"


def _expected() -> dict[str, str]:
    return json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}


def _check(key: str, value: str) -> None:
    if os.environ.get("BPTUI_CHARACTERIZE") == "write":
        data = _expected()
        data[key] = value
        EXPECTED.write_text(json.dumps(dict(sorted(data.items())), indent=1) + "\n")
        return
    assert _expected().get(key) == value, f"behaviour of {key} changed"


@pytest.mark.parametrize(("name", "lr"), CASES, ids=[_key(n, lr) for n, lr in CASES])
def test_session_unchanged(name: str, lr: float | None) -> None:
    """Every snapshot after every scripted action hashes as it did."""
    _check("session:" + _key(name, lr), session_hash(name, lr))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("name", "lr"), CASES, ids=[_key(n, lr) for n, lr in CASES])
def test_trace_unchanged(name: str, lr: float | None, fmt: str) -> None:
    """``bptui trace`` writes the same bytes in every format."""
    _check(f"trace:{fmt}:" + _key(name, lr), trace_hash(name, fmt, lr))


def test_last_record_is_the_last_of_records() -> None:
    """``last_record()`` (what ``bptui trace -o`` reports) is ``records[-1]``, built alone."""
    stepper = Stepper(load_lesson("affine").with_values(epochs=2))
    assert stepper.last_record() is None
    stepper.run_to_end()
    assert stepper.last_record() == stepper.records[-1]
    assert stepper.last_record().step == stepper.steps_done == 2 * stepper.lesson.n_samples
