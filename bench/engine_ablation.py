"""What would bring the engine to <= 2x the seed loop? Fused-loop prototypes, measured.

Not a benchmark of bptui and not run by ``run_all.py``: it estimates the savings
of the changes suggested in BENCHMARKS.md. Each variant is a hand-written loop
for the default lesson (``yhat = x*w; r = yhat - y; loss = r**2``) that makes a
subset of the torch calls the engine makes per training step and keeps the
same record tuples, the plot history and an undo log of 8 entries per step:

  fused, same torch work      every torch call the engine made before its runs
                              went lean: the 3 forward ops,
                              5 grad_fn calls (PowBackward0 once, SubBackward0 and
                              MulBackward0 twice: with the upstream gradient and
                              with ones), loss.backward(), update, zero, and the
                              same .item() reads. Only the engine's Python
                              bookkeeping (_do, _natural, handler dispatch,
                              messages, dicts) is gone.
  fused, 3 grad_fn calls      the local derivatives only (each grad_fn called once,
                              with ones): the gradients passed down are not
                              needed in a bulk run, loss.backward() computes them.
  fused, 3 calls + direct     as above, and the autograd engine called directly
                              with a cached ones tensor instead of loss.backward()
                              (skips torch.autograd.backward's Python wrapper).
                              The torch work of the engine's natural runs now
                              (their lean path, StepMachine.run).
  fused, no grad_fn calls     no local derivatives at all (a floor, not a proposal).

And one change measured on the real engine: "engine, direct run_backward" is
``Stepper.run_to_end()`` with ``Tensor.backward`` replaced, for that run only,
by the direct call above (the default lesson's loss is a 1-element tensor).

The first three write records equal to the engine's (checked). Everything runs
with ``torch.set_num_threads(1)``, interleaved, the order rotating every round.

Usage: python bench/engine_ablation.py [--rounds N] [--epochs N]
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
from _util import machine, median, print_machine
from bench_engine import seed_loop
from torch.autograd import Variable

from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper

pc = time.perf_counter
KEYS = ("dloss/dr", "dr/dyhat", "dyhat/dw")


def fused(epochs: int, grad_fns: int = 5, direct: bool = False) -> tuple[float, list[Any]]:
    lesson = seed_lesson()
    xs, ys, lr = lesson.x, lesson.y, lesson.lr
    w = torch.tensor([dict(lesson.params)["w"]], dtype=torch.float32)
    w.requires_grad = True
    ones = torch.ones(1)
    set_grad = torch._C._set_grad_enabled
    run_backward = Variable._execution_engine.run_backward
    records: list[Any] = []
    hist_w: list[float] = []
    hist_loss: list[float] = []
    log: list[int] = []
    gc.collect()
    start = pc()
    for epoch in range(epochs):
        for sample in range(len(xs)):
            x, y = xs[sample], ys[sample]
            yhat = x * w
            r = yhat - y
            loss = r**2
            loss_value = loss.item()
            w_before = w.item()
            if grad_fns == 5:
                set_grad(False)
                (g_r,) = loss.grad_fn(ones)
                sub = r.grad_fn
                g_yhat = sub(g_r)
                l_sub = sub(ones)
                mul = yhat.grad_fn
                mul(g_yhat[0])
                l_mul = mul(ones)
                set_grad(True)
                factors = (g_r.item(), l_sub[0].item(), l_mul[0].item())
            elif grad_fns == 3:
                set_grad(False)
                (g_r,) = loss.grad_fn(ones)
                l_sub = r.grad_fn(ones)
                l_mul = yhat.grad_fn(ones)
                set_grad(True)
                factors = (g_r.item(), l_sub[0].item(), l_mul[0].item())
            else:
                factors = (0.0, 0.0, 0.0)
            _ = w.grad.item() if w.grad is not None else None  # accumulation check
            if direct:
                run_backward((loss,), (ones,), False, False, (), True, True)
            else:
                loss.backward()
            grad = w.grad.item()
            w.data = w.data - lr * w.grad.data
            w_after = w.item()
            if not math.isfinite(w_after):  # the engine's divergence check
                pass
            w.grad.data.zero_()
            records.append(
                (
                    epoch + 1,
                    sample + 1,
                    x,
                    y,
                    (w_before,),
                    (yhat.item(), r.item(), loss_value),
                    KEYS,
                    factors,
                    (grad,),
                    (w_after,),
                    loss_value,
                )
            )
            hist_w.append(w_before)
            hist_loss.append(loss_value)
            log.extend((0, 0, 0, 1, 1, 1, 2, 3))
    return (pc() - start) / len(records) * 1e6, records


def seed(epochs: int) -> float:
    """The note's loop (the same one bench_engine.py times), in µs per step."""
    elapsed, steps, _, _ = seed_loop(epochs)
    return elapsed / steps * 1e6


def engine(epochs: int) -> float:
    stepper = Stepper(seed_lesson().with_values(epochs=epochs))
    gc.collect()
    start = pc()
    stepper.run_to_end()
    return (pc() - start) / stepper.steps_done * 1e6


def engine_direct_backward(epochs: int) -> float:
    """The real engine, with ``Tensor.backward`` swapped (for this run only) for a
    direct call of the autograd engine with a cached ones tensor."""
    original = torch.Tensor.backward
    run_backward = Variable._execution_engine.run_backward
    ones = torch.ones(1)

    def direct(self: torch.Tensor, *args: Any, **kwargs: Any) -> None:
        run_backward((self,), (ones,), False, False, (), True, True)

    torch.Tensor.backward = direct  # type: ignore[method-assign]
    try:
        return engine(epochs)
    finally:
        torch.Tensor.backward = original  # type: ignore[method-assign]


def same_as_engine(records: list[Any]) -> bool:
    stepper = Stepper(seed_lesson().with_values(epochs=len(records) // 3))
    stepper.run_to_end()
    for row, rec in zip(records, stepper.iter_records(), strict=False):
        mine = (row[4], row[5], row[7], row[8], row[9], row[10])
        theirs = (
            tuple(rec.params.values()),
            tuple(rec.nodes.values()),
            tuple(rec.factors.values()),
            tuple(rec.grads.values()),
            tuple(rec.params_after.values()),
            rec.loss,
        )
        if mine != theirs:
            return False
    return len(records) == stepper.steps_done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=5000, help="3 steps each (default 5000)")
    opts = parser.parse_args(argv)
    torch.set_num_threads(1)
    print("== engine_ablation: fused-loop prototypes vs the engine and the seed loop ==")
    print_machine(machine())
    variants: dict[str, Callable[[], float]] = {
        "seed loop": lambda: seed(opts.epochs),
        "engine (Stepper.run_to_end)": lambda: engine(opts.epochs),
        "engine, direct run_backward": lambda: engine_direct_backward(opts.epochs),
        "fused, same torch work": lambda: fused(opts.epochs)[0],
        "fused, 3 grad_fn calls": lambda: fused(opts.epochs, 3)[0],
        "fused, 3 calls + direct": lambda: fused(opts.epochs, 3, True)[0],
        "fused, no grad_fn calls": lambda: fused(opts.epochs, 0)[0],
    }
    seed(100), engine(100), fused(100), fused(100, 3, True)  # warm-up
    times: dict[str, list[float]] = {k: [] for k in variants}
    names = list(variants)
    for round_ in range(opts.rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(variants[name]())
    base = median(times["seed loop"])
    base_min = min(times["seed loop"])
    print(f"{opts.epochs * 3:,} steps per run, {opts.rounds} rounds; µs per step:")
    print(f"  {'variant':<30} {'median':>7} {'ratio':>6} {'min':>7} {'ratio':>6}")
    for name, values in times.items():
        print(
            f"  {name:<30} {median(values):7.1f} {median(values) / base:5.2f}x "
            f"{min(values):7.1f} {min(values) / base_min:5.2f}x"
        )
    checks = {
        "same torch work": fused(30)[1],
        "3 grad_fn calls": fused(30, 3)[1],
        "3 calls + direct": fused(30, 3, True)[1],
    }
    for name, records in checks.items():
        print(f"records of 'fused, {name}' equal the engine's: {same_as_engine(records)}")
    plain = Stepper(seed_lesson().with_values(epochs=30))
    plain.run_to_end()
    original = torch.Tensor.backward
    run_backward = Variable._execution_engine.run_backward
    ones = torch.ones(1)
    torch.Tensor.backward = lambda self, *a, **k: run_backward(  # type: ignore[method-assign]
        (self,), (ones,), False, False, (), True, True
    )
    try:
        patched = Stepper(seed_lesson().with_values(epochs=30))
        patched.run_to_end()
    finally:
        torch.Tensor.backward = original  # type: ignore[method-assign]
    same = list(plain.iter_records()) == list(patched.iter_records())
    print(f"records of 'engine, direct run_backward' equal the engine's: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
