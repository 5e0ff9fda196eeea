"""Regression tests for what a hostile pass found: bursts, odd files, no terminal, signals.

Each runs the real ``bptui`` where the fault lived in the real world (a pty, a
pipe, a signal), since that is where it showed.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from test_pty import bptui_command, launch  # noqa: F401  (launch is a fixture)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def test_two_enters_in_one_burst_submit_the_edit_form_once(launch) -> None:  # noqa: F811
    """E, then Enter Enter in one write (a paste): the form closes once, no traceback."""
    term = launch()
    term.wait_for(lambda t: "w.grad None" in t)
    term.send(b"E")
    term.wait_for(lambda t: "enter applies" in t)
    term.send(b"\r\r")
    term.wait_for(lambda t: "enter applies" not in t)
    term.send(b" ")
    screen = term.wait_for(lambda t: "ŷ=1" in t)
    assert "Traceback" not in screen and term.proc.poll() is None
    term.send(b"q")
    assert term.wait_exit(10) == 0


@pytest.mark.parametrize("stdin", ["devnull", "pipe"])
def test_without_a_terminal_the_stepper_says_so_and_points_at_trace(stdin: str) -> None:
    done = subprocess.run(
        bptui_command(), input=b"" if stdin == "pipe" else None,
        stdin=subprocess.DEVNULL if stdin == "devnull" else None,
        capture_output=True, timeout=30,
    )
    assert done.returncode == 2
    assert b"needs a terminal" in done.stderr and b"bptui trace" in done.stderr
    assert b"\x1b[" not in done.stdout  # no escape codes written into the pipe


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_restore_the_terminal(launch, sig: int) -> None:  # noqa: F811
    term = launch()
    term.wait_for(lambda t: "w.grad None" in t)
    raw = bytearray()
    original = term.stream.feed

    def keep(data: bytes) -> None:
        raw.extend(data)
        original(data)

    term.stream.feed = keep  # type: ignore[method-assign]
    term.proc.send_signal(sig)
    assert term.wait_exit(10) == 128 + sig
    # Left the alternate screen and showed the cursor again, as q does.
    assert b"\x1b[?1049l" in raw and b"\x1b[?25h" in raw
