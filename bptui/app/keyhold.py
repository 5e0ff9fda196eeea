"""Keys typed while something opens are kept, and run in order once it is open.

On a busy machine the first frame can take seconds (PyTorch loading) and a screen
such as the help a second or more. A key typed meanwhile is neither lost (`:299`
typed while PyTorch loads) nor sent where it makes no sense (a second `?` to a help
screen not yet drawn, which would close it unseen): the app holds every key but
quit, and posts them again, in order, when the lesson is drawn or the screen is
open and drawn.

The kept keys are sent again one at a time, each once the app and the screen
have handled the one before: `:299` enter `?` typed before the first frame jumps
and then opens the help (sent together, the `?` would reach the step prompt
before its enter had closed it, and land in it). A key that opens a screen keeps
the keys after it for that screen, as keys typed by hand would be.

A key already on its way to a screen when another opens (Textual forwards a key
to the screen, and the app's bindings see it only when it comes back) comes back
unused: it is sent again, to the screen now open. So is one on its way when the
quiz's prompt opens (space 1 enter in one burst: the 1 is the answer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary, WeakSet

from textual import events
from textual.app import App
from textual.screen import Screen

#: Keys that act at once even while keys are held.
QUIT_AT_ONCE = frozenset({"q", "ctrl+c", "ctrl+q"})

#: How many times, after a kept key is sent again, the app and the screen's widgets
#: empty their queues before the next: the key, what its handler posts (an input's
#: submission), and what that does (the prompt's screen closing).
SETTLE_ROUNDS = 3


class KeyHold:
    """Holding an app's keys while the lesson loads or a screen opens.

    The app hands it every event first (:meth:`held`) and every key that comes
    back unused (:meth:`came_back`), and opens its screens through :meth:`open_screen`.
    """

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        #: Why keys are held now (``lesson``, ``screen``); none: keys run as they come.
        self._holding: set[str] = set()
        self._held: list[events.Key] = []
        #: The screen each key was forwarded to.
        self._sent_to: WeakKeyDictionary[events.Key, Screen[Any]] = WeakKeyDictionary()
        #: Kept keys being sent again: not kept a second time.
        self._replayed: WeakSet[events.Key] = WeakSet()

    def hold(self, reason: str) -> None:
        self._holding.add(reason)

    def release(self, reason: str) -> None:
        """``reason`` is over: when nothing else holds them, the kept keys run, in order."""
        if reason not in self._holding:
            return
        self._holding.discard(reason)
        if self._holding:
            return
        self._replay_kept()

    def _replay_kept(self) -> None:
        if self._held and not self._holding:
            self._holding.add("replay")  # keys typed meanwhile come after these
            self._app.run_worker(self._replay(), group="replay-keys")

    async def _replay(self) -> None:
        """Send the kept keys again, in order, each once the one before is handled; a
        screen opened meanwhile keeps the rest until it is open."""
        while self._held and self._holding == {"replay"}:
            event = self._held.pop(0)
            self._replayed.add(event)
            self._app.post_message(event)
            for _round in range(SETTLE_ROUNDS):
                await self._settled()
        self._holding.discard("replay")  # what holds the rest now replays them

    async def _settled(self) -> None:
        """Every message the app and the current screen's widgets hold now is handled."""
        app = self._app
        pumps = [app, *app.screen.walk_children(with_self=True)]
        waits = []
        for pump in pumps:
            done = asyncio.Event()
            if pump.call_later(done.set):
                waits.append(done.wait())
        await asyncio.gather(*waits)

    def holding(self) -> bool:
        return bool(self._holding)

    def held(self, event: events.Event) -> bool:
        """True: ``event`` is a key kept for later; else the app handles it now."""
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and event.key not in QUIT_AT_ONCE
            and self.holding()
            and event not in self._replayed
        ):
            self._held.append(event)
            return True
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._sent_to[event] = self._app.screen
        return False

    def came_back(self, event: events.Key) -> bool:
        """A key back from a screen that another has replaced since, or while something
        opens (before the app's bindings see it): it was typed for what is opening,
        so it goes there once it is open."""
        app = self._app
        sent = self._sent_to.pop(event, None)
        opening = self._holding - {"replay"}
        if sent is None or (sent is app.screen and not opening):
            return False
        event.prevent_default()
        event.stop()
        again = events.Key(event.key, event.character)
        again.time = event.time  # when it was typed (see help.py)
        self._held.append(again)  # after the keys before it, as they come back in order
        self._replay_kept()
        return True

    def open_screen(
        self, screen: Screen[Any], callback: Callable[[Any], None] | None = None
    ) -> None:
        """Push ``screen``; the keys typed until it is mounted and drawn go to it after."""
        app = self._app
        self.hold("screen")
        mounted = app.push_screen(screen, callback)

        async def opened() -> None:
            try:
                await mounted
            finally:
                app.call_after_refresh(self.release, "screen")

        app.run_worker(opened(), group="open-screen")
