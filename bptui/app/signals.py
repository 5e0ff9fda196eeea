"""Signals that end the app: SIGTERM and SIGHUP leave as ``q`` does.

The default action of either killed the process mid-screen, leaving the
terminal in the alternate screen with the cursor hidden and mouse reporting on.
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
