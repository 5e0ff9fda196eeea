"""The app in every room: its colour theme (``--theme``, ``T``) and ``--narrate FILE``.

:class:`ThemeKeys` puts the theme on at start and ``T`` cycles it: Textual's
theme for the screen, a Rich theme of styles by role for the panels (see
:mod:`.palette`), and the panels repaint. :class:`NarratedApp` writes a plain
line for every key that steps the lesson to the narration file (see :mod:`.narrate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from rich.theme import Theme as RichTheme
from textual import events, on
from textual.app import App
from textual.color import Color
from textual.filter import LineFilter, Monochrome

from ..classroom.protocol import Jump, Step
from ..i18n import _
from ..lesson.snapshot import Kind, Message, Snapshot
from . import palette
from .jump import TravelApp
from .message import MessageBar
from .narrate import SAID_EACH, Narrator, command_lines, step_line

if TYPE_CHECKING:
    from ..classroom.protocol import Command
    from ..lesson.engine import Stepper


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
        if self.no_color:
            refuse_colour(self._filters)
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
    """With ``--narrate FILE``: a line for each micro-step the lesson takes, appended to FILE.

    The engine calls back after every micro-step (:attr:`StepMachine.after_step
    <bptui.lesson.machine.StepMachine.after_step>`), so the keys that step (one
    micro-step or many, and autoplay) get a line for each. Undo and the jumps
    replay micro-steps to get where they go: those are kept quiet, and the key gets
    one line, from the snapshots before and after it (see :func:`.narrate.command_lines`).
    """

    settings: Any
    _narrator: Narrator | None = None
    #: The lesson as the last line left it (what an undo takes back).
    _narrated: Snapshot | None = None
    #: Micro-steps being replayed (undo, a jump): not said one by one.
    _quiet = False
    #: Lines said by the engine's call-backs during the current command.
    _said = 0

    def _narrate(self, stepper: Stepper) -> None:
        """Say every micro-step ``stepper`` takes from now on (with ``--narrate``)."""
        if self.settings.narrate is None:
            return
        self._narrated = stepper.snapshot()
        stepper.after_step = self._micro_step_taken

    def _micro_step_taken(self) -> None:
        if self._quiet or self.stepper is None:
            return
        snap = self._narrated = self.stepper.snapshot()
        line = step_line(snap)
        if line is not None:
            self._said += 1
            self._write([line])

    def _write(self, lines: list[str]) -> None:
        if self._narrator is None:
            self._narrator = Narrator(self.settings.narrate)
        problem = self._narrator.write(lines)
        if problem is not None:
            self._note = Message(Kind.REFUSED, problem)

    def apply_command(self, command: Command) -> None:
        stepper = self.stepper
        if self.settings.narrate is None or stepper is None:
            super().apply_command(command)
            return
        before = self._narrated or stepper.snapshot()
        action = (
            command.action
            if isinstance(command, Step)
            else "jump"
            if isinstance(command, Jump)
            else "edit"
        )
        self._quiet, self._said = action not in SAID_EACH, 0
        try:
            super().apply_command(command)
        finally:
            self._quiet = False
        after = self._narrated = stepper.snapshot()
        if not self._said:  # an undo, a jump, a mode, an edit, a refusal
            self._write(command_lines(action, before, after))

    @on(events.Unmount)
    def _close_narration(self) -> None:
        if self._narrator is not None:
            self._narrator.close()
