"""bench_keys.py's profile of a key in bptui: timers around a frame's pieces, then cProfile.

A second bptui child on a pty, with the same 30,000-step history as the latency
run: 50 presses with timers around the pieces of a frame (``Stepper.snapshot``,
``Stepper.plot_curve``, each panel's ``show``, the plot's data reduction, the
figure's ``draw``, ``render_lines`` per widget class, the compositor and the
terminal encoding in ``App._display``) and garbage-collection pauses, reported
as ms per press, and when the frames went out after each key; then 50 more
presses under cProfile (the top functions by own time and by cumulative time;
the event loop's idle waits are left out). A module of its own so that
bench_keys.py stays readable; the constants here are bench_keys.py's.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

COLS, ROWS = 120, 40
EPOCHS_DONE = 10000  # x 3 samples = 30,000 training steps in the history
QUIET = 0.1
KEY_TIMEOUT = 3.0
READY_TIMEOUT = 90.0
PROFILE_PRESSES = 50

pc = time.perf_counter


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
    timed(BptuiApp, "_draw", "BptuiApp._draw (snapshot + every show + the plot)")
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
    import bptui.app.panels.series as series_mod

    timed(series_mod.Reduction, "points", "Reduction.points (the history reduced)")
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
        "   render_lines rows and App._display; LossPlot.show contains Reduction.points;\n"
        "   render_lines LossPlot contains LossPlot.render, which contains\n"
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
        "(schedule)",
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
        "   such as the reduction's math.isfinite per point, look costlier than they are;\n"
        "   the timers above are the better guide to proportions)"
    )
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    out["cprofile_total_own_s"] = total
    return out


def run_profile(script: str, env: dict[str, str], keep: str | None = None) -> dict[str, Any]:
    """Profile the bptui child of ``script`` (bench_keys.py) on a pty."""
    from bench_first_frame import PtyApp, contains

    with tempfile.TemporaryDirectory() as tmp:
        out_dir = keep or tmp
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
        app = PtyApp([sys.executable, script, "--child", "--profile", out_dir], COLS, ROWS, env)
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
