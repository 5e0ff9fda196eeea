"""A session's start in a crowd: the lesson first, the plot and the footer once the class is in.

When a whole class joins ``bptui serve`` at once, every session's app competes
for the same few cores. What a student waits for is the first frame, with the
lesson's numbers; the loss plot and the footer's keys cost about as much again
and can follow. The server installs two hooks here (see
:mod:`bptui.serve.zygote`): one that says whether other sessions are still
drawing their first frame, and one told when this app's first frame is out.
While others are starting, the app puts its first plot and its footer off,
checking again every :data:`POLL` seconds and for at most :data:`MAX_WAIT`
seconds from its start. A standalone app installs nothing and puts nothing off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

#: Seconds between two looks at the other sessions.
POLL = 0.25
#: The longest a session puts its plot and footer off, from its start.
MAX_WAIT = 8.0

_others_starting: Callable[[], bool] | None = None
_on_first_frame: Callable[[], None] | None = None
_since = 0.0


def install(others_starting: Callable[[], bool], on_first_frame: Callable[[], None]) -> None:
    """Join a crowd: ``others_starting()`` says whether to wait, ``on_first_frame()``
    is called once this app's first frame has been handed to the terminal."""
    global _others_starting, _on_first_frame, _since
    _others_starting, _on_first_frame, _since = others_starting, on_first_frame, time.monotonic()


def first_frame_out() -> None:
    """The app's first frame is on its way to the terminal (later calls do nothing)."""
    global _on_first_frame
    hook, _on_first_frame = _on_first_frame, None
    if hook is not None:
        hook()


def waiting() -> bool:
    """Whether work that can wait should: this app's first frame, or another's, is not out."""
    if _others_starting is None or time.monotonic() - _since >= MAX_WAIT:
        return False
    return _on_first_frame is not None or _others_starting()


def put_off(widget: Any, callback: Callable[[], object]) -> bool:
    """If :func:`waiting`, call ``callback`` again after :data:`POLL` seconds (a timer of
    ``widget``'s) and return True; else return False and let the caller go on."""
    if not waiting():
        return False
    widget.set_timer(POLL, callback)
    return True
