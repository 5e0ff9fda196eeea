"""Help benchmark: the CPU of opening the help (``?``) and of scrolling it.

Subject:  bptui's help screen as it is: the whole page one widget
          (:class:`bptui.app.screens.help.HelpPage`, Rich draws the Markdown).
Baseline: the same screen, the same text, with the page made by Textual's
          ``Markdown`` widget instead (what bptui used before: a widget per
          heading, paragraph and list item, ~260 for the note's lesson).

Both run in this process, in the app at 80x24 on the note's lesson under
Textual's headless Pilot. One opening is: press ``?``, wait until the page is on
screen and the app is idle, then ``esc``. Measured: this process's CPU time
(``getrusage``) from the key to the page shown, and for 40 ``↓`` presses over
the open page. One warm-up opening of each is discarded; then the two
alternate, the order swapping every round. Reported: medians and the ratio
subject / baseline. Target: opening <= 0.5x the baseline (a class pressing
``?`` together on a 2-core server pays it once per student).

Usage: python bench/bench_help.py [--rounds N] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Markdown

from bptui.app.main import BptuiApp
from bptui.app.screens import help as help_screen
from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import machine, median, print_machine, verdict, write_json

TARGET = 0.5
SCROLLS = 40


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def markdown_compose(self: help_screen.HelpScreen) -> Iterator[Any]:
    """The baseline: the same page as Textual's Markdown widget."""
    with help_screen.HelpBody(id="help-body"):
        yield Markdown(self.page_text())


async def until(pilot: Pilot[Any], condition: Callable[[], bool]) -> None:
    while not condition():
        await pilot.pause(0.01)


async def one(pilot: Pilot[Any], page: type) -> tuple[float, float]:
    """Open the help, scroll it, close it: (CPU to open, CPU of the scrolling)."""
    app = pilot.app
    start = cpu()
    await pilot.press("question_mark")
    await until(pilot, lambda: bool(app.screen.query(page)))
    if page is Markdown:  # it mounts its blocks in batches: wait for the last
        await until(pilot, lambda: all(m._last_parsed_line for m in app.screen.query(Markdown)))
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    opened = cpu() - start
    start = cpu()
    for _ in range(SCROLLS):
        await pilot.press("down")
    await pilot.pause()
    scrolled = cpu() - start
    await pilot.press("escape")
    await until(pilot, lambda: not isinstance(app.screen, help_screen.HelpScreen))
    return opened, scrolled


async def measure(rounds: int) -> dict[str, list[tuple[float, float]]]:
    lesson = seed_lesson()
    app = BptuiApp(lesson, Stepper(lesson))
    ours = help_screen.HelpScreen.compose
    figures: dict[str, list[tuple[float, float]]] = {"subject": [], "baseline": []}

    def use(name: str) -> type:
        if name == "subject":
            help_screen.HelpScreen.compose = ours  # type: ignore[method-assign]
            return help_screen.HelpPage
        help_screen.HelpScreen.compose = markdown_compose  # type: ignore[assignment,method-assign]
        return Markdown

    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        for name in ("subject", "baseline"):  # warm-up, discarded
            await one(pilot, use(name))
        for i in range(rounds):
            order = ("subject", "baseline") if i % 2 == 0 else ("baseline", "subject")
            for name in order:
                figures[name].append(await one(pilot, use(name)))
    help_screen.HelpScreen.compose = ours  # type: ignore[method-assign]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="openings of each (default 10)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    info = machine()
    print_machine(info)
    figures = asyncio.run(measure(args.rounds))
    opened = {name: median(o for o, _ in rows) for name, rows in figures.items()}
    scrolled = {name: median(s for _, s in rows) for name, rows in figures.items()}
    ratio = opened["subject"] / opened["baseline"]
    print(f"opening the help, CPU (median of {args.rounds}):")
    print(f"  bptui (one widget)        {opened['subject']:.3f} s")
    print(f"  Textual Markdown widget   {opened['baseline']:.3f} s")
    print(f"  ratio                     {ratio:.2f}x   {verdict(ratio, TARGET)}")
    print(f"{SCROLLS} presses of down over it, CPU (median):")
    print(f"  bptui {scrolled['subject']:.3f} s, Textual Markdown {scrolled['baseline']:.3f} s")
    write_json(
        args.json,
        {
            "what": "CPU to open the help, one widget / Textual Markdown",
            "ratio": ratio,
            "target": TARGET,
            "met": ratio <= TARGET,
            "open_s": opened,
            "scroll_s": scrolled,
            "machine": info,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
