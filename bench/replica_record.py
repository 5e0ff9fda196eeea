"""Record what bptui's screen shows, key by key, for the replica (``_replica.py``).

The replica measures Textual's own work for bptui's screen without bptui: no
engine, no snapshot, no panel building. To show exactly what bptui shows it
needs bptui's lines, and this records them: the real ``BptuiApp``, headless at
120x40, with ``bench_keys.py``'s lesson and 30,000-step history; after the
first frame and after each press of space (once the frame shows the engine's
state and the plot is drawn), every panel's lines (Rich ``Text``), border
title and CSS classes, the graph box's scroll offset, the screen's classes and
which keys the footer shows enabled. With them go what the replica's screen is
built from: the path of ``app.tcss``, the panels' ``DEFAULT_CSS``, the
bindings, the theme's variables and the Rich styles the lines are drawn with.

Usage: python bench/replica_record.py OUT.pickle [--presses N]
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import pickle
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

COLS, ROWS = 120, 40
EPOCHS_DONE = 10000  # as bench_keys.py: 30,000 training steps in the plot's history
WAIT = 10.0


def _state(app: Any) -> dict[str, Any]:
    """What the screen shows now, panel by panel."""
    from bptui.app.panels.graph import GraphBox
    from bptui.app.panels.lines import LinePanel

    panels = {
        str(w.id): {
            "lines": list(w._lines),
            "title": w.border_title,
            "classes": sorted(w.classes),
        }
        for w in app.query(LinePanel)
    }
    box = app.query_one(GraphBox)
    enabled = {
        binding.action: enabled
        for _node, binding, enabled, _tip in app.screen.active_bindings.values()
    }
    return {
        "panels": panels,
        "box": {"title": box.border_title, "scroll": (box.scroll_x, box.scroll_y)},
        "screen_classes": sorted(app.screen.classes),
        "enabled": enabled,
    }


def _setup(app: Any) -> dict[str, Any]:
    """What the replica's screen is built from (once, at the first frame)."""
    import bptui.app.main as main_mod
    from bptui.app import palette

    css: dict[str, str] = {}
    for widget in app.query("*"):
        for cls in type(widget).__mro__:
            if cls.__module__.startswith("bptui") and "DEFAULT_CSS" in vars(cls):
                css[cls.__name__] = inspect.cleandoc(vars(cls)["DEFAULT_CSS"])
    bindings = [
        (b.key, b.action, b.description, b.show, app.get_key_display(b), b.tooltip)
        for b in type(app).BINDINGS
    ]
    return {
        "size": (COLS, ROWS),
        "tcss": str(Path(main_mod.__file__).parent / "app.tcss"),
        "default_css": css,
        "bindings": bindings,
        "variables": app.get_theme_variable_defaults(),
        "theme": app.theme,
        "rich_styles": palette.styles("dark"),
        "title": app.title,
    }


async def _record(presses: int) -> dict[str, Any]:
    from bptui import glyphs
    from bptui.app.main import BptuiApp
    from bptui.lesson import seed_lesson
    from bptui.lesson.engine import Stepper

    lesson = seed_lesson().with_values(epochs=2 * EPOCHS_DONE)
    stepper = Stepper(lesson)
    stepper.run_epochs(EPOCHS_DONE)
    app = BptuiApp(lesson, stepper=stepper)

    def drawn() -> bool:  # as tests/test_app.py's, and the plot drawn too
        if app.stepper is None or app.snapshot is None or app.frames.plot_due:
            return False
        now = glyphs.plain(app.stepper.snapshot())
        return app.snapshot.micro_steps == now.micro_steps and app.snapshot.message == now.message

    async with app.run_test(size=(COLS, ROWS)) as pilot:

        async def settle() -> None:
            deadline = time.monotonic() + WAIT
            while not drawn():
                if time.monotonic() > deadline:
                    raise RuntimeError("bptui did not draw its state in time")
                await pilot.pause(0.01)
            await pilot.pause()

        await settle()
        setup = _setup(app)
        states = [_state(app)]
        for _ in range(presses):
            await pilot.press("space")
            await settle()
            states.append(_state(app))
    return {"setup": setup, "states": states}


def record(path: str, presses: int) -> None:
    data = asyncio.run(_record(presses))
    Path(path).write_bytes(pickle.dumps(data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the pickle to write")
    parser.add_argument("--presses", type=int, default=120, help="presses recorded")
    args = parser.parse_args(argv)
    record(args.out, args.presses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
