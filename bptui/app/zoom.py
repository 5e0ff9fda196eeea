"""``v``: the plot enlarged, then the graph, then the chain rule and tensor panels,
then the program, then the usual layout again.

At 80×24 the usual layout gives the plot three to five rows; enlarged it gets
every row but the status, message and footer lines, and the full width. The
layout is a class on the screen (see ``app.tcss``), so the panels keep their
state and only their sizes change. In the enlarged layouts the message line may
take more rows, so a message too long for four is shown whole there. A panel with
rows cut off says so on its last row, and names ``v`` (see ``lines.py``).
"""

from __future__ import annotations

from textual.screen import Screen

from .panels.lines import LinePanel

#: The screen's class for each layout, in the order ``v`` goes through them.
ZOOMS = ("", "-plot-big", "-graph-big", "-middle-big", "-code-big")


def cycle_zoom(screen: Screen[object]) -> str:
    """Switch ``screen`` to the next layout; returns its class ("" for the usual one)."""
    now = next((zoom for zoom in ZOOMS[1:] if screen.has_class(zoom)), "")
    after = ZOOMS[(ZOOMS.index(now) + 1) % len(ZOOMS)]
    for zoom in ZOOMS[1:]:
        screen.set_class(zoom == after, zoom)
    # A panel's own size may stay while its row of panels grows: once laid out,
    # each draws again, with or without the mark of rows cut off.
    screen.call_after_refresh(lambda: [panel.refresh() for panel in screen.query(LinePanel)])
    return after
