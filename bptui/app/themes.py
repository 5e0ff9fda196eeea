"""The app's colour theme: ``--theme`` at start, ``T`` to cycle dark → light → projector.

A theme is two things put on together: Textual's theme for the screen, and a
Rich theme of styles by role for the panels (see :mod:`.palette`); the panels
repaint. With NO_COLOR, colours are taken out altogether (:class:`NoColour`).
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.theme import Theme as RichTheme
from textual.app import App
from textual.color import Color
from textual.filter import LineFilter, Monochrome

from ..i18n import _
from ..lesson.snapshot import Kind, Message
from . import palette


class NoColour(LineFilter):
    """Every colour taken out of the styles (no-color.org: no colour codes at all);
    bold, underline, italic and reverse stay. Textual's own NO_COLOR filter turns
    colours into greys, which are still colour codes."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            Segment(text, None if style is None else style.without_color, control)
            for text, style, control in segments
        ]


def refuse_colour(filters: list[LineFilter]) -> None:
    """With NO_COLOR: :class:`NoColour` in place of Textual's greys."""
    for i, line_filter in enumerate(filters):
        if isinstance(line_filter, Monochrome):
            filters[i] = NoColour()


class Themes:
    """The theme an app shows, and the key that cycles it."""

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        #: The theme on now (one of :data:`.palette.THEMES`); None before the app is mounted.
        self.name: str | None = None
        self._rich_theme: RichTheme | None = None

    @property
    def colourless(self) -> bool:
        """No colour to tell things apart: NO_COLOR, or a terminal without colours."""
        return bool(self._app.no_color) or self._app.console.color_system is None

    def apply(self, name: str) -> None:
        """Show ``name``'s colours and styles; the panels repaint."""
        app = self._app
        textual = palette.TEXTUAL_THEMES[name]
        if textual.name not in app.available_themes:
            app.register_theme(textual)
        app.theme = textual.name
        if self._rich_theme is not None:
            app.console.pop_theme()
        self._rich_theme = RichTheme(palette.styles(name, self.colourless))
        app.console.push_theme(self._rich_theme)
        # Every theme has its own background, so every panel's lines are painted
        # again with the new styles (LinePanel keeps a line's strip per background).
        self.name = name

    def cycle(self) -> Message:
        """T: the next theme; what the message line says."""
        name = palette.next_theme(self.name or palette.DEFAULT)
        self.apply(name)
        text = _("Theme: {theme} (T cycles dark, light, projector).").format(
            theme=palette.theme_word(name)
        )
        return Message(Kind.STEP, text)
