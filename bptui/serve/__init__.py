"""``bptui serve``: a whole class on one machine, over SSH, with nothing installed.

Students type ``ssh -p 2222 HOST`` and get the lesson in their terminal; with a
teacher password, the teacher's steps appear on every student's screen until
the student presses ``t`` to explore alone.

- :mod:`.options` — the command line's settings, checked (no asyncssh, no torch)
- :mod:`.hostkey` — the server's SSH host key, made once and kept
- :mod:`.zygote` — the pre-loaded process every session is forked from
- :mod:`.keeper` — the server's side of the zygote, and a new one if it dies
- :mod:`.child` — what a forked child does: take the terminal, run the app
- :mod:`.classroom` — follow mode: the class log and who follows it
- :mod:`.server` — the SSH front end: listening, limits, the sessions running
- :mod:`.connection` — one SSH connection: who it is, and at most one session
- :mod:`.session` — one terminal: the app behind it, bytes between pty and client
- :mod:`.outbox` — bytes to a descriptor that may not take them now, bounded
- :mod:`.terminal` — what an app switched the student's terminal into, undone if it dies
- :mod:`.limits` — what a client may send, cleaned and bounded
- :mod:`.gate` — who may try to log in, and how often
- :mod:`.logbook` — the teacher's log, which never stops the class
- :mod:`.web` — ``--web``: the page and websocket for browser students (aiohttp)
- :mod:`.webchannel` — a browser student's websocket as a session's channel
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
import sys
import warnings
from dataclasses import replace
from typing import TYPE_CHECKING

from ..i18n import _, ngettext
from ..lesson import words
from ..lesson.spec import Lesson, LessonError
from .options import ServeError, ServeOptions

# asyncssh names cryptography's DSA types at import, and cryptography warns about
# DSA every time: five warning blocks on every start, about keys this server never
# makes or accepts (its host key is ed25519). Said once here, before any import of it.
warnings.filterwarnings("ignore", message="DSA is deprecated", module="asyncssh")

if TYPE_CHECKING:
    from asyncssh import SSHAuthorizedKeys, SSHKey

    from .keeper import ZygoteKeeper


def _check_port(options: ServeOptions) -> None:
    """Fail before the slow start when the port is taken (the real bind checks again)."""
    if options.port == 0:
        return
    try:
        infos = socket.getaddrinfo(options.host, options.port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ServeError(
            _("--host: cannot use {host}: {reason}").format(
                host=repr(options.host), reason=error.strerror
            )
        ) from None
    for family, kind, proto, _name, address in infos[:1]:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                raise ServeError(_bind_error(options, error)) from None


def _bind_error(options: ServeOptions, error: OSError) -> str:
    where = f"{options.host}:{options.port}"
    if error.errno == errno.EADDRINUSE:
        return _("port {port} is in use on {host}; choose another with --port").format(
            port=options.port, host=options.host
        )
    if error.errno == errno.EACCES:
        return _(
            "not allowed to listen on {where} (ports below 1024 need root); try --port 2222"
        ).format(where=where)
    if error.errno == errno.EADDRNOTAVAIL:
        return _("{host} is not an address of this machine; try --host 0.0.0.0").format(
            host=options.host
        )
    return _("cannot listen on {where}: {reason}").format(
        where=where, reason=error.strerror or error
    )


def _banner(
    options: ServeOptions,
    lesson: Lesson,
    port: int,
    key: str,
    where: str,
    web_port: int | None = None,
) -> str:
    host = options.host
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    port_flag = f"-p {port} " if port != 22 else ""
    target = f"ssh {port_flag}{host}"
    lines = [
        f"bptui serve: {words.title(lesson)}",
        ngettext(
            "  listening on {address}, up to {count} student",
            "  listening on {address}, up to {count} students",
            options.max_sessions,
        ).format(address=f"{options.host}:{port}", count=options.max_sessions),
        _("  host key {key} ({where})").format(key=key, where=where),
        _("  students type:  {command}").format(command=target),
    ]
    if web_port is not None:
        scheme = "https" if options.web_cert is not None else "http"
        lines.append(_("  or open {url} in a browser").format(url=f"{scheme}://{host}:{web_port}/"))
    if options.password is not None:
        lines.append(_("  access: the class password (--password)"))
    elif options.authorized_keys is not None:
        lines.append(_("  access: keys in {file}").format(file=options.authorized_keys))
    else:
        lines.append(_("  access: open (any user name, no password)"))
    if options.classroom:
        lines.append(
            _("  teacher types:  {command}  (the teacher password)").format(
                command=f"ssh {port_flag}teacher@{host}"
            )
        )
        lines.append(_("  students follow the teacher's steps; t explores alone"))
    if options.host in ("127.0.0.1", "localhost", "::1"):
        lines.append(_("  only this machine can connect: use --host 0.0.0.0 to let the class in"))
    lines.append(_("  Ctrl+C ends the class."))
    return "\n".join(lines)


def _error(message: str) -> None:
    print(_("bptui serve: error: {message}").format(message=message), file=sys.stderr)


def run_serve(options: ServeOptions, lesson: Lesson) -> int:
    """Serve ``lesson`` until Ctrl+C; returns the exit code (2 for a bad setting)."""
    from .hostkey import fingerprint, load_authorized_keys, load_host_key
    from .keeper import ZygoteKeeper
    from .zygote import start_zygote

    try:
        key, key_path, made = load_host_key(options.host_key)
        # Read once here (a bad file: one line, exit 2) and handed to the server as read.
        keys = (
            load_authorized_keys(options.authorized_keys)
            if options.authorized_keys is not None
            else None
        )
        _check_port(options)
        if options.web_port is not None:
            from .web import tls_context

            try:
                _check_port(replace(options, port=options.web_port))
            except ServeError as error:  # the same words, about the page's port
                raise ServeError(str(error).replace("--port", "--web")) from None
            tls_context(options)
    except ServeError as error:
        _error(str(error))
        return 2
    # Loading torch takes a few seconds: before listening, so the first student waits for nothing.
    try:
        zygote = ZygoteKeeper(start_zygote(lesson), lesson)
    except LessonError as error:
        _error(str(error))
        return 2
    where = _("new, kept in {path}").format(path=key_path) if made else str(key_path)
    try:
        return asyncio.run(_serve(options, lesson, zygote, key, keys, where, fingerprint(key)))
    finally:
        zygote.zygote.stop()  # the one running now (it may have been started anew)


#: Ctrl+C, a service manager's stop, and a hang-up: the teacher's own SSH connection
#: to the lab machine dropped. Each ends the class tidily (every student's screen restored).
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _stop_on(stop: asyncio.Future[str], name: str) -> None:
    if not stop.done():
        stop.set_result(name)


async def _serve(
    options: ServeOptions,
    lesson: Lesson,
    zygote: ZygoteKeeper,
    key: SSHKey,
    keys: SSHAuthorizedKeys | None,
    where: str,
    printed_key: str,
) -> int:
    from .logbook import log
    from .server import ClassServer

    server = ClassServer(options, zygote, key, keys)
    try:
        port = await server.start()
    except OSError as error:
        _error(_bind_error(options, error))
        return 2
    print(_banner(options, lesson, port, printed_key, where, server.web_port), flush=True)
    stop: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    loop = asyncio.get_running_loop()
    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, _stop_on, stop, sig.name)
    name = await stop
    log(f"ending the class on {name} ({len(server.sessions)} session(s) open)")
    await server.stop()
    with contextlib.suppress(Exception):
        for sig in _STOP_SIGNALS:
            loop.remove_signal_handler(sig)
    log("class ended")
    return 0
