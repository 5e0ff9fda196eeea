"""What an app's screen shows, read from its compositor the way Textual reads it.

A screen over another (the help, a prompt) draws the one behind it through its
translucent background, and finds it in a context variable that Textual's own
refresh sets (``visible_screen_stack``). A test that renders the compositor from
its own task, where the variable was never set, got the help over a blank screen,
and the lines so rendered were kept in the screen's cache, where the app's next
frame could take them. Every test reads the screen through :func:`screen_strips`.
"""

from __future__ import annotations

from typing import Any

from textual._context import visible_screen_stack
from textual.strip import Strip


def screen_strips(app: Any) -> list[Strip]:
    """The current screen's rows as strips, the screens behind it drawn in."""
    visible_screen_stack.set(app._background_screens)
    strips: list[Strip] = app.screen._compositor.render_strips()
    return strips


def screen_rows(app: Any) -> list[str]:
    """The current screen's rows as text."""
    return [strip.text for strip in screen_strips(app)]
