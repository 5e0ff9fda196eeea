"""View groups without a network: the size buckets, and the limit on groups."""

from __future__ import annotations

from typing import Any

import pytest

from bptui.app.sizes import MIN_HEIGHT, MIN_WIDTH, screen_classes
from bptui.serve.groups import HEIGHTS, MAX_GROUPS, WIDTHS, Groups, View, ViewGroup, bucket


@pytest.mark.parametrize(
    ("window", "drawn"),
    [
        ((80, 24), (80, 24)),
        ((95, 33), (90, 30)),
        ((125, 42), (120, 40)),
        ((600, 250), (250, 60)),
        # Narrower than the second width, or lower than the second height: still a bucket.
        ((30, 10), (20, 6)),
        ((80, 8), (80, 6)),
        # Smaller than the smallest bucket: the window's own size.
        ((15, 24), (15, 24)),
        ((80, 5), (80, 5)),
    ],
)
def test_a_window_is_drawn_at_the_largest_bucket_that_fits(window, drawn) -> None:  # type: ignore[no-untyped-def]
    assert bucket(*window) == drawn


def test_buckets_never_cut_and_keep_the_layout_a_window_would_get() -> None:
    for columns in range(1, 300):
        for rows in range(1, 80, 3):
            w, h = bucket(columns, rows)
            assert w <= columns and h <= rows
            if columns >= MIN_WIDTH and rows >= MIN_HEIGHT:
                # The same layout (too small, compact, wide) as the window itself.
                assert screen_classes(w, h) == screen_classes(columns, rows), (columns, rows)
    assert MIN_WIDTH in WIDTHS and MIN_HEIGHT in HEIGHTS


class Hub:
    async def spawn(self, header: dict[str, Any], fds: list[int]) -> tuple[int, int]:
        raise OSError("not in this test")

    def joined(self, group: ViewGroup) -> None: ...

    def left(self, group: ViewGroup) -> None: ...

    def heard(self, group: ViewGroup, message: Any) -> None: ...


def test_past_the_limit_a_new_view_gets_no_group() -> None:
    groups = Groups(Hub())
    views = [View(80 + i, 24, "en", False, "xterm", None) for i in range(MAX_GROUPS + 1)]
    for view in views[:MAX_GROUPS]:
        groups.groups[view] = ViewGroup(groups.hub, view, {})
    assert groups.room_for(views[0])  # a view with a group still has one
    assert not groups.room_for(views[-1])
    assert groups.attach(object(), views[-1], {}) is None  # type: ignore[arg-type]


async def test_a_note_stays_over_what_the_groups_app_draws_after_it() -> None:
    """A member's note ("You are following…") is drawn again after each of the group's
    frames while it is up: the app redraws its footer on its own time (its keys once a
    class has joined), and the note must not vanish before it is read."""
    from types import SimpleNamespace

    import pyte

    from bptui.serve.groups import View
    from bptui.serve.mirror import Mirror
    from bptui.serve.notes import Notes

    mirror = Mirror(40, 6)
    screen = pyte.Screen(40, 6)
    stream = pyte.ByteStream(screen)
    group = SimpleNamespace(view=View(40, 6, "en", False, "xterm", None), mirror=mirror)
    other = SimpleNamespace(view=group.view, mirror=mirror)

    def app_draws(row: bytes) -> None:  # the group's app, as every member gets it
        frame = b"\x1b[6;1H" + row
        mirror.feed(frame)
        stream.feed(frame)

    notes = Notes(stream.feed, lambda: group)  # type: ignore[arg-type, return-value]
    app_draws(b"q Quit")
    notes.say("press t to explore", group)  # type: ignore[arg-type]
    assert "press t to explore" in screen.display[5]
    app_draws(b"g Plot v Enlarge t Explore")
    notes.again(other)  # type: ignore[arg-type]  # another group's frame: not this note's
    assert screen.display[5].startswith("g Plot")
    notes.again(group)  # type: ignore[arg-type]
    assert "press t to explore" in screen.display[5]
    notes.clear()  # taken back (or the member left the group): drawn no more
    app_draws(b"q Quit")
    notes.again(group)  # type: ignore[arg-type]
    assert screen.display[5].startswith("q Quit")


async def test_a_note_drawn_between_two_pieces_of_a_frame_keeps_the_apps_pen() -> None:
    """A frame reaches members in pieces: a piece can end with the app's colour set and
    the next begin with the text in it. A note drawn between them puts the cursor and
    the colour back, so the text lands where, and in the colour, the app meant."""
    from types import SimpleNamespace

    import pyte

    from bptui.serve.groups import View
    from bptui.serve.mirror import Mirror
    from bptui.serve.notes import Notes

    mirror = Mirror(40, 6)
    screen = pyte.Screen(40, 6)
    stream = pyte.ByteStream(screen)
    group = SimpleNamespace(view=View(40, 6, "en", False, "xterm", None), mirror=mirror)
    notes = Notes(stream.feed, lambda: group)  # type: ignore[arg-type, return-value]
    for piece in (b"\x1b[3;5H\x1b[1;31m", b"red"):  # the app's frame, cut after its colour
        mirror.feed(piece)
        stream.feed(piece)
        if piece != b"red":
            notes.say("press t to explore", group)  # type: ignore[arg-type]
    cells = [screen.buffer[2][x] for x in range(4, 7)]
    assert "".join(cell.data for cell in cells) == "red"
    assert all(cell.fg == "red" and cell.bold and not cell.reverse for cell in cells)
    assert "press t to explore" in screen.display[5]


def test_a_closed_group_ends_its_app_and_one_without_an_app_closes_too() -> None:
    """A group left empty for a while is closed: its app must end with it, or every
    size a student passed through would keep an app running until the class ends."""
    from types import SimpleNamespace

    view = View(80, 24, "en", False, "xterm", None)
    group = ViewGroup(Hub(), view, {})
    ended: list[bool] = []
    group.app = SimpleNamespace(finished=False, close=lambda: ended.append(True))  # type: ignore[assignment]
    group.close()
    assert ended == [True] and group.closed
    starting = ViewGroup(Hub(), view, {})  # closed before its app started
    starting.close()
    assert starting.closed
