"""The server's log: one English line per event, on standard error, with the time.

The log is how a teacher watches the class, and it must never stop the class:
when its write fails (the teacher's terminal hung up, ``| tee`` ended first on
Ctrl+C, the disk is full) the line is dropped and the server goes on, ending
every session tidily. Lines are written straight to the descriptor, so no
buffered line is left for Python to fail on again at exit.
"""

from __future__ import annotations

import os
import time


def log(text: str, fd: int = 2) -> None:
    """``HH:MM:SS text`` on standard error; dropped, never raised, if it cannot be written."""
    data = f"{time.strftime('%H:%M:%S')} {text}\n".encode(errors="replace")
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError:
        pass  # a full disk or a closed pipe: the class goes on without its log
