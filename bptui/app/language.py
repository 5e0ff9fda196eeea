"""``L``: English ↔ 中文 while the lesson runs.

The app starts in the session's language (``Settings.language``: ``--lang`` or the
locale). ``L`` switches to the next one at once: every panel's lines and title,
the status bar, the footer's words and the help redraw in it, and the message line
says so in the new language. What the engine says next is in it too; a sentence
already said stays as it was. In a classroom the language is each person's own:
``L`` is not a command the teacher sends, and a following student may press it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App

from ..i18n import LANGUAGES, _, language, next_language, set_language
from ..lesson.snapshot import Kind, Message
from .graph import GraphPanel
from .lines import LinePanel
from .message import MessageBar


def switched_message() -> Message:
    """What the message line says after a switch, in the new language."""
    return Message(Kind.STEP, _("Language: {language}").format(language=LANGUAGES[language()]))


class LanguageKeys(App[int]):
    """The app's language key; the rest of the app is :class:`~bptui.app.main.BptuiApp`."""

    _note: Message | None

    if TYPE_CHECKING:  # given by the app

        def _schedule_render(self) -> None: ...
        def _check_size(self, width: int | None = None, height: int | None = None) -> None: ...

    def action_switch_language(self) -> None:
        """L: speak the next language (personal: nothing is sent to a class)."""
        set_language(next_language())
        self.retranslate()

    def retranslate(self) -> None:
        """Show every panel, the footer and any open help in the language spoken now."""
        # A note until the next step replaces it, as the classroom's are.
        self._note = switched_message()
        for panel in self.query(LinePanel):
            panel.retranslate()
        for graph in self.query(GraphPanel):
            graph.follow()  # its box's title
        for message in self.query(MessageBar):
            message.show(self._note)  # also before the engine is ready
        self._check_size()  # the too-small notice
        self.refresh_bindings()  # the footer's words
        self._schedule_render()
