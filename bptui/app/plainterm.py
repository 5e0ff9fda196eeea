"""ASCII mode in the app: what Textual draws itself, and the last safety net.

The panels spell their own text in ASCII where they make it (see
:mod:`bptui.glyphs`). What is left is Textual's: the boxes' borders (``App.-ascii``
rules in ``app.tcss``), the footer's key names (``←`` → ``left``), the
scrollbars' partial blocks, Markdown's bullets (``help.py``). Whatever still
slips through is caught where the driver writes: :class:`SafetyNet` replaces
each character that is not 7-bit ASCII, cell for cell, and counts it. The
tests walk every lesson's screens and check that it never has to act.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from textual.app import App
from textual.drivers.headless_driver import HeadlessDriver
from textual.scrollbar import ScrollBar, ScrollBarRender

from .. import glyphs
from ..lesson.snapshot import Kind, Message

if TYPE_CHECKING:
    from textual.driver import Driver

    from .settings import Settings

#: The note shown at the start when ASCII mode overrides a language that is not English
#: (not translated: it is only ever shown in ASCII mode, which speaks English).
ENGLISH_ONLY = "ASCII mode: bptui speaks English here (Chinese needs a UTF-8 terminal)."


class SafetyNet:
    """The characters replaced on their way to the terminal (none, on a normal screen)."""

    def __init__(self) -> None:
        #: How many characters were replaced, and which.
        self.replaced = 0
        self.seen: set[str] = set()

    def clean(self, data: str) -> str:
        """``data`` in 7-bit ASCII, each other character replaced by as many cells of ``?``
        (or of its ASCII spelling when that is as wide), so the screen keeps its layout."""
        if data.isascii():
            return data
        out = []
        for ch in data:
            if ch.isascii():
                out.append(ch)
                continue
            width = cell_len(ch)
            spelled = glyphs.to_ascii(ch)
            out.append(spelled if len(spelled) == width else "?" * width)
            self.replaced += 1
            self.seen.add(ch)
        return "".join(out)


#: The app's safety net (one app per process; the tests read it).
NET = SafetyNet()


def ascii_driver(base: type[Driver]) -> type[Driver]:
    """``base`` with its writes passed through :data:`NET`."""
    if issubclass(base, HeadlessDriver):
        return base

    class AsciiDriver(base):  # type: ignore[valid-type,misc]
        def write(self, data: str) -> None:
            super().write(NET.clean(data))

    AsciiDriver.__name__ = AsciiDriver.__qualname__ = f"Ascii{base.__name__}"
    return AsciiDriver


class _AsciiBars(ScrollBarRender):
    """A scrollbar whose thumb is whole cells (no partial blocks)."""

    VERTICAL_BARS = [" "] * 8
    HORIZONTAL_BARS = [" "] * 8


class PlainScrollBarRender(ScrollBarRender):
    """Textual's scrollbar, drawn with whole cells in ASCII mode."""

    @classmethod
    def render_bar(cls, *args: Any, **kwargs: Any) -> Any:
        if glyphs.ascii_only():
            return _AsciiBars.render_bar(*args, **kwargs)
        return super().render_bar(*args, **kwargs)


def plain_terminal(app: App[Any], settings: Settings) -> Message | None:
    """Take ASCII mode on or off from the settings (called once they are known); the
    note to show at the start, if any."""
    on = settings.ascii_only
    glyphs.set_ascii(on)
    if not on:
        return None
    app.add_class("-ascii")
    app.driver_class = ascii_driver(app.driver_class)
    ScrollBar.renderer = PlainScrollBarRender  # the same drawing outside ASCII mode
    if settings.language != "en":
        return Message(Kind.STEP, ENGLISH_ONLY)  # no _(): ASCII is English
    return None
