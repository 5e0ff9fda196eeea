"""Memory of a long run, and the time to go far back: bptui now against bptui before.

Subject:  this tree's ``bptui/``.
Baseline: ``bptui/`` as it was at ``--before`` (default 64f6447, before the
          time-travel work), exported with ``git archive`` into a temporary
          directory; both run in fresh child processes of the same interpreter,
          one after the other, in the same run.

1. Undo history per micro-step (what autoplay leaves behind): a lesson with
   50,000 epochs takes 500 natural micro-steps (``next()``, as autoplay does),
   then ``tracemalloc`` measures the memory still allocated after 20,000 more,
   divided by 20,000. Lessons: linear (the note's), two-layer, matrix.
2. ``bptui trace`` of 1e3 steps (the floor: torch and the interpreter), 1e5
   (and with ``--million`` 1e6): the peak resident set size of the child
   (``ru_maxrss`` from ``os.wait4``), its wall time, and the SHA-256 of what it
   wrote (which must be the same before and after).
3. Going back 10,000 training steps on the seed lesson after 12,000: before,
   only ``←`` (one undo per micro-step: the rate over 400 undos, times the
   micro-steps in 10,000 steps); now, one ``jump_to`` and one undo of it.

Usage: python bench/bench_memory.py [--before REV] [--million] [--json PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import REPO, machine, print_machine, write_json

#: Undo history per micro-step, now / before: at most half (the issue: "bound the memory").
TARGET = 0.5

HISTORY = """
import gc, json, sys, time, tracemalloc
from bptui.lesson import Stepper
from bptui.lesson.files import load_lesson
name, n = sys.argv[1], int(sys.argv[2])
s = Stepper(load_lesson(name).with_values(epochs=50_000))
for _ in range(500):
    s.next()
t = time.perf_counter()
for _ in range(2000):
    s.next()
us = (time.perf_counter() - t) / 2000 * 1e6
gc.collect()
tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
for _ in range(n):
    s.next()
gc.collect()
after = tracemalloc.get_traced_memory()[0]
print(json.dumps({"bytes_per_micro_step": (after - before) / n, "us_per_micro_step": us}))
"""

BACK = """
import json, time
from bptui.lesson import Stepper, seed_lesson
s = Stepper(seed_lesson().with_values(epochs=5_000))
for _ in range(12_000):
    s.train_step()
micro = s.micro_steps
out = {"micro_steps_per_step": micro / 12_000}
t = time.perf_counter()
for _ in range(400):
    s.undo()
rate = 400 / (time.perf_counter() - t)
out["undo_per_s"] = rate
out["back_10k_by_undo_s"] = 10_000 * out["micro_steps_per_step"] / rate
if hasattr(s, "jump_to"):
    t = time.perf_counter()
    s.jump_to(s.steps_done - 10_000)
    out["jump_back_10k_s"] = time.perf_counter() - t
    t = time.perf_counter()
    s.undo()
    out["undo_the_jump_s"] = time.perf_counter() - t
print(json.dumps(out))
"""


def export(rev: str, into: Path) -> Path:
    """``bptui/`` at ``rev``, unpacked under ``into``."""
    into.mkdir()
    data = subprocess.run(
        ["git", "archive", "--format=tar", rev, "bptui"], cwd=REPO, capture_output=True, check=True
    ).stdout
    tar = into / "src.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as archive:
        archive.extractall(into, filter="data")
    return into


def child(root: Path, args: list[str], stdout: int | None = None) -> tuple[str, float, int]:
    """Run ``python args`` with ``root`` first on the path: (stdout, wall s, peak RSS KiB)."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args],
        env=env,
        cwd=root,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        text=stdout is None,
    )
    out = proc.stdout.read() if proc.stdout is not None else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"child failed ({proc.returncode}): {args}")
    return out, wall, usage.ru_maxrss


def trace(root: Path, steps: int, tmp: Path) -> tuple[float, int, str]:
    """``bptui trace`` of ``steps`` steps (seed model, 10 samples an epoch): wall s,
    peak RSS KiB, and the SHA-256 of the JSON lines written."""
    xs = ",".join(str(i) for i in range(1, 11))
    ys = ",".join(str(2 * i) for i in range(1, 11))
    out = tmp / f"trace-{root.name}-{steps}.jsonl"
    with open(out, "wb") as handle:
        args = ["-m", "bptui", "trace", "--x", xs, "--y", ys, "--lr", "0.001"]
        args += ["--epochs", str(steps // 10)]
        _, wall, rss = child(root, args, stdout=handle.fileno())
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    out.unlink()
    return wall, rss, digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="64f6447", help="the baseline commit")
    parser.add_argument("--million", action="store_true", help="also trace 1e6 steps (minutes)")
    parser.add_argument("--micro-steps", type=int, default=20_000)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    info = machine()
    print_machine(info)
    print(f"baseline: bptui/ at {args.before}\n")
    results: dict[str, object] = {"machine": info, "before": args.before}
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as name:
        tmp = Path(name)
        roots = {"before": export(args.before, tmp / "before"), "now": REPO}

        print(f"1. undo history per micro-step ({args.micro_steps:,} natural micro-steps)")
        history = {}
        for lesson in ("linear", "two-layer", "matrix"):
            row = {}
            for which, root in roots.items():
                out, _, _ = child(root, ["-c", HISTORY, lesson, str(args.micro_steps)])
                row[which] = json.loads(out)
            history[lesson] = row
            b, n = row["before"], row["now"]
            print(
                f"   {lesson:10} before {b['bytes_per_micro_step']:6.1f} B   "
                f"now {n['bytes_per_micro_step']:5.1f} B   "
                f"{b['bytes_per_micro_step'] / n['bytes_per_micro_step']:4.1f}x less"
                f"   (a micro-step: {b['us_per_micro_step']:.0f} µs before, "
                f"{n['us_per_micro_step']:.0f} µs now)"
            )
        results["history"] = history

        print("\n2. bptui trace: peak resident memory (whole process) and wall time")
        sizes = [1_000, 100_000] + ([1_000_000] if args.million else [])
        traces = {}
        for steps in sizes:
            row = {}
            for which, root in roots.items():
                wall, rss, digest = trace(root, steps, tmp)
                row[which] = {"wall_s": wall, "peak_rss_mib": rss / 1024, "sha256": digest}
            same = row["before"]["sha256"] == row["now"]["sha256"]
            traces[str(steps)] = row
            b, n = row["before"], row["now"]
            print(
                f"   {steps:>9,} steps: before {b['peak_rss_mib']:7.1f} MiB {b['wall_s']:6.1f} s"
                f"   now {n['peak_rss_mib']:6.1f} MiB {n['wall_s']:6.1f} s"
                f"   output {'identical' if same else 'DIFFERENT'}"
            )
        results["trace"] = traces

        print("\n3. going back 10,000 training steps (seed lesson, after 12,000)")
        back = {}
        for which, root in roots.items():
            out, _, _ = child(root, ["-c", BACK])
            back[which] = json.loads(out)
        b, n = back["before"], back["now"]
        print(
            f"   before: ← only, {b['undo_per_s']:.0f} undos/s × "
            f"{b['micro_steps_per_step']:.0f} micro-steps a step: "
            f"{b['back_10k_by_undo_s']:.0f} s of undos"
        )
        print(
            f"   now:    : (jump_to) {n['jump_back_10k_s'] * 1e3:.1f} ms, "
            f"and ← undoes it in {n['undo_the_jump_s'] * 1e3:.1f} ms "
            f"(← alone still {n['undo_per_s']:.0f} micro-steps/s)"
        )
        results["back"] = back
    seed = history["linear"]
    ratio = seed["now"]["bytes_per_micro_step"] / seed["before"]["bytes_per_micro_step"]
    results.update(
        what="undo history per micro-step, seed lesson, now / before",
        ratio=ratio,
        target=TARGET,
        met=ratio <= TARGET,
    )
    print(f"\nundo history now / before (seed lesson): {ratio:.2f}x; target <= {TARGET:g}x")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
