"""A lesson file's words in other languages: ``title.zh``, ``description.zh``,
``[narration.zh]`` and ``[notes.zh]``.

English stays where it always was (``title = "…"``, ``[narration]``); a title or
description in two languages is a table, ``title.en = "…"`` and ``title.zh = "…"``
(TOML's dotted keys), and the narration and notes of another language are a
subtable of their own, ``[narration.zh]`` with the phases, ``[notes.zh]`` with
the value labels. The engine says the words of the language spoken and falls back
to English where a lesson gives none (:mod:`.words`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..i18n import DEFAULT, LANGUAGES, _
from .spec import LessonError

#: ``fail(key, message, table)``: the lesson file's error naming the key's line.
Fail = Callable[[str | None, str, str | None], LessonError]
Words = list[tuple[str, str, str]]

_PHASES = ("forward", "backward", "update", "zero")


def _others() -> list[str]:
    """The languages a lesson file can add to its English."""
    return [code for code in LANGUAGES if code != DEFAULT]


def split_words(config: Mapping[str, Any], fail: Fail) -> tuple[dict[str, Any], Words]:
    """``config`` with its words in other languages taken out (title and description
    as plain English strings), and those words as (language, key, text)."""
    plain = dict(config)
    words: Words = []
    for key in ("title", "description"):
        if isinstance(plain.get(key), dict):
            _split_text(plain, key, words, fail)
    for table, known in (("narration", _PHASES), ("notes", None)):
        if isinstance(plain.get(table), dict):
            _split_table(plain, table, known, words, fail)
    for lang, key, text in words:
        bad = next(
            (c for c in text if (ord(c) < 32 and c not in "\n\t") or 127 <= ord(c) < 160), ""
        )
        table, _dot, name = key.partition(".")
        if bad and not name:  # title.zh, description.zh
            raise fail(f"{table}.{lang}", _control(f"{table}.{lang}", bad), None)
        if bad:
            raise fail(name, _control(f"{table}.{lang}.{name}", bad), f"{table}.{lang}")
    return plain, words


def _split_text(plain: dict[str, Any], key: str, words: Words, fail: Fail) -> None:
    """``title.en`` and ``title.zh``: the English stays, the rest joins ``words``."""
    value = plain[key]
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise fail(f"{key}.{lang}", _unknown(f"{key}.{lang}"), None)
        if not isinstance(text, str):
            raise fail(f"{key}.{lang}", _not_text(f"{key}.{lang}"), None)
        if lang != DEFAULT:
            words.append((lang, key, text))
    if DEFAULT in value:
        plain[key] = value[DEFAULT]
    else:
        del plain[key]  # no English: the lesson's name (title) or nothing


def _split_table(
    plain: dict[str, Any], table: str, known: tuple[str, ...] | None, words: Words, fail: Fail
) -> None:
    """``[narration.zh]``, ``[notes.zh]``: taken out of their table into ``words``."""
    rest = dict(plain[table])
    for lang in _others():
        own = rest.pop(lang, None)
        if own is None:
            continue
        where = f"{table}.{lang}"
        if not isinstance(own, dict):
            raise fail(lang, _not_table(where), table)
        for name, text in own.items():
            if known is not None and name not in known:
                raise fail(name, _no_phase(f"{where}.{name}"), where)
            if not isinstance(text, str):
                raise fail(name, _not_text(f"{where}.{name}"), where)
            words.append((lang, f"{table}.{name}", text))
    plain[table] = rest


def check_note_labels(words: Words, labels: Iterable[str], fail: Fail) -> None:
    """Every ``[notes.<language>]`` label names a value of the model."""
    shown = list(labels)
    for lang, key, _text in words:
        label = key.removeprefix("notes.")
        if key.startswith("notes.") and label not in shown:
            raise fail(
                label,
                _("notes.{lang}.{label}: no value is labelled {label!r} ({labels})").format(
                    lang=lang, label=label, labels=", ".join(shown)
                ),
                f"notes.{lang}",
            )


def kept_words(words: tuple[tuple[str, str, str], ...], new_model: bool) -> tuple[Any, ...]:
    """A lesson's own words in other languages that still fit another model or loss:
    the notes, and the narration for the same model (never the title or description)."""
    kept = ("notes.",) if new_model else ("notes.", "narration.")
    return tuple(word for word in words if word[1].startswith(kept))


def _control(where: str, char: str) -> str:
    return _(
        "{where} contains the control character U+{code:04X}: a lesson's text is shown in "
        "terminals, where it could change colours or the window's title; use printable text "
        "and line breaks only"
    ).format(where=where, code=ord(char))


def _unknown(where: str) -> str:
    return _("{where}: the languages are {languages}").format(
        where=where, languages=", ".join(LANGUAGES)
    )


def _not_text(where: str) -> str:
    return _("{where} must be a string").format(where=where)


def _not_table(where: str) -> str:
    return _("{where} must be a table (a [{where}] section)").format(where=where)


def _no_phase(where: str) -> str:
    return _("{where}: the phases are {phases}").format(where=where, phases=", ".join(_PHASES))


def title_in_language(config: Mapping[str, Any], name: str, language: str) -> str:
    """A lesson file's title in ``language`` (its English, else its name), for
    ``bptui lessons``, without building the lesson."""
    title = config.get("title", name)
    if isinstance(title, dict):
        text = title.get(language, title.get(DEFAULT, name))
        return text if isinstance(text, str) else name
    return str(title)
