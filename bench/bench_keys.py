"""Pty benchmark: key press -> updated frame, with a 30,000-step history in the plot.

Subject:  the real ``BptuiApp`` at 120x40 on a pseudo-terminal
          (``TERM=xterm-256color``), run by this file in ``--child`` mode:
          ``seed_lesson().with_values(epochs=20000)``, a ``Stepper`` that has
          already run ``run_epochs(10000)`` (30,000 training steps, so the plot's
          history holds 30,000 (w, loss) points), then
          ``BptuiApp(lesson, stepper=stepper).run()``.
Baseline: a bare Textual app on its own 120x40 pty whose ``space`` binding
          updates one ``Static`` label (``presses N``).

Replica:  ``_replica.py`` on its own 120x40 pty: bptui's screen without bptui
          (the same stylesheet, widgets of the same class names, the panels'
          lines as bptui drew them, recorded by ``replica_record.py`` from the
          same lesson and history before the run; space shows the next recorded
          state, the plot a frame later). What a key costs there is Textual's
          own work for bptui's screen: the floor bptui can reach without
          changing Textual.

The three run at the same time; the presses rotate between them (the order
changing every round) so that load on the machine falls on all alike. For each
press of ``space``:
  first change = from just before ``os.write`` of the key to the arrival (the
                 ``os.read``) of the pty chunk after which the pyte screen first
                 differs from the screen before the key. In bptui this is the
                 key's frame: status, graph, chain rule, tensor, code and message.
                 The plot, when the key changed what it plots (a loss computed, a
                 step finished), follows in a later frame by design (the figure
                 and the loss curve take a few ms; see ``bptui/app/frames.py``);
  settled      = to the arrival of the last chunk before the output has been
                 quiet for 100 ms (the whole update, however many writes,
                 including that plot frame).
The next key is sent only after that quiet period, so bptui's 30 fps throttle
never delays a render: this is the latency of one isolated key. Reading takes
priority over parsing, so pyte's cost is not counted. A few unmeasured presses
come first. The apps use the bytecode cache of ``bench_first_frame.py``.
Reported: p50/p95 of each, and the ratios of the p95s (bptui / bare, replica /
bare, bptui / replica). Targets (issue 24): first-change p95 ratio bptui / bare
<= 1.8, settled p95 ratio <= 4.

Then (unless ``--no-profile``) a second bptui child on a pty, same history, with
timers around a frame's pieces and then cProfile (see ``_keys_profile.py``).

Usage: python bench/bench_keys.py [--presses N] [--no-profile] [--no-latency] [--no-replica]
                                  [--keep-profile DIR] [--inherit-env] [--json PATH]
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _keys_profile import (
    COLS,
    EPOCHS_DONE,
    KEY_TIMEOUT,
    QUIET,
    READY_TIMEOUT,
    ROWS,
    install_probes,
    run_profile,
)

TARGET = 1.8  # issue 24: first change, bptui / bare
SETTLED_TARGET = 4.0  # issue 24: the settled frame (plot included)
WARM_PRESSES = 3
HERE = Path(__file__).resolve().parent

pc = time.perf_counter

BARE_APP = """\
from textual.app import App
from textual.widgets import Static


class BareKeys(App):
    BINDINGS = [("space", "bump", "Bump"), ("q", "quit", "Quit")]
    presses = 0

    def compose(self):
        yield Static("presses 0", id="label")

    def action_bump(self):
        self.presses += 1
        self.query_one("#label", Static).update(f"presses {self.presses}")


BareKeys().run()
"""


# ---------------------------------------------------------------- child


def child(profile_dir: str | None) -> int:
    """The app under test: bptui with a 30,000-step history (and, if asked, probes)."""
    from bptui.app.main import BptuiApp
    from bptui.lesson import seed_lesson
    from bptui.lesson.engine import Stepper

    lesson = seed_lesson().with_values(epochs=2 * EPOCHS_DONE)
    stepper = Stepper(lesson)
    stepper.run_epochs(EPOCHS_DONE)
    app = BptuiApp(lesson, stepper=stepper)
    finish = install_probes(profile_dir) if profile_dir else None
    app.run()
    if finish is not None:
        finish()
    return 0


# ---------------------------------------------------------------- parent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


class KeyTarget:
    """An app on a pty, ready for key presses, with its per-press figures."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], ready_mark: str):
        from bench_first_frame import PtyApp, contains

        self.name = name
        self.app = PtyApp(argv, COLS, ROWS, env)
        self.ready_mark = ready_mark
        self._contains = contains
        self.first: list[float] = []
        self.settled: list[float] = []
        self.missed = 0

    def wait_ready(self) -> bool:
        t = self.app.wait_for(self._contains(self.ready_mark), READY_TIMEOUT)
        if t is None:
            return False
        self.app.settle(0.5, 10.0)
        return True

    def press(self, key: bytes = b" ") -> None:
        app = self.app
        before = [app.line(y) for y in range(app.rows)]

        def changed(screen: Any) -> bool:
            return any(app.line(y) != before[y] for y in screen.dirty if y < app.rows)

        t_send = app.send(key)
        t_first = app.wait_for(changed, KEY_TIMEOUT)
        t_last = app.settle(QUIET, KEY_TIMEOUT)
        if t_first is None:
            self.missed += 1
            return
        self.first.append(t_first - t_send)
        self.settled.append(max(t_last, t_first) - t_send)

    def close(self) -> None:
        self.app.close(b"q", timeout=10.0)


def measure_latency(
    presses: int, env: dict[str, str], argv: dict[str, list[str]]
) -> list[KeyTarget]:
    """Each app of ``argv`` (by name) on its pty, ``presses`` measured presses each."""
    ready = f"Epoch {EPOCHS_DONE + 1}/{2 * EPOCHS_DONE}"
    targets = [
        KeyTarget(name, command, env, "presses 0" if name == "bare" else ready)
        for name, command in argv.items()
    ]
    try:
        t0 = pc()
        for target in targets:
            if not target.wait_ready():
                print(f"{target.name} did not become ready; screen:\n{target.app.text()}")
                return []
        print(
            f"  {len(targets)} apps ready after {pc() - t0:.1f} s "
            f"(bptui ran {3 * EPOCHS_DONE} steps first)"
        )
        # A few unmeasured presses each: first-use costs (caches, imports on first key).
        for target in targets:
            for _ in range(WARM_PRESSES):
                target.press()
            target.first.clear()
            target.settled.clear()
            target.missed = 0
        # Every order of the apps in turn, so none always follows the same one.
        orders = list(itertools.permutations(targets))
        for i in range(presses):
            for target in orders[i % len(orders)]:
                target.press()
    finally:
        for target in targets:
            target.close()
    return targets


def record_replica(env: dict[str, str], presses: int, out: Path) -> bool:
    """bptui's screen after each of ``presses`` presses, for the replica (a child process)."""
    t = pc()
    done = subprocess.run(
        [sys.executable, str(HERE / "replica_record.py"), str(out), "--presses", str(presses)],
        env=env,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 or not out.exists():
        print("recording bptui's screen for the replica failed: measuring without it")
        return False
    print(f"  bptui's screen recorded for the replica: {presses} presses in {pc() - t:.1f} s")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=100, help="measured presses per app")
    parser.add_argument("--no-profile", action="store_true", help="skip the profile")
    parser.add_argument("--no-replica", action="store_true", help="bptui and the bare app only")
    parser.add_argument(
        "--inherit-env",
        action="store_true",
        help="run the apps with this environment unchanged (no bytecode cache)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--no-latency", action="store_true", help="only the profile")
    parser.add_argument(
        "--keep-profile", metavar="DIR", help="keep the profile (keys.prof, timers.json) in DIR"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.profile)

    from _util import machine, print_machine, write_json
    from bench_first_frame import child_env

    info = machine()
    print(
        f"bench_keys: key -> updated frame at {COLS}x{ROWS} on a pty, "
        f"{3 * EPOCHS_DONE}-step history in the plot"
    )
    print_machine(info)
    env = child_env(args.inherit_env)
    figures: dict[str, Any] = {
        "benchmark": "keys",
        "machine": info,
        "size": [COLS, ROWS],
        "history_steps": 3 * EPOCHS_DONE,
        "target": TARGET,
        "settled_target": SETTLED_TARGET,
    }
    if not args.no_latency:
        latency(args, env, figures)
    if not args.no_profile:
        figures["profile"] = run_profile(__file__, env, args.keep_profile)
    write_json(args.json, figures)
    return 0


def latency(args: argparse.Namespace, env: dict[str, str], figures: dict[str, Any]) -> None:
    from _util import verdict

    with tempfile.TemporaryDirectory() as tmp:
        bare_path = Path(tmp) / "bare_keys.py"
        bare_path.write_text(BARE_APP, encoding="utf-8")
        argv = {
            "bare": [sys.executable, str(bare_path)],
            "bptui": [sys.executable, __file__, "--child"],
        }
        recording = Path(tmp) / "replica.pickle"
        # One recorded state a press, and some over: past the last, the replica starts again.
        if not args.no_replica and record_replica(env, args.presses + WARM_PRESSES + 5, recording):
            argv["replica"] = [sys.executable, str(HERE / "_replica.py"), str(recording)]
        targets = {t.name: t for t in measure_latency(args.presses, env, argv)}
    if not targets or any(not t.first for t in targets.values()):
        print("no presses measured")
        return
    print(
        "\npresses measured (rotating): "
        + ", ".join(
            f"{t.name} {len(t.first)} ({t.missed} without a change)" for t in targets.values()
        )
    )
    print(f"  {'':18} {'first change p50':>17} {'p95':>9}   {'settled p50':>12} {'p95':>9}")
    for t in targets.values():
        p50, p95 = percentile(t.first, 0.5), percentile(t.first, 0.95)
        s50, s95 = percentile(t.settled, 0.5), percentile(t.settled, 0.95)
        print(f"  {t.name:18} {ms(p50):>17} {ms(p95):>9}   {ms(s50):>12} {ms(s95):>9}")
        figures[t.name] = {
            "first_change_s": t.first,
            "settled_s": t.settled,
            "missed": t.missed,
            "first_p50_s": p50,
            "first_p95_s": p95,
            "settled_p50_s": s50,
            "settled_p95_s": s95,
        }
    ratios: dict[str, dict[str, float]] = {}
    for top, bottom in (("bptui", "bare"), ("replica", "bare"), ("bptui", "replica")):
        if top in targets and bottom in targets:
            first = figures[top]["first_p95_s"] / figures[bottom]["first_p95_s"]
            settled = figures[top]["settled_p95_s"] / figures[bottom]["settled_p95_s"]
            first50 = figures[top]["first_p50_s"] / figures[bottom]["first_p50_s"]
            ratios[f"{top}/{bottom}"] = {
                "first_p95": first,
                "settled_p95": settled,
                "first_p50": first50,
            }
            print(
                f"ratio {top}/{bottom}: first change p95 {first:.2f}x (p50 {first50:.2f}x), "
                f"settled p95 {settled:.2f}x"
            )
    ratio = ratios["bptui/bare"]["first_p95"]
    s_ratio = ratios["bptui/bare"]["settled_p95"]
    print(f"first-change p95 ratio bptui/bare: {ratio:.2f}x -> {verdict(ratio, TARGET)}")
    print(f"settled p95 ratio bptui/bare: {s_ratio:.2f}x -> {verdict(s_ratio, SETTLED_TARGET)}")
    figures.update(
        ratio=ratio,
        ratio_p95=ratio,
        settled_ratio_p95=s_ratio,
        ratios=ratios,
        met=ratio <= TARGET,
        settled_met=s_ratio <= SETTLED_TARGET,
        what=(
            f"key->frame p95 {figures['bptui']['first_p95_s'] * 1000:.0f} ms vs bare "
            f"{figures['bare']['first_p95_s'] * 1000:.0f} ms (120x40, 30k history, pty)"
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
