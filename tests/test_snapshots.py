"""Snapshot tests: key screens of the stepper as SVG pictures, at 80×24 and 120×40.

Each picture is compared with the one stored in ``tests/__snapshots__/test_snapshots/``.
After an intended change of the look, review the new pictures and store them with
``pytest tests/test_snapshots.py --snapshot-update``. Every app gets a ready
:class:`Stepper`, so no picture depends on how fast torch loads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from patience import Deadline
from screen_rows import screen_strips
from textual.pilot import Pilot

from bptui.app.main import BptuiApp
from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture(autouse=True)
def _colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pictures are taken in colour whatever the test machine's NO_COLOR says."""
    monkeypatch.delenv("NO_COLOR", raising=False)


def make_app() -> BptuiApp:
    """The note's lesson with an engine that is ready from the first frame."""
    lesson = seed_lesson()
    return BptuiApp(lesson, stepper=Stepper(lesson))


async def lesson_drawn(pilot: Pilot) -> None:
    """Wait until the lesson is on screen and the app takes keys as they come, before
    any key: a modal (help) opened over a screen that was never painted shows nothing
    behind it, a race, not the picture; and a key typed while the first frame goes out
    is kept and sent again (test_truthful_2.py and test_truthful_3.py test that), another
    path than the one pictured."""
    app = pilot.app
    assert isinstance(app, BptuiApp)
    deadline = Deadline(10)
    while app.snapshot is None or app.keys.holding():
        assert not deadline.passed(), f"the lesson was never drawn ({_state(app)})"
        await pilot.pause(0.02)
    await pilot.pause(0.1)


def _state(app: BptuiApp) -> str:
    """What a picture's wait saw, for its failure message."""
    screen = app.screen
    pages = [getattr(page, "_last_parsed_line", None) for page in screen.query("Markdown")]
    top = screen_strips(app)[0].text if app.is_running else ""
    return (
        f"screen {type(screen).__name__}, keys held for {sorted(app.keys._holding)}"
        f" ({len(app.keys._held)} kept), drawn {app.snapshot is not None},"
        f" Markdown lines parsed {pages}, top row {top!r}"
    )


def after(
    *keys: str, until: Callable[[BptuiApp], bool] | None = None
) -> Callable[[Pilot], Awaitable[None]]:
    """A ``run_before`` that presses ``keys`` and waits until the screen shows their effect."""

    def ready(app: BptuiApp) -> bool:
        if app.stepper is None or app.snapshot is None:
            return False
        now = app.stepper.snapshot()
        drawn = (app.snapshot.micro_steps, app.snapshot.message) == (
            now.micro_steps,
            now.message,
        )
        return drawn and (until is None or until(app))

    return press_and_wait(keys, ready)


def press_and_wait(
    keys: tuple[str, ...], ready: Callable[[BptuiApp], bool]
) -> Callable[[Pilot], Awaitable[None]]:
    """A ``run_before``: once the lesson is drawn, press ``keys``, then wait until
    ``ready(app)`` and a moment more for the frame."""

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, BptuiApp)
        await lesson_drawn(pilot)
        await pilot.press(*keys)
        deadline = Deadline(10)
        while not ready(app):
            assert not deadline.passed(), f"screen not ready after {keys}: {_state(app)}"
            await pilot.pause(0.02)
        await pilot.pause(0.2)

    return run_before


def _help_laid_out(app: BptuiApp) -> bool:
    """The help's page is on screen."""
    from bptui.app.screens.help import HelpPage

    if not app.screen.query(HelpPage):
        return False
    strips = screen_strips(app)
    # The lesson behind it is drawn too (a busy machine once caught a blank one).
    return "1/100" in strips[0].text and any("bptui" in strip.text for strip in strips[1:])


@pytest.mark.parametrize("size", SIZES)
def test_start(snap_compare, size: tuple[int, int]) -> None:
    """The first screen: x=1, w=1, y=2 in the graph with no values computed, chain factors
    '?', w.grad None in the tensor panel, the code's next line (l = loss(...)) marked with ›,
    this sample's loss curve in the plot, and 'Ready. Press space' in the message line."""
    assert snap_compare(make_app(), terminal_size=size, run_before=after())


@pytest.mark.parametrize("size", SIZES)
def test_mid_forward(snap_compare, size: tuple[int, int]) -> None:
    """Two forward micro-steps (f f): ŷ=1 and r=-1 computed with MulBackward0 and SubBackward0
    under them, r highlighted, loss not yet computed; status FWD 2/3."""
    assert snap_compare(make_app(), terminal_size=size, run_before=after("f", "f"))


@pytest.mark.parametrize("size", SIZES)
def test_mid_backward(snap_compare, size: tuple[int, int]) -> None:
    """Forward pass done and two backward micro-steps (F b b): ∂ 1 at loss and ∂ -2 at r and ŷ;
    the chain rule shows 2r = -2 and 1 known, x still '?'; w.grad still None; status BWD 2/3."""
    assert snap_compare(make_app(), terminal_size=size, run_before=after("F", "b", "b"))


@pytest.mark.parametrize("size", SIZES)
def test_after_update(snap_compare, size: tuple[int, int]) -> None:
    """After the update (F B u): w=1.02 in graph and tensor panel, w.grad -2 kept until
    zeroed, chain rule -2 · 1 · 1 = -2 with '✓ all agree', the update line marked ▶ and
    zero_() marked › as next."""
    assert snap_compare(make_app(), terminal_size=size, run_before=after("F", "B", "u"))


@pytest.mark.parametrize("size", SIZES)
def test_accumulation_warning(snap_compare, size: tuple[int, int]) -> None:
    """Zeroing skipped (F B u f F B): sample 2's backward added to the old gradient, the
    highlighted message reads w.grad = -2 (old) + -7.84 (this backward) = -9.84, the
    tensor panel shows w.grad -9.84 and the chain panel '(accumulated -9.84)'."""
    assert snap_compare(
        make_app(), terminal_size=size, run_before=after("F", "B", "u", "f", "F", "B")
    )


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, size: tuple[int, int]) -> None:
    """The help (?) over the panels: the title, the one-step summary, this lesson, and (where
    it fits) the table of keys."""
    assert snap_compare(
        make_app(), terminal_size=size, run_before=after("question_mark", until=_help_laid_out)
    )
