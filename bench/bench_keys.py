"""Pty benchmark: key press -> updated frame, with a 30,000-step history in the plot.

Subject:  the real ``BptuiApp`` at 120x40 on a pseudo-terminal
          (``TERM=xterm-256color``), run by this file in ``--child`` mode:
          ``seed_lesson().with_values(epochs=20000)``, a ``Stepper`` that has
          already run ``run_epochs(10000)`` (30,000 training steps, so the plot's
          history holds 30,000 (w, loss) points), then
          ``BptuiApp(lesson, stepper=stepper).run()``.
Baseline: a bare Textual app on its own 120x40 pty whose ``space`` binding
          updates one ``Static`` label (``presses N``).

Both run at the same time; the presses alternate between them (the order
swapping every round) so that load on the machine falls on both alike. For each
press of ``space``:
  first change = from just before ``os.write`` of the key to the arrival (the
                 ``os.read``) of the pty chunk after which the pyte screen first
                 differs from the screen before the key. In bptui this is the
                 key's frame: status, graph, chain rule, tensor, code and message.
                 The plot, when the key changed what it plots (a loss computed, a
                 step finished), follows in a later frame by design (the figure
                 and the loss curve take a few ms; see ``BptuiApp._render_now``);
  settled      = to the arrival of the last chunk before the output has been
                 quiet for 100 ms (the whole update, however many writes,
                 including that plot frame).
The next key is sent only after that quiet period, so bptui's 30 fps throttle
never delays a render: this is the latency of one isolated key. Reading takes
priority over parsing, so pyte's cost is not counted. A few unmeasured presses
come first. Both apps use the bytecode cache of ``bench_first_frame.py``.
Reported: p50/p95 of both, and the ratio of the p95s (bptui / bare). Target:
first-change p95 ratio <= 3.

Then (unless ``--no-profile``) a second bptui child on a pty, same history:
  - 50 presses with timers around the pieces of a frame (``Stepper.snapshot``,
    ``Stepper.plot_curve``, each panel's ``show``, the plot's data reduction, the figure's
    ``draw``, ``render_lines`` per widget class, the compositor and the
    terminal encoding in ``App._display``) and garbage-collection pauses,
    reported as ms per press, and when the frames went out after each key;
  - 50 more presses under cProfile (the top functions by own time and by
    cumulative time; the event loop's idle waits are left out).

Usage: python bench/bench_keys.py [--presses N] [--no-profile] [--no-latency]
                                  [--keep-profile DIR] [--inherit-env] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

COLS, ROWS = 120, 40
EPOCHS_DONE = 10000  # x 3 samples = 30,000 training steps in the history
TARGET = 3.0
QUIET = 0.1
KEY_TIMEOUT = 3.0
READY_TIMEOUT = 90.0
PROFILE_PRESSES = 50

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


def install_probes(out_dir: str) -> Any:
    """Timers around a frame's pieces for the first presses, cProfile for the next."""
    import cProfile

    from textual.app import App
    from textual.screen import Screen
    from textual.widget import Widget

    import bptui.app.panels.plot as plot_mod
    from bptui.app.main import BptuiApp
    from bptui.lesson.engine import Stepper

    timers: dict[str, list[float]] = defaultdict(list)
    state = {"presses": 0, "timing": False}
    profiler = cProfile.Profile()

    def timed(owner: Any, attr: str, name: str | None = None) -> None:
        original = getattr(owner, attr, None)
        if original is None:
            return

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not state["timing"]:
                return original(*args, **kwargs)
            label = name
            if label is None:  # per class, for methods shared by every widget
                label = f"{attr} {type(args[0]).__name__}"
            t = pc()
            try:
                return original(*args, **kwargs)
            finally:
                timers[label].append(pc() - t)

        setattr(owner, attr, wrapper)

    timed(Stepper, "snapshot", "Stepper.snapshot")
    timed(BptuiApp, "_render_now", "BptuiApp._render_now (snapshot + every show)")
    timed(Stepper, "plot_curve", "Stepper.plot_curve")
    import bptui.app.panels.lesson as panels_mod  # the module that holds every panel

    for cls_name in (
        "StatusBar",
        "GraphPanel",
        "ChainPanel",
        "TensorPanel",
        "CodePanel",
        "LossPlot",
        "MessageBar",
    ):
        cls = getattr(panels_mod, cls_name, None)
        if cls is not None and "show" in vars(cls):
            timed(cls, "show", f"{cls_name}.show")
    timed(plot_mod, "reduce_series", "plot.reduce_series")
    timed(plot_mod, "_finite", "plot._finite")
    timed(plot_mod.LossPlot, "build", "LossPlot.build (the figure's rows)")
    timed(plot_mod, "draw", "figure.draw")
    timed(Widget, "render_lines")
    timed(Screen, "_compositor_refresh", "Screen._compositor_refresh")
    timed(Screen, "_refresh_layout", "Screen._refresh_layout")
    timed(App, "_display", "App._display (terminal encoding + write)")

    # When each timed press reached the app and when each frame went out after it.
    timeline: list[tuple[str, float]] = []
    display_timed = App._display

    def display(self: Any, screen: Any, renderable: Any) -> None:
        display_timed(self, screen, renderable)
        if state["timing"] and renderable is not None:
            timeline.append(("frame", pc()))

    App._display = display  # type: ignore[method-assign]

    # Garbage collection pauses (the undo log holds hundreds of thousands of objects).
    import gc

    gc_start: dict[str, float] = {}

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if not state["timing"]:
            return
        if phase == "start":
            gc_start["t"] = pc()
        elif "t" in gc_start:
            label = f"gc generation {info['generation']} collection"
            timers[label].append(pc() - gc_start.pop("t"))

    gc.callbacks.append(on_gc)

    original_next = BptuiApp.action_next

    def action_next(self: Any) -> None:
        state["presses"] += 1
        n = state["presses"]
        if n == 1:
            state["timing"] = True
        elif n == PROFILE_PRESSES + 1:
            state["timing"] = False
            profiler.enable()
        if state["timing"]:
            timeline.append(("key", pc()))
        original_next(self)

    BptuiApp.action_next = action_next  # type: ignore[method-assign]

    def finish() -> None:
        profiler.disable()
        profiler.dump_stats(os.path.join(out_dir, "keys.prof"))
        Path(out_dir, "timers.json").write_text(
            json.dumps(
                {
                    "presses": min(state["presses"], PROFILE_PRESSES),
                    "timers": timers,
                    "timeline": timeline,
                }
            ),
            encoding="utf-8",
        )

    return finish


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


def measure_latency(presses: int, env: dict[str, str], bare_argv: list[str]) -> dict[str, Any]:
    bptui = KeyTarget(
        "bptui",
        [sys.executable, __file__, "--child"],
        env,
        f"Epoch {EPOCHS_DONE + 1}/{2 * EPOCHS_DONE}",
    )
    bare = KeyTarget("bare", bare_argv, env, "presses 0")
    try:
        t0 = pc()
        for target in (bare, bptui):
            if not target.wait_ready():
                print(f"{target.name} did not become ready; screen:\n{target.app.text()}")
                return {}
        print(
            f"  both apps ready after {pc() - t0:.1f} s (bptui ran {3 * EPOCHS_DONE} steps first)"
        )
        # A few unmeasured presses each: first-use costs (caches, imports on first key).
        for target in (bptui, bare):
            for _ in range(3):
                target.press()
            target.first.clear()
            target.settled.clear()
            target.missed = 0
        for i in range(presses):
            order = (bptui, bare) if i % 2 == 0 else (bare, bptui)
            for target in order:
                target.press()
    finally:
        bptui.close()
        bare.close()
    return {"bptui": bptui, "bare": bare}


def show_profile(out_dir: str) -> dict[str, Any]:
    import io
    import pstats

    data = json.loads(Path(out_dir, "timers.json").read_text(encoding="utf-8"))
    presses = max(1, data["presses"])
    rows = []
    for name, values in data["timers"].items():
        rows.append(
            (
                sum(values) / presses,
                len(values) / presses,
                statistics.median(values),
                max(values),
                name,
            )
        )
    rows.sort(reverse=True)
    print(
        f"\nwhere a frame's time goes in bptui (pty, 120x40, 30,000-step history, "
        f"{presses} presses, timers on; nested rows overlap):"
    )
    print(f"  {'ms/press':>9} {'calls/press':>11} {'ms/call: median':>15} {'max':>7}  piece")
    for per_press, calls, med, top, name in rows:
        if per_press < 0.05e-3:
            continue
        print(
            f"  {per_press * 1000:9.2f} {calls:11.1f} {med * 1000:15.2f} {top * 1000:7.2f}  {name}"
        )
    print(
        "  (Screen._refresh_layout contains a _compositor_refresh, which contains the\n"
        "   render_lines rows and App._display; LossPlot.show contains _finite and\n"
        "   reduce_series; render_lines LossPlot contains LossPlot.render, which contains\n"
        "   Plot.build)"
    )

    # Per press: from the key's action starting to the first and the last frame written.
    to_first: list[float] = []
    to_last: list[float] = []
    frames: list[int] = []
    key_t: float | None = None
    outs: list[float] = []
    for kind, t in data["timeline"] + [["key", 0.0]]:
        if kind == "key":
            if key_t is not None and outs:
                to_first.append(outs[0] - key_t)
                to_last.append(outs[-1] - key_t)
                frames.append(len(outs))
            key_t, outs = t, []
        else:
            outs.append(t)
    if to_first:
        print(
            f"  inside the app, from the key's action to the frame written (medians): first "
            f"{statistics.median(to_first) * 1000:.1f} ms, last "
            f"{statistics.median(to_last) * 1000:.1f} ms; frames written per press: "
            f"median {statistics.median(frames):g}, mean {statistics.mean(frames):.1f}"
        )

    stats = pstats.Stats(str(Path(out_dir, "keys.prof")))
    # Event-loop idle waits and the plumbing every callback passes through.
    skip = (
        "select",
        "poll",
        "_run_once",
        "run_forever",
        "run_until_complete",
        "sleep",
        "wait",
        "acquire",
        "events.py",
        "_contextvars",
        "_callback.py",
        "message_pump.py",
        "run_app",
        "run_async",
        "_process_messages",
        "bench_keys.py",
        "asyncio",
        "timer.py",
        "(on_event)",
        "(_check_bindings)",
        "(_on_key)",
        "(run_action)",
        "(_dispatch_action)",
        "(action_next)",
        "(_step)",
        "(_schedule_render)",
    )
    out: dict[str, Any] = {
        "action_to_first_frame_median_ms": statistics.median(to_first) * 1000 if to_first else None,
        "action_to_last_frame_median_ms": statistics.median(to_last) * 1000 if to_last else None,
        "frames_per_press_mean": statistics.mean(frames) if frames else None,
        "timers_ms_per_press": {r[4]: r[0] * 1000 for r in rows},
        "timers_calls_per_press": {r[4]: r[1] for r in rows},
        "timers_median_ms_per_call": {r[4]: r[2] * 1000 for r in rows},
    }
    for key, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        buf = io.StringIO()
        pstats.Stats(str(Path(out_dir, "keys.prof")), stream=buf).sort_stats(key).print_stats(80)
        lines = buf.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
        body = [line for line in lines[start + 1 :] if line.strip()]
        body = [line for line in body if not any(word in line.split(None, 5)[-1] for word in skip)]
        print(
            f"\ncProfile, {PROFILE_PRESSES} presses, top 15 by {title} "
            "(idle waits and event-loop plumbing left out; seconds are totals over all presses):"
        )
        print("  " + lines[start])
        for line in body[:15]:
            print("  " + line)
        out[f"cprofile_top_{key}"] = body[:15]
    print(
        "  (cProfile charges its own overhead to every call: loops of many small calls,\n"
        "   such as _finite's math.isfinite per point, look costlier than they are;\n"
        "   the timers above are the better guide to proportions)"
    )
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    out["cprofile_total_own_s"] = total
    return out


def run_profile(env: dict[str, str], keep: str | None = None) -> dict[str, Any]:
    from bench_first_frame import PtyApp, contains

    with tempfile.TemporaryDirectory() as tmp:
        out_dir = keep or tmp
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
        app = PtyApp([sys.executable, __file__, "--child", "--profile", out_dir], COLS, ROWS, env)
        try:
            if app.wait_for(contains(f"Epoch {EPOCHS_DONE + 1}/"), READY_TIMEOUT) is None:
                print("profiling child did not become ready")
                return {}
            app.settle(0.5, 10.0)
            # A longer quiet period than for the latency: under cProfile a press's
            # frames come further apart, and keys sent in between would be merged
            # by the app's 30 fps throttle.
            for _ in range(2 * PROFILE_PRESSES + 1):
                app.send(b" ")
                app.settle(3 * QUIET, KEY_TIMEOUT)
        finally:
            app.close(b"q", timeout=30.0)
        if not Path(out_dir, "timers.json").exists():
            print("profiling child wrote no figures")
            return {}
        return show_profile(out_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=100, help="measured presses per app")
    parser.add_argument("--no-profile", action="store_true", help="skip the profile")
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
    }
    if not args.no_latency:
        latency(args, env, figures)
    if not args.no_profile:
        figures["profile"] = run_profile(env, args.keep_profile)
    write_json(args.json, figures)
    return 0


def latency(args: argparse.Namespace, env: dict[str, str], figures: dict[str, Any]) -> None:
    from _util import verdict

    with tempfile.TemporaryDirectory() as tmp:
        bare_path = Path(tmp) / "bare_keys.py"
        bare_path.write_text(BARE_APP, encoding="utf-8")
        targets = measure_latency(args.presses, env, [sys.executable, str(bare_path)])
    if not targets:
        return
    b, r = targets["bptui"], targets["bare"]
    if not b.first or not r.first:
        print("no presses measured")
        return
    print(
        f"\npresses measured: bptui {len(b.first)} ({b.missed} without a change), "
        f"bare {len(r.first)} ({r.missed} without a change); alternating"
    )
    print(f"  {'':18} {'first change p50':>17} {'p95':>9}   {'settled p50':>12} {'p95':>9}")
    for t in (b, r):
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
    ratio = figures["bptui"]["first_p95_s"] / figures["bare"]["first_p95_s"]
    s_ratio = figures["bptui"]["settled_p95_s"] / figures["bare"]["settled_p95_s"]
    print(f"settled p95 ratio bptui/bare: {s_ratio:.2f}x (for information)")
    print(f"first-change p95 ratio bptui/bare: {ratio:.2f}x -> {verdict(ratio, TARGET)}")
    figures.update(
        ratio=ratio,
        ratio_p95=ratio,
        settled_ratio_p95=s_ratio,
        met=ratio <= TARGET,
        what=(
            f"key->frame p95 {figures['bptui']['first_p95_s'] * 1000:.0f} ms vs bare "
            f"{figures['bare']['first_p95_s'] * 1000:.0f} ms (120x40, 30k history, pty)"
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
