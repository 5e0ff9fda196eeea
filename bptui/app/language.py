"""``L``: English ↔ 中文 while the lesson runs.

The app starts in the session's language (``Settings.language``: ``--lang`` or the
locale). ``L`` switches to the next one at once: every panel's lines and title,
the status bar, the footer's words and the help redraw in it, and the message line
says so in the new language. What the engine says next is in it too; a sentence
already said stays as it was. In a classroom the language is each person's own:
``L`` is not a command the teacher sends, and a following student may press it.
"""

from __future__ import annotations

from typing import Any

from textual.app import App

from ..i18n import LANGUAGES, _, language
from ..lesson.snapshot import Kind, Message
from .panels.graph import GraphPanel
from .panels.lines import LinePanel
from .panels.message import MessageBar


def switched_message() -> Message:
    """What the message line says after a switch, in the new language."""
    return Message(Kind.STEP, _("Language: {language}").format(language=LANGUAGES[language()]))


def retranslate(app: App[Any], note: Message) -> None:
    """Show every panel and the message line (``note``) in the language spoken now."""
    for panel in app.query(LinePanel):
        panel.retranslate()
    for graph in app.query(GraphPanel):
        graph.follow()  # its box's title
    for message in app.query(MessageBar):
        message.show(note)  # also before the engine is ready
