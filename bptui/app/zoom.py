"""``v``: the plot enlarged, then the graph enlarged, then the usual layout again.

At 80×24 the usual layout gives the plot three to five rows; enlarged it gets
every row but the status, message and footer lines, and the full width. The
layout is a class on the screen (see ``app.tcss``), so the panels keep their
state and only their sizes change.
"""

from __future__ import annotations

from textual.screen import Screen

#: The screen's class for each layout, in the order ``v`` goes through them.
ZOOMS = ("", "-plot-big", "-graph-big")


def cycle_zoom(screen: Screen[object]) -> str:
    """Switch ``screen`` to the next layout; returns its class ("" for the usual one)."""
    now = next((zoom for zoom in ZOOMS[1:] if screen.has_class(zoom)), "")
    after = ZOOMS[(ZOOMS.index(now) + 1) % len(ZOOMS)]
    for zoom in ZOOMS[1:]:
        screen.set_class(zoom == after, zoom)
    return after
