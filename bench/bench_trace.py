"""Whole-process benchmark: ``bptui trace`` against the note's program.

Subject:  ``python -m bptui trace -o <tmp file>`` (default lesson: 100 epochs,
          300 training steps, every record written as JSON lines).
Baseline: the note's program (``/work/shared/seed/README.md``) without
          matplotlib: the 100-epoch loop and its two ``print`` calls, written to
          a temporary file and run by the same interpreter, stdout to /dev/null.
Floors:   ``python -c pass`` (interpreter start) and ``python -c "import torch"``,
          to show how much of both is torch's import.

Runs are interleaved (the order rotates every round) after one untimed warm-up
run of each. Wall time is measured around each child process; its CPU time
(user + sys) comes from ``os.wait4``. Target: median(bptui) / median(seed) <= 1.1.

Then, to show where bptui's extra time goes (if any):
* ``-X importtime`` of both (a few runs each, medians): modules bptui imports
  that the seed does not, largest first;
* the phases of each process, timed inside fresh processes: imports, argument
  parsing, the 300 training steps, writing the output.

Usage: python bench/bench_trace.py [--rounds N] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import fmt_s, machine, median, print_machine, verdict, write_json

TARGET = 1.1
OUTSIDE = "interpreter start + exit (wall - phases)"

# The note's program, minus matplotlib (import, plot and show).
SEED_PROGRAM = """\
import torch
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
a = 0.01  # learning rate
w = torch.Tensor([1.0])   # initial weight
w.requires_grad = True    # compute gradients for w

def loss(x_val, w, y_val):          # loss of one sample
    return (x_val * w - y_val) ** 2

ll_w = []
ll_loss = []
for i in range(100):
    for x_val, y_val in zip(x_data, y_data):
        l = loss(x_val, w, y_val)     # forward
        ll_w.append(w.item())
        ll_loss.append(l.item())
        l.backward()                  # backward
        w.data = w.data - a * w.grad.data   # update
        w.grad.data.zero_()           # zero the gradient
print(ll_w)
print(ll_loss)
"""

# The seed program again, with a clock read between its phases. The times go to
# stderr as one line of "name=seconds" pairs; stdout (the two prints) to /dev/null.
SEED_PHASES = """\
import sys, time
_t = [("start", time.perf_counter())]
import torch
_t.append(("import torch", time.perf_counter()))
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
a = 0.01
w = torch.Tensor([1.0])
w.requires_grad = True
def loss(x_val, w, y_val):
    return (x_val * w - y_val) ** 2
ll_w = []
ll_loss = []
for i in range(100):
    for x_val, y_val in zip(x_data, y_data):
        l = loss(x_val, w, y_val)
        ll_w.append(w.item())
        ll_loss.append(l.item())
        l.backward()
        w.data = w.data - a * w.grad.data
        w.grad.data.zero_()
_t.append(("300 training steps", time.perf_counter()))
print(ll_w)
print(ll_loss)
sys.stdout.flush()
_t.append(("write output", time.perf_counter()))
print("PHASES " + " ".join(f"{n.replace(' ', '_')}={b - a_:.6f}"
      for (_, a_), (n, b) in zip(_t, _t[1:])), file=sys.stderr)
"""

# What ``bptui trace -o FILE`` does (bptui/cli.py main and _trace, bptui/trace.py
# run_trace), phase by phase, through bptui's own functions.
TRACE_PHASES = """\
import sys, time
_t = [("start", time.perf_counter())]
import bptui.cli as cli
_t.append(("import bptui.cli (no torch)", time.perf_counter()))
raw = ["trace", "-o", sys.argv[1]]
raw = getattr(cli, "leading_lesson", lambda argv: argv)(raw)
args = cli.build_parser().parse_args(cli.join_negative_values(raw))
lesson = cli.lesson_from_args(args)
_t.append(("argparse + load the lesson", time.perf_counter()))
import bptui.trace as trace
_t.append(("import bptui.trace (torch, engine)", time.perf_counter()))
stepper = trace.Stepper(lesson)
stepper.run_to_end()
_t.append(("300 training steps (engine)", time.perf_counter()))
with open(args.output, "w", encoding="utf-8", newline="") as out:
    trace.write_jsonl(stepper.iter_records(), out)
_t.append(("write output", time.perf_counter()))
print("PHASES " + " ".join(f"{n.replace(' ', '_')}={b - a:.6f}"
      for (_, a), (n, b) in zip(_t, _t[1:])), file=sys.stderr)
"""


def run_child(
    cmd: list[str], cwd: str, stderr_path: str, env: dict[str, str] | None = None
) -> tuple[float, float, str]:
    """Run one child to completion: (wall seconds, CPU seconds, its stderr)."""
    with open(stderr_path, "w+b") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{text}")
    return wall, usage.ru_utime + usage.ru_stime, text


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def parse_importtime(text: str) -> dict[str, tuple[int, int, int]]:
    """``-X importtime`` output → {module: (self µs, cumulative µs, depth)}."""
    result = {}
    for line in text.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            depth = (len(match.group(3)) - 1) // 2
            result[match.group(4)] = (int(match.group(1)), int(match.group(2)), depth)
    return result


def parse_phases(text: str) -> dict[str, float]:
    for line in text.splitlines():
        if line.startswith("PHASES "):
            pairs = (item.split("=") for item in line.split()[1:])
            return {name.replace("_", " "): float(value) for name, value in pairs}
    raise RuntimeError(f"no PHASES line in:\n{text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=9, help="timed runs of each command, interleaved (default 9)"
    )
    parser.add_argument(
        "--importtime-runs", type=int, default=2, help="-X importtime runs of each (default 2)"
    )
    parser.add_argument(
        "--phase-runs", type=int, default=3, help="phase-timed runs of each (default 3)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    opts = parser.parse_args(argv)

    info = machine()
    py = sys.executable
    print("== bench_trace: `bptui trace` vs the note's program, whole process ==")
    print_machine(info)

    with tempfile.TemporaryDirectory(prefix="bptui-bench-") as tmp:
        seed_path = os.path.join(tmp, "seed.py")
        Path(seed_path).write_text(SEED_PROGRAM, encoding="utf-8")
        Path(tmp, "seed_phases.py").write_text(SEED_PHASES, encoding="utf-8")
        Path(tmp, "trace_phases.py").write_text(TRACE_PHASES, encoding="utf-8")
        out_path = os.path.join(tmp, "trace.jsonl")
        err_path = os.path.join(tmp, "stderr.txt")
        commands = {
            "bptui trace": [py, "-m", "bptui", "trace", "-o", out_path],
            "seed program": [py, seed_path],
            "import torch": [py, "-c", "import torch"],
            "python -c pass": [py, "-c", "pass"],
        }
        print(f"subject:  {py} -m bptui trace -o {os.path.join('<tmp>', 'trace.jsonl')}")
        print(f"baseline: {py} <tmp>/seed.py   (the note's loop + 2 prints, stdout to /dev/null)")
        print(f"rounds:   {opts.rounds} timed runs of each, interleaved, after 1 warm-up run each")

        # Warm-up (page cache, .pyc files), and a check that the subject works.
        for cmd in commands.values():
            run_child(cmd, tmp, err_path)
        n_lines = sum(1 for _ in open(out_path, encoding="utf-8"))
        if n_lines != 300:
            raise RuntimeError(f"bptui trace wrote {n_lines} records, expected 300")

        names = list(commands)
        wall: dict[str, list[float]] = defaultdict(list)
        cpu: dict[str, list[float]] = defaultdict(list)
        for round_ in range(opts.rounds):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                w, c, _ = run_child(commands[name], tmp, err_path)
                wall[name].append(w)
                cpu[name].append(c)

        print()
        print(f"{'process':<16} {'median wall':>12} {'min wall':>10} {'median CPU':>11}")
        for name in names:
            print(
                f"{name:<16} {fmt_s(median(wall[name])):>12} {fmt_s(min(wall[name])):>10} "
                f"{fmt_s(median(cpu[name])):>11}"
            )
        ratio = median(wall["bptui trace"]) / median(wall["seed program"])
        ratio_min = min(wall["bptui trace"]) / min(wall["seed program"])
        ratio_cpu = median(cpu["bptui trace"]) / median(cpu["seed program"])
        extra = median(wall["bptui trace"]) - median(wall["seed program"])
        print(
            f"ratio bptui trace / seed: medians {ratio:.3f}x, minimums {ratio_min:.3f}x, "
            f"CPU medians {ratio_cpu:.3f}x; extra wall time {extra * 1000:+.0f} ms"
        )
        print(verdict(ratio, TARGET))

        # Where the time goes (1): what bptui imports that the seed does not.
        seed_imp: dict[str, list[int]] = defaultdict(list)
        trace_imp: dict[str, list[int]] = defaultdict(list)
        trace_cum: dict[str, list[int]] = defaultdict(list)
        seed_torch: list[int] = []
        for _ in range(opts.importtime_runs):
            _, _, text = run_child([py, "-X", "importtime", seed_path], tmp, err_path)
            parsed = parse_importtime(text)
            for mod, (self_us, _, _) in parsed.items():
                seed_imp[mod].append(self_us)
            seed_torch.append(parsed.get("torch", (0, 0, 0))[1])
            _, _, text = run_child(
                [py, "-X", "importtime", *commands["bptui trace"][1:]], tmp, err_path
            )
            for mod, (self_us, cum_us, _) in parse_importtime(text).items():
                trace_imp[mod].append(self_us)
                trace_cum[mod].append(cum_us)
        extra_mods = {m: median(v) for m, v in trace_imp.items() if m not in seed_imp}
        extra_total = sum(extra_mods.values())
        own = {m: v for m, v in extra_mods.items() if m.split(".")[0] == "bptui"}
        print()
        print(
            f"-X importtime ({opts.importtime_runs} runs each, medians; importtime itself "
            "adds overhead):"
        )
        print(
            f"  torch (cumulative): seed {median(seed_torch) / 1000:.0f} ms, "
            f"bptui trace {median(trace_cum.get('torch', [0])) / 1000:.0f} ms"
        )
        print(
            f"  modules bptui trace imports and the seed does not: {len(extra_mods)}, "
            f"{extra_total / 1000:.1f} ms in all (self times); bptui's own "
            f"{len(own)} modules: {sum(own.values()) / 1000:.1f} ms"
        )
        print("  largest of them (self time):")
        for mod, us in sorted(extra_mods.items(), key=lambda kv: -kv[1])[:10]:
            print(f"    {us / 1000:6.1f} ms  {mod}")
        own_cached = None
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            # bptui is usually an editable install here: with no bytecode written,
            # its modules are compiled from source on every run. Measure them with
            # bytecode cached too (in a private cache; the first run fills it).
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
            cmd = [py, "-X", "importtime", *commands["bptui trace"][1:]]
            run_child(cmd, tmp, err_path, env)
            cached: dict[str, list[int]] = defaultdict(list)
            for _ in range(opts.importtime_runs):
                _, _, text = run_child(cmd, tmp, err_path, env)
                for mod, (self_us, _, _) in parse_importtime(text).items():
                    if mod in own:
                        cached[mod].append(self_us)
            own_cached = sum(median(v) for v in cached.values()) / 1000
            print(
                f"  PYTHONDONTWRITEBYTECODE is set, so bptui's modules are compiled on every "
                f"run; with cached bytecode they take {own_cached:.1f} ms "
                f"(vs {sum(own.values()) / 1000:.1f} ms)"
            )

        # Where the time goes (2): the phases of each process.
        phases: dict[str, dict[str, list[float]]] = {
            "seed": defaultdict(list),
            "trace": defaultdict(list),
        }
        try:
            for _ in range(opts.phase_runs):
                for who, cmd in (
                    ("seed", [py, os.path.join(tmp, "seed_phases.py")]),
                    ("trace", [py, os.path.join(tmp, "trace_phases.py"), out_path]),
                ):
                    w, _, text = run_child(cmd, tmp, err_path)
                    parsed = parse_phases(text)
                    for k, v in parsed.items():
                        phases[who][k].append(v)
                    # What the clock inside the script cannot see.
                    phases[who][OUTSIDE].append(w - sum(parsed.values()))
        except (RuntimeError, OSError) as error:  # bptui's internals changed
            print(f"\nphase breakdown unavailable: {str(error).splitlines()[0]}")
            phases = {}
        if phases:
            print()
            print(
                f"phases inside the process ({opts.phase_runs} fresh runs each, medians; "
                "fresh processes are not the timed ones above):"
            )
            for who, label in (("seed", "seed program"), ("trace", "bptui trace")):
                total = sum(median(v) for v in phases[who].values())
                print(f"  {label}: {total * 1000:.0f} ms")
                for k, v in phases[who].items():
                    print(f"    {median(v) * 1000:8.1f} ms  {k}")
            start_cost = median(wall["python -c pass"])
            print(
                f"  of the time outside the script, interpreter start is ~{start_cost * 1e3:.0f} ms "
                "(python -c pass); the rest is the interpreter's exit with torch loaded "
                "(module teardown and its final garbage collections)"
            )
            seed_loop = median(phases["seed"]["300 training steps"])
            eng_loop = median(phases["trace"]["300 training steps (engine)"])
            print(
                f"  the 300 training steps alone: engine {eng_loop * 1e3:.1f} ms, seed loop "
                f"{seed_loop * 1e3:.1f} ms (cold process: torch's first-call costs included)"
            )

    result = {
        "name": "trace",
        "what": "bptui trace (300 steps, jsonl) vs the seed program, whole process",
        "machine": info,
        "rounds": opts.rounds,
        "wall": {k: sorted(v) for k, v in wall.items()},
        "cpu": {k: sorted(v) for k, v in cpu.items()},
        "median_s": {k: median(v) for k, v in wall.items()},
        "min_s": {k: min(v) for k, v in wall.items()},
        "ratio": ratio,
        "ratio_min": ratio_min,
        "ratio_cpu": ratio_cpu,
        "target": TARGET,
        "met": ratio <= TARGET,
        "extra_imports_ms": extra_total / 1000,
        "bptui_imports_ms": sum(own.values()) / 1000,
        "bptui_imports_cached_bytecode_ms": own_cached,
        "phases_ms": {
            who: {k: median(v) * 1000 for k, v in d.items()} for who, d in phases.items()
        },
    }
    write_json(opts.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
