"""The message line: what the last step did, and the engine's teaching moments."""

from __future__ import annotations

from textual.widgets import Static

from ..lesson.snapshot import Kind, Message


class MessageBar(Static):
    """Narration in plain text; teaching moments, refusals and divergence stand out.

    The CSS classes ``-teach``, ``-refused`` and ``-diverged`` colour the bar so a
    student at the back of the room sees that something worth a look happened.
    """

    def show(self, message: Message | None) -> None:
        for kind in Kind:
            self.set_class(message is not None and message.kind is kind, f"-{kind.value}")
        self.update(message.text if message else "")
