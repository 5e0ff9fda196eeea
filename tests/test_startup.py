"""A session's start: what its first frame costs, and what it puts off while a class joins.

``bptui serve`` forks one app per student; fifty joining at once share two
cores, so each app's start is kept cheap (screen classes set before the first
layout, footer keys styled once, the program highlighted once per process, no
garbage collection or empty plot on the way) and, while other sessions are
still drawing their first frame, an app puts its first plot and its footer off
(:mod:`bptui.app.startup`, with the shared page of :class:`bptui.serve.zygote.Starting`).
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from patience import Deadline
from screen_rows import screen_strips
from textual.widgets._footer import FooterKey

from bptui.app import startup
from bptui.app.frames import AFTER_FRAME
from bptui.app.main import BptuiApp
from bptui.app.panels.code import highlight
from bptui.app.panels.footer import KeyFooter
from bptui.app.panels.plot import LossPlot
from bptui.app.panels.tensor import TensorPanel
from bptui.app.sizes import screen_classes
from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper
from bptui.serve.zygote import Starting

SIZE = (80, 24)


def make_app() -> BptuiApp:
    lesson = seed_lesson()
    return BptuiApp(lesson, stepper=Stepper(lesson))


def shown(app: BptuiApp, widget: object) -> str:
    strips = screen_strips(app)
    region = app.screen.find_widget(widget).visible_region  # type: ignore[arg-type]
    return "\n".join(
        strip.crop(region.x, region.right).text for strip in strips[region.y : region.bottom]
    )


@pytest.fixture
def crowd(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, object]]:
    """Install the startup hooks as ``bptui serve`` does; others start while ``state["others"]``."""
    state: dict[str, object] = {"others": True, "first_frames": 0}

    def first_frame() -> None:
        state["first_frames"] = int(state["first_frames"]) + 1  # type: ignore[call-overload]

    for name in ("_others_starting", "_on_first_frame", "_since"):
        monkeypatch.setattr(startup, name, getattr(startup, name))
    startup.install(lambda: bool(state["others"]), first_frame)
    yield state


# ------------------------------------------------------------- putting work off


async def until(pilot: object, condition: Callable[[], object], timeout: float = 15.0) -> None:
    """Let the app run until ``condition()`` holds (AssertionError after ``timeout`` s)."""
    deadline = Deadline(timeout)
    while not condition():
        assert not deadline.passed(), "condition never held"
        await pilot.pause(0.05)  # type: ignore[attr-defined]


async def test_while_others_start_the_numbers_come_first_then_plot_and_footer(crowd) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: crowd["first_frames"] == 1)
        await pilot.pause(0.3)
        assert "w.grad" in shown(app, app.query_one(TensorPanel))
        assert not app.query_one(LossPlot).plotted
        assert not app.query(FooterKey)
        await pilot.press("space")  # a key meanwhile: its numbers show, the plot still waits
        await until(pilot, lambda: "FWD 1/3" in shown(app, app.screen))
        assert not app.query_one(LossPlot).plotted
        crowd["others"] = False  # the rest of the class is in
        await until(pilot, lambda: app.query_one(LossPlot).plotted and app.query(FooterKey))
        await until(pilot, lambda: "Next" in shown(app, app.query_one(KeyFooter)))
        assert crowd["first_frames"] == 1  # told once


async def test_a_session_waits_at_most_max_wait(crowd, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: crowd["first_frames"] == 1)
        monkeypatch.setattr(startup, "MAX_WAIT", 0.5)
        monkeypatch.setattr(startup, "_since", time.monotonic())
        assert not app.query_one(LossPlot).plotted
        # Others still "starting" (a stuck one): drawn anyway once the wait is over.
        await until(pilot, lambda: app.query_one(LossPlot).plotted and app.query(FooterKey))
        assert time.monotonic() - startup._since >= 0.5


async def test_alone_nothing_is_put_off() -> None:
    assert not startup.waiting()  # nothing installed: the ordinary app
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.query_one(LossPlot).plotted and app.query(FooterKey))


# ------------------------------------------------------------- the shared page


def test_starting_slots_are_taken_cleared_and_freed() -> None:
    starting = Starting()
    assert not starting.others()
    a = starting.take()
    starting.own(a, 101)
    assert starting.others()
    starting.done(a)  # its first frame is out
    assert not starting.others()
    b = starting.take()  # the slot is free again for the next session
    assert b == a
    starting.own(b, 102)
    starting.ended(101)  # the first session ends later: the slot is not its own any more
    assert starting.others()
    starting.ended(102)  # a session that ends while starting frees its slot
    assert not starting.others()


def test_every_slot_taken_means_no_slot() -> None:
    starting = Starting()
    slots = [starting.take() for _ in range(Starting.SLOTS)]
    assert None not in slots
    assert starting.take() is None
    starting.done(None)  # a session without a slot does nothing
    assert starting.others()


@pytest.mark.skipif(sys.platform != "linux", reason="fork")
def test_a_forked_session_clears_its_slot_for_all_to_see() -> None:
    starting = Starting()
    slot = starting.take()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        starting.done(slot)
        os._exit(0)
    os.waitpid(pid, 0)
    assert not starting.others()


# ------------------------------------------------------------- a cheaper start


def test_screen_classes_by_size() -> None:
    assert screen_classes(80, 24) == {"-too-small": False, "-compact": True, "-wide": False}
    assert screen_classes(120, 40) == {"-too-small": False, "-compact": False, "-wide": True}
    assert screen_classes(50, 15)["-too-small"]


async def test_the_screen_has_its_size_classes_before_the_first_layout() -> None:
    for size, on, off in (((80, 24), "-compact", "-wide"), ((120, 40), "-wide", "-compact")):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            screen = app.get_default_screen()  # what the app starts with, at this size
            assert on in screen.classes and off not in screen.classes
            await pilot.pause(0.1)
            assert on in app.screen.classes and off not in app.screen.classes


async def test_footer_keys_are_compact_before_they_mount(monkeypatch: pytest.MonkeyPatch) -> None:
    # Textual's watcher gives a key the class once it is mounted: by then it already has it.
    had_it: list[bool] = []
    watch = FooterKey._watch_compact
    monkeypatch.setattr(
        FooterKey,
        "_watch_compact",
        lambda self, compact: had_it.append(self.has_class("-compact")) or watch(self, compact),
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.query(FooterKey))
    assert had_it and all(had_it)


def test_the_program_is_highlighted_once_and_never_changed() -> None:
    code = Stepper(seed_lesson()).snapshot().code
    lines = highlight(code)
    assert highlight(code) is lines
    assert any(line.spans for line in lines)  # highlighted


async def test_drawing_the_code_leaves_the_shared_lines_alone() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        code = app.stepper.snapshot().code  # type: ignore[union-attr]
        before = [(line.plain, list(line.spans)) for line in highlight(code)]
        for _ in range(6):  # lines marked ▶ and › are restyled: on copies
            await pilot.press("space")
        await until(pilot, lambda: "FWD" not in shown(app, app.screen).split("\n")[0])
        assert [(line.plain, list(line.spans)) for line in highlight(code)] == before


async def test_no_collection_before_the_first_plot(monkeypatch: pytest.MonkeyPatch) -> None:
    collections: list[tuple[int, ...]] = []
    real = gc.collect
    monkeypatch.setattr(gc, "collect", lambda *a: collections.append(a) or real(*a))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.query_one(LossPlot).plotted)
        assert collections == []  # the first plot: no collection
        await pilot.press("space")
        await until(pilot, lambda: collections)  # after a key's frame: collected as before


async def test_no_empty_axes_are_drawn_before_there_is_something_to_plot(crowd) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: crowd["first_frames"] == 1)
        plot = app.query_one(LossPlot)
        assert not plot.plotted
        assert [line.plain for line in plot.build(40)] == [""]
        assert shown(app, plot).replace("─", "").replace("Loss vs w", "").strip() == ""


async def test_frames_before_the_first_plot_wait_for_it_once(crowd) -> None:  # type: ignore[no-untyped-def]
    """While a class joins, the first plot waits, looking again every POLL seconds.
    Each frame drawn meanwhile started one more such wait: 50 explorers' apps,
    redrawn as the class's count changed, spent a fifth more CPU before the last
    of them was on screen."""
    app = make_app()
    waits: list[float] = []
    real = app.set_timer

    def set_timer(delay: float, callback: object = None, **kwargs: object) -> object:
        if getattr(callback, "__name__", "") == "_first_plot" and delay == AFTER_FRAME:
            waits.append(delay)
        return real(delay, callback, **kwargs)  # type: ignore[arg-type]

    app.set_timer = set_timer  # type: ignore[method-assign,assignment]
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: crowd["first_frames"] == 1)
        for _ in range(5):  # five more frames, the class still joining
            await pilot.press("space")
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.micro_steps >= 5)
        await pilot.pause(0.1)  # each frame's after-work
        assert not app.query_one(LossPlot).plotted
        assert len(waits) == 1
