"""The teacher's class view (``C``): who is in the class, who follows, who is lost.

The server sends the teacher's app a roster every two seconds (kept by the
class link): every student's name, address, whether they follow (and an
explorer's step), how long since their last key, their score in class
questions (right of asked). This screen lists it over the lesson, explorers
first, then the longest idle, and updates it as rosters arrive. ``b`` calls every explorer back to following;
``esc`` (or ``C``) closes it.

Student names come from the network: the server keeps only printable
characters, and they are shown as plain text, never as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ...classroom.protocol import Roster, Seat
from ...i18n import N_, _, ngettext

if TYPE_CHECKING:
    from ..classlink import ClassLink

#: A student idle longer than this is counted apart (they may be lost).
IDLE = 120


def idle_text(seconds: int) -> str:
    """An idle time as a person reads it: ``12 s``, ``3 min``, ``2 h``."""
    if seconds < 60:
        return _("{n} s").format(n=seconds)
    if seconds < 3600:
        return _("{n} min").format(n=seconds // 60)
    return _("{n} h").format(n=seconds // 3600)


def counts(roster: Roster) -> str:
    """The line above the list: ``following 31 · exploring 6 · idle > 2 min 3``."""
    following = sum(1 for s in roster.seats if s.following)
    idle = sum(1 for s in roster.seats if s.idle > IDLE)
    return _("following {f} · exploring {e} · idle > 2 min {i}").format(
        f=following, e=len(roster.seats) - following, i=idle
    )


def ordered(roster: Roster) -> list[Seat]:
    """Explorers first (the teacher may call them back), then the longest idle."""
    return sorted(roster.seats, key=lambda s: (s.following, -s.idle, s.name, s.address))


class ClassView(ModalScreen[None]):
    """Every student connected, refreshed as the server's rosters arrive."""

    DEFAULT_CSS = """
    ClassView { align: center middle; }
    ClassView > #class-box {
        width: 100%; height: 100%; max-width: 100; border: round $accent;
        background: $surface; padding: 0 1;
    }
    ClassView #class-counts { height: 1; text-style: bold; }
    ClassView #class-hint { height: 1; color: $text-muted; }
    ClassView DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape,C", "close", N_("Close")),
        Binding("b", "recall", N_("Bring back")),
    ]

    def __init__(self, link: ClassLink) -> None:
        super().__init__()
        self.link = link
        self.roster = link.roster

    def compose(self) -> ComposeResult:
        from textual.containers import Vertical

        with Vertical(id="class-box"):
            yield Static(id="class-counts")
            yield Static(
                _("b brings every explorer back to following · esc closes"), id="class-hint"
            )
            table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns(_("student"), _("from"), _("state"), _("idle"), _("score"))
            yield table

    def on_mount(self) -> None:
        self.show(self.roster)
        self.set_interval(0.5, self._refresh)

    def _refresh(self) -> None:
        """A new roster from the server (the link keeps the latest): draw it."""
        if self.link.roster is not self.roster:
            self.show(self.link.roster)

    def show(self, roster: Roster) -> None:
        """Draw ``roster`` (the server sends a new one every two seconds)."""
        self.roster = roster
        self.query_one("#class-counts", Static).update(Text(counts(roster)))
        table: DataTable[Text] = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for seat in ordered(roster):
            state = _("following") if seat.following else _("exploring")
            if not seat.following and seat.step is not None:
                # Training steps done, as ":" counts them (not micro-steps).
                state = ngettext(
                    "exploring, {n} step done", "exploring, {n} steps done", seat.step
                ).format(n=f"{seat.step:,}")
            table.add_row(
                Text(seat.name),  # plain text: a name is never read as markup
                Text(seat.address),
                Text(state, style="" if seat.following else "bold"),
                Text(idle_text(seat.idle), style="bold" if seat.idle > IDLE else ""),
                Text(f"{seat.right}/{seat.asked}" if seat.asked else "–"),
            )
        if roster.seats:
            table.move_cursor(row=min(row, len(roster.seats) - 1))
        else:
            table.add_row(Text(_("No students yet.")), *(Text("") for _column in range(4)))

    def action_recall(self) -> None:
        self.link.recall()
        self.notify(_("Every explorer was called back to following you."))

    def action_close(self) -> None:
        self.dismiss(None)
