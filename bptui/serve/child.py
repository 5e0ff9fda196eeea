"""One student's session: what a child of the zygote does after the fork.

The child takes the session's pseudo-terminal as its controlling terminal and
standard streams, closes every other descriptor it inherited (else it would
keep other students' connections open), sets the terminal type and colour
depth the server chose for this session, and runs the ordinary bptui app.
In a classroom it first receives the class log and replays it, so a late
joiner starts on the teacher's current step.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import sys
import termios
from collections.abc import Callable
from typing import Any

from ..lesson.spec import Lesson
from .limits import clean_colorterm, clean_term

#: The descriptor the classroom link is moved to (after stdin, stdout, stderr).
LINK_FD = 3


def session_environment(term: str, color: str, colorterm: str | None) -> dict[str, str]:
    """TERM, COLORTERM and NO_COLOR for a session (``None`` values are removed).

    ``color`` is the server's ``--color``: ``auto`` keeps the client's TERM
    (and COLORTERM if its ssh sent one); the others force a depth for the class.
    """
    env: dict[str, str] = {"TERM": clean_term(term), "COLORTERM": "", "NO_COLOR": ""}
    if color == "auto":
        env["COLORTERM"] = clean_colorterm(colorterm) or ""
    elif color == "truecolor":
        env["COLORTERM"] = "truecolor"
    elif color == "256":
        env["TERM"] = "xterm-256color"
    elif color == "16":
        env["TERM"] = "xterm-16color"
    elif color == "none":
        env["NO_COLOR"] = "1"
    return env


def _take_terminal(slave: int) -> None:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)


def _fresh_streams() -> None:
    """New ``sys`` streams on the terminal, in UTF-8.

    The inherited ones still describe the server's own streams: reconfiguring
    one that was a log file fails on the terminal ("Illegal seek"), and their
    encoding is the server's locale, not the student's terminal.
    """
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        stream = open(  # noqa: SIM115 - the session's streams, for its whole life
            fd, "r" if fd == 0 else "w", encoding="utf-8", errors="replace", closefd=False
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def run_child(
    header: dict[str, Any],
    fds: list[int],
    lesson: Lesson,
    crowd: tuple[Callable[[], bool], Callable[[], None]] | None = None,
) -> int:  # pragma: no cover
    """Run one session's app on the terminal in ``fds[0]``; returns its exit code.

    ``crowd``: whether other sessions are starting, and what to call once this
    one's first frame is out (see :mod:`bptui.app.startup`). Runs in a forked
    process (the tests reach it through a real ssh session).
    """
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    slave, link_fd = fds[0], (fds[1] if len(fds) > 1 else None)
    _take_terminal(slave)
    if link_fd is not None and link_fd != LINK_FD:
        os.dup2(link_fd, LINK_FD)
    os.closerange(LINK_FD + 1 if link_fd is not None else LINK_FD, os.sysconf("SC_OPEN_MAX"))
    for name, value in session_environment(
        header.get("term", ""), header.get("color", "auto"), header.get("colorterm")
    ).items():
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    # The server's COLUMNS and LINES (exported by the teacher's shell, or a test
    # runner) would override the student's own window size: Textual reads the
    # size through shutil.get_terminal_size(), which prefers them.
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)
    _fresh_streams()
    from textual import constants

    constants.COLOR_SYSTEM = "auto"  # type: ignore[misc]  # read from TERM/COLORTERM above
    from ..app import handout
    from ..app.classlink import ClassLink
    from ..app.keymap import ENGINE_LABELS
    from ..app.main import BptuiApp
    from ..app.settings import Settings
    from ..app.signals import exit_on_signals
    from ..i18n import set_language
    from ..lesson.engine import Stepper
    from . import stylesheet

    link = None
    if link_fd is not None:
        link = ClassLink(socket.socket(fileno=LINK_FD), header.get("role", "student"))
    settings = Settings.from_header(header.get("settings", {}))
    set_language(settings.language)  # the student's, before the lesson says a word
    app = BptuiApp(lesson, Stepper(lesson, labels=ENGINE_LABELS), settings, link=link)
    # A student's x and X would write on the server: they say so instead. The
    # teacher's machine is the server: theirs write there (with the class's results).
    app.served = header.get("role") != "teacher"
    if header.get("browser") is True:  # ...or, in a browser, hand the file to the page
        handout.to_browser(app)
    stylesheet.share(app)
    if link is not None:
        try:
            hello = link.hello()
        except (OSError, ConnectionError, ValueError):
            return 1
        app.session.replay(hello.log)
    # The server ends a session with SIGTERM (the class is over, an idle
    # timeout): the app leaves the normal way, restoring the student's terminal.
    exit_on_signals(app)
    if crowd is not None:
        from ..app import startup

        startup.install(*crowd)
    app.run()
    return app.return_code or 0
