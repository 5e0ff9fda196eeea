"""``o``: the lesson picker, over the lesson.

It lists the lessons this app can open (:class:`~bptui.lesson.shelf.Shelf`): the
one bptui was started with, when it is a file or a built-in with other values,
then the built-in lessons, each by its title in the language spoken and the
start of its description. ``↑`` ``↓`` choose, ``enter`` opens, ``esc`` closes
without a change. The screen only chooses: it dismisses with the lesson's name,
and the session opens it from its start (and, for a teacher, for the class).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ... import glyphs
from ...i18n import N_, _
from ...lesson import words
from ...lesson.shelf import STARTED, Shelf, Shelved
from ...lesson.spec import Lesson


def _line(text: Text, width: int) -> Text:
    """``text`` cut to one line of ``width`` cells (an option list wraps its rows)."""
    text.truncate(width, overflow="crop" if glyphs.ascii_only() else "ellipsis")
    return text


def prompt(shelved: Shelved, current: bool, width: int) -> Text:
    """One lesson's row: its title (marked if it is open now), then one line of its
    description, each cut to ``width`` cells."""
    title = Text(glyphs.shown(words.title(shelved.lesson)), style="bold")
    if shelved.name == STARTED:
        title.append("  " + _("(started with)"), style="italic")
    if current:
        title.append("  " + _("(open now)"), style="italic")
    description = " ".join(words.description(shelved.lesson).split())
    said = Text(glyphs.shown(description or words.title(shelved.lesson)), style="dim")
    return Text("\n").join((_line(title, width), _line(said, width)))


class LessonPicker(ModalScreen[str | None]):
    """The lessons to choose from; dismissed with the chosen one's name, or None."""

    DEFAULT_CSS = """
    LessonPicker { align: center middle; }
    LessonPicker > #lessons-box {
        width: 100%; height: 100%; max-width: 100; border: round $accent;
        background: $surface; padding: 0 1;
    }
    LessonPicker #lessons-hint { height: auto; color: $text-muted; }
    LessonPicker OptionList, LessonPicker OptionList:focus { height: 1fr; border: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,o", "close", N_("Close"))]

    def __init__(self, shelf: Shelf, current: Lesson) -> None:
        super().__init__()
        self.choices = shelf.lessons()
        #: The lesson open now: marked, and where the cursor starts.
        self.current = shelf.name_of(current)

    def compose(self) -> ComposeResult:
        with Vertical(id="lessons-box"):
            yield Static(
                glyphs.shown(
                    _("Open a lesson from its start: ↑ ↓ choose · enter opens · esc closes")
                ),
                id="lessons-hint",
            )
            # The box's inside: at most 100 columns, less its border, padding and
            # the list's scrollbar.
            width = max(10, min(self.app.size.width, 100) - 6)
            options = [Option(prompt(c, c.name == self.current, width)) for c in self.choices]
            yield OptionList(*options)

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        names = [c.name for c in self.choices]
        option_list.highlighted = names.index(self.current) if self.current in names else 0
        option_list.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[event.option_index].name)

    def action_close(self) -> None:
        self.dismiss(None)
