"""Keys typed while something opens are kept, and run in order once it is open.

On a busy machine the first frame can take seconds (PyTorch loading) and a screen
such as the help a second or more. A key typed meanwhile is neither lost (`:299`
typed while PyTorch loads) nor sent where it makes no sense (a second `?` to a help
screen not yet drawn, which would close it unseen): the app holds every key but
quit, and posts them again, in order, when the lesson is drawn or the screen is
open and drawn.

A key already on its way to a screen when another opens (Textual forwards a key
to the screen, and the app's bindings see it only when it comes back) comes back
unused: it is sent again, to the screen now open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from textual import events
from textual.app import App
from textual.screen import Screen

#: Keys that act at once even while keys are held.
QUIT_AT_ONCE = frozenset({"q", "ctrl+c", "ctrl+q"})


class KeyHold(App[int]):
    """Holding keys while the lesson loads or a screen opens."""

    #: Why keys are held now (``lesson``, ``screen``); none: keys run as they come.
    _holding: set[str]
    _held: list[events.Key]

    #: The screen each key was forwarded to.
    _sent_to: WeakKeyDictionary[events.Key, Screen[Any]]

    def hold_keys(self, reason: str) -> None:
        self._keys_kept()
        self._holding.add(reason)

    def _keys_kept(self) -> None:
        if not hasattr(self, "_holding"):
            self._holding, self._held, self._sent_to = set(), [], WeakKeyDictionary()

    def release_keys(self, reason: str) -> None:
        """``reason`` is over: when nothing else holds them, the kept keys run, in order."""
        if not getattr(self, "_holding", None) or reason not in self._holding:
            return
        self._holding.discard(reason)
        if self._holding:
            return
        held, self._held = self._held, []
        for event in held:
            self.post_message(event)

    def holding_keys(self) -> bool:
        return bool(getattr(self, "_holding", None))

    async def on_event(self, event: events.Event) -> None:
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and event.key not in QUIT_AT_ONCE
            and self.holding_keys()
        ):
            self._held.append(event)
            return
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._keys_kept()
            self._sent_to[event] = self.screen
        await super().on_event(event)

    async def _on_key(self, event: events.Key) -> None:
        """A key back from a screen that another has replaced since (before the app's
        bindings see it): it was typed for the screen now open, so it goes there."""
        sent = self._sent_to.pop(event, None) if hasattr(self, "_sent_to") else None
        if sent is not None and sent is not self.screen:
            event.prevent_default()
            event.stop()
            again = events.Key(event.key, event.character)
            again.time = event.time  # when it was typed (see help.py)
            self.post_message(again)

    def open_screen(
        self, screen: Screen[Any], callback: Callable[[Any], None] | None = None
    ) -> None:
        """Push ``screen``; the keys typed until it is mounted and drawn go to it after."""
        self.hold_keys("screen")
        mounted = self.push_screen(screen, callback)

        async def opened() -> None:
            try:
                await mounted
            finally:
                self.call_after_refresh(self.release_keys, "screen")

        self.run_worker(opened(), group="open-screen")
