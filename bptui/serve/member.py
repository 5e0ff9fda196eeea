"""What the server keeps of a student who follows in a view group.

A member of a view group (see :mod:`bptui.serve.groups`) has no app of their
own, so their session keeps what an app would: their keys as they are read
(:mod:`.keys`), the keys typed while an app of their own starts, and a class
question on their screen (:mod:`.asking`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from .asking import PromptRow
from .keys import KeyReader


@dataclass
class Following:
    """What a session keeps of a student's keys, notes and questions while they follow."""

    #: A class question on their screen.
    asking: PromptRow
    keys: KeyReader = field(default_factory=KeyReader)
    #: Keys typed while their own app starts (its keyhold keeps them in order).
    pending: bytearray = field(default_factory=bytearray)
    #: Their own app was taken only to explore (``t``): ``t`` again returns them to a group.
    plain: bool = False
    #: Their window's new size takes effect.
    resize: asyncio.TimerHandle | None = None
    #: They pressed q (their screen is restored; nothing went wrong).
    quitting: bool = False
