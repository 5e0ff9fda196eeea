"""Which language the command line speaks, chosen before argparse says a word.

``--lang en|zh`` decides; without it the locale does (``LC_ALL``, ``LC_MESSAGES``,
``LANG``: see :func:`bptui.i18n.from_environment`). A terminal whose encoding
cannot show Chinese (``LANG=C``, ISO-8859-1, ``PYTHONIOENCODING=ascii``) is
spoken to in English: by default silently, and when ``--lang zh`` asked for
Chinese, with a one-line note saying why. argparse's own words (``usage:``,
``options``, ``error:``, ``invalid choice`` …) go through :mod:`bptui.i18n` too.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from . import i18n, linebreak
from .i18n import _
from .lesson.expr import cells

_FLAG = "--lang"


class LanguageError(ValueError):
    """``--lang`` names a language bptui does not speak."""


def checked(value: str) -> str:
    """``value`` if it is a language code of :data:`bptui.i18n.LANGUAGES`."""
    code = value.strip().lower()
    if code not in i18n.LANGUAGES:
        raise LanguageError(
            _("--lang: {value} is not a language bptui speaks; choose one of {choices}").format(
                value=repr(value[:24]), choices=", ".join(i18n.LANGUAGES)
            )
        )
    return code


def given(argv: Sequence[str]) -> str | None:
    """The last ``--lang`` value in ``argv`` (``--lang zh`` or ``--lang=zh``), unchecked."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        flag, equals, value = arg.partition("=")
        # argparse takes --la and --lan for --lang too (no other option starts so).
        if len(flag) < len("--la") or not _FLAG.startswith(flag):
            continue
        if equals:
            found = value
        elif i + 1 < len(argv):
            found = argv[i + 1]
    return found


def shows_chinese(stream: TextIO | None) -> bool:
    """Whether text written to ``stream`` can be Chinese (its encoding has the characters)."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "中文".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def choose(
    requested: str | None, environ: Mapping[str, str] | None = None, stream: Any = None
) -> tuple[str, str | None]:
    """The language to speak to the terminal, and a note when ``--lang`` is not followed.

    ``requested``: a checked ``--lang`` value, or None for the locale's language.
    ``stream``: where bptui writes (standard output by default).
    """
    env = os.environ if environ is None else environ
    wanted = requested or i18n.from_environment(env)
    out = sys.stdout if stream is None else stream
    if wanted == "zh" and not shows_chinese(out):
        note = None
        if requested == "zh":
            encoding = getattr(out, "encoding", None) or "unknown"
            note = (
                f"bptui: this terminal's encoding ({encoding}) cannot show Chinese, so bptui "
                "speaks English here; for Chinese use a UTF-8 locale, e.g. LANG=zh_CN.UTF-8"
            )
        return i18n.DEFAULT, note
    return wanted, None


def add_option(parser: argparse.ArgumentParser | Any) -> None:
    """``--lang en|zh`` on ``parser`` (or an argument group); SUPPRESS, like the other
    options, so it may be given before or after a command."""
    parser.add_argument(
        _FLAG,
        dest="language",
        metavar="|".join(i18n.LANGUAGES),
        default=argparse.SUPPRESS,
        help=_(
            "the language spoken: en (English) or zh (Simplified Chinese); default: "
            "from the locale (LC_ALL, LC_MESSAGES, LANG starting with zh: Chinese)"
        ),
    )


def route_argparse() -> None:
    """argparse's own words (usage:, options, error: …) in the current language.

    argparse looks ``_`` and ``ngettext`` up in its module each time it speaks.
    """
    setattr(argparse, "_", i18n._)  # noqa: B010 - not declared in argparse's stubs
    setattr(argparse, "ngettext", i18n.ngettext)  # noqa: B010


def wrap(text: str, width: int, collapse: bool = True) -> list[str]:
    """``text`` in lines of at most ``width`` terminal cells (a Chinese character is two):
    English breaks between words, Chinese between characters (:mod:`.linebreak`).
    ``collapse``: runs of spaces become one (as argparse does for option help)."""
    return linebreak.lines(" ".join(text.split()) if collapse else text.strip(), width, cells)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help whose option texts wrap by terminal cells, with a ``usage:`` of any width.

    argparse measures with ``len()``: Chinese lines would come out up to twice as wide
    as the terminal, and the usage's continuation lines would not line up.
    """

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        # Descriptions and examples keep their lines; only a line wider than the
        # terminal (argparse's width leaves 2 columns spare) is wrapped.
        lines = []
        for line in text.splitlines():
            body = line.lstrip(" ")
            lead = indent + line[: len(line) - len(body)]
            fits = cells(indent + line) <= width + 2
            lines += [
                lead + part
                for part in ([body] if fits else wrap(body, width - len(lead), collapse=False))
            ]
        return "\n".join(lines)

    def _format_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None) -> str:
        shown = _("usage: ") if prefix is None else prefix
        blank = " " * cells(shown)
        text = super()._format_usage(usage, actions, groups, blank)
        return shown + text[len(blank) :]
