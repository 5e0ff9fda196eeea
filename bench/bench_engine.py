"""In-process benchmark: the engine's cost per training step against the raw seed loop.

Subject:  ``Stepper(seed_lesson().with_values(epochs=33334)).run_to_end()`` —
          100,002 training steps of the default lesson, each taken micro-step by
          micro-step (3 forward, 3 backward, update, zero) with its record, its
          local derivatives (factors) and the undo log and checkpoints.
          ``Stepper(...)`` itself is timed apart and not counted.
Baseline: the note's loop over the same 100,002 steps:
          ``l = (x*w - y)**2; ws.append(w.item()); ls.append(l.item()); l.backward();
          w.data = w.data - a*w.grad.data; w.grad.data.zero_()``.

Both run in this process with ``torch.set_num_threads(1)``, after a short warm-up,
interleaved (the order alternates every round), ``gc.collect()`` before each run,
garbage collection otherwise left on. The engine's recorded ``w`` and loss are
checked against the loop's, bit for bit. Reported: median and min µs per step of
each, and the ratio of the medians. Target: ratio <= 1.5 (issue 24; it was 2).

Then (unless ``--no-profile``) where the engine's time goes, on a shorter run:
its wall time per micro-step kind, the cost of the torch calls it makes, and a
cProfile listing.

Usage: python bench/bench_engine.py [--rounds N] [--epochs N] [--no-profile] [--json PATH]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
from _util import machine, median, print_machine, verdict, write_json

from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper

TARGET = 1.5
EPOCHS = 33334  # x 3 samples = 100,002 training steps

pc = time.perf_counter


def seed_loop(epochs: int) -> tuple[float, int, list[float], list[float]]:
    """The note's program, timed: (seconds, steps, recorded w, recorded loss)."""
    x_data = [1.0, 2.0, 3.0]
    y_data = [2.0, 4.0, 6.0]
    a = 0.01
    w = torch.Tensor([1.0])
    w.requires_grad = True
    ws: list[float] = []
    ls: list[float] = []
    gc.collect()
    start = pc()
    for _ in range(epochs):
        for x, y in zip(x_data, y_data, strict=False):
            l = (x * w - y) ** 2  # noqa: E741
            ws.append(w.item())
            ls.append(l.item())
            l.backward()
            w.data = w.data - a * w.grad.data
            w.grad.data.zero_()
    elapsed = pc() - start
    return elapsed, len(ws), ws, ls


def engine_run(epochs: int) -> tuple[float, float, Stepper]:
    """The engine, timed: (seconds for Stepper(), seconds for run_to_end(), stepper)."""
    lesson = seed_lesson().with_values(epochs=epochs)
    gc.collect()
    start = pc()
    stepper = Stepper(lesson)
    built = pc()
    stepper.run_to_end()
    return built - start, pc() - built, stepper


def check_same(stepper: Stepper, ws: list[float], ls: list[float]) -> str:
    """The engine must record exactly the loop's numbers."""
    n = 0
    for record, w, loss in zip(stepper.iter_records(), ws, ls, strict=False):
        if record.params["w"] != w or record.loss != loss:
            return (
                f"DIFFERENT at step {record.step}: engine w={record.params['w']!r} "
                f"loss={record.loss!r}, loop w={w!r} loss={loss!r}"
            )
        n += 1
    if n != len(ws) or stepper.steps_done != len(ws):
        return f"DIFFERENT lengths: engine {stepper.steps_done}, loop {len(ws)}"
    return f"identical ({n:,} steps: every recorded w and loss equal bit for bit)"


# --------------------------------------------------------------------- profile


def _timeit(fn: Callable[[], Any], n: int = 10000, repeat: int = 5) -> float:
    """Median µs per call."""
    runs = []
    for _ in range(repeat):
        start = pc()
        for _ in range(n):
            fn()
        runs.append((pc() - start) / n * 1e6)
    return median(runs)


def torch_costs() -> list[tuple[str, float]]:
    """What the torch calls the engine makes cost on their own (µs per call)."""
    w = torch.tensor([1.0])
    w.requires_grad = True
    w.grad = torch.zeros(1)
    set_grad = torch._C._set_grad_enabled

    def forward() -> None:
        (2.0 * w - 4.0) ** 2

    def forward_backward() -> None:
        ((2.0 * w - 4.0) ** 2).backward()

    loss = (2.0 * w - 4.0) ** 2
    pow_fn = loss.grad_fn
    sub_fn = pow_fn.next_functions[0][0]
    mul_fn = sub_fn.next_functions[0][0]
    ones = torch.ones_like(loss)

    def five_grad_fns() -> None:
        # What the engine's three backward micro-steps call: PowBackward0 once,
        # SubBackward0 and MulBackward0 twice each (upstream, then ones).
        set_grad(False)
        (g,) = pow_fn(ones)
        (g, _) = sub_fn(g)
        sub_fn(ones)
        mul_fn(g)
        mul_fn(ones)
        set_grad(True)

    def update() -> None:
        w.data = w.data - 0.01 * w.grad.data

    fb = _timeit(forward_backward)
    fw = _timeit(forward)
    return [
        ("forward, 3 ops: (x*w - y)**2", fw),
        ("loss.backward() (fwd+bwd minus fwd)", fb - fw),
        ("5 grad_fn calls + 2 grad-mode switches", _timeit(five_grad_fns)),
        ("tensor.item()", _timeit(loss.item, n=50000)),
        ("update: w.data = w.data - a*w.grad.data", _timeit(update)),
        ("zero: w.grad.data.zero_()", _timeit(lambda: w.grad.data.zero_())),
    ]


def micro_step_breakdown(epochs: int) -> tuple[int, dict[str, float], dict[str, float]]:
    """Wall time per micro-step kind, by wrapping the engine's action handlers.

    Reads engine internals (``StepMachine._HANDLERS``, ``TorchModel.real_backward``,
    ``StepMachine._record``).
    """
    from bptui.lesson import machine, torch_step

    acc: dict[str, float] = defaultdict(float)
    calls: Counter[str] = Counter()

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = pc()
            try:
                return fn(*args, **kwargs)
            finally:
                acc[name] += pc() - start
                calls[name] += 1

        return timed

    table = machine.StepMachine._HANDLERS
    handlers = dict(table)
    real_backward = torch_step.TorchModel.real_backward
    record = machine.StepMachine._record
    try:
        for action, fn in handlers.items():
            table[action] = wrap(action.name.lower(), fn)
        torch_step.TorchModel.real_backward = wrap(  # type: ignore[method-assign]
            "  of which loss.backward() + grads", real_backward
        )
        machine.StepMachine._record = wrap("  of which the record", record)  # type: ignore[method-assign]
        stepper = Stepper(seed_lesson().with_values(epochs=epochs))
        gc.collect()
        start = pc()
        stepper.run_to_end()
        total = pc() - start
    finally:
        table.update(handlers)
        torch_step.TorchModel.real_backward = real_backward  # type: ignore[method-assign]
        machine.StepMachine._record = record  # type: ignore[method-assign]
    steps = stepper.steps_done
    per_step = {k: v / steps * 1e6 for k, v in acc.items()}
    per_step["total (instrumented)"] = total / steps * 1e6
    return steps, per_step, {k: c / steps for k, c in calls.items()}


def cprofile_top(epochs: int, top: int) -> tuple[int, list[tuple[str, float, float, float]]]:
    """cProfile of run_to_end: (steps, [(function, calls/step, tottime µs/step, cumtime µs/step)])."""
    stepper = Stepper(seed_lesson().with_values(epochs=epochs))
    profile = cProfile.Profile()
    profile.enable()
    stepper.run_to_end()
    profile.disable()
    steps = stepper.steps_done
    stats = pstats.Stats(profile, stream=io.StringIO())
    rows = []
    for (filename, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        if filename == "~":
            where = func
        else:
            parts = Path(filename).parts
            short = (
                "/".join(parts[parts.index("bptui") :]) if "bptui" in parts else Path(filename).name
            )
            where = f"{short}:{line}({func})"
        rows.append((where, ncalls / steps, tottime / steps * 1e6, cumtime / steps * 1e6))
    rows.sort(key=lambda r: -r[2])
    return steps, rows[:top]


def profile_engine(epochs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    print()
    print("-- where the engine's time goes --")
    costs = torch_costs()
    out["torch_costs_us"] = dict(costs)
    print("torch calls on their own (µs per call, median of 5 x 10,000):")
    for name, us in costs:
        print(f"  {us:6.2f}  {name}")
    try:
        steps, per_step, calls = micro_step_breakdown(epochs)
    except (AttributeError, KeyError, TypeError) as error:
        print(f"micro-step breakdown unavailable (engine internals changed): {error!r}")
    else:
        out["micro_steps_us_per_step"] = per_step
        print(
            f"wall time per training step by micro-step kind ({steps:,} steps; "
            "the timing wrappers add ~1 µs per call):"
        )
        for name, us in sorted(
            per_step.items(), key=lambda kv: (kv[0].startswith("total"), -kv[1])
        ):
            n = calls.get(name)
            print(f"  {us:7.1f} µs  {name}" + (f"  ({n:g} calls/step)" if n else ""))
    steps, rows = cprofile_top(epochs, 18)
    out["cprofile"] = rows
    print(
        f"cProfile of run_to_end ({steps:,} steps; the profiler inflates Python-level "
        "costs, and calls into grad_fn objects are counted in their caller):"
    )
    print(f"  {'calls/step':>10} {'own µs/step':>11} {'cum µs/step':>11}  function")
    for where, ncalls, tottime, cumtime in rows:
        print(f"  {ncalls:10.2f} {tottime:11.2f} {cumtime:11.2f}  {where}")
    return out


# ------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=5, help="timed runs of each, interleaved (default 5)"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=EPOCHS,
        help=f"epochs per run, 3 steps each (default {EPOCHS})",
    )
    parser.add_argument(
        "--profile-epochs",
        type=int,
        default=2000,
        help="epochs for the profile runs (default 2000)",
    )
    parser.add_argument("--no-profile", action="store_true", help="figures only")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    opts = parser.parse_args(argv)

    torch.set_num_threads(1)
    info = machine()
    print("== bench_engine: engine per training step vs the raw seed loop, in process ==")
    print_machine(info)
    print(
        f"torch threads: {torch.get_num_threads()}; {opts.epochs:,} epochs = "
        f"{opts.epochs * 3:,} steps per run; {opts.rounds} rounds, interleaved"
    )

    # Warm-up: torch's first calls, the engine's caches, the branch predictors.
    seed_loop(300)
    engine_run(300)

    seed_us: list[float] = []
    engine_us: list[float] = []
    build_ms: list[float] = []
    check = ""
    for round_ in range(opts.rounds):
        order = ("seed", "engine") if round_ % 2 == 0 else ("engine", "seed")
        for who in order:
            if who == "seed":
                seconds, steps, ws, ls = seed_loop(opts.epochs)
                seed_us.append(seconds / steps * 1e6)
            else:
                built, seconds, stepper = engine_run(opts.epochs)
                engine_us.append(seconds / stepper.steps_done * 1e6)
                build_ms.append(built * 1e3)
        if round_ == 0:
            check = check_same(stepper, ws, ls)
        del stepper, ws, ls
        print(
            f"  round {round_ + 1}: seed loop {seed_us[-1]:6.1f} µs/step, "
            f"engine {engine_us[-1]:6.1f} µs/step"
        )

    ratio = median(engine_us) / median(seed_us)
    print()
    print(f"engine vs seed loop: {check}")
    print(f"{'':<12} {'median':>12} {'min':>12}")
    print(f"{'seed loop':<12} {median(seed_us):8.1f} µs {min(seed_us):8.1f} µs   per step")
    print(
        f"{'engine':<12} {median(engine_us):8.1f} µs {min(engine_us):8.1f} µs   per step "
        f"(Stepper() itself: {median(build_ms):.2f} ms, not counted)"
    )
    print(
        f"ratio engine / seed loop: medians {ratio:.2f}x, minimums "
        f"{min(engine_us) / min(seed_us):.2f}x; engine overhead "
        f"{median(engine_us) - median(seed_us):.1f} µs/step"
    )
    print(verdict(ratio, TARGET))

    result: dict[str, Any] = {
        "name": "engine",
        "what": "Stepper.run_to_end() vs the raw seed loop, µs per training step",
        "machine": info,
        "steps": opts.epochs * 3,
        "rounds": opts.rounds,
        "seed_us": seed_us,
        "engine_us": engine_us,
        "median_us": {"seed loop": median(seed_us), "engine": median(engine_us)},
        "min_us": {"seed loop": min(seed_us), "engine": min(engine_us)},
        "ratio": ratio,
        "ratio_min": min(engine_us) / min(seed_us),
        "target": TARGET,
        "met": ratio <= TARGET,
        "check": check,
    }
    if not opts.no_profile:
        result["profile"] = profile_engine(opts.profile_epochs)
    write_json(opts.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
