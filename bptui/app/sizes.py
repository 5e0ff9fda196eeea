"""The terminal sizes the layout knows: too small, compact (below 30 rows), wide."""

from __future__ import annotations

from ..i18n import _

#: Smallest usable terminal; below it the app asks to be enlarged.
MIN_WIDTH, MIN_HEIGHT = 72, 22


def screen_classes(width: int, height: int) -> dict[str, bool]:
    """The screen's CSS classes for a terminal of ``width`` × ``height`` (on or off).

    The app gives its screen these before the first layout: added after the
    widgets are mounted, a class on the screen restyles every one of them.
    """
    small = width < MIN_WIDTH or height < MIN_HEIGHT
    return {"-too-small": small, "-compact": not small and height < 30, "-wide": width >= 110}


def too_small(width: int, height: int) -> str | None:
    """What the screen says when the terminal is too small for the lesson."""
    if width >= MIN_WIDTH and height >= MIN_HEIGHT:
        return None
    return _(
        "Enlarge the terminal to at least {min_width}×{min_height} "
        "(it is {width}×{height}).\n\nq quits."
    ).format(min_width=MIN_WIDTH, min_height=MIN_HEIGHT, width=width, height=height)
