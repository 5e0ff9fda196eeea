"""The app in every room: its colour theme (``--theme``, ``T``) and ``--narrate FILE``.

:class:`ThemeKeys` puts the theme on at start and ``T`` cycles it: Textual's
theme for the screen, a Rich theme of styles by role for the panels (see
:mod:`.palette`), and the panels repaint. :class:`NarratedApp` writes a plain
line for every key that steps the lesson to the narration file (see :mod:`.narrate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.theme import Theme as RichTheme
from textual import events, on
from textual.app import App

from ..i18n import _
from ..lesson.snapshot import Kind, Message, Snapshot
from . import palette
from .jump import TravelApp
from .message import MessageBar
from .narrate import STEPWISE, Narrator, command_lines, step_line

if TYPE_CHECKING:
    from .classlink import Command


class ThemeKeys(App[int]):
    """``--theme`` at start, ``T`` to cycle dark → light → projector."""

    settings: Any

    #: The theme on now (one of :data:`.palette.THEMES`); None before the app is mounted.
    theme_name: str | None = None
    _rich_theme: RichTheme | None = None

    @property
    def colourless(self) -> bool:
        """No colour to tell things apart: NO_COLOR, or a terminal without colours."""
        return bool(self.no_color) or self.console.color_system is None

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """app.tcss's own variables (``$panel-border``), as the dark theme has them."""
        return dict(palette.VARIABLES)

    @on(events.Mount)
    def _first_theme(self) -> None:
        self.apply_theme(self.settings.theme)

    def apply_theme(self, name: str) -> None:
        """Show ``name``'s colours and styles; the panels repaint."""
        textual = palette.TEXTUAL_THEMES[name]
        if textual.name not in self.available_themes:
            self.register_theme(textual)
        self.theme = textual.name
        if self._rich_theme is not None:
            self.console.pop_theme()
        self._rich_theme = RichTheme(palette.styles(name, self.colourless))
        self.console.push_theme(self._rich_theme)
        # Every theme has its own background, so every panel's lines are painted
        # again with the new styles (LinePanel keeps a line's strip per background).
        self.theme_name = name

    def action_cycle_theme(self) -> None:
        """T: the next theme, said in the message line."""
        name = palette.next_theme(self.theme_name or palette.DEFAULT)
        self.apply_theme(name)
        text = _("Theme: {theme} (T cycles dark, light, projector).").format(
            theme=palette.theme_word(name)
        )
        self.query_one(MessageBar).show(Message(Kind.STEP, text))


class NarratedApp(TravelApp):
    """With ``--narrate FILE``: a line for each key that steps the lesson, appended to FILE."""

    settings: Any
    _narrator: Narrator | None = None
    #: The lesson as the last line left it (what an undo takes back).
    _narrated: Snapshot | None = None

    def apply_command(self, command: Command) -> None:
        stepper = self.stepper
        if self.settings.narrate is None or stepper is None:
            super().apply_command(command)
            return
        before = self._narrated or stepper.snapshot()
        action = command.get("a", "jump" if "jump" in command else "edit")
        steps: list[str | None] = []
        if action in STEPWISE:
            # A line for each of the command's micro-steps, as it takes them.
            stepper.after_step = lambda: steps.append(step_line(stepper.snapshot()))
        try:
            super().apply_command(command)
        finally:
            stepper.after_step = None
        after = self._narrated = stepper.snapshot()
        lines = [line for line in steps if line] or command_lines(action, before, after)
        if self._narrator is None:
            self._narrator = Narrator(self.settings.narrate)
        problem = self._narrator.write(lines)
        if problem is not None:
            self._note = Message(Kind.REFUSED, problem)

    @on(events.Unmount)
    def _close_narration(self) -> None:
        if self._narrator is not None:
            self._narrator.close()
