"""Pty benchmark: how long until ``bptui`` shows its first frame, and until torch is ready.

Subject:  the real ``bptui`` command (the venv's console script next to
          ``sys.executable``), default lesson, on a pseudo-terminal of 80x24 with
          ``TERM=xterm-256color``. Its output is fed into a ``pyte`` screen.
            first frame  = the screen first shows the app's layout: the "Graph"
                           panel title (the status bar then says "Loading
                           PyTorch…": torch is still importing);
            with footer  = the footer's key list ("Quit") is shown as well (Textual
                           fills the footer a little after the first paint, and
                           the torch import running meanwhile can delay it);
            engine ready = the graph shows ``x=1`` (the Stepper exists: torch is
                           imported and the first snapshot is drawn).
Baseline: a bare Textual app (one ``Static`` label, ``q`` bound to quit) written
          to a temporary file and run with the same interpreter, measured the same
          way until its label shows.

Bytecode: this sandbox sets ``PYTHONDONTWRITEBYTECODE=1`` and the editable
install has no ``__pycache__``, so every launch would compile bptui's sources
again, which an installed bptui never does. Both apps therefore run with
``PYTHONPYCACHEPREFIX`` pointing at a cache in the system's temporary
directory (``bptui-bench-pycache-*``, kept between runs), filled by the warm-up
runs; ``--inherit-env`` runs them with this process's environment unchanged.

Every time is from just before ``subprocess.Popen`` to the arrival (the
``os.read``) of the pty chunk after which the screen first matches; reading
takes priority over parsing, so pyte's own cost is not counted. Each run ends
with ``q`` (the process is killed if it does not exit). One warm-up run of each
is discarded; then the two alternate, the order swapping every round. Reported:
medians (and min/max), and the ratio first-frame(bptui) / first-frame(bare)
(also given for "with footer"). Target: first-frame ratio <= 1.2.

CPU: with each chunk, the child's CPU time so far (every thread's, from
``/proc/PID/task/*/schedstat``) is read; the CPU at the first frame's chunk is
reported for both apps with its ratio. On a loaded machine the wall times move
with the load and the CPU times much less, so this is the figure to compare
across runs. (bptui starts importing torch in a thread once its first frame is
out: the few ms that thread may have run by the time the chunk is read count.)

Usage: python bench/bench_first_frame.py [--rounds N] [--inherit-env] [--json PATH]
"""

from __future__ import annotations

import argparse
import collections
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import cpu_ns, machine, median, print_machine, verdict, write_json

TARGET = 1.2  # issue 24
COLS, ROWS = 80, 24
RUN_TIMEOUT = 20.0
WARMUP_TIMEOUT = 120.0  # the first run may compile every module into the cache

pc = time.perf_counter

BARE_APP = """\
from textual.app import App
from textual.widgets import Static


class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self):
        yield Static("bare-label-ready")


Bare().run()
"""
BARE_MARK = "bare-label-ready"


def bptui_command() -> list[str]:
    exe = Path(sys.executable).parent / "bptui"
    if not exe.exists():
        sys.exit(f"{exe} not found: run this with the venv's python (pip install -e .)")
    return [str(exe)]


class PtyApp:
    """One program on a fresh pseudo-terminal, its output rendered by pyte.

    Chunks are timestamped when ``os.read`` returns them, and everything
    already waiting on the pty is read before any chunk is parsed, so the
    times are those of the bytes' arrival, not of pyte's parsing.
    """

    def __init__(self, argv: list[str], cols: int, rows: int, env: dict[str, str] | None = None):
        self.cols, self.rows = cols, rows
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        child_env = dict(os.environ if env is None else env)
        child_env["TERM"] = "xterm-256color"
        for name in ("COLUMNS", "LINES"):
            child_env.pop(name, None)
        self.master = master
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.backlog: collections.deque[tuple[float, int, bytes]] = collections.deque()
        #: The child's CPU (ns, every thread) when the chunk last matched by wait_for arrived.
        self.matched_cpu_ns = 0
        self.eof = False
        self.last_chunk = 0.0
        self.t_spawn = pc()
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=child_env,
            start_new_session=True,
            # Make the pty the child's controlling terminal, as a real terminal does.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
            close_fds=True,
        )
        os.close(slave)

    # ------------------------------------------------------------ reading

    def _read_available(self, timeout: float) -> bool:
        """Read every chunk already waiting (waiting up to ``timeout`` for the first)."""
        got = False
        while not self.eof:
            ready, _, _ = select.select([self.master], [], [], timeout)
            if not ready:
                break
            try:
                data = os.read(self.master, 1 << 16)
            except OSError:  # EIO: the child closed the pty
                data = b""
            now = pc()
            if not data:
                self.eof = True
                break
            self.backlog.append((now, cpu_ns(self.proc.pid), data))
            self.last_chunk = now
            got = True
            timeout = 0.0
        return got

    def wait_for(self, predicate: Callable[[pyte.Screen], bool], timeout: float) -> float | None:
        """Arrival time of the chunk after which ``predicate(screen)`` first holds."""
        deadline = pc() + timeout
        while True:
            if self.backlog:
                self._read_available(0.0)
                t, cpu, data = self.backlog.popleft()
                self.screen.dirty.clear()
                self.stream.feed(data)
                if predicate(self.screen):
                    self.matched_cpu_ns = cpu
                    return t
                continue
            remaining = deadline - pc()
            if remaining <= 0 or self.eof:
                return None
            self._read_available(min(0.05, remaining))

    def settle(self, quiet: float, timeout: float) -> float:
        """Parse until nothing has arrived for ``quiet`` seconds; time of the last chunk."""
        deadline = pc() + timeout
        while pc() < deadline:
            while self.backlog:
                self._read_available(0.0)
                _, _, data = self.backlog.popleft()
                self.stream.feed(data)
            if self.eof:
                break
            if not self._read_available(quiet):
                break
        while self.backlog:
            _, _, data = self.backlog.popleft()
            self.stream.feed(data)
        return self.last_chunk

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def line(self, y: int) -> str:
        row = self.screen.buffer[y]
        return "".join(row[x].data for x in range(self.cols))

    def send(self, data: bytes) -> float:
        t = pc()
        os.write(self.master, data)
        return t

    # ------------------------------------------------------------ ending

    def close(self, quit_key: bytes = b"q", timeout: float = 5.0) -> None:
        """Send the quit key, drain the pty until the child exits; kill it if it does not."""
        try:
            if self.proc.poll() is None:
                os.write(self.master, quit_key)
            deadline = pc() + timeout
            while self.proc.poll() is None and pc() < deadline:
                self._read_available(0.05)
                self.backlog.clear()
            if self.proc.poll() is None:
                self.kill()
        finally:
            os.close(self.master)

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()


def contains(*marks: str) -> Callable[[pyte.Screen], bool]:
    def predicate(screen: pyte.Screen) -> bool:
        text = "\n".join(screen.display)
        return all(m in text for m in marks)

    return predicate


def child_env(inherit: bool) -> dict[str, str]:
    """The apps' environment: a shared bytecode cache unless ``inherit``."""
    env = dict(os.environ)
    if not inherit:
        tag = f"py{sys.version_info.major}{sys.version_info.minor}-{os.getuid()}"
        cache = Path(tempfile.gettempdir()) / f"bptui-bench-pycache-{tag}"
        cache.mkdir(exist_ok=True)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_bptui(
    argv: list[str], env: dict[str, str] | None = None, timeout: float = RUN_TIMEOUT
) -> tuple[list[float] | None, str]:
    """([first frame, with footer, engine ready] in s, then the CPU in s to the first
    frame; last screen) for one launch of bptui."""
    app = PtyApp(argv, COLS, ROWS, env)
    times: list[float] | None = []
    try:
        for marks in (("Graph",), ("Graph", "Quit"), ("x=1",)):
            t = app.wait_for(contains(*marks), timeout)
            if t is None:
                times = None
                break
            times.append(t - app.t_spawn)
            if marks == ("Graph",):
                cpu = app.matched_cpu_ns / 1e9
        if times is not None:
            times.append(cpu)
        screen = app.text()
    finally:
        app.close(b"q")
    return times, screen


def run_bare(
    argv: list[str], env: dict[str, str] | None = None, timeout: float = RUN_TIMEOUT
) -> tuple[tuple[float, float] | None, str]:
    """((first frame, CPU to it) in s, last screen) for one launch of the bare app."""
    app = PtyApp(argv, COLS, ROWS, env)
    try:
        t_frame = app.wait_for(contains(BARE_MARK), timeout)
        screen = app.text()
    finally:
        app.close(b"q")
    if t_frame is None:
        return None, screen
    return (t_frame - app.t_spawn, app.matched_cpu_ns / 1e9), screen


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="measured runs of each (default 7)")
    parser.add_argument(
        "--inherit-env",
        action="store_true",
        help="run the apps with this environment unchanged (no bytecode cache)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    env = child_env(args.inherit_env)

    info = machine()
    print("bench_first_frame: bptui's first frame and engine-ready time on an 80x24 pty")
    print_machine(info)
    print(
        "bytecode: "
        + (
            "inherited environment"
            if args.inherit_env
            else "cached under PYTHONPYCACHEPREFIX (filled by the warm-up runs)"
        )
    )
    bptui = bptui_command()
    with tempfile.TemporaryDirectory() as tmp:
        bare_path = Path(tmp) / "bare_app.py"
        bare_path.write_text(BARE_APP, encoding="utf-8")
        bare = [sys.executable, str(bare_path)]

        # Warm-up (file cache, .pyc): discarded.
        run_bptui(bptui, env, WARMUP_TIMEOUT)
        run_bare(bare, env, WARMUP_TIMEOUT)

        firsts: list[float] = []
        footers: list[float] = []
        readies: list[float] = []
        bares: list[float] = []
        cpus: list[float] = []
        bare_cpus: list[float] = []
        failures = 0
        last_screen = ""
        for round_ in range(args.rounds):
            order = ("bptui", "bare") if round_ % 2 == 0 else ("bare", "bptui")
            for which in order:
                if which == "bptui":
                    times, last_screen = run_bptui(bptui, env)
                    if times is None:
                        failures += 1
                        print(f"  round {round_ + 1}: bptui timed out; screen:\n{last_screen}")
                        continue
                    firsts.append(times[0])
                    footers.append(times[1])
                    readies.append(times[2])
                    cpus.append(times[3])
                else:
                    measured, screen = run_bare(bare, env)
                    if measured is None:
                        failures += 1
                        print(f"  round {round_ + 1}: bare app timed out; screen:\n{screen}")
                        continue
                    bares.append(measured[0])
                    bare_cpus.append(measured[1])
            print(
                f"  round {round_ + 1}: bptui first frame {ms(firsts[-1]) if firsts else '-'}, "
                f"with footer {ms(footers[-1]) if footers else '-'}, "
                f"engine ready {ms(readies[-1]) if readies else '-'}; "
                f"bare {ms(bares[-1]) if bares else '-'}",
                flush=True,
            )

    if not firsts or not bares:
        print("no complete runs: no figures")
        return 0
    f_med, r_med, b_med = median(firsts), median(readies), median(bares)
    ff_med = median(footers)
    ratio = f_med / b_med
    print()
    print(f"runs: {len(firsts)} bptui, {len(bares)} bare, interleaved; {failures} failed")
    print(f"bptui first frame:  median {ms(f_med)}  (min {ms(min(firsts))}, max {ms(max(firsts))})")
    for label, med, values in (
        ("bptui with footer: ", ff_med, footers),
        ("bptui engine ready:", r_med, readies),
    ):
        print(f"{label} median {ms(med)}  (min {ms(min(values))}, max {ms(max(values))})")
    print(f"bare Textual app:   median {ms(b_med)}  (min {ms(min(bares))}, max {ms(max(bares))})")
    print(f"with-footer ratio bptui/bare: {ff_med / b_med:.2f}x (for information)")
    c_med, bc_med = median(cpus), median(bare_cpus)
    print(
        f"CPU to the first frame: bptui median {ms(c_med)} (min {ms(min(cpus))}), bare "
        f"{ms(bc_med)} (min {ms(min(bare_cpus))}): {c_med / bc_med:.2f}x (less moved by load)"
    )
    print(f"first frame ratio bptui/bare: {ratio:.2f}x -> {verdict(ratio, TARGET)}")
    write_json(
        args.json,
        {
            "benchmark": "first_frame",
            "machine": info,
            "size": [COLS, ROWS],
            "rounds": args.rounds,
            "bytecode_cache": not args.inherit_env,
            "failures": failures,
            "bptui_first_frame_s": firsts,
            "bptui_with_footer_s": footers,
            "bptui_engine_ready_s": readies,
            "bare_first_frame_s": bares,
            "bptui_first_frame_median_s": f_med,
            "bptui_with_footer_median_s": ff_med,
            "bptui_engine_ready_median_s": r_med,
            "bare_first_frame_median_s": b_med,
            "bptui_first_frame_cpu_s": cpus,
            "bare_first_frame_cpu_s": bare_cpus,
            "cpu_ratio": c_med / bc_med,
            "ratio": ratio,
            "what": (
                f"first frame {f_med * 1000:.0f} ms vs bare {b_med * 1000:.0f} ms "
                f"(engine ready {r_med * 1000:.0f} ms; 80x24 pty)"
            ),
            "target": TARGET,
            "met": ratio <= TARGET,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
