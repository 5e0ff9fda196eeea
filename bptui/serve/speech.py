"""How the server speaks to each student: in their language, naming them safely.

Plain functions, no asyncssh: a student's language from the locale their
client sends, a message said in it, and a user name cleaned for the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import i18n


def client_language(env: Mapping[str, str], default: str) -> str:
    """The language a student's ssh client asks for with the locale it sends
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``; OpenSSH sends them with ``SendEnv``),
    else ``default`` (the server's ``--lang`` or locale). A Chinese locale in a
    charset other than UTF-8 (``zh_CN.GBK``) gets English: the app writes UTF-8."""
    sent = {name: str(env[name]) for name in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(name)}
    if not sent:
        return default
    language = i18n.from_environment(sent)
    decisive = next(sent[n] for n in ("LC_ALL", "LC_MESSAGES", "LANG") if n in sent)
    charset = decisive.partition(".")[2].partition("@")[0].lower().replace("-", "")
    return i18n.DEFAULT if language != i18n.DEFAULT and charset not in ("", "utf8") else language


def say(language: str, message: str, **fields: Any) -> str:
    """``message`` (marked with ``N_``) in ``language``, its fields filled in: the
    server speaks to each student in theirs."""
    spoken = i18n.language()
    try:
        i18n.set_language(language)
        return i18n._(message).format(**fields)
    finally:
        i18n.set_language(spoken)


def clean_name(username: str) -> str:
    """A user name fit for the log (what a client sends is not trusted)."""
    clean = "".join(c for c in username if c.isprintable())[:32]
    return clean or "-"
