"""The ``bptui`` command: the stepper app, and ``bptui trace`` for headless runs.

Nothing heavy is imported here: ``bptui trace`` never loads the TUI, and the app
checks every value before the torch import starts.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from . import __version__, cli_lang, glyphs, i18n
from .app.settings import Settings
from .cli_display import SettingsError, ascii_given, settings_from_args
from .cli_display import add_display_options as _add_display_options
from .cli_display import shown_value as _shown
from .cli_text import (
    DESCRIPTION,
    EPILOG,
    LESSON_OPTIONS,
    SERVE_DESCRIPTION,
    SERVE_EPILOG,
    SERVE_OPTIONS,
    TRACE_DESCRIPTION,
)
from .i18n import _
from .lesson.expr import FUNCTIONS, LOSSES
from .lesson.numbers import parse_init, parse_numbers
from .lesson.spec import Lesson, LessonError, float32_problem
from .trace_io import cannot_write, quiet_stdout

_FORMATS = ("jsonl", "csv", "md")
_VALUE_OPTIONS = ("--x", "--y", "--init", "--lr", "--model", "--epochs")
_COMMANDS = ("trace", "lessons", "serve")


def _add_lesson_command(commands: Any, name: str, **texts: str) -> argparse.ArgumentParser:
    """A command that runs a lesson: ``bptui NAME [LESSON] [lesson options]``."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name, formatter_class=cli_lang.HelpFormatter, **texts
    )
    parser.add_argument(
        "lesson_file",
        nargs="?",
        metavar="LESSON",
        help=_("a built-in lesson name or a lesson file (same as --lesson)"),
    )
    _add_lesson_options(parser)
    return parser


def _add_serve_parser(commands: Any) -> None:
    serve = _add_lesson_command(
        commands,
        "serve",
        help=_("serve the lesson to a class over SSH (students need nothing installed)"),
        description=i18n._(SERVE_DESCRIPTION),
        epilog=i18n._(SERVE_EPILOG),
    )
    _add_display_options(serve)
    group = serve.add_argument_group(_("server"))
    for flag, metavar, text in SERVE_OPTIONS:
        group.add_argument(flag, metavar=metavar, help=i18n._(text))
    group.add_argument(
        "--color",
        choices=("auto", "truecolor", "256", "16", "none"),
        default="auto",
        help=_("colour depth for every student: auto (from each client's TERM), or forced"),
    )
    group.add_argument(
        "--own-apps",
        action="store_true",
        help=_(
            "give every student an app of their own, even while following the teacher "
            "(by default followers who see the same screen share one: far less CPU and memory)"
        ),
    )


def _serve(args: argparse.Namespace, lesson: Lesson, settings: Settings) -> int:
    from .serve.options import OPTION_NAMES, ServeError, parse_options

    given = {name: getattr(args, name) for name in OPTION_NAMES}
    try:
        options = parse_options(given)
    except ServeError as error:
        _error("bptui serve", str(error))
        return 2
    from .serve import run_serve

    # Each student's terminal decides ASCII unless --ascii or --no-ascii says (not this one's).
    asked = ascii_given(args)
    settings = replace(settings, ascii_only=asked is True)
    options = replace(
        options, settings=settings, ascii_per_student=asked is None, own_apps=args.own_apps
    )
    return run_serve(options, lesson)


def _add_lesson_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(_("lesson"))
    for flag, metavar, text in LESSON_OPTIONS:
        # SUPPRESS: an option given before or after "trace" is set once, never reset.
        shown = i18n._(text).format(functions=", ".join(FUNCTIONS))
        group.add_argument(flag, metavar=metavar, default=argparse.SUPPRESS, help=shown)
    group.add_argument(
        "--loss",
        choices=LOSSES,
        default=argparse.SUPPRESS,
        help=_("squared (default): (ŷ − y)²; abs: |ŷ − y|; bce: binary cross-entropy"),
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, shared by ``main`` and the tests, in the current language."""
    cli_lang.route_argparse()
    parser = argparse.ArgumentParser(
        prog="bptui",
        description=i18n._(DESCRIPTION),
        epilog=i18n._(EPILOG),
        formatter_class=cli_lang.HelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"bptui {__version__}",
        help=_("show program's version number and exit"),
    )
    _add_lesson_options(parser)
    _add_display_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    trace = _add_lesson_command(
        commands,
        "trace",
        help=_("run the lesson headless and write every training step (jsonl, csv, md)"),
        description=i18n._(TRACE_DESCRIPTION),
    )
    cli_lang.add_option(trace)
    trace.add_argument(
        "--format",
        choices=_FORMATS,
        default="jsonl",
        help=_(
            "jsonl (default): one JSON object per line; csv: flat columns; "
            "md: a Markdown table for handouts"
        ),
    )
    trace.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help=_(
            "write to FILE instead of standard output (- is standard output); an existing "
            "FILE is replaced only once the whole run has succeeded"
        ),
    )
    _add_serve_parser(commands)
    lessons = commands.add_parser(
        "lessons",
        formatter_class=cli_lang.HelpFormatter,
        help=_("list the built-in lessons, with the file each one is in"),
        description=_(
            "List the built-in lessons. Each is a TOML file: copy one, edit it, "
            "and run it with 'bptui FILE'."
        ),
    )
    cli_lang.add_option(lessons)
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
                _(
                    "the lesson name is empty: give a built-in lesson (see 'bptui lessons') "
                    "or a .toml file"
                )
            )
    name = getattr(args, "lesson_file", None) or getattr(args, "lesson", None)
    if getattr(args, "lesson_file", None) and "lesson" in args:
        raise LessonError(_("give the lesson once: either LESSON or --lesson"))
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
                _("--lr: {value} is not a number; use e.g. --lr 0.01").format(value=_shown(args.lr))
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
                _("--epochs {value} is too large: at most 100,000 epochs in one run").format(
                    value=_shown(text, 12)
                )
            )
        try:
            epochs = int(text)
        except ValueError:
            raise LessonError(
                _("--epochs: {value} is not a whole number; use e.g. --epochs 100").format(
                    value=_shown(args.epochs)
                )
            ) from None
    # The messages name an option only where it was given: a value from the file is the file's.
    options = {key: f"--{key}" for key in ("lr", "epochs", "init") if key in args}
    return lesson.with_values(x=x, y=y, init=init, lr=lr, epochs=epochs, options=options)


def _check_float32(value: float, flag: str) -> None:
    """torch computes in float32: 1e39 would become inf and 1e-46 would become 0."""
    problem = float32_problem(value)
    if problem is not None:
        raise LessonError(_("{what}: {problem}").format(what=flag, problem=problem))


def _trace(args: argparse.Namespace, lesson: Lesson, language: str) -> int:
    """A trace is UTF-8 data whatever the terminal shows: its words are in the
    language asked for (``--lang zh`` on an ASCII terminal too)."""
    from .trace_io import write_trace

    source = getattr(args, "lesson_file", None) or getattr(args, "lesson", None)
    return write_trace(lesson, args.format, args.output, source, language)


def _lessons() -> int:
    """``bptui lessons``: a reader that stops early (``| head``) is no error."""
    try:
        code = _list_lessons()
        if sys.stdout is not None:
            sys.stdout.flush()
        return code
    except BrokenPipeError:
        quiet_stdout()
        return 0
    except OSError as error:
        quiet_stdout()
        cannot_write("lessons", _("to standard output"), error)
        return 1


def _list_lessons() -> int:
    from .lesson.files import describe_builtins

    rows = describe_builtins()
    width = max(len(name) for name, _title, _path in rows)
    for name, title, _path in rows:
        print(f"  {name:<{width}}  {title}")
    folder, first = rows[0][2].parent, rows[0][2]
    print()
    print(
        _("Run one with 'bptui --lesson NAME'. They are TOML files in {folder}:").format(
            folder=folder
        )
    )
    print(
        _("copy one (cp {file} my-lesson.toml), edit it, and run 'bptui my-lesson.toml'.").format(
            file=first
        )
    )
    return 0


def _error(prog: str, message: str) -> None:
    """``prog: error: message`` and where to find every option, on standard error."""
    print(_("{prog}: error: {message}").format(prog=prog, message=message), file=sys.stderr)
    print(_("Run '{prog} --help' for every option.").format(prog=prog), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bptui``; returns the exit code (2 for a bad command line, 130 for Ctrl+C)."""
    for stream in (sys.stdout, sys.stderr):
        # Help and messages name ŷ and ∂: where the terminal cannot show them
        # (PYTHONIOENCODING=ascii, LANG=C), a '?' beats a traceback.
        if stream is not None and hasattr(stream, "reconfigure"):
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="replace")
    raw = list(sys.argv[1:] if argv is None else argv)
    stdout = sys.stdout
    # Not UTF-8 (or --ascii): --help, errors, 'bptui lessons' in ASCII and English, like the app.
    with glyphs.ascii_output(_plain_terminal(raw)):
        try:
            return _main(raw, stdout)
        except KeyboardInterrupt:
            print(_("bptui: interrupted"), file=sys.stderr)
            return 130


def _plain_terminal(argv: list[str]) -> bool:
    """Whether bptui writes only ASCII (before the command line is parsed: for its errors)."""
    given = [arg for arg in argv if arg in ("--ascii", "--no-ascii")]
    if given:
        return given[-1] == "--ascii"  # the last one given wins, as argparse has it
    return not glyphs.utf8_locale(os.environ, getattr(sys.stdout, "encoding", None))


def _speak(raw: Sequence[str]) -> bool:
    """Choose the language before argparse speaks (``--lang``, else the locale);
    False after a one-line error for a bad ``--lang``."""
    i18n.set_language(cli_lang.choose(None)[0])  # the locale's, for a bad --lang
    wanted = cli_lang.given(raw)
    try:
        requested = None if wanted is None else cli_lang.checked(wanted)
    except cli_lang.LanguageError as error:
        print(_("{prog}: error: {message}").format(prog="bptui", message=error), file=sys.stderr)
        return False
    spoken, note = cli_lang.choose(requested)
    if note is not None and "trace" not in raw:  # a trace's data is Chinese all the same
        print(note, file=sys.stderr)
    i18n.set_language(spoken)
    return True


def _main(raw: list[str], stdout: Any) -> int:
    if not _speak(raw):
        return 2
    args = build_parser().parse_args(join_negative_values(leading_lesson(raw)))
    if args.command == "lessons":
        return _lessons()
    try:
        lesson = lesson_from_args(args)
        settings = settings_from_args(args)  # checked before anything starts
    except (LessonError, SettingsError, cli_lang.LanguageError) as error:
        prog = f"bptui {args.command}" if args.command in ("trace", "serve") else "bptui"
        _error(prog, str(error))
        return 2
    if args.command == "serve":
        return _serve(args, lesson, settings)
    if args.command == "trace":
        sys.stdout = stdout  # the trace's records as they are (ŷ and all): they are data
        glyphs.set_ascii(False)
        code = _trace(args, lesson, settings.language)
        # torch leaves ~170,000 objects for the collector; the collections Python
        # runs at exit cost a third of a second and free nothing the OS would not.
        gc.freeze()
        return code
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Without a terminal the app cannot read keys and would draw into a pipe.
        print(
            _(
                "bptui: error: the stepper needs a terminal (standard input and output); "
                "for the numbers without one, use 'bptui trace' (see 'bptui trace --help')"
            ),
            file=sys.stderr,
        )
        return 2
    from .app.main import run_app

    # The app draws on this terminal: it speaks what the terminal can show.
    return run_app(lesson, replace(settings, language=i18n.language()))
