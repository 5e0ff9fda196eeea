"""Signals that end the app: SIGTERM and SIGHUP leave as ``q`` does.

The default action of either killed the process mid-screen, leaving the
terminal in the alternate screen with the cursor hidden and mouse reporting on.
A terminal that goes away without a SIGHUP (one that was not the process's
controlling terminal) ends the app too: Textual's input thread reads end of
file over and over, and the app spun at full CPU, drawing for no one.
"""

from __future__ import annotations

from typing import Any

from textual.app import App


def exit_on_signals(app: App[Any]) -> None:
    """SIGTERM and SIGHUP end ``app`` the way ``q`` does, so the terminal gets its
    screen, cursor and mouse back (the default action killed the process mid-screen).

    The exit code is 128 + the signal's number, as a shell reports a killed process.
    """
    import asyncio
    import os
    import signal

    def leave(signum: int, _frame: object) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not running yet, or already done
            os._exit(128 + signum)
        loop.call_soon_threadsafe(lambda: app.exit(None, 128 + signum))

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, leave)
    _hang_up_with_the_terminal()


def _hang_up_with_the_terminal() -> None:
    """A thread that waits, without reading a key, for the terminal on stdin to hang
    up, and then sends this process the SIGHUP a controlling terminal would have."""
    import os
    import select
    import signal
    import threading

    if not os.isatty(0):
        return

    def wait() -> None:
        watch = select.poll()
        watch.register(0, 0)  # no events asked: hang-ups and errors only
        while True:
            try:
                events = watch.poll()
            except InterruptedError:
                continue
            for _fd, event in events:
                if event & select.POLLNVAL:
                    return  # stdin closed by the process itself: nothing to watch
                if event & (select.POLLHUP | select.POLLERR):
                    os.kill(os.getpid(), signal.SIGHUP)
                    return

    threading.Thread(target=wait, name="terminal hang-up", daemon=True).start()
