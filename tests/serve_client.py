"""A real ``bptui serve`` on 127.0.0.1 and real SSH clients for it (asyncssh + pyte).

Shared by the serve tests and the classroom load benchmark: the server runs as
the installed command in a subprocess (as a teacher would start it), and each
client is an asyncssh connection with a pseudo-terminal whose output is decoded
by a pyte screen, so tests read what a student would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncssh
import pyte
from patience import Deadline, patience


def bptui_command() -> list[str]:
    """The console script next to this interpreter, else ``python -m bptui``."""
    script = Path(sys.executable).parent / "bptui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bptui"]


def make_host_key(directory: Path) -> Path:
    path = directory / "host_key"
    if not path.exists():
        asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(path))
    return path


class Server:
    """``bptui serve`` in a subprocess, on a free port of 127.0.0.1."""

    def __init__(
        self,
        directory: Path,
        *args: str,
        timeout: float = 60.0,
        log_file: Path | None = None,
        stderr: Any = subprocess.PIPE,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """``log_file``: the server's output goes to that file, as a teacher's log would;
        ``stderr``: where its log goes (a pipe, read by :meth:`stop`); ``env``: more
        environment for the server; ``cwd``: where it runs (the teacher's handouts go there)."""
        #: Where its data (host key, XDG_DATA_HOME) is kept.
        self.directory = directory
        env = dict(os.environ, **(env or {}), XDG_DATA_HOME=str(directory / "data"))
        env.pop("TEXTUAL", None)
        key = make_host_key(directory)
        out = open(log_file, "w") if log_file else subprocess.PIPE  # noqa: SIM115
        self.proc = subprocess.Popen(
            [*bptui_command(), "serve", "--port", "0", "--host-key", str(key), *args],
            stdout=out,
            stderr=stderr,
            env=env,
            text=True,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
        )
        self.banner: list[str] = []
        self.port = 0
        deadline = time.monotonic() + timeout
        lines = _lines_of(self.proc.stdout if self.proc.stdout else log_file, deadline)
        for line in lines:
            self.banner.append(line)
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
            if "Ctrl+C ends the class" in line:
                break
        if log_file:
            out.close()  # type: ignore[union-attr]
        if not self.port:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise RuntimeError(f"bptui serve did not start: {err}")

    def pids(self) -> set[int]:
        """The server's descendants still alive: the zygote and every session's app."""
        found: set[int] = set()
        frontier = {self.proc.pid}
        while frontier:
            parent = frontier.pop()
            for child in _children(parent):
                if child not in found:
                    found.add(child)
                    frontier.add(child)
        return found

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15.0) -> tuple[int, str]:
        """Send ``sig`` (Ctrl+C); the exit code and everything it logged."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            _, err = self.proc.communicate(timeout=5)
        return self.proc.returncode, err or ""

    def close_log(self) -> None:
        """Close the reading end of the server's log, as a ``| tee`` that ended would."""
        if self.proc.stderr is not None:
            self.proc.stderr.close()
            self.proc.stderr = None


def _lines_of(source: object, deadline: float):  # type: ignore[no-untyped-def]
    """Lines from a pipe, or from a file another process is writing, until ``deadline``."""
    if hasattr(source, "readline"):
        while time.monotonic() < deadline:
            line = source.readline()  # type: ignore[attr-defined]
            if not line:
                return
            yield line.rstrip("\n")
        return
    seen = 0
    while time.monotonic() < deadline:
        text = Path(str(source)).read_text() if Path(str(source)).exists() else ""
        lines = text.splitlines()
        yield from lines[seen:]
        seen = len(lines)
        time.sleep(0.1)


def _children(pid: int) -> list[int]:
    children = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                children += [int(p) for p in f.read().split()]
    return children


def rss_mib(pid: int) -> float:
    """A process's resident memory in MiB (a flood must not grow the server)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def connect(
    port: int, username: str = "student", password: str | None = None
) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1",
        port,
        username=username,
        password=password,
        known_hosts=None,
        client_keys=None,
        agent_path=None,
        preferred_auth="none,password" if password is None else "password",
    )


class Student:
    """One SSH session with a terminal, its screen decoded by pyte."""

    def __init__(
        self,
        conn: asyncssh.SSHClientConnection,
        process: asyncssh.SSHClientProcess[bytes],
        width: int,
        height: int,
    ) -> None:
        self.conn = conn
        self.process = process
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.closed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def join(
        cls,
        port: int,
        username: str = "student",
        password: str | None = None,
        width: int = 80,
        height: int = 24,
        term: str = "xterm-256color",
        screen: tuple[int, int] | None = None,
    ) -> Student:
        """``screen``: the size of the pyte screen that decodes the output, when it is not
        the size the client announces (a huge one, say)."""
        conn = await connect(port, username, password)
        process = await conn.create_process(
            term_type=term, term_size=(width, height), encoding=None
        )
        return cls(conn, process, *(screen or (width, height)))

    async def _read(self) -> None:
        try:
            while True:
                data = await self.process.stdout.read(65536)
                if not data:
                    break
                self.raw += data
                self.stream.feed(data)
        except (asyncssh.Error, OSError):
            pass
        finally:
            self.closed.set()

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, condition: Callable[[str], bool], timeout: float = 20.0) -> str:
        """Until ``condition(screen)`` holds; the screen text (AssertionError on time-out)."""
        deadline = Deadline(timeout)
        while not deadline.passed():
            text = self.text()
            if condition(text):
                return text
            if self.closed.is_set():
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"screen never matched; it shows:\n{self.text()}")

    async def press(self, keys: str) -> None:
        self.process.stdin.write(keys.encode())
        await asyncio.sleep(0)

    async def wait_closed(self, timeout: float = 15.0) -> int | None:
        await asyncio.wait_for(self.closed.wait(), patience(timeout))
        await asyncio.wait_for(self.process.wait_closed(), patience(timeout))
        return self.process.exit_status

    def close(self) -> None:
        self.conn.close()


async def until(condition: Callable[[], object], timeout: float = 15.0) -> None:
    """Until ``condition()`` holds (AssertionError after ``timeout`` seconds, stretched
    by the load like every wait here)."""
    deadline = Deadline(timeout)
    while not condition():
        assert not deadline.passed(), "condition never held"
        await asyncio.sleep(0.05)


def openssh_command(port: int, *args: str) -> list[str]:
    """``ssh -p PORT ARGS`` with no config file, no agent, no prompts (BatchMode), no
    known_hosts; ``-v``, so its log says how it logged in."""
    return [
        "ssh",
        "-F",
        "/dev/null",
        "-v",
        "-p",
        str(port),
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "IdentityAgent=none",
        "-o",
        "ConnectTimeout=30",
        *args,
    ]


def openssh(
    port: int,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """The stock OpenSSH client (see :func:`openssh_command`), run to its end."""
    return subprocess.run(
        openssh_command(port, *args),
        capture_output=True,
        text=True,
        errors="replace",
        env=dict(os.environ, **(env or {})),
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )
