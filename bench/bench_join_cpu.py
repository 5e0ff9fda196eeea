"""CPU per join: what one student's app costs from the fork to its lesson on screen.

With 50 students joining at once on two cores, the join time is set by the CPU
each session's app needs before its first frame (and its first plot, which
competes with the other students' first frames). Wall-clock figures on a
shared, loaded machine are noisy; CPU time is not (much), so this is the
figure to watch while making joining cheaper.

Method: this process starts the server's zygote (``start_zygote``: torch and
Textual loaded, the app run once headless) and asks it for one session child
at a time, exactly as ``bptui serve`` does, on an 80×24 pty with
``TERM=xterm-256color``. It reads the pty and, after every chunk of output,
the child's CPU time (user + system, all its threads, in nanoseconds, from
``/proc/PID/task/*/schedstat``, which counts the running threads; the few
that end early are counted through ``/proc/PID/stat`` in clock ticks as a
cross-check). Reported per join:

    first frame  CPU when the chunk that completes the lesson's first frame
                 arrives (the tensor panel's ``w.grad``);
    settled      CPU once the output has been quiet for ``--quiet`` seconds
                 (the first plot and the footer drawn: everything a join costs);
    bytes        the output up to then.

Joins run one after another (``--joins``, first one discarded as a warm-up),
the child is ended with SIGTERM after each. Medians and min/max are printed.
``--keys N`` then presses space N times in each session (0.25 s of silence
between keys) and reports the CPU per key, frame and plot. ``--profile DIR``
runs every child under cProfile (from its fork to the frame after its first
plot) and writes ``DIR/child-PID.prof``; the CPU figures then include the profiler.

``--burst N`` starts N sessions at once instead (``--joins`` times) and
reports the CPU all of them had used when the median, the 95th-percentile and
the last student's lesson arrived, and once all had settled: on an otherwise
idle two-core machine, the wall time a class waits is about that CPU over two.

``--compare DIR`` measures the bptui in DIR (e.g. an older commit, from
``git archive OLD bptui | tar -x -C DIR``) against this one: ``--rounds``
rounds, each running this script once for each of the two, in alternating
order, ``--joins`` joins each, so a machine whose load changes disturbs both
alike. The medians and minimums of the two are printed side by side.

Usage: python bench/bench_join_cpu.py [--joins 12] [--size 80x24] [--lesson NAME]
                                      [--keys N] [--burst N] [--profile DIR]
                                      [--compare DIR [--rounds 5]]
                                      [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import select
import signal
import statistics
import struct
import sys
import termios
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import cpu_ns, machine, print_machine, write_json

READY = b"w.grad"
#: Silence after a key's frame (and its plot) before the next key is pressed.
key_quiet = 0.25
TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks_ns(pid: int) -> int:
    """utime + stime of ``pid`` (all threads, ended ones too), in ns, tick resolution."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // TICK


def stat_fields(pid: int) -> tuple[float, float, int]:
    """(user ms, system ms, minor page faults) of ``pid``, from /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan"), float("nan"), 0
    return int(fields[11]) * 1000 / TICK, int(fields[12]) * 1000 / TICK, int(fields[7])


def one_join(
    zygote: Any, size: tuple[int, int], quiet: float, timeout: float, keys: int = 0
) -> dict[str, Any]:
    master, slave = os.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    header = {"term": "xterm-256color", "color": "auto", "colorterm": None, "role": "student"}
    start = time.perf_counter()
    zygote.spawn(header, [slave])
    answer, pidfd = zygote.answer(zygote.sock)
    os.close(slave)
    pid = int(answer["pid"])
    seen = bytearray()
    first_cpu = first_wall = float("nan")
    last_out = time.perf_counter()
    deadline = last_out + timeout
    try:
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], quiet)
            if not ready:
                if READY in seen:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            cpu = max(cpu_ns(pid), cpu_ticks_ns(pid))
            last_out = time.perf_counter()
            seen += data
            if first_cpu != first_cpu and READY in seen:
                first_cpu, first_wall = cpu / 1e6, last_out - start
        settled = max(cpu_ns(pid), cpu_ticks_ns(pid)) / 1e6
        user, system, faults = stat_fields(pid)
        key_cpu = []
        for _ in range(keys):
            before = cpu_ns(pid)
            os.write(master, b" ")
            while select.select([master], [], [], key_quiet)[0]:
                if not os.read(master, 65536):
                    break
            key_cpu.append((cpu_ns(pid) - before) / 1e6)
    finally:
        os.kill(pid, signal.SIGTERM)
        select.select([pidfd], [], [], 5)
        os.close(pidfd)
        # Drain what the app wrote while leaving, so it is not blocked on a full pty.
        while select.select([master], [], [], 0.05)[0]:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
        os.close(master)
    return {
        "first_frame_cpu_ms": first_cpu,
        "settled_cpu_ms": settled,
        "first_frame_wall_ms": first_wall * 1000,
        "bytes": len(seen),
        "user_ms": user,
        "sys_ms": system,
        "minor_faults": faults,
        "key_cpu_ms": key_cpu,
    }


def one_burst(zygote: Any, size: tuple[int, int], n: int, quiet: float) -> dict[str, float]:
    """``n`` sessions started at once: the CPU all of them had used when the median,
    the 95th-percentile and the last one's lesson was on screen, and once all settled."""
    header = {"term": "xterm-256color", "color": "auto", "colorterm": None, "role": "student"}
    masters: dict[int, int] = {}  # master fd -> pid
    pidfds = []
    start = time.perf_counter()
    for _ in range(n):
        master, slave = os.openpty()
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        zygote.spawn(header, [slave])
        answer, pidfd = zygote.answer(zygote.sock)
        os.close(slave)
        masters[master] = int(answer["pid"])
        pidfds.append(pidfd)
    seen = {fd: bytearray() for fd in masters}
    ready: list[tuple[float, float]] = []  # (wall s, CPU of the whole class ms)
    done: set[int] = set()
    deadline = start + 120
    try:
        while time.perf_counter() < deadline:
            readable, _, _ = select.select(list(masters), [], [], quiet)
            if not readable and len(done) == n:
                break
            for fd in readable:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    masters.pop(fd)
                    continue
                seen[fd] += data
                if fd not in done and READY in seen[fd]:
                    done.add(fd)
                    class_cpu = sum(cpu_ns(pid) for pid in masters.values()) / 1e6
                    ready.append((time.perf_counter() - start, class_cpu))
        settled = sum(cpu_ns(pid) for pid in masters.values()) / 1e6
    finally:
        for pid in masters.values():
            os.kill(pid, signal.SIGTERM)
        for pidfd in pidfds:
            select.select([pidfd], [], [], 5)
            os.close(pidfd)
        for fd in seen:
            with contextlib.suppress(OSError):
                os.close(fd)
    walls = [w for w, _ in ready]
    cpus = [c for _, c in ready]
    at = {q: min(len(ready) - 1, round(q / 100 * (len(ready) - 1))) for q in (50, 95)}
    return {
        "sessions": n,
        "shown": len(ready),
        "class_cpu_at_p50_ms": cpus[at[50]],
        "class_cpu_at_p95_ms": cpus[at[95]],
        "class_cpu_at_last_ms": cpus[-1],
        "class_cpu_settled_ms": settled,
        "wall_p50_s": walls[at[50]],
        "wall_p95_s": walls[at[95]],
    }


#: The zygote is a new interpreter (bptui/serve/zygote.py's ``launch``), so the
#: profiler's patches reach it through a ``sitecustomize`` module on its path.
_SITECUSTOMIZE = """\
import os, sys
if os.environ.get("BPTUI_BENCH_PROFILE"):
    sys.path.insert(0, {bench!r})
    import bench_join_cpu
    bench_join_cpu.patch_for_profile(os.environ["BPTUI_BENCH_PROFILE"])
"""


def install_profiler(directory: Path) -> None:
    """Make every session child run under cProfile, from its fork to its first plot.

    The zygote this script starts is a new interpreter that inherits this
    process's environment: a ``sitecustomize`` written next to the profiles
    patches it at start (:func:`patch_for_profile`), and its forks inherit the
    patches. The profile is written after the frame that follows the first plot.
    """
    site = directory / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(
        _SITECUSTOMIZE.format(bench=str(Path(__file__).resolve().parent)), encoding="utf-8"
    )
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(site) + (os.pathsep + path if path else "")
    os.environ["BPTUI_BENCH_PROFILE"] = str(directory.resolve())


def patch_for_profile(directory: str) -> None:
    """In the zygote: profile each session child (see :func:`install_profiler`)."""
    import cProfile

    from bptui.app.frames import Frames
    from bptui.serve import child

    run_child = child.run_child
    first_plot_of = Frames._first_plot
    profile = cProfile.Profile()

    def profiled(*args: Any) -> int:
        profile.enable()
        return int(run_child(*args))

    def dump() -> None:
        profile.disable()
        profile.dump_stats(str(Path(directory) / f"child-{os.getpid()}.prof"))

    def first_plot(frames: Frames) -> None:
        first_plot_of(frames)
        plot = frames.plot()
        if plot is not None and plot.plotted and not getattr(frames, "_bench_dumped", False):
            frames._bench_dumped = True  # type: ignore[attr-defined]
            plot.call_after_refresh(dump)

    child.run_child = profiled  # type: ignore[assignment]
    Frames._first_plot = first_plot  # type: ignore[method-assign]


def use_tree(directory: str) -> None:
    """Import bptui from ``directory`` instead of this checkout (an editable install's
    finder comes before ``sys.path``, so it is taken out first)."""
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, str(Path(directory).resolve()))
    import bptui

    assert Path(bptui.__file__).is_relative_to(Path(directory).resolve()), bptui.__file__


def compare(opts: argparse.Namespace) -> int:
    """Alternate runs of the bptui in ``opts.compare`` and this one (see the docstring)."""
    import json
    import subprocess
    import tempfile

    trees = {"other": opts.compare, "this": None}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    info = machine()
    print_machine(info)
    with tempfile.TemporaryDirectory(prefix="bptui-join-cpu-") as tmp:
        for round_ in range(opts.rounds):
            order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
            for name in order:
                out = Path(tmp) / f"{name}-{round_}.json"
                command = [sys.executable, __file__, "--joins", str(opts.joins)]
                command += ["--size", opts.size, "--quiet", str(opts.quiet), "--json", str(out)]
                command += ["--keys", str(opts.keys), "--burst", str(opts.burst)]
                if opts.lesson:
                    command += ["--lesson", opts.lesson]
                if trees[name]:
                    command += ["--tree", str(trees[name])]
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL, timeout=600)
                runs[name] += json.loads(out.read_text())["runs"]
            print(
                f"round {round_ + 1}/{opts.rounds} done, load {os.getloadavg()[0]:.2f}", flush=True
            )
    figures: dict[str, dict[str, float]] = {}
    for name, found in runs.items():
        print(f"\n{name} ({trees[name] or 'this checkout'}), {len(found)} runs, median (min):")
        figures[name] = {}
        for key, value in found[0].items():
            if not isinstance(value, (int, float)) or key in ("bytes", "sessions", "shown"):
                continue
            values = [r[key] for r in found]
            figures[name][key] = statistics.median(values)
            print(f"  {key:28} {statistics.median(values):9.1f} ({min(values):.1f})")
        key_cpu = [k for r in found for k in r.get("key_cpu_ms", [])]
        if key_cpu:
            figures[name]["key_cpu_ms"] = statistics.median(key_cpu)
            print(f"  {'key_cpu_ms':28} {statistics.median(key_cpu):9.1f} ({min(key_cpu):.1f})")
    print("\nthis / other, medians:")
    for key, value in figures["this"].items():
        if figures["other"].get(key):
            print(f"  {key:28} {value / figures['other'][key]:.2f}")
    write_json(opts.json, {"what": "CPU per join, this against --compare", **figures})
    return 0


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):6.1f}  min {min(values):6.1f}  max {max(values):6.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--joins", type=int, default=12)
    parser.add_argument("--size", default="80x24")
    parser.add_argument("--lesson", default=None, help="a lesson name (default: the default)")
    parser.add_argument("--quiet", type=float, default=0.5, help="seconds of silence: settled")
    parser.add_argument("--profile", metavar="DIR", help="cProfile every child into DIR")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument(
        "--keys", type=int, default=0, help="then press space this many times: CPU per key"
    )
    parser.add_argument(
        "--burst", type=int, default=0, help="start this many sessions at once, --joins times"
    )
    parser.add_argument("--compare", metavar="DIR", help="measure the bptui in DIR against this")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of --compare")
    parser.add_argument("--tree", metavar="DIR", help=argparse.SUPPRESS)  # run DIR's bptui
    opts = parser.parse_args(argv)
    if opts.compare:
        return compare(opts)
    if opts.tree:
        use_tree(opts.tree)
    width, height = (int(v) for v in opts.size.split("x"))

    from bptui.lesson.files import load_lesson
    from bptui.serve.zygote import start_zygote

    lesson = load_lesson(opts.lesson)
    if opts.profile:
        Path(opts.profile).mkdir(parents=True, exist_ok=True)
        install_profiler(Path(opts.profile))
    info = machine()
    print_machine(info)
    zygote = start_zygote(lesson)
    runs = []
    if opts.burst:
        try:
            one_join(zygote, (width, height), opts.quiet, 30.0)  # warm-up
            for i in range(opts.joins):
                r = one_burst(zygote, (width, height), opts.burst, opts.quiet)
                runs.append(r)
                print(
                    f"burst {i + 1}: {r['shown']}/{r['sessions']} shown; the class had used "
                    f"{r['class_cpu_at_p50_ms']:.0f} / {r['class_cpu_at_p95_ms']:.0f} / "
                    f"{r['class_cpu_at_last_ms']:.0f} ms CPU at the median / p95 / last lesson "
                    f"on screen, {r['class_cpu_settled_ms']:.0f} ms in all; wall p50 "
                    f"{r['wall_p50_s']:.2f} s, p95 {r['wall_p95_s']:.2f} s",
                    flush=True,
                )
        finally:
            zygote.stop()
        write_json(opts.json, {"what": "bursts", "runs": runs, "machine": info})
        return 0
    try:
        for i in range(opts.joins + 1):
            r = one_join(zygote, (width, height), opts.quiet, 30.0, opts.keys)
            if i == 0:
                continue  # warm-up (the zygote's first fork, page cache)
            runs.append(r)
            print(
                f"join {i:>2}: first frame {r['first_frame_cpu_ms']:6.1f} ms CPU "
                f"({r['first_frame_wall_ms']:6.1f} ms wall), settled {r['settled_cpu_ms']:6.1f} "
                f"ms CPU (user {r['user_ms']:.0f}, sys {r['sys_ms']:.0f}), "
                f"{r['minor_faults']} page faults, {r['bytes']} bytes",
                flush=True,
            )
    finally:
        zygote.stop()
    first = [r["first_frame_cpu_ms"] for r in runs]
    settled = [r["settled_cpu_ms"] for r in runs]
    print(f"\nCPU to the first frame (ms): {summary(first)}")
    print(f"CPU settled, plot drawn (ms): {summary(settled)}")
    key_cpu = [k for r in runs for k in r["key_cpu_ms"]]
    if key_cpu:
        print(f"CPU per key, frame and plot (ms): {summary(key_cpu)}")
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    write_json(
        opts.json,
        {
            "what": "CPU per join (ms), median",
            "first_frame_cpu_ms": statistics.median(first),
            "settled_cpu_ms": statistics.median(settled),
            "key_cpu_ms": statistics.median(key_cpu) if key_cpu else None,
            "runs": runs,
            "machine": info,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
