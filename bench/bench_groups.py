"""A class following its teacher: view groups against an app per student, in one run.

A real ``bptui serve --teacher-password`` on 127.0.0.1 and, for each class size
N, a teacher and N following students (asyncssh clients in this process) at
three window sizes in turn (80×24, 100×30, 120×40), all joining at once. Then
the teacher presses space ``--presses`` times; each press waits until every
follower has drawn it (or ``--wait`` seconds). Each size is run twice, back to
back: with view groups (the default) and with ``--own-apps`` (one app per
student, the design before groups), so the two are compared on the same
machine in the same minute.

Figures: join time (connecting to the lesson on the student's screen), the
teacher's key to the first bytes of the new frame on each follower's screen,
server CPU (the server and every process it started, from /proc, over the joins
and over the presses), and PSS per follower (the growth of the server's
processes over the zygote alone, divided by N). With ``--explore K``, K of the
students press ``t`` after joining and step alone while the teacher presses
(their apps are their own in both designs): the time from ``t`` to their own
app's first frame, and from each of their keys to its frame, are reported apart.
``--explore`` equal to the class size is a class of explorers.

Bounded: every wait has a time-out, the server is stopped whatever happens,
only 127.0.0.1 is used.

Usage: python bench/bench_groups.py [--sizes 50,100,300] [--presses 5] [--explore 0] [--groups-only]
                                    [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncssh

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _util import machine, print_machine, write_json
from bench_serve import pct, pss_kib
from serve_client import Server, connect

SIZES = ((80, 24), (100, 30), (120, 40))
READY = b"following"
#: An explorer's own app says so on its message line (session.py's note).
EXPLORING = b"Exploring"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: set[int]) -> float:
    """User and system CPU of ``pids`` (those still alive), from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


class Viewer:
    """One SSH client: connect, wait for the lesson, time each frame after a mark."""

    def __init__(self, port: int, name: str, size: tuple[int, int], password: str | None = None):
        self.port, self.name, self.size, self.password = port, name, size, password
        self.join_s = float("nan")
        self.delays: list[float] = []
        self.marked: float | None = None
        self.seen = bytearray()
        self.event = asyncio.Event()
        self.conn: asyncssh.SSHClientConnection | None = None
        self.process: asyncssh.SSHClientProcess[bytes] | None = None
        self.task: asyncio.Task[None] | None = None

    async def join(self, ready: bytes, timeout: float) -> None:
        start = time.perf_counter()
        self.conn = await connect(self.port, self.name, self.password)
        self.process = await self.conn.create_process(
            term_type="xterm-256color", term_size=self.size, encoding=None
        )
        self.task = asyncio.ensure_future(self._read())
        self.join_s = await self.wait_for(ready, start, timeout)

    async def wait_for(self, ready: bytes, start: float, timeout: float) -> float:
        """Seconds from ``start`` until ``ready`` is in what the screen was sent."""
        deadline = start + timeout
        while ready not in self.seen:
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), max(deadline - time.perf_counter(), 0.01))
        return time.perf_counter() - start

    async def _read(self) -> None:
        assert self.process is not None
        try:
            while data := await self.process.stdout.read(65536):
                if self.marked is not None:
                    self.delays.append(time.perf_counter() - self.marked)
                    self.marked = None
                if len(self.seen) < 1 << 20:
                    self.seen += data
                self.event.set()
        except (asyncssh.Error, OSError):
            pass

    def press(self, key: bytes) -> None:
        assert self.process is not None
        self.process.stdin.write(key)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


async def run(
    directory: Path, n: int, shared: bool, presses: int, explore: int, wait: float
) -> dict[str, float]:
    args = ["--teacher-password", "bench", "--max-sessions", str(n), "--per-address", str(n + 1)]
    args += ["--max-connecting", str(n + 10)]
    server = Server(directory, *args, *([] if shared else ["--own-apps"]))
    try:
        zygote_kib = sum(pss_kib(pid) for pid in server.pids())
        teacher = Viewer(server.port, "teacher", (100, 30), "bench")
        await teacher.join(b"teacher", 60)
        cpu0 = cpu_seconds(server.pids() | {server.proc.pid})
        mine0 = time.process_time()
        students = [Viewer(server.port, f"s{i}", SIZES[i % len(SIZES)]) for i in range(n)]
        joined = await asyncio.gather(
            *(s.join(READY, 120) for s in students), return_exceptions=True
        )
        failed = sum(isinstance(j, BaseException) for j in joined)
        ok = [s for s in students if s.join_s == s.join_s]
        joins = [s.join_s for s in ok]
        await asyncio.sleep(2.0)  # the last frames settle, the head count is told
        pids = server.pids()
        cpu_join = cpu_seconds(pids | {server.proc.pid}) - cpu0
        clients_join = time.process_time() - mine0
        pss = sum(pss_kib(pid) for pid in pids)
        explorers = ok[:explore]
        cpu_e0 = cpu_seconds(server.pids() | {server.proc.pid})
        front_e0 = cpu_seconds({server.proc.pid})
        mine_e0 = time.process_time()
        start = time.perf_counter()
        for s in explorers:
            s.seen.clear()
            s.press(b"t")
        # t → an app of the student's own, forked, replaying the class log, drawn.
        explored = await asyncio.gather(
            *(s.wait_for(EXPLORING, start, wait) for s in explorers), return_exceptions=True
        )
        explore_s = [t for t in explored if isinstance(t, float)]
        # Every process of the server, the explorers' new apps included (they are
        # alive now), and this process's clients, from the t's to the last app drawn.
        cpu_explore = cpu_seconds(server.pids() | {server.proc.pid}) - cpu_e0
        clients_explore = time.process_time() - mine_e0
        front_explore = cpu_seconds({server.proc.pid}) - front_e0
        followers = ok[explore:]
        await asyncio.sleep(2.0 if explorers else 0.0)
        cpu1 = cpu_seconds(server.pids() | {server.proc.pid})
        mine1 = time.process_time()
        for _ in range(presses):
            now = time.perf_counter()
            for s in ok:
                s.marked = now
            teacher.press(b" ")
            for s in explorers:
                s.press(b" ")
            deadline = now + wait
            while any(s.marked is not None for s in ok) and time.perf_counter() < deadline:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)
        cpu_keys = cpu_seconds(server.pids() | {server.proc.pid}) - cpu1
        clients_keys = time.process_time() - mine1
        keys = [d * 1000 for s in followers for d in s.delays]
        explorer_keys = [d * 1000 for s in explorers for d in s.delays]
        for s in (*students, teacher):
            s.close()
        return {
            "design": "groups" if shared else "own apps",
            "students": n,
            "explorers": len(explorers),
            "failed": failed,
            "join_p50_s": statistics.median(joins) if joins else float("nan"),
            "join_p95_s": pct(joins, 95),
            "key_p50_ms": statistics.median(keys) if keys else float("nan"),
            "key_p95_ms": pct(keys, 95),
            "explore_failed": len(explorers) - len(explore_s),
            "explore_p50_s": statistics.median(explore_s) if explore_s else float("nan"),
            "explore_p95_s": pct(explore_s, 95),
            "explorer_key_p50_ms": (
                statistics.median(explorer_keys) if explorer_keys else float("nan")
            ),
            "explorer_key_p95_ms": pct(explorer_keys, 95),
            "cpu_explore_s": cpu_explore,
            "clients_cpu_explore_s": clients_explore,
            "front_cpu_explore_s": front_explore,
            "frames": len(keys),
            "frames_expected": len(followers) * presses,
            "cpu_join_s": cpu_join,
            "cpu_keys_s": cpu_keys,
            # The clients' own CPU (SSH handshakes and decryption, in this one
            # process): on the same 2 cores, it is part of every figure above.
            "clients_cpu_join_s": clients_join,
            "clients_cpu_keys_s": clients_keys,
            "pss_per_student_mib": (pss - zygote_kib) / 1024 / max(len(ok), 1),
            "processes": len(pids),
        }
    finally:
        server.stop()


def show(r: dict[str, float]) -> None:
    print(
        f"{int(r['students']):>4} students, {r['design']:>8}"
        f"{' (' + str(int(r['explorers'])) + ' exploring)' if r['explorers'] else ''}: "
        f"join p50 {r['join_p50_s']:.2f} s p95 {r['join_p95_s']:.2f} s"
        f"{' (' + str(int(r['failed'])) + ' failed)' if r['failed'] else ''}; "
        f"key p50 {r['key_p50_ms']:.0f} ms p95 {r['key_p95_ms']:.0f} ms "
        f"({int(r['frames'])}/{int(r['frames_expected'])} frames); server CPU "
        f"{r['cpu_join_s']:.2f} s to join, {r['cpu_keys_s']:.2f} s for the keys (clients "
        f"{r['clients_cpu_join_s']:.2f} s, {r['clients_cpu_keys_s']:.2f} s); "
        f"PSS {r['pss_per_student_mib']:.2f} MiB per student; {int(r['processes'])} processes",
        flush=True,
    )
    if r["explorers"]:
        print(
            f"     the {int(r['explorers'])} explorers: t -> their own app drawn p50 "
            f"{r['explore_p50_s']:.2f} s p95 {r['explore_p95_s']:.2f} s"
            f"{' (' + str(int(r['explore_failed'])) + ' failed)' if r['explore_failed'] else ''}; "
            f"their own key -> frame p50 {r['explorer_key_p50_ms']:.0f} ms "
            f"p95 {r['explorer_key_p95_ms']:.0f} ms; CPU from the t's to the last app drawn: "
            f"server {r['cpu_explore_s']:.2f} s (its front end {r['front_cpu_explore_s']:.2f} s), "
            f"clients {r['clients_cpu_explore_s']:.2f} s",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50,100,300", help="class sizes, in order")
    parser.add_argument("--presses", type=int, default=5, help="teacher's keys per class")
    parser.add_argument("--explore", type=int, default=0, help="students who press t")
    parser.add_argument("--wait", type=float, default=30.0, help="longest wait for a frame")
    parser.add_argument(
        "--groups-only",
        action="store_true",
        help="skip the run with --own-apps (explorers have apps of their own in both)",
    )
    parser.add_argument("--json", metavar="PATH", help="write the figures here")
    opts = parser.parse_args(argv)
    info = machine()
    print_machine(info)
    results = []
    for n in (int(s) for s in opts.sizes.split(",")):
        pair = []
        for shared in (True,) if opts.groups_only else (True, False):
            with tempfile.TemporaryDirectory(prefix="bptui-bench-groups-") as tmp:
                r = asyncio.run(run(Path(tmp), n, shared, opts.presses, opts.explore, opts.wait))
            show(r)
            pair.append(r)
        results += pair
        if opts.groups_only:
            continue
        groups, apps = pair
        print(
            f"     groups against own apps: server CPU {apps['cpu_join_s'] / groups['cpu_join_s']:.1f}x "
            f"less to join, {apps['cpu_keys_s'] / max(groups['cpu_keys_s'], 1e-3):.1f}x less "
            f"for the keys; join p95 {apps['join_p95_s'] / groups['join_p95_s']:.1f}x, key p95 "
            f"{apps['key_p95_ms'] / groups['key_p95_ms']:.1f}x shorter",
            flush=True,
        )
    write_json(
        opts.json, {"what": "view groups against own apps", "results": results, "machine": info}
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
