"""Plain terminals: every character bptui shows, spelled in 7-bit ASCII when asked.

A terminal whose encoding is not UTF-8 (``LANG=C``, an ISO-8859-1 lab machine, a
serial console) shows ``∂`` or ``─`` as garbage. In ASCII mode (``--ascii``, or
automatically, see :func:`utf8_locale` and :func:`utf8_client`) bptui writes only
7-bit ASCII: ``∂`` → ``d``, ``ŷ`` → ``y_hat``, ``σ`` → ``sigmoid``, ``✓`` → ``ok``, …

Text is transliterated where it is made, before anything measures it: ``ŷ`` →
``y_hat`` is four cells wider, and a panel that lined columns up with ``ŷ`` would
come out crooked if the change came later. So the mode is one switch for the
process (a session is one process, like the language in :mod:`bptui.i18n`), and
the places that make text ask :func:`shown` (a string), :func:`glyph` (a
drawing character: borders, markers) or :func:`plain` (a whole frozen snapshot).
No Textual or Rich here: the engine's sentences can pass through it too, and the
command line uses it before the app loads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import re
import sys
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

#: Each character bptui writes that ASCII lacks, and how ASCII spells it.
TABLE: dict[str, str] = {
    # the mathematics of the lessons
    "∂": "d",
    "ŷ": "y_hat",
    "σ": "sigmoid",
    "Σ": "sum",
    "·": "*",
    "×": "*",
    "÷": "/",
    "−": "-",
    "±": "+/-",
    "²": "^2",
    "³": "^3",
    "ᵀ": "^T",
    "√": "sqrt",
    "∞": "inf",
    "≈": "~",
    "≠": "!=",
    "≤": "<=",
    "≥": ">=",
    "η": "eta",
    "λ": "lambda",
    "α": "alpha",
    "ε": "eps",
    "μ": "mu",
    "θ": "theta",
    # punctuation
    "…": "...",
    "—": "--",
    "–": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "\u00a0": " ",
    # marks and arrows
    "✓": "ok",
    "✗": "x",
    "▶": ">",
    "▸": ">",
    "›": ">",
    "‹": "<",
    "◀": "<",
    "→": "->",
    "←": "<-",
    "↑": "^",
    "↓": "v",
    "↔": "<->",
    "↕": "^v",
    "⏎": "enter",
    # the plot's markers and curve
    "•": "o",
    "▪": "*",
    "‣": ">",
    "◦": "o",
    "●": "@",
    "⠒": "-",
    # box drawing (the graph's wires, the plot's frame)
    "─": "-",
    "━": "-",
    "═": "=",
    "│": "|",
    "┃": "|",
    "║": "|",
    **dict.fromkeys("┌┐└┘├┤┬┴┼╭╮╰╯╔╗╚╝╠╣╦╩╬┏┓┗┛┣┫┳┻╋", "+"),
    # blocks (bars, scrollbars)
    **dict.fromkeys("█▉▊▋▌▍▎▏▐▕▁▂▃▄▅▆▇▔", "#"),
}

_ascii = False


def set_ascii(on: bool) -> None:
    """Write only 7-bit ASCII from now on (``True``), or any character (``False``)."""
    global _ascii
    _ascii = on


def ascii_only() -> bool:
    """Whether this process writes only ASCII now."""
    return _ascii


#: ``80×24``, ``{width}×{height}``: a size, ``80x24``, not a product.
_SIZE = re.compile(r"(?<=[\d}])×(?=[\d{])")


def to_ascii(text: str) -> str:
    """``text`` in 7-bit ASCII: by :data:`TABLE` (``×`` between two numbers is a size:
    ``x``), else without accents (``é`` → ``e``), else ``?``. ASCII text comes back as it
    is (the common case costs one check)."""
    return text if text.isascii() else _spelled(text)


@functools.lru_cache(maxsize=4096)
def _spelled(text: str) -> str:
    """:func:`to_ascii` of a text that is not ASCII, remembered: a snapshot's labels and
    sentences, and the strings of ``_()``, come back on every frame."""
    if "×" in text:
        text = _SIZE.sub("x", text)
    return "".join(_char(ch) for ch in text)


def _char(ch: str) -> str:
    if ch.isascii():
        return ch
    spelled = TABLE.get(ch)
    if spelled is not None:
        return spelled
    bare = "".join(c for c in unicodedata.normalize("NFKD", ch) if c.isascii())
    return bare or "?"


def shown(text: str) -> str:
    """``text`` as this process writes it: ASCII in ASCII mode, else unchanged."""
    return to_ascii(text) if _ascii else text


def glyph(fancy: str, plain: str) -> str:
    """A drawing character (a border, a marker): ``fancy``, or ``plain`` in ASCII mode."""
    return plain if _ascii else fancy


def plain(tree: T) -> T:
    """A frozen snapshot (dataclasses, tuples, strings) with every string in ASCII, in
    ASCII mode; the same object otherwise. Parts with nothing to change are kept."""
    return _plain(tree) if _ascii else tree


#: Types that hold no text: passed over at once (a snapshot is walked on every frame).
_NO_TEXT = (float, int, bool, type(None), enum.Enum)
#: Each dataclass's fields that ``replace`` takes, looked up once.
_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(item: Any) -> Any:
    if isinstance(item, _NO_TEXT):
        return item
    if isinstance(item, str):
        return item if item.isascii() else _spelled(item)
    if isinstance(item, tuple):
        parts = tuple(_plain(part) for part in item)
        if all(a is b for a, b in zip(parts, item, strict=True)):
            return item
        return type(item)(*parts) if hasattr(item, "_fields") else parts
    if isinstance(item, list):
        parts_list = [_plain(part) for part in item]
        return item if all(a is b for a, b in zip(parts_list, item, strict=True)) else parts_list
    names = _FIELDS.get(type(item))
    if names is None:
        if not dataclasses.is_dataclass(item) or isinstance(item, type):
            return item  # histories and other sequences of numbers
        names = _FIELDS[type(item)] = tuple(f.name for f in dataclasses.fields(item) if f.init)
    changed = {}
    for name in names:
        value = getattr(item, name)
        new = _plain(value)
        if new is not value:
            changed[name] = new
    return dataclasses.replace(item, **changed) if changed else item


class AsciiStream:
    """A text stream that writes what it is given in 7-bit ASCII."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return int(self._stream.write(to_ascii(text)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def ascii_output(on: bool) -> Iterator[None]:
    """With ``on``: ASCII mode, and ``sys.stdout`` and ``sys.stderr`` written in ASCII,
    while it lasts (the command line's messages before the app starts)."""
    if not on:
        yield
        return
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (AsciiStream(s) if s is not None else s for s in saved)
    was = _ascii
    set_ascii(True)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        set_ascii(was)


# ------------------------------------------------------------- which terminals


def _charset(locale_name: str) -> str:
    """``en_US.UTF-8@euro`` → ``utf8``; ``C``, ``POSIX`` → ``ascii``; none → ``latin1``."""
    name = locale_name.split("@", 1)[0]
    if name in ("C", "POSIX"):
        return "ascii"
    if "." not in name:
        return "latin1"  # glibc's charset for a locale named without one (de_DE)
    return name.split(".", 1)[1].lower().replace("-", "").replace("_", "")


def _locale_value(env: Mapping[str, str]) -> str | None:
    """The locale that decides the character set: the first of ``LC_ALL``, ``LC_CTYPE``,
    ``LANG`` that is set (POSIX's order), or None when none is."""
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(name, "")
        if value:
            return value
    return None


def utf8_locale(environ: Mapping[str, str], encoding: str | None = None) -> bool:
    """Whether this terminal takes UTF-8, as its locale says.

    The first of ``LC_ALL``, ``LC_CTYPE``, ``LANG`` that is set decides; none set is
    the C locale (ASCII), and so are ``C`` and ``POSIX``; a locale without a
    character set (``de_DE``) is ISO-8859-1. Python replaces the C locale by
    ``LC_CTYPE=C.UTF-8`` in its own environment when it starts (PEP 538), also
    for a locale this machine lacks (``LANG=de_DE.ISO-8859-1``): so with that
    ``LC_CTYPE`` (and no ``LC_ALL``), ``LANG`` decides. ``encoding``, the output stream's, when it is not
    UTF-8 (``PYTHONIOENCODING=latin-1``) also means ASCII.
    """
    if encoding is not None and _charset(f"x.{encoding}") != "utf8":
        return False
    value = _locale_value(environ)
    if not environ.get("LC_ALL") and environ.get("LC_CTYPE") in ("C.UTF-8", "C.utf8"):
        value = environ.get("LANG") or None  # perhaps Python's, not the user's: LANG decides
    return value is not None and _charset(value) == "utf8"


#: Terminal types (``TERM``) that cannot show UTF-8: hardware terminals and their
#: emulations, and ``dumb``. Every other (xterm, screen, tmux, linux, rxvt…) can.
ASCII_TERMS = ("dumb", "vt52", "vt100", "vt102", "vt220", "vt320", "ansi", "cons25", "sun")


def utf8_client(env: Mapping[str, str], term: str) -> bool:
    """Whether an ssh client's terminal takes UTF-8 (``bptui serve``, per student).

    OpenSSH sends ``LANG`` and ``LC_*`` when its ``SendEnv`` says so (Debian's and
    Ubuntu's default ``ssh_config`` does): then the locale decides, as for a local
    terminal. Without them, its ``TERM`` does: see :data:`ASCII_TERMS`.
    """
    value = _locale_value(env)
    if value is not None:
        return _charset(value) == "utf8"
    name = term.lower()
    return not any(name == t or name.startswith(t + "-") for t in ASCII_TERMS)
