"""What a client may send, cleaned and bounded before the server acts on it.

Everything here comes from the network: a terminal type, a colour depth, a
window size. Each value is checked against what a real terminal sends and
replaced (or clamped) when it is not, so that no client-supplied value can
reach the zygote, an ioctl or the app unbounded. Plain functions, no asyncssh.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from .. import glyphs, i18n
from .options import ServeOptions

#: A terminal type as terminfo names them: ``xterm-256color``, ``screen.xterm``, ``vt100``.
_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
#: What a session gets when its client sends no usable terminal type.
DEFAULT_TERM = "xterm-256color"
#: The COLORTERM values that mean something (24-bit colour); any other is dropped.
COLORTERMS = ("truecolor", "24bit")


def clean_term(term: str | None) -> str:
    """``term`` if it looks like a terminfo name (at most 64 characters), else the default."""
    return term if term and _TERM.fullmatch(term) else DEFAULT_TERM


def clean_colorterm(value: str | None) -> str | None:
    """``truecolor`` or ``24bit`` as the client sent it, else None."""
    return value if value in COLORTERMS else None


#: The largest window a session's app draws in: larger real terminals (a 4K screen
#: at a small font is ~380×100) see the lesson in this much of their window. The
#: app's memory grows with its cells: 10000×10000 took 1.5 GB; 600×250, ~10 MB more
#: than 80×24.
MAX_COLUMNS = 600
MAX_ROWS = 250


def clamp_size(columns: int, rows: int) -> tuple[int, int]:
    """A window size the pty and the app can take: 0 (the client did not say) is
    80×24, larger than the limit is the limit."""
    return (
        min(columns, MAX_COLUMNS) if columns > 0 else 80,
        min(rows, MAX_ROWS) if rows > 0 else 24,
    )


#: The environment a client may send (OpenSSH's SendEnv; sshd's usual AcceptEnv):
#: the locale says a student's language and charset, COLORTERM their colours.
#: Others are refused, and so is any past a few, or longer than a locale name.
MAX_ENV = 16
MAX_ENV_VALUE = 256


def accepts_env(name: bytes, value: bytes, kept: int) -> bool:
    """Whether to keep the variable ``name=value`` when ``kept`` are kept already."""
    wanted = name in (b"LANG", b"COLORTERM") or (name.startswith(b"LC_") and len(name) <= 32)
    return wanted and kept < MAX_ENV and len(value) <= MAX_ENV_VALUE


def app_header(
    options: ServeOptions, env: dict[str, str], term: str | None, language: str
) -> tuple[dict[str, Any], str]:
    """The zygote's request for a session's app (its role and browser aside), and the
    language it speaks: the class's settings, in ASCII for a terminal that cannot show
    UTF-8 (the client's LANG or LC_ALL when its ssh sends them, else its TERM)."""
    settings = options.settings
    if options.ascii_per_student and not glyphs.utf8_client(env, term or ""):
        settings = replace(settings, ascii_only=True)
    if settings.ascii_only:
        language = i18n.DEFAULT  # Chinese cannot be written in 7-bit ASCII
    settings = replace(settings, language=language)
    head = {
        "term": term,
        "color": options.color,
        "colorterm": clean_colorterm(env.get("COLORTERM")),
        "settings": settings.to_header(),
    }
    return head, language
