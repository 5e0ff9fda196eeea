"""End to end: the real ``bptui`` command on a pseudo-terminal, read back through pyte.

This is what a student sees: the installed console script starts, torch loads in
the background, keys arrive as terminal bytes (arrow keys as escape sequences),
the screen is decoded by a terminal emulator, and ``q`` ends the process with
exit code 0. Each test launches one process (torch takes a second or two to load).
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
from collections.abc import Callable, Iterator
from pathlib import Path

import pyte
import pytest
from patience import Deadline, patience

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

LEFT = b"\x1b[D"
ESCAPE = b"\x1b"


def bptui_command() -> list[str]:
    """The console script next to this interpreter, else ``python -m bptui``."""
    script = Path(sys.executable).parent / "bptui"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "bptui"]


class Terminal:
    """A child process on a pseudo-terminal, its output fed into a pyte screen."""

    def __init__(self, argv: list[str], width: int = 80, height: int = 24) -> None:
        self.master, slave = os.openpty()
        self._set_size(slave, width, height)
        env = dict(os.environ, TERM="xterm-256color")
        env.pop("TEXTUAL", None)  # no devtools
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(slave)

    @staticmethod
    def _set_size(fd: int, width: int, height: int) -> None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def read(self, timeout: float) -> bool:
        """Feed what the child wrote within ``timeout`` to the screen; False at end of output."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.stream.feed(data)
        return True

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 10.0) -> str:
        """Read until ``condition(screen text)`` holds and the output has settled."""
        deadline = Deadline(timeout)
        while not condition(self.text()):
            if deadline.passed() or (not self.read(0.05) and self.proc.poll() is not None):
                raise AssertionError(f"timed out; the screen shows:\n{self.text()}")
        return self.settle()

    def settle(self, quiet: float = 0.15, timeout: float = 3.0) -> str:
        """Read until nothing has arrived for ``quiet`` seconds (a frame is drawn in full)."""
        deadline = Deadline(timeout)
        while not deadline.passed():
            ready, _, _ = select.select([self.master], [], [], patience(quiet))
            if not ready or not self.read(0):
                break
        return self.text()

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def resize(self, width: int, height: int) -> None:
        """Change the window size as a terminal emulator does, and tell the child."""
        self._set_size(self.master, width, height)
        self.screen.resize(height, width)
        self.proc.send_signal(signal.SIGWINCH)

    def wait_exit(self, timeout: float) -> int | None:
        """The child's exit code, reading its last output meanwhile; None if still running."""
        deadline = Deadline(timeout)
        while not deadline.passed():
            code = self.proc.poll()
            if code is not None:
                return code
            self.read(0.05)
        return self.proc.poll()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        os.close(self.master)


@pytest.fixture
def launch() -> Iterator[Callable[..., Terminal]]:
    """Start ``bptui`` with the given arguments on a terminal; every child is killed at the end."""
    started: list[Terminal] = []

    def start(*args: str, width: int = 80, height: int = 24) -> Terminal:
        terminal = Terminal(bptui_command() + list(args), width, height)
        started.append(terminal)
        return terminal

    try:
        yield start
    finally:
        for terminal in started:
            terminal.close()


def line_with(text: str, needle: str) -> str:
    """The screen line that contains ``needle`` (for readable failure messages)."""
    return next((line for line in text.splitlines() if needle in line), "")


def quit_cleanly(term: Terminal) -> None:
    """q ends the process with exit code 0 and no traceback.

    How fast is not asserted (a loaded machine is slow); the generous wait only keeps a
    process that ignores q from hanging the suite.
    """
    term.send(b"q")
    code = term.wait_exit(timeout=60)
    assert code == 0, f"exit code {code}; the screen shows:\n{term.text()}"
    assert "Traceback" not in term.text()


def test_a_session_on_a_real_terminal(launch: Callable[..., Terminal]) -> None:
    """bptui at 80×24: the graph appears, F shows loss=1, s from the start gives w.data 1.02 and
    w.grad 0, ← (an escape sequence) undoes, space steps, ? and esc open and close the help,
    a 50×15 window asks to be enlarged, and q exits with code 0."""
    term = launch()
    text = term.wait_for(lambda t: "Graph" in t, timeout=20)
    text = term.wait_for(lambda t: "w.data 1 " in t and "w.grad None" in t, timeout=30)
    assert "x=1" in text and "w=1" in text and "y=2" in text
    assert "Epoch 1/100 · Sample 1/3" in text and "Traceback" not in text

    term.send(b"F")
    text = term.wait_for(lambda t: "loss=1" in t)
    assert "ŷ=1" in text and "r=-1" in text and "BWD 0/3" in text
    assert "loss 1 " in line_with(text, "loss 1 ")

    term.send(b"r")
    term.wait_for(lambda t: "loss=1" not in t and "w.grad None" in t)
    term.send(b"s")
    text = term.wait_for(lambda t: "w.data 1.02" in t)
    assert "w.grad 0 " in line_with(text, "w.grad"), line_with(text, "w.grad")
    assert "Sample 2/3 x=2 y=4" in text

    term.send(LEFT)
    text = term.wait_for(lambda t: "w.grad -2" in t)
    assert "w.data 1.02" in text and "Sample 1/3" in text
    assert "Undid one micro-step (zero)" in text

    term.send(b" ")
    text = term.wait_for(lambda t: "w.grad 0 " in t)
    assert "Sample 2/3" in text

    term.send(b"?")
    term.wait_for(lambda t: "one step at a time" in t)
    term.send(ESCAPE)
    text = term.wait_for(lambda t: "one step at a time" not in t)
    assert "w.data 1.02" in text

    term.resize(50, 15)
    text = term.wait_for(lambda t: "Enlarge" in t)
    assert "50×15" in text
    term.resize(80, 24)
    text = term.wait_for(lambda t: "w.data 1.02" in t and "Enlarge" not in t)
    assert "Graph" in text

    quit_cleanly(term)


def test_keys_typed_while_torch_loads_are_kept(launch: Callable[..., Terminal]) -> None:
    """With --lr 0.1, s typed as soon as the first frame is up (torch still loading) is run
    once torch is ready: w.data = 1 - 0.1·(-2) = 1.2 appears without another key."""
    term = launch("--lr", "0.1")
    text = term.wait_for(lambda t: "Graph" in t, timeout=20)
    assert "Loading PyTorch" in text  # the first frame does not wait for torch
    term.send(b"s")
    text = term.wait_for(lambda t: "w.data 1.2 " in t, timeout=30)
    assert "w.grad 0 " in line_with(text, "w.grad")
    assert "Sample 2/3" in text and "lr 0.1" in text
    quit_cleanly(term)


def test_a_terminal_that_goes_away_ends_the_app(launch: Callable[..., Terminal]) -> None:
    """The terminal closed under the app with no SIGHUP (it was not the app's
    controlling terminal): the app ends, as on a hang-up, where it used to spin at
    full CPU reading end of file, drawing for no one."""
    term = launch()
    term.wait_for(lambda s: "Epoch 1/100" in s, timeout=30)
    os.close(term.master)
    term.master = os.open(os.devnull, os.O_RDONLY)  # for close() at the end
    try:
        code = term.proc.wait(timeout=patience(10))
    except subprocess.TimeoutExpired:
        code = None  # still running: killed by the fixture
    assert code == 128 + signal.SIGHUP
