"""The message line: what the last step did, and the engine's teaching moments."""

from __future__ import annotations

from rich.text import Text

from ...glyphs import shown
from ...lesson.snapshot import Kind, Message
from ..palette import NARRATION
from ..wrapping import wrap
from .lines import LinePanel

#: Rows the bar always keeps (its CSS min-height), so a one-line message and a
#: two-line one take the same room and the screen does not relayout between them.
MIN_ROWS = 2


class MessageBar(LinePanel):
    """Narration in plain text; teaching moments, refusals and divergence stand out.

    The CSS classes ``-teach``, ``-refused`` and ``-diverged`` colour the bar so a
    student at the back of the room sees that something worth a look happened.
    After a plain step's message comes the lesson file's ``[narration]`` line for
    the step's phase, in italics; a teaching moment, a refusal or divergence is
    shown alone.
    """

    _shown: Message | None = None
    _narration: str | None = None

    def show(self, message: Message | None, narration: str | None = None) -> None:
        if message is None or message.kind is not Kind.STEP:
            narration = None
        if message == self._shown and narration == self._narration and self._shown is not None:
            return
        self._shown = message
        self._narration = narration
        for kind in Kind:
            self.set_class(message is not None and message.kind is kind, f"-{kind.value}")
        self.redraw()

    @property
    def text(self) -> str:
        """The message on the bar ("" when there is none)."""
        return self._shown.text if self._shown else ""

    def build(self, width: int) -> list[Text]:
        text = Text(shown(self.text))  # ASCII mode: before wrapping measures it
        if self._narration:
            text.append("  " if self.text else "")
            text.append(shown(self._narration), NARRATION)
        lines = list(wrap(self.app.console, text, max(width, 1))) if text else []
        lines += [Text() for _ in range(MIN_ROWS - len(lines))]
        return lines
