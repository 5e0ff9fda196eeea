"""How a session looks and speaks: chosen on the command line for ``bptui``, and by
``bptui serve`` for each student (passed to the session's process in its header).

Plain data only (no Textual), so the command line and the server can build it
without loading the app. Each field has the default a plain ``bptui`` uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

#: The colour themes (see palette.py), in the order ``T`` cycles them.
THEMES = ("dark", "light", "projector")


@dataclass(frozen=True)
class Settings:
    """One session's display settings."""

    #: Every byte written is 7-bit ASCII (box drawing, ∂, ŷ, … spelled in ASCII).
    ascii_only: bool = False
    #: The language spoken (a key of :data:`bptui.i18n.LANGUAGES`); ``L`` switches live.
    language: str = "en"
    #: The colour theme: ``dark``, ``light`` or ``projector``; ``T`` cycles live.
    theme: str = "dark"
    #: Predict-then-reveal: ask for each value before a step shows it; ``Q`` toggles.
    quiz: bool = False
    #: A file that gets one plain-words line per micro-step (screen readers, notes).
    narrate: str | None = None

    def to_header(self) -> dict[str, Any]:
        """As plain JSON values, for a classroom session's header."""
        return asdict(self)

    @classmethod
    def from_header(cls, data: Mapping[str, Any]) -> Settings:
        """Back from :meth:`to_header` (fields it does not name keep their defaults)."""
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})
