"""The ``bptui`` command: the stepper app, and ``bptui trace`` for headless runs.

Nothing heavy is imported here: ``bptui trace`` never loads the TUI, and the app
checks every value before the torch import starts.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from . import __version__
from .app.settings import THEMES, Settings
from .lesson.expr import FUNCTIONS, LOSSES
from .lesson.spec import Lesson, LessonError, float32_problem, parse_init, parse_numbers
from .trace_io import cannot_write, quiet_stdout

_FORMATS = ("jsonl", "csv", "md")
_VALUE_OPTIONS = ("--x", "--y", "--init", "--lr", "--model", "--epochs")
_COMMANDS = ("trace", "lessons", "serve")

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
  bptui serve --host 0.0.0.0     a whole class over SSH: students type ssh -p 2222 HOST
"""

TRACE_DESCRIPTION = """\
Run the lesson without the interface and write one record per training step:
the step, epoch and sample (1-based), x and y, the parameters before the update,
every node's value, the loss, each local derivative, the gradients, and the
parameters after the update. Numbers are torch's float32 values, written exactly."""


_LESSON_OPTIONS = (
    (
        "--lesson",
        "NAME|FILE",
        "a built-in lesson (see 'bptui lessons') or a lesson file "
        "(.toml); default: linear, the note's lesson",
    ),
    (
        "--model",
        "EXPR",
        'your own model over x and parameters, e.g. "sigmoid(x*w + b)"; '
        f"functions: {', '.join(FUNCTIONS)}; operators + - * / **. Parameters not in --init "
        "start at 1.0",
    ),
    ("--x", "LIST", "inputs, comma-separated (default: 1,2,3)"),
    ("--y", "LIST", "targets, one per input (default: 2,4,6)"),
    ("--init", "NAME=VALUE,...", "initial parameter values (default: w=1.0)"),
    ("--lr", "RATE", "learning rate, greater than 0 (default: 0.01)"),
    ("--epochs", "N", "passes over the data (default: 100)"),
)


SERVE_DESCRIPTION = """\
Serve the lesson to a whole class over SSH. Students need nothing installed:
each types  ssh -p 2222 HOST  and gets the stepper in their own terminal, their
own lesson computed by torch on this machine. With --teacher-password, the
user name 'teacher' logs in with that password and every student follows the
teacher's steps live; a student presses t to explore alone and t again to
rejoin. Ctrl+C ends the class."""

SERVE_EPILOG = """\
examples:
  bptui serve --host 0.0.0.0                     an open class on port 2222
  bptui serve --host 0.0.0.0 --teacher-password s3cret --lesson affine
  bptui serve --host 0.0.0.0 --password backprop --max-sessions 40
then students type:  ssh -p 2222 HOST   (HOST: this machine's name or address)
"""

_SERVE_OPTIONS = (
    (
        "--host",
        "ADDR",
        "address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 lets the class in)",
    ),
    ("--port", "N", "port to listen on (default 2222; 0 picks a free one)"),
    (
        "--host-key",
        "FILE",
        "the server's private host key (default: made once and kept in ~/.local/share/bptui/)",
    ),
    ("--max-sessions", "N", "students at once (default 100); one more is told the class is full"),
    (
        "--per-address",
        "N",
        "sessions from one address (default 10; raise it when the class "
        "shares one address through NAT)",
    ),
    (
        "--idle-timeout",
        "MIN",
        "close a session after this many minutes without a key press "
        "(default 60; following the teacher counts as active)",
    ),
    ("--password", "PW", "one shared class password (default: no password)"),
    ("--authorized-keys", "FILE", "admit only these public keys (an authorized_keys file)"),
    (
        "--teacher-password",
        "PW",
        "enable follow mode: user 'teacher' with this password drives every student's lesson",
    ),
)


def _add_lesson_command(commands: Any, name: str, **texts: str) -> argparse.ArgumentParser:
    """A command that runs a lesson: ``bptui NAME [LESSON] [lesson options]``."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name, formatter_class=argparse.RawDescriptionHelpFormatter, **texts
    )
    parser.add_argument(
        "lesson_file",
        nargs="?",
        metavar="LESSON",
        help="a built-in lesson name or a lesson file (same as --lesson)",
    )
    _add_lesson_options(parser)
    return parser


def _add_serve_parser(commands: Any) -> None:
    serve = _add_lesson_command(
        commands,
        "serve",
        help="serve the lesson to a class over SSH (students need nothing installed)",
        description=SERVE_DESCRIPTION,
        epilog=SERVE_EPILOG,
    )
    _add_display_options(serve)
    group = serve.add_argument_group("server")
    for flag, metavar, text in _SERVE_OPTIONS:
        group.add_argument(flag, metavar=metavar, help=text)
    group.add_argument(
        "--color",
        choices=("auto", "truecolor", "256", "16", "none"),
        default="auto",
        help="colour depth for every student: auto (from each client's TERM), or forced",
    )


def _serve(args: argparse.Namespace, lesson: Lesson) -> int:
    from .serve.options import OPTION_NAMES, ServeError, parse_options

    given = {name: getattr(args, name) for name in OPTION_NAMES}
    try:
        options = parse_options(given)
    except ServeError as error:
        print(f"bptui serve: error: {error}", file=sys.stderr)
        print("Run 'bptui serve --help' for every option.", file=sys.stderr)
        return 2
    from .serve import run_serve

    return run_serve(replace(options, settings=settings_from_args(args)), lesson)


def _add_display_options(parser: argparse.ArgumentParser) -> None:
    """How the app looks and speaks: for ``bptui`` and for every student of ``bptui serve``.

    Like the lesson options, each has ``default=argparse.SUPPRESS`` (given before or
    after ``serve``, it is set once) and :func:`settings_from_args` supplies the default.
    """
    group = parser.add_argument_group("display")
    group.add_argument(
        "--theme",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="colours: dark (default), light (a white background) or projector "
        "(high contrast, bold values); T cycles them in the app",
    )
    serving = parser.prog.endswith(" serve")  # taken there only to be refused clearly
    group.add_argument(
        "--narrate",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS
        if serving
        else "append each step in plain words to FILE, a line a step "
        "(for screen readers and notes; tail -f FILE follows)",
    )


class SettingsError(ValueError):
    """A display option the app cannot take (one line)."""


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The display options given (see :func:`_add_display_options`), checked."""
    from .i18n import _

    values: dict[str, Any] = {}
    if "theme" in args:
        if args.theme not in THEMES:
            raise SettingsError(
                _("--theme: {theme} is not a theme; choose one of {themes}").format(
                    theme=_shown(args.theme), themes=", ".join(THEMES)
                )
            )
        values["theme"] = args.theme
    if "narrate" in args:
        if getattr(args, "command", None) == "serve":
            raise SettingsError(
                _(
                    "--narrate is for bptui on your own machine: a classroom server would "
                    "write the file on the server, not where the students are"
                )
            )
        from .app.narrate import cannot_narrate

        problem = cannot_narrate(args.narrate)
        if problem is not None:
            raise SettingsError(problem)
        values["narrate"] = args.narrate
    return Settings(**values)


def _add_lesson_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("lesson")
    for flag, metavar, text in _LESSON_OPTIONS:
        # SUPPRESS: an option given before or after "trace" is set once, never reset.
        group.add_argument(flag, metavar=metavar, default=argparse.SUPPRESS, help=text)
    group.add_argument(
        "--loss",
        choices=LOSSES,
        default=argparse.SUPPRESS,
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
    _add_display_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    trace = _add_lesson_command(
        commands,
        "trace",
        help="run the lesson headless and write every training step (jsonl, csv, md)",
        description=TRACE_DESCRIPTION,
    )
    trace.add_argument(
        "--format",
        choices=_FORMATS,
        default="jsonl",
        help="jsonl (default): one JSON object per line; csv: flat columns; "
        "md: a Markdown table for handouts",
    )
    trace.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE instead of standard output (- is standard output); an existing "
        "FILE is replaced only once the whole run has succeeded",
    )
    _add_serve_parser(commands)
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

    for given in (getattr(args, "lesson_file", None), getattr(args, "lesson", None)):
        if given is not None and not given.strip():
            raise LessonError(
                "the lesson name is empty: give a built-in lesson (see 'bptui lessons') "
                "or a .toml file"
            )
    name = getattr(args, "lesson_file", None) or getattr(args, "lesson", None)
    if getattr(args, "lesson_file", None) and "lesson" in args:
        raise LessonError("give the lesson once: either LESSON or --lesson")
    x = parse_numbers(args.x, "--x") if "x" in args else None
    y = parse_numbers(args.y, "--y") if "y" in args else None
    # Data from the command line replaces the file's before the file's lesson is checked:
    # bce's targets or @'s shapes are then checked on the data that will run.
    overrides = {
        "model": getattr(args, "model", None),
        "loss": getattr(args, "loss", None),
        "x": None if x is None else list(x),
        "y": None if y is None else list(y),
    }
    lesson = load_lesson(name, overrides)
    init = parse_init(args.init) if "init" in args else None
    lr = None
    if "lr" in args:
        try:
            lr = float(args.lr)
        except ValueError:
            raise LessonError(
                f"--lr: {_shown(args.lr)} is not a number; use e.g. --lr 0.01"
            ) from None
        _check_float32(lr, "--lr")
    for flag, values in (("--x", x), ("--y", y), ("--init", init and dict(init).values())):
        for value in values or ():
            if isinstance(value, float):
                _check_float32(value, flag)
    epochs = None
    if "epochs" in args:
        text = args.epochs.strip()
        if text.isdigit() and len(text) > 9:
            raise LessonError(
                f"--epochs {_shown(text, 12)} is too large: at most 100,000 epochs in one run"
            )
        try:
            epochs = int(text)
        except ValueError:
            raise LessonError(
                f"--epochs: {_shown(args.epochs)} is not a whole number; use e.g. --epochs 100"
            ) from None
    # The messages name an option only where it was given: a value from the file is the file's.
    options = {key: f"--{key}" for key in ("lr", "epochs", "init") if key in args}
    return lesson.with_values(x=x, y=y, init=init, lr=lr, epochs=epochs, options=options)


def _shown(value: str, limit: int = 24) -> str:
    """A value echoed in a message: quoted, and cut if long (5,000 digits help nobody)."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _check_float32(value: float, flag: str) -> None:
    """torch computes in float32: 1e39 would become inf and 1e-46 would become 0."""
    problem = float32_problem(value)
    if problem is not None:
        raise LessonError(f"{flag}: {problem}")


def _trace(args: argparse.Namespace, lesson: Lesson) -> int:
    from .trace_io import write_trace

    source = getattr(args, "lesson_file", None) or getattr(args, "lesson", None)
    return write_trace(lesson, args.format, args.output, source)


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
    """Run ``bptui``; returns the exit code (2 for a bad command line, 130 for Ctrl+C)."""
    for stream in (sys.stdout, sys.stderr):
        # Help and messages name ŷ and ∂: where the terminal cannot show them
        # (PYTHONIOENCODING=ascii, LANG=C), a '?' beats a traceback.
        if stream is not None and hasattr(stream, "reconfigure"):
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="replace")
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("bptui: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(join_negative_values(leading_lesson(raw)))
    if args.command == "lessons":
        try:
            code = _lessons()
            if sys.stdout is not None:
                sys.stdout.flush()
            return code
        except BrokenPipeError:
            quiet_stdout()
            return 0
        except OSError as error:
            quiet_stdout()
            cannot_write("lessons", "to standard output", error)
            return 1
    try:
        lesson = lesson_from_args(args)
        settings_from_args(args)  # checked before anything starts
    except (LessonError, SettingsError) as error:
        prog = f"bptui {args.command}" if args.command in ("trace", "serve") else "bptui"
        print(f"{prog}: error: {error}", file=sys.stderr)
        print(f"Run '{prog} --help' for every option.", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(args, lesson)
    if args.command == "trace":
        code = _trace(args, lesson)
        # torch leaves ~170,000 objects for the collector; the collections Python
        # runs at exit cost a third of a second and free nothing the OS would not.
        gc.freeze()
        return code
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Without a terminal the app cannot read keys and would draw into a pipe.
        print(
            "bptui: error: the stepper needs a terminal (standard input and output); "
            "for the numbers without one, use 'bptui trace' (see 'bptui trace --help')",
            file=sys.stderr,
        )
        return 2
    from .app.main import run_app

    return run_app(lesson, settings_from_args(args))
