"""The engine and ``bptui trace`` stay clear of the interface libraries.

The lesson engine is a library (usable from a REPL, a server, the trace command)
and must not drag in Textual, Rich or plotext; ``bptui trace`` must not pay for
the TUI import. Each check runs in a fresh interpreter, so nothing this test
process imported can hide an import.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

VIEW_LIBRARIES = ("textual", "rich", "plotext", "textual_plotext")

PROBE = """
import json, sys
{body}
print(json.dumps(sorted(sys.modules)))
"""


def assert_no_view_library(modules: set[str]) -> None:
    """None of textual, rich, plotext, textual_plotext was imported."""
    assert not modules & set(VIEW_LIBRARIES), sorted(modules & set(VIEW_LIBRARIES))


def loaded_top_level_modules(body: str) -> set[str]:
    return {name.split(".")[0] for name in loaded_modules(body)}


def loaded_modules(body: str) -> set[str]:
    """Every module (by its full name) a fresh interpreter has loaded after ``body``."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.splitlines()[-1]))


def test_an_app_on_its_own_starts_without_the_class_messages():
    """The wire's messages (a frozen class each, compiled at import) load with a class
    link; an app on its own starts with only the commands its keys make."""
    modules = loaded_modules("import bptui.app.main")
    assert "bptui.classroom.commands" in modules
    assert not modules & {"bptui.classroom.messages", "bptui.classroom.protocol"}


def test_probe_sees_imports():
    """The probe itself works: importing rich shows up (so an empty result means something)."""
    assert "rich" in loaded_top_level_modules("import rich.text")


@pytest.mark.parametrize("module", ["bptui.lesson", "bptui.lesson.engine", "bptui.trace"])
def test_engine_imports_no_view_library(module):
    """Importing the engine, or the trace writer, loads no TUI or plotting library."""
    modules = loaded_top_level_modules(f"import {module}")
    assert "bptui" in modules
    assert_no_view_library(modules)


def test_the_lesson_session_runs_without_view_library():
    """The session the app shows is a plain object: stepping it, narration and quiz
    included, loads neither Textual nor Rich (nor a plotting library)."""
    modules = loaded_top_level_modules(
        "from bptui.app.keymap import ENGINE_LABELS\n"
        "from bptui.app.session import LessonSession\n"
        "from bptui.app.settings import Settings\n"
        "from bptui.classroom.protocol import Step\n"
        "from bptui.lesson import Stepper, seed_lesson\n"
        "lesson = LessonSession(seed_lesson(), settings=Settings(quiz=True))\n"
        "lesson.engine_ready(Stepper(seed_lesson(), labels=ENGINE_LABELS))\n"
        "lesson.run_command(Step('train_step'))\n"
        "assert lesson.quiz.take('next', drawn=True)\n"
    )
    assert "torch" in modules
    assert_no_view_library(modules)


def test_lesson_package_and_cli_are_cheap():
    """``bptui.lesson`` and ``bptui.cli`` load without torch: values are checked before it."""
    modules = loaded_top_level_modules("import bptui.lesson, bptui.cli")
    assert "bptui" in modules
    assert "torch" not in modules
    assert_no_view_library(modules)


@pytest.mark.parametrize(
    "module",
    [
        "bptui.trace",
        "bptui.lesson.values",
        "bptui.lesson.teaching",
        "bptui.lesson.timeline",
        "bptui.lesson.graph",
        "bptui.lesson.actions",
        "bptui.lesson.program",
        "bptui.lesson.files",
    ],
)
def test_torch_free_modules(module):
    """The trace writer and the engine's plain-value modules load without torch:
    ``bptui trace`` pays for torch only when the run starts."""
    modules = loaded_top_level_modules(f"import {module}")
    assert "bptui" in modules
    assert "torch" not in modules


def test_engine_runs_without_view_library():
    """A whole engine run, snapshots included, still loads none of them."""
    modules = loaded_top_level_modules(
        "from bptui.lesson import Stepper, seed_lesson\n"
        "s = Stepper(seed_lesson())\n"
        "while s.next(): s.snapshot()\n"
        "assert s.steps_done == 300"
    )
    assert "torch" in modules
    assert_no_view_library(modules)


def test_trace_command_never_imports_textual():
    """``bptui trace --epochs 1`` through ``main()``: the trace is written, textual never loaded."""
    modules = loaded_top_level_modules(
        "import io, contextlib\n"
        "from bptui.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    code = main(['trace', '--epochs', '1'])\n"
        "assert code == 0 and len(out.getvalue().splitlines()) == 3, (code, out.getvalue())"
    )
    assert "torch" in modules  # the trace did run
    assert_no_view_library(modules)


def test_trace_command_importtime():
    """The real ``python -m bptui trace``, with ``-X importtime``: no textual import at all."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bptui", "trace", "--epochs", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(proc.stdout.splitlines()) == 3
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "torch" in imported and "bptui" in imported  # the probe sees imports
    assert not imported & set(VIEW_LIBRARIES), sorted(imported & set(VIEW_LIBRARIES))


def test_bad_value_fails_before_torch():
    """A bad value is reported before the torch import starts (the CLI stays quick)."""
    modules = loaded_top_level_modules(
        "import contextlib, io\n"
        "from bptui.cli import main\n"
        "with contextlib.redirect_stderr(io.StringIO()):\n"
        "    assert main(['trace', '--lr', '0']) == 2\n"
        "    assert main(['--lr', '0']) == 2"
    )
    assert "torch" not in modules
    assert not modules & set(VIEW_LIBRARIES)


def test_the_ssh_front_end_loads_no_view_library_and_no_torch():
    """The server's front end holds every student's connection: it stays small, and the
    work of drawing and computing a lesson happens in the zygote's processes."""
    modules = loaded_top_level_modules(
        "import bptui.serve.server, bptui.serve.session, bptui.serve.classroom, "
        "bptui.serve.web, bptui.classroom.protocol"
    )
    assert "asyncssh" in modules and "aiohttp" in modules
    assert_no_view_library(modules)
    assert "torch" not in modules
