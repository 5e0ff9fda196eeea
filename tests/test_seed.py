"""The default lesson reproduces the note's program: ``seed_trajectory.json``, exactly.

The file holds what the note's program records (``w`` and the loss before every
update, 300 of each) when run with PyTorch in float32. It lives in ``shared/``
beside the repository; if it is missing, the embedded first values still get
checked and the full comparison is skipped, never silently passed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bptui.lesson import Stepper, seed_lesson

SEED_FILE = Path(__file__).resolve().parents[1].parent / "shared" / "seed" / "seed_trajectory.json"

#: The first values of the note's run, as in shared/seed/README.md.
FIRST_W = [1.0, 1.0199999809265137, 1.0983999967575073, 1.260688066482544]
FIRST_LOSS = [1.0, 3.841600179672241]


def load_seed() -> dict[str, list[float]]:
    if not SEED_FILE.is_file():
        pytest.skip(f"{SEED_FILE} is missing: only the embedded first values were checked")
    data = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    assert len(data["w"]) == len(data["loss"]) == 300
    return data


@pytest.fixture(scope="module")
def engine_run() -> tuple[list[float], list[float]]:
    s = Stepper(seed_lesson())
    assert s.run_to_end()
    return [r.params["w"] for r in s.records], [r.loss for r in s.records]


@pytest.fixture(scope="module")
def cli_run() -> tuple[list[float], list[float]]:
    """``bptui trace`` as a user runs it: a separate process, JSON lines on stdout."""
    proc = subprocess.run(
        [sys.executable, "-m", "bptui", "trace"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [row["step"] for row in rows] == list(range(1, 301))
    return [row["params"]["w"] for row in rows], [row["loss"] for row in rows]


def test_engine_first_values(engine_run):
    """The note's worked numbers, checked even without the seed file."""
    w, loss = engine_run
    assert w[:4] == FIRST_W
    assert loss[:2] == FIRST_LOSS
    assert len(w) == len(loss) == 300


def test_cli_first_values(cli_run):
    """The trace command's numbers survive JSON exactly (repr round-trips float64)."""
    w, loss = cli_run
    assert w[:4] == FIRST_W
    assert loss[:2] == FIRST_LOSS


def test_engine_equals_seed_file(engine_run):
    """Every w and loss of the engine's default run equals the note's program's."""
    seed = load_seed()
    w, loss = engine_run
    assert w == seed["w"]
    assert loss == seed["loss"]


def test_trace_command_equals_seed_file(cli_run):
    """``bptui trace`` (default options) writes the seed trajectory exactly."""
    seed = load_seed()
    w, loss = cli_run
    assert w == seed["w"]
    assert loss == seed["loss"]


def test_seed_file_agrees_with_readme_values():
    """The file itself starts with the values the lesson text quotes (guards a wrong file)."""
    seed = load_seed()
    assert seed["w"][:4] == FIRST_W
    assert seed["loss"][:2] == FIRST_LOSS
    assert 1.9999 < seed["w"][-1] < 2.0
