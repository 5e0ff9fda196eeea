"""The display options: how ``bptui`` (and every student of ``bptui serve``) looks and
speaks. Read into one :class:`~bptui.app.settings.Settings`, checked before anything
starts; a bad one is a :class:`SettingsError`, said in one line (exit code 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from . import cli_lang, glyphs, i18n
from .app.settings import THEMES, Settings
from .i18n import _


class SettingsError(ValueError):
    """A display option the app cannot take (one line)."""


def shown_value(value: str, limit: int = 24) -> str:
    """A value echoed in a message: quoted, and cut if long (5,000 digits help nobody)."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def add_display_options(parser: argparse.ArgumentParser) -> None:
    """How the app looks and speaks: for ``bptui`` and for every student of ``bptui serve``.

    Like the lesson options, each has ``default=argparse.SUPPRESS`` (given before or
    after ``serve``, it is set once) and :func:`settings_from_args` supplies the default.
    """
    group = parser.add_argument_group(_("display"))
    cli_lang.add_option(group)
    group.add_argument(
        "--theme",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help=_(
            "colours: dark (default), light (a white background) or projector "
            "(high contrast, bold values); T cycles them in the app"
        ),
    )
    group.add_argument(
        "--ascii",
        action=argparse.BooleanOptionalAction,
        default=argparse.SUPPRESS,
        help=_(
            "write only 7-bit ASCII (borders, arrows, d for the partial sign, y_hat, "
            "sigmoid), in English; default: on when the locale is not UTF-8 (LANG=C, "
            "ISO-8859-1), for 'serve' decided per student from their ssh's LANG or TERM"
        ),
    )
    group.add_argument(
        "--quiz",
        action="store_true",
        default=argparse.SUPPRESS,
        help=_("predict each value before a step shows it (Q toggles it in the app)"),
    )
    serving = parser.prog.endswith(" serve")  # taken there only to be refused clearly
    group.add_argument(
        "--narrate",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS
        if serving
        else _(
            "append each step in plain words to FILE, a line a step "
            "(for screen readers and notes; tail -f FILE follows)"
        ),
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The display options given (see :func:`add_display_options`), checked.

    Without ``--lang``, the language is the one the command line speaks (the locale's).
    ``--ascii`` not given: on where this terminal's locale is not UTF-8 (see
    :func:`bptui.glyphs.utf8_locale`). For ``bptui serve`` use :func:`ascii_given`:
    each student's terminal decides, not the server's.
    """
    values: dict[str, Any] = {
        "language": cli_lang.checked(args.language) if "language" in args else i18n.language(),
        "quiz": getattr(args, "quiz", False),
    }
    ascii_only = ascii_given(args)
    if ascii_only is None:
        ascii_only = not glyphs.utf8_locale(os.environ, getattr(sys.stdout, "encoding", None))
    values["ascii_only"] = ascii_only
    if "theme" in args:
        if args.theme not in THEMES:
            raise SettingsError(
                _("--theme: {theme} is not a theme; choose one of {themes}").format(
                    theme=shown_value(args.theme), themes=", ".join(THEMES)
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

        if _is_the_lesson_file(args, args.narrate):
            raise SettingsError(
                _("--narrate: {file} is the lesson file itself; choose another name").format(
                    file=args.narrate
                )
            )
        problem = cannot_narrate(args.narrate)
        if problem is not None:
            raise SettingsError(problem)
        values["narrate"] = args.narrate
    return Settings(**values)


def _is_the_lesson_file(args: argparse.Namespace, path: str) -> bool:
    """Whether ``path`` is the file the lesson is read from (given, or a built-in's):
    narration appended to it would be in the lesson (``trace -o`` checks the same)."""
    from .lesson.files import DEFAULT, builtin_names, builtin_path

    source = getattr(args, "lesson_file", None) or getattr(args, "lesson", None) or DEFAULT
    lesson = Path(source) if Path(source).is_file() else None
    if lesson is None and source in builtin_names():
        lesson = builtin_path(source)
    try:
        return lesson is not None and Path(path).exists() and lesson.samefile(path)
    except OSError:
        return False


def ascii_given(args: argparse.Namespace) -> bool | None:
    """``--ascii`` (True), ``--no-ascii`` (False), or neither (None: the terminal decides)."""
    return getattr(args, "ascii", None)
