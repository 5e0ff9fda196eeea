"""A mixed class: N browser students and N SSH students joining one ``bptui serve --web``.

A real server on 127.0.0.1 (the installed command). The browser students speak
the page's websocket protocol (tests/web_client.py's, with aiohttp: what the
server receives from a Chromium tab, without drawing the screen, which a
student's own machine does); the SSH students are asyncssh clients as in
bench_serve.py. All 2N connect at the same moment; the join time is from
connecting (websocket opened and logged in, or SSH connected) to the lesson's
first frame. Then for ``--seconds`` every student presses space at random
intervals of 0.3–1.5 s; key latency is from the key to the first bytes of the
new frame. Memory is PSS, as in bench_serve.py: the growth over the zygote alone
per student. The front end's CPU (the one process holding every connection, SSH
and websocket) is read from /proc for the join and for the keys.

Usage: python bench/bench_web.py [--students 50] [--seconds 15] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _util import machine, print_machine, write_json
from bench_serve import Client, pct, pss_kib
from serve_client import Server
from web_client import web_url

READY = b"w.grad"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class WebClient:
    """One browser student, as the server sees it: the page's websocket."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        self.join_s = float("nan")
        self.latencies: list[float] = []
        self._pressed: float | None = None
        self._output = asyncio.Event()
        self._seen = bytearray()
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None

    async def join(self, timeout: float) -> None:
        start = time.perf_counter()
        self.http = aiohttp.ClientSession()
        self.ws = await self.http.ws_connect(
            self.url + "ws", headers={"Origin": self.url.rstrip("/")}, max_msg_size=0
        )
        await self.ws.receive_json(timeout=timeout)  # hello
        login = {"t": "login", "user": self.name, "cols": 80, "rows": 24, "lang": "en-US"}
        await self.ws.send_json(login)
        answer = await self.ws.receive_json(timeout=timeout)
        assert answer["t"] == "ok", answer
        self.reader = asyncio.ensure_future(self._read())
        while READY not in self._seen:
            self._output.clear()
            await asyncio.wait_for(self._output.wait(), timeout)
        self.join_s = time.perf_counter() - start

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.BINARY:
                continue
            now = time.perf_counter()
            if self._pressed is not None:
                self.latencies.append(now - self._pressed)
                self._pressed = None
            if len(self._seen) < 1 << 20:
                self._seen += message.data
            self._output.set()

    async def step(self, until: float, rng: random.Random) -> None:
        assert self.ws is not None
        while time.perf_counter() < until:
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            if self._pressed is None:
                self._pressed = time.perf_counter()
                await self.ws.send_bytes(b" ")

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.http is not None:
            await self.http.close()


def summary(joins: list[float], keys: list[float]) -> dict[str, float]:
    return {
        "join_p50_s": statistics.median(joins) if joins else float("nan"),
        "join_p95_s": pct(joins, 95),
        "join_max_s": max(joins) if joins else float("nan"),
        "keys": len(keys),
        "key_p50_ms": statistics.median(keys) if keys else float("nan"),
        "key_p95_ms": pct(keys, 95),
    }


async def run(students: int, seconds: float) -> dict[str, object]:
    total = 2 * students
    with tempfile.TemporaryDirectory(prefix="bptui-bench-web-") as tmp:
        server = Server(
            Path(tmp),
            "--web",
            "0",
            "--max-sessions",
            str(total),
            "--per-address",
            str(total),
            "--max-connecting",
            str(total + 10),
        )
        try:
            url = web_url(server.banner)
            zygote_kib = sum(pss_kib(pid) for pid in server.pids())
            front_kib = pss_kib(server.proc.pid)
            print(
                f"zygote alone: PSS {zygote_kib / 1024:.1f} MiB; front end {front_kib / 1024:.1f} MiB"
            )
            web = [WebClient(url, f"w{i}") for i in range(students)]
            ssh = [Client(server.port, f"s{i}") for i in range(students)]
            cpu0 = cpu_seconds(server.proc.pid)
            # Interleaved, so that neither kind is first in the zygote's queue.
            mixed = [c for pair in zip(web, ssh, strict=True) for c in pair]
            joined = await asyncio.gather(*(c.join(120) for c in mixed), return_exceptions=True)
            cpu_join = cpu_seconds(server.proc.pid) - cpu0
            failed = [repr(j) for j in joined if isinstance(j, BaseException)]
            await asyncio.sleep(1.0)
            apps_kib = sum(pss_kib(pid) for pid in server.pids())
            front_after = pss_kib(server.proc.pid)
            rng = random.Random(students)
            until = time.perf_counter() + seconds
            cpu1 = cpu_seconds(server.proc.pid)
            await asyncio.gather(
                *(c.step(until, rng) for c in (*web, *ssh) if c.join_s == c.join_s)
            )
            await asyncio.sleep(0.5)
            cpu_keys = cpu_seconds(server.proc.pid) - cpu1
            result: dict[str, object] = {"students": total, "failed": failed}
            for kind, clients in (("browser", web), ("ssh", ssh)):
                joins = [c.join_s for c in clients if c.join_s == c.join_s]
                keys = [v * 1000 for c in clients for v in c.latencies]
                result[kind] = summary(joins, keys)
            result["pss_per_student_mib"] = (apps_kib - zygote_kib) / 1024 / total
            result["front_end_growth_per_student_kib"] = (front_after - front_kib) / total
            result["front_end_cpu_join_s"] = cpu_join
            result["front_end_cpu_keys_s"] = cpu_keys
            for c in web:
                await c.close()
            for c in ssh:
                c.close()
            return result
        finally:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=50, help="of each kind")
    parser.add_argument("--seconds", type=float, default=15.0, help="key pressing")
    parser.add_argument("--json", metavar="PATH", help="write the figures here")
    opts = parser.parse_args(argv)
    info = machine()
    print_machine(info)
    r = asyncio.run(run(opts.students, opts.seconds))
    for kind in ("browser", "ssh"):
        s = r[kind]
        assert isinstance(s, dict)
        print(
            f"{opts.students} {kind} students: join p50 {s['join_p50_s']:.2f} s, p95 "
            f"{s['join_p95_s']:.2f} s, max {s['join_max_s']:.2f} s; key p50 "
            f"{s['key_p50_ms']:.0f} ms, p95 {s['key_p95_ms']:.0f} ms ({s['keys']} keys)"
        )
    print(
        f"PSS per student {r['pss_per_student_mib']:.1f} MiB; the front end grew "
        f"{r['front_end_growth_per_student_kib']:.0f} KiB per student and used "
        f"{r['front_end_cpu_join_s']:.2f} s of CPU for the join, "
        f"{r['front_end_cpu_keys_s']:.2f} s for {opts.seconds:g} s of keys"
        + (f"; {len(r['failed'])} failed: {r['failed'][:3]}" if r["failed"] else "")  # type: ignore[arg-type]
    )
    browser, ssh = r["browser"], r["ssh"]
    assert isinstance(browser, dict) and isinstance(ssh, dict)
    ratio = browser["key_p95_ms"] / ssh["key_p95_ms"]
    print(f"browser against SSH in the same class: key p95 {ratio:.2f}x")
    write_json(
        opts.json,
        {
            "what": "browser students' key p95 against SSH students' in one class",
            "ratio": ratio,
            "target": 1.25,
            "met": ratio <= 1.25,
            "results": r,
            "machine": info,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
