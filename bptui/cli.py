"""The ``bptui`` command: the stepper app, and ``bptui trace`` for headless runs.

Nothing heavy is imported here: ``bptui trace`` never loads the TUI, and the app
checks every value before the torch import starts.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from typing import TextIO

from . import __version__
from .lesson.expr import FUNCTIONS, LOSSES
from .lesson.spec import Lesson, LessonError, parse_init, parse_numbers

_FORMATS = ("jsonl", "csv", "md")
_VALUE_OPTIONS = ("--x", "--y", "--init", "--lr", "--model", "--epochs")
_COMMANDS = ("trace", "lessons")

DESCRIPTION = """\
Step through backpropagation live, on a real PyTorch tensor.

Without a command, bptui opens the stepper: the computational graph, the chain
rule, the tensor, the PyTorch code and a plot of loss against w, all updated one
micro-step at a time from the keyboard (press ? inside for help).
The default lesson is the note's: y_hat = x*w, loss = (x*w - y)^2, x = 1,2,3,
y = 2,4,6, w = 1.0, learning rate 0.01, 100 epochs."""

EPILOG = """\
examples:
  bptui                          open the stepper on the default lesson
  bptui --lr 0.25                watch a learning rate that is too large diverge
  bptui --x -1,2,4 --y 3,0,-6 --init w=0.5
  bptui lessons                  list the built-in lessons
  bptui --lesson neuron --loss bce
  bptui my-lesson.toml           a lesson file (copy one from 'bptui lessons')
  bptui --model "tanh(x*w + b)" --init w=0.5,b=0
  bptui trace > trace.jsonl      every training step as JSON lines
  bptui trace --format md -o handout.md
"""

TRACE_DESCRIPTION = """\
Run the lesson without the interface and write one record per training step:
the step, epoch and sample (1-based), x and y, the parameters before the update,
every node's value, the loss, each local derivative, the gradients, and the
parameters after the update. Numbers are torch's float32 values, written exactly."""


_LESSON_OPTIONS = (
    ("--lesson", "NAME|FILE", "a built-in lesson (see 'bptui lessons') or a lesson file "
     "(.toml); default: linear, the note's lesson"),
    ("--model", "EXPR", "your own model over x and parameters, e.g. \"sigmoid(x*w + b)\"; "
     f"functions: {', '.join(FUNCTIONS)}; operators + - * / **. Parameters not in --init "
     "start at 1.0"),
    ("--x", "LIST", "inputs, comma-separated (default: 1,2,3)"),
    ("--y", "LIST", "targets, one per input (default: 2,4,6)"),
    ("--init", "NAME=VALUE,...", "initial parameter values (default: w=1.0)"),
    ("--lr", "RATE", "learning rate, greater than 0 (default: 0.01)"),
    ("--epochs", "N", "passes over the data (default: 100)"),
)


def _add_lesson_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("lesson")
    for flag, metavar, text in _LESSON_OPTIONS:
        # SUPPRESS: an option given before or after "trace" is set once, never reset.
        group.add_argument(flag, metavar=metavar, default=argparse.SUPPRESS, help=text)
    group.add_argument(
        "--loss", choices=LOSSES, default=argparse.SUPPRESS,
        help="squared (default): (ŷ − y)²; abs: |ŷ − y|; bce: binary cross-entropy",
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, shared by ``main`` and the tests."""
    parser = argparse.ArgumentParser(
        prog="bptui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bptui {__version__}")
    _add_lesson_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    trace = commands.add_parser(
        "trace",
        help="run the lesson headless and write every training step (jsonl, csv, md)",
        description=TRACE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    trace.add_argument(
        "lesson_file", nargs="?", metavar="LESSON",
        help="a built-in lesson name or a lesson file (same as --lesson)",
    )
    _add_lesson_options(trace)
    trace.add_argument(
        "--format", choices=_FORMATS, default="jsonl",
        help="jsonl (default): one JSON object per line; csv: flat columns; "
        "md: a Markdown table for handouts",
    )
    trace.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of standard output"
    )
    commands.add_parser(
        "lessons",
        help="list the built-in lessons, with the file each one is in",
        description="List the built-in lessons. Each is a TOML file: copy one, edit it, "
        "and run it with 'bptui FILE'.",
    )
    return parser


def leading_lesson(argv: list[str]) -> list[str]:
    """``bptui lesson.toml …`` → ``bptui --lesson lesson.toml …``."""
    if argv and not argv[0].startswith("-") and argv[0] not in _COMMANDS:
        return ["--lesson", argv[0], *argv[1:]]
    return argv


def join_negative_values(argv: Sequence[str]) -> list[str]:
    """``--x -1,2`` → ``--x=-1,2``: argparse would read ``-1,2`` as an option."""
    result: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        value = argv[i + 1] if i + 1 < len(argv) else ""
        leads_model = arg == "--model" and value.startswith("-") and not value.startswith("--")
        if arg in _VALUE_OPTIONS and (_negative(value) or leads_model):
            result.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        result.append(arg)
        i += 1
    return result


def _negative(value: str) -> bool:
    """``-1,2``, ``-.5``, ``-inf``, ``-nan,1``: a value for an option, even a bad one."""
    if not value.startswith("-") or len(value) < 2:
        return False
    if value[1].isdigit() or value[1] in ".,":
        return True
    try:
        float(value.split(",")[0])  # -inf, -nan: refused later, by name
    except ValueError:
        return False
    return True


def lesson_from_args(args: argparse.Namespace) -> Lesson:
    """The chosen lesson with the values given on the command line, all checked."""
    from .lesson.files import load_lesson

    name = getattr(args, "lesson_file", None) or getattr(args, "lesson", None)
    if getattr(args, "lesson_file", None) and "lesson" in args:
        raise LessonError("give the lesson once: either LESSON or --lesson")
    overrides = {"model": getattr(args, "model", None), "loss": getattr(args, "loss", None)}
    lesson = load_lesson(name, overrides)
    x = parse_numbers(args.x, "--x") if "x" in args else None
    y = parse_numbers(args.y, "--y") if "y" in args else None
    init = parse_init(args.init) if "init" in args else None
    lr = None
    if "lr" in args:
        try:
            lr = float(args.lr)
        except ValueError:
            raise LessonError(f"--lr: {args.lr!r} is not a number; use e.g. --lr 0.01") from None
    epochs = None
    if "epochs" in args:
        try:
            epochs = int(args.epochs)
        except ValueError:
            raise LessonError(
                f"--epochs: {args.epochs!r} is not a whole number; use e.g. --epochs 100"
            ) from None
    return lesson.with_values(x=x, y=y, init=init, lr=lr, epochs=epochs)


def _trace(args: argparse.Namespace, lesson: Lesson) -> int:
    from .trace import run_trace  # torch is imported here, not before

    if args.output is not None and not args.output.strip():
        print("bptui trace: error: -o needs a file name", file=sys.stderr)
        return 2
    out: TextIO
    if args.output:
        try:
            out = open(args.output, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
        except OSError as error:
            reason = error.strerror or str(error)
            print(f"bptui trace: error: cannot write {args.output}: {reason}", file=sys.stderr)
            return 2
    else:
        out = sys.stdout
    try:
        with out if args.output else nullcontext(out):
            stepper = run_trace(lesson, out, args.format)
    except LessonError as error:  # found once torch runs the model (shapes)
        print(f"bptui trace: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader stopped early (``bptui trace | head``): nothing is wrong.
        # Point stdout at /dev/null so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    last = stepper.last_record()  # one record, not a list of every one
    if args.output and last is not None:
        params = ", ".join(f"{n} = {v!r}" for n, v in last.params_after.items())
        print(
            f"bptui trace: {last.step} steps written to {args.output}; final {params}",
            file=sys.stderr,
        )
    return 0


def _lessons() -> int:
    from .lesson.files import describe_builtins

    rows = describe_builtins()
    width = max(len(name) for name, _, _ in rows)
    for name, title, _ in rows:
        print(f"  {name:<{width}}  {title}")
    print(f"\nRun one with 'bptui --lesson NAME'. They are TOML files in {rows[0][2].parent}:")
    print(f"copy one (cp {rows[0][2]} my-lesson.toml), edit it, and run 'bptui my-lesson.toml'.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bptui``; returns the exit code (2 for a bad command line)."""
    parser = build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(join_negative_values(leading_lesson(raw)))
    if args.command == "lessons":
        try:
            return _lessons()
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    try:
        lesson = lesson_from_args(args)
    except LessonError as error:
        prog = "bptui trace" if args.command == "trace" else "bptui"
        print(f"{prog}: error: {error}", file=sys.stderr)
        print(f"Run '{prog} --help' for every option.", file=sys.stderr)
        return 2
    if args.command == "trace":
        code = _trace(args, lesson)
        # torch leaves ~170,000 objects for the collector; the collections Python
        # runs at exit cost a third of a second and free nothing the OS would not.
        gc.freeze()
        return code
    from .app.main import run_app

    return run_app(lesson)
