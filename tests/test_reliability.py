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
