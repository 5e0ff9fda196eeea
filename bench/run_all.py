"""Run every benchmark, each in its own process, then print a summary.

``make bench`` runs this with the venv's python. Each benchmark prints its own
figures as it goes; the summary at the end repeats the headline ratio of each
and whether its target is met. The benchmarks never fail on timing: the exit
status is non-zero only if a benchmark itself crashed.

Usage: python bench/run_all.py [--quick]
    --quick   fewer rounds and steps (a smoke run; figures are rough)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Each script takes --json PATH and writes at least "ratio", "target" and "met"
# (and "what") there; adding a benchmark is one line here.
BENCHMARKS = [
    # (name, script, extra arguments for --quick)
    ("trace", "bench_trace.py", ["--rounds", "3", "--importtime-runs", "1", "--phase-runs", "1"]),
    (
        "engine",
        "bench_engine.py",
        ["--rounds", "2", "--epochs", "3334", "--profile-epochs", "1000"],
    ),
    ("frame", "bench_first_frame.py", ["--rounds", "3"]),
    ("keys", "bench_keys.py", ["--presses", "30", "--no-profile"]),
    ("help", "bench_help.py", ["--rounds", "3"]),
    ("crowd", "bench_crowd.py", ["--apps", "10", "--keys", "2"]),
    ("serve", "bench_serve.py", ["--sizes", "1,10", "--seconds", "5", "--follow", "10"]),
    ("web", "bench_web.py", ["--students", "5", "--seconds", "5"]),
    ("asking", "bench_questions.py", ["--students", "10", "--presses", "5"]),
    ("memory", "bench_memory.py", ["--micro-steps", "5000"]),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: rough figures")
    opts = parser.parse_args(argv)

    results = {}
    failed: list[str] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bptui-bench-") as tmp:
        for name, script, quick_args in BENCHMARKS:
            if not (HERE / script).exists():
                print(f"({script} is missing: skipped)\n")
                skipped.append(name)
                continue
            out = os.path.join(tmp, f"{name}.json")
            cmd = [sys.executable, str(HERE / script), "--json", out]
            if opts.quick:
                cmd += quick_args
            start = time.perf_counter()
            code = subprocess.call(cmd)
            took = time.perf_counter() - start
            print(f"({script} took {took:.0f} s)\n", flush=True)
            if code != 0 or not os.path.exists(out):
                failed.append(name)
                continue
            results[name] = json.loads(Path(out).read_text(encoding="utf-8"))
            results[name]["took_s"] = took

    print("== summary ==")
    if "trace" in results:
        r = results["trace"]
        med, mins = r["median_s"], r["min_s"]
        print(
            f"trace   bptui trace {med['bptui trace']:.3f} s (min {mins['bptui trace']:.3f}) vs "
            f"seed program {med['seed program']:.3f} s (min {mins['seed program']:.3f}), "
            f"medians of {r['rounds']}: {r['ratio']:.3f}x; target <= {r['target']:g}x "
            f"{'MET' if r['met'] else 'NOT MET'}"
        )
    if "engine" in results:
        r = results["engine"]
        med, mins = r["median_us"], r["min_us"]
        print(
            f"engine  {med['engine']:.1f} µs/step (min {mins['engine']:.1f}) vs seed loop "
            f"{med['seed loop']:.1f} µs/step (min {mins['seed loop']:.1f}), medians of "
            f"{r['rounds']} x {r['steps']:,} steps: {r['ratio']:.2f}x; target <= "
            f"{r['target']:g}x {'MET' if r['met'] else 'NOT MET'}"
        )
    for name, r in results.items():
        if name not in ("trace", "engine"):
            print(
                f"{name:<7} {r.get('what', '')}: {r['ratio']:.2f}x; target <= "
                f"{r['target']:g}x {'MET' if r['met'] else 'NOT MET'}"
            )
    for name in skipped:
        print(f"{name:<7} skipped: its script is missing")
    for name in failed:
        print(f"{name:<7} FAILED (see its output above)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
