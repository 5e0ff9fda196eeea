"""The ``bptui`` command: the stepper app, and ``bptui trace`` for headless runs.

Nothing heavy is imported here: ``bptui trace`` never loads the TUI, and the app
checks every value before the torch import starts.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import nullcontext
from typing import Sequence

from . import __version__
from .lesson.spec import Lesson, LessonError, parse_init, parse_numbers, seed_lesson

_FORMATS = ("jsonl", "csv", "md")
_VALUE_OPTIONS = ("--x", "--y", "--init", "--lr")

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
  bptui --lr 0.2                 watch a learning rate that is too large diverge
  bptui --x -1,2,4 --y 3,0,-6 --init w=0.5
  bptui trace > trace.jsonl      every training step as JSON lines
  bptui trace --format md -o handout.md
"""

TRACE_DESCRIPTION = """\
Run the lesson without the interface and write one record per training step:
the step, epoch and sample (1-based), x and y, the parameters before the update,
every node's value, the loss, each local derivative, the gradients, and the
parameters after the update. Numbers are torch's float32 values, written exactly."""


def _add_lesson_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("lesson")
    group.add_argument(
        "--x", metavar="LIST", default=argparse.SUPPRESS,
        help="inputs, comma-separated (default: 1,2,3)",
    )
    group.add_argument(
        "--y", metavar="LIST", default=argparse.SUPPRESS,
        help="targets, one per input (default: 2,4,6)",
    )
    group.add_argument(
        "--init", metavar="NAME=VALUE,...", default=argparse.SUPPRESS,
        help="initial parameter values (default: w=1.0)",
    )
    group.add_argument(
        "--lr", metavar="RATE", default=argparse.SUPPRESS,
        help="learning rate, greater than 0 (default: 0.01)",
    )
    group.add_argument(
        "--epochs", metavar="N", default=argparse.SUPPRESS,
        help="passes over the data (default: 100)",
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
    _add_lesson_options(trace)
    trace.add_argument(
        "--format", choices=_FORMATS, default="jsonl",
        help="jsonl (default): one JSON object per line; csv: flat columns; "
        "md: a Markdown table for handouts",
    )
    trace.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of standard output"
    )
    return parser


def join_negative_values(argv: Sequence[str]) -> list[str]:
    """``--x -1,2`` → ``--x=-1,2``: argparse would read ``-1,2`` as an option."""
    result: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _VALUE_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-") and (
            len(argv[i + 1]) > 1 and (argv[i + 1][1].isdigit() or argv[i + 1][1] in ".,")
        ):
            result.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        result.append(arg)
        i += 1
    return result


def lesson_from_args(args: argparse.Namespace) -> Lesson:
    """The default lesson with the values given on the command line, all checked."""
    lesson = seed_lesson()
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

    if args.output:
        try:
            out = open(args.output, "w", encoding="utf-8", newline="")
        except OSError as error:
            reason = error.strerror or str(error)
            print(f"bptui trace: error: cannot write {args.output}: {reason}", file=sys.stderr)
            return 2
    else:
        out = sys.stdout
    try:
        with out if args.output else nullcontext(out):
            stepper = run_trace(lesson, out, args.format)
    except BrokenPipeError:
        # The reader stopped early (``bptui trace | head``): nothing is wrong.
        # Point stdout at /dev/null so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if args.output:
        last = stepper.records[-1]
        params = ", ".join(f"{n} = {v!r}" for n, v in last.params_after.items())
        print(
            f"bptui trace: {last.step} steps written to {args.output}; final {params}",
            file=sys.stderr,
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bptui``; returns the exit code (2 for a bad command line)."""
    parser = build_parser()
    args = parser.parse_args(join_negative_values(sys.argv[1:] if argv is None else argv))
    try:
        lesson = lesson_from_args(args)
    except LessonError as error:
        prog = "bptui trace" if args.command == "trace" else "bptui"
        print(f"{prog}: error: {error}", file=sys.stderr)
        print(f"Run '{prog} --help' for every option.", file=sys.stderr)
        return 2
    if args.command == "trace":
        return _trace(args, lesson)
    from .app.main import run_app

    return run_app(lesson)
