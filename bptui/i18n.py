"""The words bptui says, in English (the source) and Simplified Chinese (``zh``).

Every user-visible string is written in English in the code and wrapped in
``_()`` where it is used; the Chinese lives in gettext catalogues, one per area
of the code: ``bptui/locale/zh/LC_MESSAGES/<area>.po``, compiled to ``<area>.mo``
beside it (``make catalogues``; a test checks each ``.mo`` matches its ``.po`` and
that every wrapped string has a translation). All of an area's catalogues are
chained, so an area adds its file without touching this module.

The language can change while the app runs (``L``): :func:`_` looks the current
language up on every call, so a string must be translated where it is shown,
never once at import. A constant that is shown later is marked with :func:`N_`
(for the extractor) and passed through :func:`_` when it is shown. A short word
whose Chinese depends on where it stands takes a context: :func:`pgettext` and
:func:`NC_` (``msgctxt`` in the ``.po``). Messages with
values use named fields, ``_("w is {w}").format(w=...)``, never f-strings: the
translator may need the fields in another order.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from pathlib import Path

from . import glyphs

#: The languages bptui speaks, by code: English is the source text.
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
DEFAULT = "en"
#: Where the catalogues are: ``<LOCALE_DIR>/<language>/LC_MESSAGES/<area>.mo``.
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_current = DEFAULT
_catalogue: gettext.NullTranslations = gettext.NullTranslations()
_loaded: dict[str, gettext.NullTranslations] = {}


def _load(language: str) -> gettext.NullTranslations:
    """Every area's catalogue of ``language``, chained (English: the source text)."""
    if language in _loaded:
        return _loaded[language]
    chain: gettext.NullTranslations = gettext.NullTranslations()
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    for mo in sorted(folder.glob("*.mo")) if language != DEFAULT else ():
        with mo.open("rb") as file:
            area = gettext.GNUTranslations(file)
        area.add_fallback(chain)
        chain = area
    _loaded[language] = chain
    return chain


def set_language(language: str) -> None:
    """Speak ``language`` (a key of :data:`LANGUAGES`) from now on."""
    global _current, _catalogue
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: choose one of {', '.join(LANGUAGES)}")
    _current, _catalogue = language, _load(language)


def language() -> str:
    """The language spoken now (``en`` or ``zh``)."""
    return _current


def next_language() -> str:
    """The language after the current one, for a key that cycles them."""
    codes = list(LANGUAGES)
    return codes[(codes.index(_current) + 1) % len(codes)]


def _(message: str) -> str:
    """``message`` in the current language (itself when there is no translation).

    In ASCII mode (:mod:`bptui.glyphs`) always English, spelled in ASCII: Chinese
    cannot be written in 7-bit ASCII."""
    if glyphs.ascii_only():
        return glyphs.to_ascii(message)
    return _catalogue.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language."""
    if glyphs.ascii_only():
        return glyphs.to_ascii(singular if n == 1 else plural)
    return _catalogue.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` as meant in ``context``: a short word whose Chinese depends on
    where it stands (the status bar's ``forward`` is 前向, the trace's 前向传播)."""
    if glyphs.ascii_only():
        return glyphs.to_ascii(message)
    return _catalogue.pgettext(context, message)


def NC_(context: str, message: str) -> str:
    """Mark ``message`` in ``context`` for translation; :func:`pgettext` translates it later."""
    del context  # read by the extractor (tests/test_i18n.py), not at run time
    return message


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now: :func:`_` does, later."""
    return message


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language the locale asks for: the first of ``LC_ALL``, ``LC_MESSAGES``, ``LANG``
    that is set decides (POSIX's order), and one starting with ``zh`` means Chinese."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else DEFAULT
    return DEFAULT
