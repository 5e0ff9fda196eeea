"""What ``bptui serve`` was asked to do, checked before anything listens.

Plain data and plain checks: no asyncssh, no torch. Every problem a teacher
can make on the command line is one :class:`ServeError` with a sentence that
says what was wrong and how to fix it (the command prints it, exit code 2).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..app.settings import Settings
from ..i18n import _

COLORS = ("auto", "truecolor", "256", "16", "none")
#: The user name that is the teacher's, when the class has a teacher password.
TEACHER = "teacher"


class ServeError(Exception):
    """A bad ``bptui serve`` option, said in one line."""


@dataclass(frozen=True)
class ServeOptions:
    """The server's settings, all checked."""

    host: str = "127.0.0.1"
    port: int = 2222
    host_key: Path | None = None
    max_sessions: int = 100
    #: Sessions from one address: as many as the class by default, since a school
    #: reaching the server through NAT is one address (see parse_options).
    per_address: int = 100
    #: Connections without a session running (logging in, or asking for nothing).
    max_connecting: int = 100
    #: Minutes without a key press (or, for a follower, a step by the teacher).
    idle_timeout: float = 60.0
    password: str | None = None
    authorized_keys: Path | None = None
    teacher_password: str | None = None
    color: str = "auto"
    #: How every student's session looks and speaks (the same options as ``bptui``).
    settings: Settings = field(default_factory=Settings)
    #: ``--web PORT``: the page for browser students (None: SSH only).
    web_port: int | None = None
    #: ``--web-cert`` and ``--web-key``: the page over HTTPS.
    web_cert: Path | None = None
    web_key: Path | None = None
    #: Neither ``--ascii`` nor ``--no-ascii`` given: each student's terminal decides
    #: whether their session writes only ASCII (see :func:`bptui.glyphs.utf8_client`).
    ascii_per_student: bool = True
    #: Every student gets an app of their own, as before view groups (for comparing
    #: the two designs; more CPU and memory per student).
    own_apps: bool = False

    @property
    def classroom(self) -> bool:
        """With a teacher password, students follow the teacher's steps."""
        return self.teacher_password is not None


def _whole(value: str, flag: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ServeError(
            _("{flag}: {value} is not a whole number; use e.g. {flag} {example}").format(
                flag=flag, value=repr(value[:40]), example=low + 1
            )
        ) from None
    if not low <= number <= high:
        raise ServeError(
            _("{flag}: {number} is out of range; use {low} to {high}").format(
                flag=flag, number=number, low=low, high=high
            )
        )
    return number


def _readable(value: str, flag: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_file():
        raise ServeError(_("{flag}: {file} is not a file").format(flag=flag, file=value))
    if not os.access(path, os.R_OK):
        raise ServeError(
            _("{flag}: cannot read {file} (permission denied)").format(flag=flag, file=value)
        )
    return path


def _secret(value: str, flag: str) -> str:
    if not value:
        raise ServeError(
            _("{flag}: the password is empty; give one, e.g. {flag} backprop").format(flag=flag)
        )
    if any(ord(c) < 32 for c in value):
        raise ServeError(_("{flag}: the password contains control characters").format(flag=flag))
    return value


#: Every setting, as the command line's option names (``--host-key`` → ``host_key``).
OPTION_NAMES = frozenset(
    {
        "host",
        "port",
        "host_key",
        "max_sessions",
        "per_address",
        "max_connecting",
        "idle_timeout",
        "password",
        "authorized_keys",
        "teacher_password",
        "color",
        "web",
        "web_cert",
        "web_key",
    }
)


def parse_options(given: Mapping[str, str | None] | None = None) -> ServeOptions:
    """Check every option given as text (missing ones take their defaults).

    Raises :class:`ServeError`.
    """
    values = {name: value for name, value in (given or {}).items() if value is not None}
    host = values.get("host", "127.0.0.1")
    port = values.get("port", "2222")
    host_key = values.get("host_key")
    max_sessions = values.get("max_sessions", "100")
    per_address = values.get("per_address", max_sessions)
    max_connecting = values.get("max_connecting", "100")
    idle_timeout = values.get("idle_timeout", "60")
    password = values.get("password")
    authorized_keys = values.get("authorized_keys")
    teacher_password = values.get("teacher_password")
    color = values.get("color", "auto")
    web, web_cert, web_key = values.get("web"), values.get("web_cert"), values.get("web_key")
    unknown = set(values) - OPTION_NAMES
    if unknown:
        raise ServeError(_("unknown setting {name}").format(name=repr(sorted(unknown)[0])))
    if not host.strip():
        raise ServeError(
            _("--host: empty; use 127.0.0.1 (this machine) or 0.0.0.0 (every network)")
        )
    if password is not None and authorized_keys is not None:
        raise ServeError(_("give either --password or --authorized-keys, not both"))
    try:
        minutes = float(idle_timeout)
    except ValueError:
        raise ServeError(
            _(
                "--idle-timeout: {value} is not a number of minutes; use e.g. --idle-timeout 60"
            ).format(value=repr(idle_timeout[:40]))
        ) from None
    if not 0 < minutes <= 7 * 24 * 60:
        raise ServeError(_("--idle-timeout: give minutes greater than 0 (at most a week)"))
    if color not in COLORS:
        raise ServeError(
            _("--color: {value} is not one of {choices}").format(
                value=repr(color), choices=", ".join(COLORS)
            )
        )
    options = ServeOptions(
        host=host.strip(),
        port=_whole(port, "--port", 0, 65535),
        host_key=_readable(host_key, "--host-key") if host_key is not None else None,
        max_sessions=_whole(max_sessions, "--max-sessions", 1, 10_000),
        per_address=_whole(per_address, "--per-address", 1, 10_000),
        max_connecting=_whole(max_connecting, "--max-connecting", 1, 10_000),
        idle_timeout=minutes,
        password=_secret(password, "--password") if password is not None else None,
        authorized_keys=(
            _readable(authorized_keys, "--authorized-keys") if authorized_keys is not None else None
        ),
        teacher_password=(
            _secret(teacher_password, "--teacher-password")
            if teacher_password is not None
            else None
        ),
        color=color,
        web_port=_whole(web, "--web", 0, 65535) if web is not None else None,
        web_cert=_readable(web_cert, "--web-cert") if web_cert is not None else None,
        web_key=_readable(web_key, "--web-key") if web_key is not None else None,
    )
    _check_web(options)
    if options.password is not None and options.password == options.teacher_password:
        raise ServeError(
            _("--password and --teacher-password are the same: students could log in as teacher")
        )
    return options


def _check_web(options: ServeOptions) -> None:
    """``--web`` and its certificate make sense together."""
    if (options.web_cert is None) != (options.web_key is None):
        raise ServeError(_("give both --web-cert and --web-key (HTTPS needs the two)"))
    if options.web_cert is not None and options.web_port is None:
        raise ServeError(_("--web-cert needs --web PORT (the page it is for)"))
    if options.web_port is not None and options.authorized_keys is not None:
        raise ServeError(
            _("--web cannot admit by --authorized-keys (a browser has no SSH key); use --password")
        )
    if options.web_port is not None and options.web_port == options.port != 0:
        raise ServeError(
            _("--web {port} is the SSH port too; give the page another port").format(
                port=options.web_port
            )
        )


def data_dir() -> Path:
    """Where bptui keeps what it makes for itself (the server's host key)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "bptui"
