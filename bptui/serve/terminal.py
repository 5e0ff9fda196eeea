"""What a student's terminal has been switched into, and how to switch it back.

A session's app puts the student's terminal into the alternate screen, hides
the cursor and turns mouse reports on; it undoes all of it when it ends. An
app that is killed (``kill -9``, out of memory) cannot, and the student is
left with a frozen picture, no cursor and mouse noise at the prompt. The
server watches the app's output for the alternate screen going on and off, and
when an app ends still in it, writes what the app would have written.
"""

from __future__ import annotations

_ALTERNATE_ON = b"\x1b[?1049h"
_ALTERNATE_OFF = b"\x1b[?1049l"

#: Mouse reports off (every mode Textual turns on), focus reports and bracketed
#: paste off, the keyboard protocol popped, colours reset, the cursor shown, and
#: back to the normal screen: what Textual writes when it stops.
RESTORE = (
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l"
    b"\x1b[?1004l\x1b[?2004l\x1b[<u\x1b[0m\x1b[?25h" + _ALTERNATE_OFF
)


class Screen:
    """Whether the app's output has left the student's terminal in the alternate screen."""

    def __init__(self) -> None:
        self.alternate = False
        self._tail = b""  # a switch may be cut in two between reads

    def saw(self, data: bytes) -> None:
        """The app wrote ``data`` to the student."""
        seen = self._tail + data
        on, off = seen.rfind(_ALTERNATE_ON), seen.rfind(_ALTERNATE_OFF)
        if on != off:  # equal only when neither is there
            self.alternate = on > off
        self._tail = seen[-(len(_ALTERNATE_ON) - 1) :]
