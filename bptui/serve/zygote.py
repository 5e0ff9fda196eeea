"""The zygote: one process with torch and Textual loaded, forked once per student.

Importing torch takes 1–2 s and ~200 MB; a process per connection that did it
again would make 50 students joining at once wait ~50 s and use ~7.5 GiB.
Instead the server forks this process before it starts listening; the zygote
imports everything, runs the lesson once (a warm-up forward and backward), and
then waits. For each session the server sends it the session's pseudo-terminal
(and, in a classroom, the session's line to the server) over a Unix socket;
the zygote forks, and the child becomes that student's app (see
:mod:`bptui.serve.child`). Children share the zygote's memory until they write
to it, so each costs ~20 MB.

torch runs one thread here: a multi-threaded op before a fork leaves its pool's
locks held in the child, whose first torch op would then hang.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import signal
import socket
from dataclasses import dataclass
from typing import Any

from ..i18n import _
from ..lesson.spec import Lesson, LessonError

#: Largest request (a JSON header; the fds travel beside it).
_MAX_REQUEST = 64 * 1024


@dataclass
class Zygote:
    """The server's handle on the zygote process."""

    pid: int
    sock: socket.socket

    def spawn(self, header: dict[str, Any], fds: list[int]) -> None:
        """Ask for a child running a session on ``fds`` (the answer comes on ``sock``)."""
        socket.send_fds(self.sock, [json.dumps(header).encode()], fds)

    @staticmethod
    def answer(sock: socket.socket) -> tuple[dict[str, Any], int | None]:
        """Read one answer: ``{"pid": …}`` with the child's pidfd, or ``{"error": …}``."""
        message, fds, _, _ = socket.recv_fds(sock, _MAX_REQUEST, 1)
        if not message:
            raise ConnectionError("the zygote has stopped")
        return json.loads(message), (fds[0] if fds else None)

    def stop(self, timeout: float = 3.0) -> None:
        """End the zygote; it ends its remaining children first."""
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        _wait(self.pid, timeout)


def _wait(pid: int, timeout: float) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def start_zygote(lesson: Lesson, timeout: float = 120.0) -> Zygote:
    """Fork the zygote and wait until it is ready; a lesson torch refuses raises LessonError.

    Call before any thread or event loop exists in this process.
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the zygote (tests drive it through the server)
        ours.close()
        code = 1
        try:
            code = _zygote_main(theirs, lesson)
        finally:
            os._exit(code)
    theirs.close()
    ours.settimeout(timeout)
    try:
        ready, _fds = Zygote.answer(ours)
    except (OSError, ConnectionError, ValueError) as error:
        Zygote(pid, ours).stop()
        raise LessonError(
            _("the lesson could not be prepared: {reason}").format(reason=error)
        ) from None
    ours.settimeout(None)
    if "error" in ready:
        Zygote(pid, ours).stop()
        raise LessonError(str(ready["error"]))
    return Zygote(pid, ours)


def _warm_up(lesson: Lesson) -> None:
    """Import and run everything a session needs, so children inherit it ready."""
    import torch

    torch.set_num_threads(1)
    with contextlib.suppress(RuntimeError):  # only settable before the first parallel op
        torch.set_num_interop_threads(1)
    import importlib

    # The help and edit screens load on first use in the app: load them here once.
    for name in (
        *("chain", "code", "graph", "message", "plot", "status", "tensor", "edit", "help"),
        "classlink",  # a session's line to the class (child.py imports it)
    ):
        importlib.import_module(f"bptui.app.{name}")
    from ..app.keymap import ENGINE_LABELS
    from ..lesson.engine import Stepper

    stepper = Stepper(lesson, labels=ENGINE_LABELS)  # LessonError: a shape torch refuses
    stepper.finish_forward()
    stepper.finish_backward()
    stepper.snapshot()
    _run_app_once(lesson)


#: The warm-up app's parsed CSS, handed to every session's app (see :func:`share_css`).
_WARM_CSS: dict[str, Any] = {}


def _run_app_once(lesson: Lesson) -> None:
    """Run the app headless for a few frames, so children inherit everything it loaded.

    A session's first frame cost ~0.15 s of CPU without this, ~0.07 s with it
    (50 students joining at once share two cores): lazily imported modules,
    compiled regular expressions and, above all, the parsed stylesheet.
    """
    import asyncio

    from ..app.keymap import ENGINE_LABELS
    from ..app.main import BptuiApp
    from ..lesson.engine import Stepper

    async def run() -> None:
        app = BptuiApp(lesson, Stepper(lesson, labels=ENGINE_LABELS))
        # With the tooltip and the notifications' rack, as a session's app has them.
        async with app.run_test(size=(80, 24), tooltips=True, notifications=True) as pilot:
            await pilot.press("space")
            await pilot.pause(0.2)
        stylesheet = app.stylesheet
        for name in ("_parse_cache", "_style_parse_cache"):
            if hasattr(stylesheet, name):
                _WARM_CSS[name] = getattr(stylesheet, name)

    asyncio.run(run())


def share_css(app: Any) -> None:
    """Give ``app`` the warm-up app's parsed CSS (the same lesson, the same stylesheet).

    Textual keeps these caches per stylesheet, so every new app would parse
    app.tcss and every widget's CSS again. They are private attributes: if a
    Textual release renames them, this does nothing and only the speed-up is lost.
    """
    stylesheet = getattr(app, "stylesheet", None)
    for name, cache in _WARM_CSS.items():
        if stylesheet is not None and hasattr(stylesheet, name):
            setattr(stylesheet, name, cache)


def _zygote_main(sock: socket.socket, lesson: Lesson) -> int:  # pragma: no cover - forked
    # Ctrl+C in the teacher's terminal, or its hang-up, reaches every process of its
    # group: the server handles both and ends the zygote in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        _warm_up(lesson)
    except LessonError as error:
        socket.send_fds(sock, [json.dumps({"error": str(error)}).encode()], [])
        return 0
    except Exception as error:  # told to the server, which says it in one line
        message = json.dumps({"error": f"{type(error).__name__}: {error}"})
        socket.send_fds(sock, [message.encode()], [])
        return 1
    import gc

    gc.collect()
    gc.freeze()  # the collector would otherwise touch (and so copy) every shared page
    children = _Children()
    signal.signal(signal.SIGCHLD, children.reap)
    signal.signal(signal.SIGTERM, children.end)
    socket.send_fds(sock, [b'{"ready": true}'], [])
    while True:
        try:
            request, fds, _, _ = socket.recv_fds(sock, _MAX_REQUEST, 4)
        except OSError:
            break
        if not request:
            break  # the server has gone
        _fork_session(sock, json.loads(request), fds, lesson, children)
    children.end()
    return 0


class Starting:
    """Which sessions have not drawn their first frame yet, for every session to see.

    One byte per session, 1 while it starts, in a page of memory the zygote
    shares with all its children (an anonymous shared mapping survives fork).
    The zygote sets a session's byte before forking it and clears it if the
    session ends early; the session clears it once its first frame is out.
    Meanwhile the others put their plots and footers off (see
    :mod:`bptui.app.startup`), so a class joining at once sees its lessons sooner.
    """

    SLOTS = mmap.PAGESIZE

    def __init__(self) -> None:
        self.map = mmap.mmap(-1, self.SLOTS)
        self._owner: dict[int, int] = {}  # slot -> pid, in the zygote

    def take(self) -> int | None:
        """A free slot, marked starting (None if every slot is taken: it does not wait)."""
        slot = self.map.find(b"\0")
        if slot < 0:
            return None
        self.map[slot] = 1
        return slot

    def own(self, slot: int | None, pid: int) -> None:
        if slot is not None:
            self._owner[slot] = pid

    def ended(self, pid: int) -> None:
        """``pid`` has ended: free its slot if it still holds one (it ended while starting)."""
        for slot, owner in list(self._owner.items()):
            if owner == pid:
                del self._owner[slot]
                self.map[slot] = 0

    def done(self, slot: int | None) -> None:
        """In the session: its first frame is out."""
        if slot is not None:
            self.map[slot] = 0

    def others(self) -> bool:
        """Whether a session is still starting (this one's slot is clear by then)."""
        return self.map.find(b"\1") >= 0


class _Children:
    """The zygote's children: reaped as they end, told to end with the zygote."""

    def __init__(self) -> None:
        self.pids: set[int] = set()
        self.starting = Starting()

    def reap(self, *_: object) -> None:
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.pids.discard(pid)
            self.starting.ended(pid)

    def end(self, *_: object) -> None:
        for pid in list(self.pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGHUP)
        os._exit(0)


def _fork_session(
    sock: socket.socket,
    header: dict[str, Any],
    fds: list[int],
    lesson: Lesson,
    children: _Children,
) -> None:  # pragma: no cover - forked
    """Fork one session's child and send the server its pid and a pidfd."""
    # Hold SIGCHLD until the pidfd exists: a child reaped before pidfd_open
    # could have its pid reused, and the server would watch a stranger.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    starting = children.starting
    slot = starting.take()
    pid = os.fork()
    if pid == 0:
        sock.close()
        from .child import run_child

        os._exit(run_child(header, fds, lesson, (starting.others, lambda: starting.done(slot))))
    pidfd = os.pidfd_open(pid)
    children.pids.add(pid)
    starting.own(slot, pid)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
    for fd in fds:
        os.close(fd)
    try:
        socket.send_fds(sock, [json.dumps({"pid": pid}).encode()], [pidfd])
    finally:
        os.close(pidfd)
