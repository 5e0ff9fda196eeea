"""The server's host key: made once, kept, and named by its fingerprint.

Students' ssh clients remember the host key the first time they connect; a key
made anew at every start would make each later class look like an attack. So
the key is generated once into the user's data directory and reused.
"""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh

from ..i18n import _
from .options import ServeError, data_dir

KEY_NAME = "ssh_host_ed25519_key"


def load_host_key(path: Path | None) -> tuple[asyncssh.SSHKey, Path, bool]:
    """The key at ``path`` (``--host-key``), else the kept one, made if missing.

    Returns the key, where it is, and whether it was just made.
    """
    if path is not None:
        try:
            return _read(path), path, False
        except (OSError, ValueError, asyncssh.KeyImportError) as error:
            raise ServeError(
                _(
                    "{what}: cannot read a private key from {path}: {reason} "
                    "(make one with: ssh-keygen -t ed25519 -f FILE -N '')"
                ).format(what="--host-key", path=path, reason=_reason(error))
            ) from None
    kept = data_dir() / KEY_NAME
    if kept.exists():
        try:
            return _read(kept), kept, False
        except (OSError, ValueError, asyncssh.KeyImportError) as error:
            # Made by an earlier start, then damaged: a new key from ssh-keygen
            # would not be read from there, so say what would.
            raise ServeError(
                _(
                    "the kept host key {path} cannot be read ({reason}): delete it to make "
                    "a new one (students' ssh will say the key changed), or give one with "
                    "--host-key FILE"
                ).format(path=kept, reason=_reason(error))
            ) from None
    key = asyncssh.generate_private_key("ssh-ed25519", comment="bptui host key")
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        # Written private from the first byte: never readable by others, even briefly.
        fd = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.export_private_key())
    except OSError as error:
        raise ServeError(
            _(
                "cannot keep the host key in {path}: {reason}; "
                "give one with --host-key FILE (ssh-keygen -t ed25519 -f FILE -N '')"
            ).format(path=kept, reason=error.strerror or error)
        ) from None
    return key, kept, True


def _read(path: Path) -> asyncssh.SSHKey:
    return asyncssh.read_private_key(path)


def fingerprint(key: asyncssh.SSHKey) -> str:
    """``SHA256:…``, as ``ssh`` shows it when it asks a student to trust the host."""
    return str(key.get_fingerprint("sha256"))


def load_authorized_keys(path: Path) -> asyncssh.SSHAuthorizedKeys:
    """The keys admitted by ``--authorized-keys`` (one line each, as in ``authorized_keys``)."""
    try:
        keys = asyncssh.read_authorized_keys(str(path))
    except (OSError, ValueError, asyncssh.KeyImportError) as error:
        raise ServeError(
            _(
                "--authorized-keys: cannot read {path}: {reason} "
                "(one public key per line, as in ~/.ssh/authorized_keys)"
            ).format(path=path, reason=_reason(error))
        ) from None
    return keys


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
