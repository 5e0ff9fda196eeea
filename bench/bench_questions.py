"""A class question: 100 students answering within 2 s while the teacher works.

A real ``bptui serve --teacher-password`` on 127.0.0.1, a teacher (100×30) and
N following students (asyncssh clients in this process, at three window sizes
as in ``bench_groups.py``, so three view groups). Two phases, in one run:

1. no question open: the teacher presses ``y`` K times (the graph hides torch's
   grad_fn names, then shows them); each time, the key to the graph's change on
   the teacher's screen;
2. a class question open (``Q``, then space): once every student sees the
   prompt, each sends an answer at a random moment within ``--window`` seconds
   (7 in 10 right, the others one of three wrong values) while the teacher presses
   ``y`` K times again, as in phase 1. Then the teacher reveals;
3. the next question (space), answered the same way with the teacher's hands off
   the keys: each answer → the teacher's screen counting it. Then the reveal.

Figures: the teacher's key → its change p50/p95 in phases 1 and 2 and their ratio (the
teacher's screen must stay responsive while answers pour in); in phase 3 each
answer → the teacher's screen counting it ("answered k of N"), p50/p95, and the
last answer → the full count; each reveal → every student's verdict.

Bounded: every wait has a time-out, the server is stopped whatever happens,
only 127.0.0.1 is used.

Usage: python bench/bench_questions.py [--students 100] [--presses 10] [--window 2]
                                       [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncssh

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _util import machine, print_machine, write_json
from bench_groups import SIZES, Viewer
from bench_serve import pct
from serve_client import Server

#: The graph's title once ``y`` hides the grad_fn names; a name, once it shows them again.
HIDDEN, SHOWN = b"y grad_fn", b"AccumulateGrad"
ASKED = b"enter sends"
VERDICTS = (b"Right:", b"Not quite:")
COUNTED = re.compile(rb"answered (\d+) of (\d+)")
#: torch's values of the seed lesson's first two micro-steps (ŷ = x·w, r = ŷ − y).
RIGHT = ("1", "-1")
#: The teacher's key p95 while answers arrive, at most this many times the same without.
TARGET = 1.5
WRONG = ("-2", "2", "0.5")


class Teacher(Viewer):
    """The teacher's client: every chunk of output kept with the time it came."""

    def __init__(self, port: int) -> None:
        super().__init__(port, "teacher", (100, 30), "bench")
        self.chunks: list[tuple[float, bytes]] = []

    async def _read(self) -> None:
        assert self.process is not None
        try:
            while data := await self.process.stdout.read(65536):
                self.chunks.append((time.perf_counter(), data))
                if len(self.seen) < 1 << 20:
                    self.seen += data
                self.event.set()
        except (asyncssh.Error, OSError):
            pass

    async def until(self, pattern: bytes, since: int, timeout: float) -> float:
        """When ``pattern`` first shows in the chunks from index ``since`` on."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            tail = b""  # a pattern may be cut between two chunks
            for when, data in self.chunks[since:]:
                if pattern in tail + data:
                    return when
                tail = data[-len(pattern) :]
            await asyncio.sleep(0.005)
        raise TimeoutError(
            f"{pattern!r} never came; the screen's last bytes: {self.seen[-2000:]!r}"
        )

    def counts(self) -> list[tuple[float, int]]:
        """Each time the screen said how many had answered."""
        return [(w, int(m.group(1))) for w, d in self.chunks for m in COUNTED.finditer(d)]


async def view_keys(teacher: Teacher, presses: int) -> list[float]:
    """``y``, ``presses`` times: each to the graph's change on the teacher's screen, in
    ms (``y`` hides torch's grad_fn names, the graph's title says so; again, they are back)."""
    delays = []
    for i in range(presses):
        since, start = len(teacher.chunks), time.perf_counter()
        teacher.press(b"y")
        changed = HIDDEN if i % 2 == 0 else SHOWN
        delays.append((await teacher.until(changed, since, 30) - start) * 1000)
        await asyncio.sleep(0.1)
    return delays


async def pose(teacher: Teacher, students: list[Viewer]) -> int:
    """The teacher's space: a class question; how many students see it."""
    for s in students:
        s.seen.clear()
    since = len(teacher.chunks)
    teacher.press(b" ")
    await teacher.until(b"Class question", since, 30)
    deadline = time.perf_counter() + 60
    while not all(ASKED in s.seen for s in students) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    return sum(ASKED in s.seen for s in students)


async def reveal(teacher: Teacher, students: list[Viewer]) -> tuple[float, int]:
    """The teacher's space: seconds until every student has a verdict, and how many do."""
    for s in students:
        s.seen.clear()
    start = time.perf_counter()
    teacher.press(b" ")
    deadline = start + 60
    while time.perf_counter() < deadline and not all(
        any(v in s.seen for v in VERDICTS) for s in students
    ):
        await asyncio.sleep(0.02)
    told = sum(any(v in s.seen for v in VERDICTS) for s in students)
    return time.perf_counter() - start, told


async def answer_all(students: list[Viewer], window: float, right: str, sent: list[float]) -> None:
    rng = random.Random(21)

    async def one(i: int, student: Viewer) -> None:
        await asyncio.sleep(rng.random() * window)
        value = right if i % 10 < 7 else WRONG[i % 3]
        student.press(value.encode() + b"\r")
        sent.append(time.perf_counter())

    await asyncio.gather(*(one(i, s) for i, s in enumerate(students)))


async def run(directory: Path, n: int, presses: int, window: float) -> dict[str, float]:
    args = ["--teacher-password", "bench", "--max-sessions", str(n), "--per-address", str(n + 1)]
    server = Server(directory, *args, "--max-connecting", str(n + 10))
    try:
        teacher = Teacher(server.port)
        await teacher.join(b"teacher", 60)
        students = [Viewer(server.port, f"s{i}", SIZES[i % len(SIZES)]) for i in range(n)]
        await asyncio.gather(*(s.join(b"following", 120) for s in students))
        await asyncio.sleep(2.0)  # the last frames settle, the head count is told
        quiet = await view_keys(teacher, presses)

        since = len(teacher.chunks)
        teacher.press(b"Q")
        await teacher.until(b"Quiz on", since, 30)
        asked = await pose(teacher, students)
        sent: list[float] = []
        answering = asyncio.ensure_future(answer_all(students, window, RIGHT[0], sent))
        busy = await view_keys(teacher, presses)
        await answering
        await asyncio.sleep(1.0)  # the last answers are counted
        first_reveal, told = await reveal(teacher, students)

        asked2 = await pose(teacher, students)
        sent = []
        counted_from = len(teacher.chunks)
        await answer_all(students, window, RIGHT[1], sent)
        full = await teacher.until(b"answered %d of" % n, counted_from, 60)
        # The k-th answer sent is counted when the screen first says k or more.
        sent.sort()
        counts = [c for c in teacher.counts() if c[0] >= sent[0]]
        tally = []
        for k, when in enumerate(sent, 1):
            shown = next((w for w, c in counts if c >= k and w >= when), full)
            tally.append((shown - when) * 1000)

        second_reveal, told2 = await reveal(teacher, students)
        for s in (*students, teacher):
            s.close()
        return {
            "students": n,
            "asked": min(asked, asked2),
            "revealed": min(told, told2),
            "key_quiet_p50_ms": statistics.median(quiet),
            "key_quiet_p95_ms": pct(quiet, 95),
            "key_question_p50_ms": statistics.median(busy),
            "key_question_p95_ms": pct(busy, 95),
            "tally_p50_ms": statistics.median(tally),
            "tally_p95_ms": pct(tally, 95),
            "last_answer_to_full_count_ms": (full - sent[-1]) * 1000,
            "answers_span_s": sent[-1] - sent[0],
            "reveal_to_every_verdict_s": max(first_reveal, second_reveal),
        }
    finally:
        server.stop()


def show(r: dict[str, float]) -> None:
    print(
        f"{int(r['students'])} students ({int(r['asked'])} asked, answers over "
        f"{r['answers_span_s']:.2f} s): teacher's key p50/p95 {r['key_quiet_p50_ms']:.0f}/"
        f"{r['key_quiet_p95_ms']:.0f} ms with no question, {r['key_question_p50_ms']:.0f}/"
        f"{r['key_question_p95_ms']:.0f} ms while answers arrive "
        f"({r['key_question_p95_ms'] / r['key_quiet_p95_ms']:.2f}x); answer -> tally p50/p95 "
        f"{r['tally_p50_ms']:.0f}/{r['tally_p95_ms']:.0f} ms, last answer -> full count "
        f"{r['last_answer_to_full_count_ms']:.0f} ms; reveal -> {int(r['revealed'])} verdicts "
        f"in {r['reveal_to_every_verdict_s']:.2f} s",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--presses", type=int, default=10, help="teacher's keys per phase")
    parser.add_argument("--window", type=float, default=2.0, help="seconds the answers span")
    parser.add_argument("--json", metavar="PATH", help="write the figures here")
    opts = parser.parse_args(argv)
    info = machine()
    print_machine(info)
    with tempfile.TemporaryDirectory(prefix="bptui-bench-questions-") as tmp:
        r = asyncio.run(run(Path(tmp), opts.students, opts.presses, opts.window))
    show(r)
    ratio = r["key_question_p95_ms"] / r["key_quiet_p95_ms"]
    met = ratio <= TARGET
    print(
        f"teacher's key p95, answers arriving / none: {ratio:.2f}x; target <= {TARGET:g}x "
        f"{'MET' if met else 'NOT MET'}",
        flush=True,
    )
    what = "a class question: teacher's key p95, 100 answering / none"
    write_json(
        opts.json,
        {
            "what": what,
            "ratio": ratio,
            "target": TARGET,
            "met": met,
            "results": [r],
            "machine": info,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
