"""Reading a lesson file: its TOML table and text, the line a key is on, and text a
terminal must never receive (control and invisible characters).

Only a small regular file is read; every problem is a :class:`LessonFileError`
that starts with the file's name (and line, where there is one).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

from ..i18n import _
from .spec import LessonError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


class LessonFileError(LessonError):
    """A lesson file is wrong; the message starts with ``file:line:``."""


def unsafe_character(key: object, value: object) -> str | None:
    """The first character in a key or any text below it that a terminal must not
    get, else None: a control character (ESC and the like would reach the terminal
    raw; line breaks and tabs are allowed), or an invisible one (see :func:`invisible`)."""
    if isinstance(value, dict):
        for item_key, item in value.items():
            found = unsafe_character(item_key, item)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = unsafe_character("", item)
            if found is not None:
                return found
    for text in (key, value):
        if isinstance(text, str):
            for char in text:
                code = ord(char)
                if (code < 32 and char not in "\n\t") or 127 <= code < 160 or invisible(char):
                    return char
    return None


def invisible(char: str) -> bool:
    """A format character (U+202E turns a line around, U+200B and U+FEFF hide in a
    word) or a line or paragraph separator (U+2028: a break the layout has not got)."""
    return unicodedata.category(char) in ("Cf", "Zl", "Zp")


_HEADER = re.compile(r'^[ \t]*\[[ \t]*"?([^"\]\n]*?)"?[ \t]*\]', re.MULTILINE)


def line_of(text: str, key: str, table: str | None = None) -> int | None:
    """The line setting ``key``: a top-level key, or one in ``[table]``."""
    headers = list(_HEADER.finditer(text))
    start, end = 0, (headers[0].start() if headers else len(text))
    if table is not None:
        start = end = 0
        for i, header in enumerate(headers):
            if header.group(1) == table:
                start = header.end()
                end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
                break
    # Only spaces before the key: \s would reach back over blank lines.
    pattern = re.compile(rf'^[ \t]*"?{re.escape(key)}"?[ \t]*=', re.MULTILINE)
    match = pattern.search(text, start, end)
    if match is None and table is None:
        match = re.search(rf"^[ \t]*\[{re.escape(key)}\]", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


#: Largest lesson file read (the built-in ones are under 1 KB).
MAX_LESSON_BYTES = 1024 * 1024


def read_config(path: Path) -> tuple[dict[str, Any], str]:
    """The TOML table of a lesson file and its text, or a :class:`LessonFileError`.

    Only a regular file of at most :data:`MAX_LESSON_BYTES` is read: ``/dev/zero``
    would be read until memory ran out, and a named pipe would block.
    """
    try:
        if not path.is_file():
            if not path.exists():
                raise LessonFileError(_("{path}: no such lesson file").format(path=path))
            raise LessonFileError(
                _(
                    "{path}: not a regular file; a lesson is a small .toml file "
                    "(see 'bptui lessons')"
                ).format(path=path)
            )
        with path.open("rb") as handle:
            data = handle.read(MAX_LESSON_BYTES + 1)
        if len(data) > MAX_LESSON_BYTES:
            raise LessonFileError(
                _("{path}: larger than {size} KB; a lesson file is small").format(
                    path=path, size=MAX_LESSON_BYTES // 1024
                )
            )
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise LessonFileError(_("{path}: no such lesson file").format(path=path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise LessonFileError(
            _("{path}: cannot read it ({reason})").format(path=path, reason=error)
        ) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as error:
        # The parser says "(at line N, column M)"; lead with file:N: like every other error.
        found = re.search(r"at line (\d+)", str(error))
        where = f"{path}:{found.group(1)}" if found else str(path)
        raise LessonFileError(
            _("{where}: not valid TOML: {reason}").format(where=where, reason=error)
        ) from None
