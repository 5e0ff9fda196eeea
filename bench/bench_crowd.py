"""Many apps starting at once on this machine's cores, forked as bptui's zygote forks them.

Issue 24 asks that 50 explorers (each an app of its own, forked from the
zygote) join within 2 s (p95) and answer a key within 150 ms (p95), on 2 cores.
This measures how far that is from what Textual can do there, without SSH or
the server in the way: for each kind of app a parent process imports and warms
the app (runs it once headless, keeps its parsed stylesheet for the children
and freezes the garbage collector's objects, as ``bptui/serve/zygote.py`` does),
then forks ``--apps`` children at once, each running an app on a pty of its
own at 120x40 (``TERM=xterm-256color``). The parent reads every pty.

Kinds:
  bare     a bare Textual echo app (one ``Static``; space shows ``presses N``);
  replica  bptui's screen without bptui (``_replica.py``, a recording of
           ``bench_keys.py``'s lesson and history, made before the run);
  bptui    ``BptuiApp(lesson, Stepper(lesson))`` on the default lesson with the
           zygote's own warm-up (``_warm_up``), its stylesheet shared and its
           crowd start-up (each app puts its plot and footer off while others
           are starting, ``bptui/app/startup.py``), as a forked session runs it,
           without a class link. The other two draw their whole screen at once.

Figures, per kind:
  join       from just before the first fork to the arrival of the pty chunk
             that completes the child's first frame (a mark on it: ``presses 0``
             for the bare app, the ``Chain rule`` panel's title for the others),
             as a class's joins count from the moment they all asked; "own":
             from the child's own fork (the forks are one after another, and the
             parent forks while the first children already run: "forks" is how
             long the 50 forks took);
  CPU        each child's CPU (every thread, ``/proc/PID/task/*/schedstat``) at
             that chunk, and per key;
  forks      how long the parent took to fork them all, its time in
             ``os.fork()`` itself, and the first fork's (before any child runs:
             what copying the parent's page tables costs);
  key        once every app has drawn and gone quiet (1 s without output), space is written to every
             pty at once; from each write to the first chunk after it (first) and
             to the last chunk before all ptys are quiet for 0.3 s (settled).
             ``--keys`` rounds of that, after one unmeasured round (first-use
             costs), each round waiting for 1 s of quiet.
The kinds run one after another, each in a process of its own (so the bare
app's parent has imported neither torch nor bptui), ``--rounds`` times with the
order alternating; the ratios are of the medians over the rounds.

Usage: python bench/bench_crowd.py [--apps 50] [--keys 3] [--rounds 1]
                                   [--kinds bare,replica,bptui] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import gc
import json
import os
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import cpu_ns, machine, print_machine, write_json

HERE = Path(__file__).resolve().parent
COLS, ROWS = 120, 40
KINDS = ("bare", "replica", "bptui")
MARKS = {"bare": b"presses 0", "replica": b"Chain rule", "bptui": b"Chain rule"}
JOIN_TIMEOUT = 180.0
KEY_TIMEOUT = 60.0
QUIET = 0.3
#: Issue 24's targets for 50 explorers on 2 cores.
JOIN_TARGET = 2.0
KEY_TARGET = 0.150

pc = time.perf_counter


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# ------------------------------------------------------------ the apps, warmed


class Warmed:
    """An app factory, warmed in this process so that forked children inherit it."""

    def __init__(self, kind: str, recording: str | None) -> None:
        self.kind = kind
        self._caches: dict[str, Any] = {}
        #: bptui's: which sessions are still starting, shared with every child (the zygote's).
        self._starting: Any = None
        if kind == "bptui":
            self._new = self._bptui()
        else:
            self._new = self._bare() if kind == "bare" else self._replica(recording)
            asyncio.run(self._run_once())

    def take(self) -> int | None:
        """Before a fork: the child's slot among those starting (bptui only)."""
        return None if self._starting is None else self._starting.take()

    def new(self, slot: int | None) -> Any:
        """In the child: its app (bptui's told, as a session is, when others are starting)."""
        if self._starting is not None:
            from bptui.app import startup

            starting = self._starting
            startup.install(starting.others, lambda: starting.done(slot))
        app = self._new()
        # Textual parses the stylesheet per app: hand each the warm-up's parse, as
        # bptui/serve/stylesheet.py does for a session.
        for name, cache in self._caches.items():
            if hasattr(app.stylesheet, name):
                setattr(app.stylesheet, name, cache)
        return app

    async def _run_once(self) -> None:
        app = self._new()
        async with app.run_test(size=(COLS, ROWS), tooltips=True, notifications=True) as pilot:
            await pilot.press("space")
            await pilot.pause(0.2)
        for name in ("_parse_cache", "_style_parse_cache"):
            if hasattr(app.stylesheet, name):
                self._caches[name] = getattr(app.stylesheet, name)

    @staticmethod
    def _bare() -> Any:
        from textual.app import App
        from textual.widgets import Static

        class BareKeys(App[None]):
            BINDINGS: ClassVar[list[Any]] = [("space", "bump", "Bump"), ("q", "quit", "Quit")]
            presses = 0

            def compose(self) -> Any:
                yield Static("presses 0", id="label")

            def action_bump(self) -> None:
                self.presses += 1
                self.query_one("#label", Static).update(f"presses {self.presses}")

        return BareKeys

    @staticmethod
    def _replica(recording: str | None) -> Any:
        from _replica import load, replica_class

        assert recording is not None
        data = load(recording)
        cls = replica_class(data)
        return lambda: cls(data)

    def _bptui(self) -> Any:
        from bptui.app.keymap import ENGINE_LABELS
        from bptui.app.main import BptuiApp
        from bptui.lesson import seed_lesson
        from bptui.lesson.engine import Stepper
        from bptui.serve import stylesheet, zygote

        lesson = seed_lesson()
        zygote._warm_up(lesson)
        self._caches = dict(stylesheet._WARM)
        self._starting = zygote.Starting()
        return lambda: BptuiApp(lesson, Stepper(lesson, labels=ENGINE_LABELS))


# ------------------------------------------------------------ the children


def _run_child(
    warmed: Warmed, slot: int | None, slave: int, masters: list[int]
) -> None:  # pragma: no cover
    """In the forked child: the pty as the controlling terminal, then the app."""
    code = 1
    try:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        for fd in masters:
            os.close(fd)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(slave)
        os.environ["TERM"] = "xterm-256color"
        for name in ("COLUMNS", "LINES"):
            os.environ.pop(name, None)
        for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
            stream = open(fd, "r" if fd == 0 else "w", encoding="utf-8", closefd=False)
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)
        app = warmed.new(slot)
        app.run()
        code = 0
    finally:
        os._exit(code)


class Child:
    """A forked app as the parent sees it: its pty, when its frames arrived."""

    def __init__(self, pid: int, master: int, mark: bytes) -> None:
        self.pid, self.master, self.mark = pid, master, mark
        self.forked = pc()
        self.tail = b""
        self.first_frame: float | None = None
        self.cpu_first_ns = 0
        self.last_chunk = 0.0
        self.after_key: float | None = None


class Crowd:
    def __init__(self, warmed: Warmed, apps: int) -> None:
        self.warmed = warmed
        self.apps = apps
        self.children: dict[int, Child] = {}  # by master fd
        self.t0 = 0.0
        #: The parent's time in os.fork() itself (copying its page tables).
        self.fork_calls: list[float] = []

    def fork_all(self) -> float:
        """Fork every child; the time the forks took."""
        mark = MARKS[self.warmed.kind]
        sys.stdout.flush()
        sys.stderr.flush()
        gc.collect()
        gc.freeze()  # as the zygote: the collector would otherwise copy every shared page
        self.t0 = pc()
        for _ in range(self.apps):
            master, slave = os.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
            slot = self.warmed.take()
            t = pc()
            pid = os.fork()
            if pid:
                self.fork_calls.append(pc() - t)
            if pid == 0:  # pragma: no cover - the child
                _run_child(self.warmed, slot, slave, [*self.children, master])
            os.close(slave)
            self.children[master] = Child(pid, master, mark)
            self.read(0.0)
        return pc() - self.t0

    def read(self, timeout: float) -> bool:
        """Read whatever is waiting on any pty (waiting up to ``timeout`` for some)."""
        open_fds = [fd for fd in self.children if fd >= 0]
        if not open_fds:
            return False
        ready, _, _ = select.select(open_fds, [], [], timeout)
        for fd in ready:
            try:
                data = os.read(fd, 1 << 16)
            except OSError:
                data = b""
            now = pc()
            child = self.children[fd]
            if not data:
                continue
            child.last_chunk = now
            if child.after_key is None:
                child.after_key = now
            if child.first_frame is None:
                seen = child.tail + data
                if child.mark in seen:
                    child.first_frame = now
                    child.cpu_first_ns = cpu_ns(child.pid)
                child.tail = seen[-len(child.mark) :]
        return bool(ready)

    def wait_joined(self) -> None:
        deadline = pc() + JOIN_TIMEOUT
        while pc() < deadline and any(c.first_frame is None for c in self.children.values()):
            self.read(0.05)

    def wait_quiet(self, timeout: float, quiet: float = QUIET) -> None:
        deadline = pc() + timeout
        while pc() < deadline and self.read(quiet):
            pass

    def key_round(self) -> dict[str, list[float]]:
        """Space to every app at once; each one's first and last chunk after it."""
        cpu_before = {c.pid: cpu_ns(c.pid) for c in self.children.values()}
        sent: dict[int, float] = {}
        for fd, child in self.children.items():
            child.after_key = None
            sent[fd] = pc()
            os.write(fd, b" ")
        deadline = pc() + KEY_TIMEOUT
        while pc() < deadline and any(c.after_key is None for c in self.children.values()):
            self.read(0.05)
        self.wait_quiet(KEY_TIMEOUT)
        first, settled, cpu = [], [], []
        for fd, child in self.children.items():
            if child.after_key is None:
                continue
            first.append(child.after_key - sent[fd])
            settled.append(child.last_chunk - sent[fd])
            cpu.append((cpu_ns(child.pid) - cpu_before[child.pid]) / 1e9)
        return {"first_s": first, "settled_s": settled, "cpu_s": cpu}

    def end(self) -> None:
        for fd in self.children:
            try:
                os.write(fd, b"q")
            except OSError:
                pass
        deadline = pc() + 20.0
        alive = {c.pid for c in self.children.values()}
        while alive and pc() < deadline:
            self.read(0.05)
            for pid in list(alive):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    alive.discard(pid)
        for pid in alive:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        for fd in self.children:
            os.close(fd)


def run_kind(kind: str, apps: int, keys: int, recording: str | None) -> dict[str, Any]:
    """In a process of its own: warm ``kind``, fork ``apps`` of it, measure."""
    t = pc()
    warmed = Warmed(kind, recording)
    warm_s = pc() - t
    crowd = Crowd(warmed, apps)
    try:
        fork_s = crowd.fork_all()
        crowd.wait_joined()
        joined = [c for c in crowd.children.values() if c.first_frame is not None]
        # Longer than bptui's put-off polls (0.25 s): its plots and footers are drawn.
        crowd.wait_quiet(30.0, quiet=1.0)
        crowd.key_round()  # unmeasured: first-use costs, as bench_keys.py's first presses
        crowd.wait_quiet(30.0, quiet=1.0)
        rounds = []
        for _ in range(keys):
            rounds.append(crowd.key_round())
            crowd.wait_quiet(30.0, quiet=1.0)
    finally:
        crowd.end()
    return {
        "kind": kind,
        "apps": apps,
        "warm_s": warm_s,
        "fork_s": fork_s,
        "fork_calls_s": sum(crowd.fork_calls),
        "fork_first_s": crowd.fork_calls[0] if crowd.fork_calls else float("nan"),
        "joined": len(joined),
        "join_s": [c.first_frame - crowd.t0 for c in joined if c.first_frame is not None],
        "own_join_s": [c.first_frame - c.forked for c in joined if c.first_frame is not None],
        "cpu_first_s": [c.cpu_first_ns / 1e9 for c in joined],
        "key_first_s": [v for r in rounds for v in r["first_s"]],
        "key_settled_s": [v for r in rounds for v in r["settled_s"]],
        "key_cpu_s": [v for r in rounds for v in r["cpu_s"]],
    }


# ------------------------------------------------------------ the report


def summary(result: dict[str, Any]) -> dict[str, float]:
    return {
        "join_p50_s": pct(result["join_s"], 0.5),
        "join_p95_s": pct(result["join_s"], 0.95),
        "own_join_p95_s": pct(result["own_join_s"], 0.95),
        "cpu_first_median_s": pct(result["cpu_first_s"], 0.5),
        "key_p50_s": pct(result["key_first_s"], 0.5),
        "key_p95_s": pct(result["key_first_s"], 0.95),
        "settled_p95_s": pct(result["key_settled_s"], 0.95),
        "key_cpu_median_s": pct(result["key_cpu_s"], 0.5),
    }


def report(results: list[dict[str, Any]]) -> dict[str, Any]:
    print(
        f"\n  {'kind':8} {'joined':>7} {'forks':>6} {'fork()':>6} {'first':>7} {'join p50':>9} {'p95':>7} "
        f"{'own p95':>7} {'CPU to frame':>12} {'key p50':>8} {'p95':>7} {'settled p95':>11} {'CPU/key':>8}"
    )
    by_kind: dict[str, list[dict[str, float]]] = {}
    for r in results:
        s = summary(r)
        by_kind.setdefault(r["kind"], []).append(s)
        print(
            f"  {r['kind']:8} {r['joined']:>4}/{r['apps']:<2} {r['fork_s']:>5.2f}s "
            f"{r['fork_calls_s']:>5.2f}s {r['fork_first_s'] * 1000:>5.1f}ms "
            f"{s['join_p50_s']:>8.2f}s {s['join_p95_s']:>6.2f}s {s['own_join_p95_s']:>6.2f}s "
            f"{s['cpu_first_median_s'] * 1000:>9.1f} ms "
            f"{s['key_p50_s'] * 1000:>5.0f} ms {s['key_p95_s'] * 1000:>4.0f} ms "
            f"{s['settled_p95_s'] * 1000:>8.0f} ms {s['key_cpu_median_s'] * 1000:>5.1f} ms"
        )
    out: dict[str, Any] = {"runs": results, "summaries": by_kind}
    # Each figure's median over the rounds.
    agg = {
        k: {f: statistics.median(s[f] for s in runs) for f in runs[0]}
        for k, runs in by_kind.items()
    }
    out["medians"] = agg
    if "bptui" in agg:
        b = agg["bptui"]
        print(
            f"bptui: join p95 {b['join_p95_s']:.2f} s (target <= {JOIN_TARGET:g} s), "
            f"key p95 {b['key_p95_s'] * 1000:.0f} ms (target <= {KEY_TARGET * 1000:.0f} ms)"
        )
        for floor in ("bare", "replica"):
            if floor in agg:
                f = agg[floor]
                print(
                    f"  bptui/{floor}: join p95 {b['join_p95_s'] / f['join_p95_s']:.2f}x, "
                    f"key p95 {b['key_p95_s'] / f['key_p95_s']:.2f}x, CPU to first frame "
                    f"{b['cpu_first_median_s'] / f['cpu_first_median_s']:.2f}x, CPU per key "
                    f"{b['key_cpu_median_s'] / f['key_cpu_median_s']:.2f}x"
                )
        # The worse of the two against its target; the targets are for a class of 50.
        ratio = max(b["join_p95_s"] / JOIN_TARGET, b["key_p95_s"] / KEY_TARGET)
        apps = results[-1]["apps"]
        out.update(
            ratio=ratio,
            target=1.0,
            met=ratio <= 1.0 and apps >= 50,
            what=(
                f"{apps} bptui apps forked at once: join p95 {b['join_p95_s']:.2f} s, key p95 "
                f"{b['key_p95_s'] * 1000:.0f} ms (ratio: the worse against "
                f"{JOIN_TARGET:g} s / {KEY_TARGET * 1000:.0f} ms; the targets are for 50)"
            ),
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=50, help="apps forked at once")
    parser.add_argument("--keys", type=int, default=3, help="keys sent to every app")
    parser.add_argument("--rounds", type=int, default=1, help="runs of every kind")
    parser.add_argument("--kinds", default=",".join(KINDS), help="which apps, in order")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--kind", help=argparse.SUPPRESS)  # a kind's own process
    parser.add_argument("--recording", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.kind:
        result = run_kind(args.kind, args.apps, args.keys, args.recording)
        Path(args.out).write_text(json.dumps(result), encoding="utf-8")
        return 0

    from bench_first_frame import child_env
    from bench_keys import WARM_PRESSES, record_replica

    info = machine()
    print(f"bench_crowd: {args.apps} apps forked at once, {COLS}x{ROWS} ptys, {args.keys} keys")
    print_machine(info)
    kinds = [k for k in args.kinds.split(",") if k]
    env = child_env(False)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        recording = Path(tmp) / "replica.pickle"
        if "replica" in kinds and not record_replica(env, args.keys + WARM_PRESSES, recording):
            kinds.remove("replica")
        for round_no in range(args.rounds):
            order = kinds if round_no % 2 == 0 else kinds[::-1]
            for kind in order:
                out = Path(tmp) / f"{kind}-{round_no}.json"
                cmd = [sys.executable, __file__, "--kind", kind, "--apps", str(args.apps)]
                cmd += ["--keys", str(args.keys), "--recording", str(recording), "--out", str(out)]
                t = pc()
                code = subprocess.call(cmd, env=env, timeout=900)
                load = " ".join(f"{v:.1f}" for v in os.getloadavg())
                print(f"  {kind}: {pc() - t:.0f} s (exit {code}), load average after {load}")
                if code == 0 and out.exists():
                    result = json.loads(out.read_text(encoding="utf-8"))
                    result["loadavg_after"] = load
                    results.append(result)
    if not results:
        print("nothing measured")
        return 1
    figures = {"benchmark": "crowd", "machine": info, "size": [COLS, ROWS]}
    figures.update(report(results))
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
