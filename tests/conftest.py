"""Settings shared by the whole suite.

Hypothesis profiles: a normal run draws new random examples each time (that is
how the property tests keep finding things); CI sets ``HYPOTHESIS_PROFILE=ci``
so that a run is reproducible and a submission cannot fail on an example no one
has seen before. ``mutate`` is for mutation testing: derandomized, so every mutant
meets the same inputs, and without shrinking.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import Phase, settings

# pytest-xdist's workers run with COLUMNS=80 and LINES=24 in their environment.
# Textual sizes its screen with shutil.get_terminal_size(), which takes those
# over the terminal's own size: every bptui the suite starts on a pty of another
# size, or resizes, would stay at 80×24. The processes under test must see their
# terminal as a student's would.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

if TYPE_CHECKING:
    from serve_client import Server

settings.register_profile("ci", derandomize=True, print_blob=True)
# No shrinking: a mutant is killed by the first failing example, and shrinking it
# took minutes (mutmut counted such mutants as timeouts).
settings.register_profile(
    "mutate",
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start ``bptui serve`` with the given options (see tests/serve_client.py); every
    server, and whatever it started, is gone after the test."""
    from serve_client import Server

    servers: list[Server] = []

    def start(*args: str, **options: Any) -> Server:
        s = Server(tmp_path, *args, **options)
        servers.append(s)
        return s

    yield start
    _end(servers)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    """One ``bptui serve`` per set of options for the tests of a module that only use
    it: they neither stop it nor read its log, and count its processes only against
    a count taken in the same test. A server costs 2 s of CPU before its first
    student (its zygote imports torch), and the suite starts about 75 (TESTING.md)."""
    from serve_client import Server

    servers: dict[tuple[str, ...], Server] = {}

    def get(*args: str) -> Server:
        if args not in servers:
            servers[args] = Server(tmp_path_factory.mktemp("shared-server"), *args)
        assert servers[args].proc.poll() is None, "a test stopped the shared server"
        return servers[args]

    yield get
    _end(list(servers.values()))


def _end(servers: list[Server]) -> None:
    """Every server, and whatever it started, gone."""
    for s in servers:
        s.stop(signal.SIGKILL if s.proc.poll() is None else signal.SIGINT)
        for pid in s.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
