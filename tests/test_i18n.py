"""Languages: every string wrapped for translation has its Chinese, and the
compiled catalogues are the ones their sources say (see bptui/i18n.py)."""

from __future__ import annotations

import ast
import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bptui import i18n

PACKAGE = Path(i18n.__file__).resolve().parent
CATALOGUES = sorted((i18n.LOCALE_DIR / "zh" / "LC_MESSAGES").glob("*.po"))
FIELD = re.compile(r"{(\w*)[^{}]*}")
#: What ``_`` may be given besides a literal: a constant marked with ``N_`` where it is
#: defined (``_(TITLE)``, ``_(self.TITLE)``, ``_(NAMES[phase])``), found there.
MARKED = (ast.Name, ast.Attribute, ast.Subscript)


def wrapped_strings() -> dict[str | tuple[str, str], str]:
    """Every message given to ``_``, ``N_`` or ``ngettext`` in bptui's code, with where;
    one given to ``pgettext`` or ``NC_`` with its context, as ``(context, message)``."""
    found: dict[str | tuple[str, str], str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            name = node.func.id
            if name not in ("_", "N_", "ngettext", "pgettext", "NC_"):
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            count = 1 if name in ("_", "N_") else 2
            args = node.args[:count]
            if name in ("_", "pgettext") and len(args) == count and isinstance(args[-1], MARKED):
                continue
            if len(args) < count or not all(
                isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args
            ):
                found[f"<not a literal at {where}>"] = where
                continue
            texts = [a.value for a in args if isinstance(a, ast.Constant)]
            if name in ("pgettext", "NC_"):
                found.setdefault((texts[0], texts[1]), where)
            else:
                for text in texts:
                    found.setdefault(text, where)
    return found


def chinese() -> dict[str | tuple[str, str], str]:
    """msgid → msgstr over every Chinese catalogue (plural forms: the one form); a
    message with a context is keyed ``(msgctxt, msgid)``."""
    messages: dict[str | tuple[str, str], str] = {}
    for po in CATALOGUES:
        with po.open("rb") as file:
            catalogue = read_po(file)
        for message in catalogue:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            text = message.string if isinstance(message.string, str) else message.string[0]
            for msgid in ids:
                key = msgid if message.context is None else (message.context, msgid)
                messages[key] = "" if message.fuzzy else text
    return messages


def test_the_catalogue_mechanism_is_there():
    assert CATALOGUES, "no Chinese catalogue under bptui/locale/zh/LC_MESSAGES"


def test_every_wrapped_string_has_a_chinese_translation():
    translations = chinese()
    missing = [
        f"{where}: {text!r}"
        for text, where in wrapped_strings().items()
        if not translations.get(text)
    ]
    assert not missing, "strings without a Chinese translation:\n" + "\n".join(missing)


def test_translations_keep_every_field():
    """``{w}`` in English must be ``{w}`` in Chinese, or ``.format`` fails at run time."""
    wrong = [
        f"{msgid!r} → {msgstr!r}"
        for key, msgstr in chinese().items()
        for msgid in [key if isinstance(key, str) else key[1]]
        if msgstr and sorted(FIELD.findall(msgid)) != sorted(FIELD.findall(msgstr))
    ]
    assert not wrong, "translations whose {fields} differ from the English:\n" + "\n".join(wrong)


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.name)
def test_each_compiled_catalogue_matches_its_source(po: Path):
    """The messages of each ``.mo`` are those of its ``.po`` (the header aside: Babel
    stamps the hour it compiles into it)."""
    with po.open("rb") as file:
        catalogue = read_po(file)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.name} is missing: run `make catalogues`"
    with mo.open("rb") as file:
        shipped = gettext.GNUTranslations(file)
    expected = gettext.GNUTranslations(compiled)
    assert _messages(shipped) == _messages(expected), (
        f"{mo.name} is older than {po.name}: run `make catalogues`"
    )


def _messages(catalogue: gettext.GNUTranslations) -> dict[object, str]:
    return {k: v for k, v in catalogue._catalog.items() if k != ""}  # type: ignore[attr-defined]


def test_switching_language_changes_what_is_said():
    try:
        i18n.set_language("zh")
        assert i18n._("Loading PyTorch…") == "正在加载 PyTorch…"
        assert i18n.language() == "zh"
        assert i18n.next_language() == "en"
        i18n.set_language("en")
        assert i18n._("Loading PyTorch…") == "Loading PyTorch…"
    finally:
        i18n.set_language("en")


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="choose one of en, zh"):
        i18n.set_language("fr")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_TW.UTF-8", "LC_ALL": "C"}, "en"),  # LC_ALL first
        ({"LANG": "en_GB.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "C", "LC_ALL": "", "LC_MESSAGES": ""}, "en"),  # empty ones do not decide
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": ""}, "zh"),
    ],
)
def test_the_locale_chooses_the_language(environ: dict[str, str], expected: str):
    assert i18n.from_environment(environ) == expected
