"""The message line: what the last step did, and the engine's teaching moments."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..lesson.snapshot import Kind, Message


class MessageBar(Static):
    """Narration in plain text; teaching moments, refusals and divergence stand out.

    The CSS classes ``-teach``, ``-refused`` and ``-diverged`` colour the bar so a
    student at the back of the room sees that something worth a look happened.
    """

    _shown: Message | None = None

    def show(self, message: Message | None) -> None:
        if message == self._shown and self._shown is not None:
            return
        old = self._shown.text if self._shown else ""
        self._shown = message
        for kind in Kind:
            self.set_class(message is not None and message.kind is kind, f"-{kind.value}")
        text = message.text if message else ""
        # Relayout only when the text needs another number of rows.
        width = max(self.content_size.width, 1)
        self.update(text, layout=self._rows(text, width) != self._rows(old, width))

    def _rows(self, text: str, width: int) -> int:
        return len(Text(text).wrap(self.app.console, width))
