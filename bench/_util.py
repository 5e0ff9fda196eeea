"""Small helpers shared by the benchmarks (standard library only).

The benchmarks print figures; they are not tests and have no pass/fail
thresholds. Each one compares bptui against a baseline measured in the same
run, interleaving the two so that a noisy machine disturbs both alike.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def revision() -> str:
    """The commit measured, and whether bptui/ had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "bptui"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head:
        return "unknown"
    return head + (" + uncommitted changes in bptui/" if dirty else "")


def machine() -> dict[str, Any]:
    """The facts BENCHMARKS.md quotes with every figure."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "nproc": usable,
        "cpu": cpu_model(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "torch": package_version("torch"),
        "bptui": package_version("bptui"),
        "platform": platform.platform(),
        "loadavg": loadavg(),
        "revision": revision(),
    }


def print_machine(info: dict[str, Any]) -> None:
    print(
        f"machine: {info['nproc']} CPU(s) usable ({info['cpu']}); "
        f"Python {info['python']}; torch {info['torch']}; bptui {info['bptui']}"
    )
    print(f"         {info['platform']}; load average at start {info['loadavg']}")
    print(f"         bptui at {info['revision']}")


def verdict(ratio: float, target: float) -> str:
    met = "MET" if ratio <= target else "NOT MET"
    return f"target <= {target:g}x: {met} (ratio {ratio:.2f}x)"


def write_json(path: str | None, data: dict[str, Any]) -> None:
    """``--json PATH``: the figures for ``run_all.py``'s summary."""
    if path:
        Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs"


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f} s"


def cpu_ns(pid: int) -> int:
    """CPU of every live thread of ``pid`` (schedstat: ns on the CPU)."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total
