"""The zygote: one process with torch and Textual loaded, forked once per student.

Importing torch takes 1–2 s and ~200 MB; a process per connection that did it
again would make 50 students joining at once wait ~50 s and use ~7.5 GiB.
Instead the server starts this process once; the zygote imports everything,
runs the lesson once (a warm-up forward and backward), and then waits. For
each session the server sends it the session's pseudo-terminal (and, in a
classroom, the session's line to the server) over a Unix socket; the zygote
forks, and the child becomes that student's app (see :mod:`bptui.serve.child`).
Children share the zygote's memory until they write to it, so each costs ~20 MB.

The zygote never ends on a request: one it cannot read, or a fork the system
refuses, gets an error answer and the next request is served as usual.

torch runs one thread here: a multi-threaded op before a fork leaves its pool's
locks held in the child, whose first torch op would then hang.
"""

from __future__ import annotations

import contextlib
import errno
import json
import mmap
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ..i18n import _
from ..lesson.spec import Lesson, LessonError

#: Largest request (a JSON header; the fds travel beside it) and most descriptors in one.
_MAX_REQUEST = 64 * 1024
_MAX_FDS = 4
#: The zygote's entry when it is started anew (see :func:`launch`).
_ENTRY = "import sys; sys.path.insert(0, sys.argv[1]); from bptui.serve.zygote import main; main()"


@dataclass
class Zygote:
    """The server's handle on the zygote process."""

    process: subprocess.Popen[bytes]
    sock: socket.socket

    @property
    def pid(self) -> int:
        return self.process.pid

    def spawn(self, header: dict[str, Any], fds: list[int]) -> None:
        """Ask for a child running a session on ``fds`` (the answer comes on ``sock``).

        OSError if the request cannot be sent, or is larger than the zygote reads."""
        request = json.dumps(header).encode()
        if len(request) > _MAX_REQUEST:
            raise OSError(errno.EMSGSIZE, f"a request of {len(request)} bytes")
        socket.send_fds(self.sock, [request], fds)

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
            self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def launch(lesson: Lesson) -> Zygote:
    """Start a zygote process for ``lesson``; it says ``{"ready": true}`` on its socket
    once loaded (or ``{"error": …}``).

    A new interpreter, not a fork of this one: the server starts a new zygote
    while it runs, when its event loop, its connections and perhaps threads
    exist, none of which a fork should inherit. The lesson travels pickled on
    the new process's standard input; its socket is the one descriptor it keeps.
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    package_parent = str(Path(__file__).resolve().parent.parent.parent)
    with tempfile.TemporaryFile() as data, theirs:
        pickle.dump(lesson, data)
        data.seek(0)
        process = subprocess.Popen(
            [sys.executable, "-c", _ENTRY, package_parent, str(theirs.fileno())],
            stdin=data,
            pass_fds=[theirs.fileno()],
        )
    return Zygote(process, ours)


def start_zygote(lesson: Lesson, timeout: float = 120.0) -> Zygote:
    """Start the zygote and wait until it is ready; a lesson torch refuses raises LessonError."""
    zygote = launch(lesson)
    zygote.sock.settimeout(timeout)
    try:
        ready, _fds = Zygote.answer(zygote.sock)
    except (OSError, ConnectionError, ValueError) as error:
        zygote.stop()
        raise LessonError(
            _("the lesson could not be prepared: {reason}").format(reason=error)
        ) from None
    zygote.sock.settimeout(None)
    if "error" in ready:
        zygote.stop()
        raise LessonError(str(ready["error"]))
    return zygote


def main() -> None:  # pragma: no cover - the zygote process (tests reach it through the server)
    """The zygote process: its socket's descriptor is the last argument, the lesson is
    pickled on standard input (see :func:`launch`)."""
    code = 1
    try:
        lesson = pickle.load(sys.stdin.buffer)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        code = _zygote_main(socket.socket(fileno=int(sys.argv[-1])), lesson)
    finally:
        os._exit(code)


def _warm_up(lesson: Lesson) -> None:
    """Import and run everything a session needs, so children inherit it ready."""
    import torch

    torch.set_num_threads(1)
    with contextlib.suppress(RuntimeError):  # only settable before the first parallel op
        torch.set_num_interop_threads(1)
    import importlib

    # The screens and features the app loads on first use: load them here once.
    for name in (
        *("panels.chain", "panels.code", "panels.graph", "panels.message", "panels.plot"),
        *("panels.status", "panels.tensor", "screens.edit", "screens.help", "screens.jump"),
        *("handout", "language"),
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
    from . import stylesheet

    async def run() -> None:
        app = BptuiApp(lesson, Stepper(lesson, labels=ENGINE_LABELS))
        # With the tooltip and the notifications' rack, as a session's app has them.
        async with app.run_test(size=(80, 24), tooltips=True, notifications=True) as pilot:
            await pilot.press("space")
            await pilot.pause(0.2)
        stylesheet.keep(app.stylesheet)  # handed to every session's app

    asyncio.run(run())


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
    _serve_requests(sock, lesson, children)
    children.end()
    return 0


def _serve_requests(sock: socket.socket, lesson: Lesson, children: _Children) -> None:
    """Fork a session for each request until the server goes. A bad request, or a fork
    the system refuses, is answered with an error; the zygote carries on."""
    while True:
        try:
            request, fds, flags, _ = socket.recv_fds(sock, _MAX_REQUEST, _MAX_FDS)
        except OSError:
            return
        if not request:
            _close(fds)
            return  # the server has gone
        header = _checked(request, flags, fds)
        try:
            if isinstance(header, str):
                _close(fds)
                _answer(sock, {"error": header})
            else:
                _fork_session(sock, header, fds, lesson, children)
        except OSError:
            return  # the answer could not be sent: the server has gone


def _checked(request: bytes, flags: int, fds: list[int]) -> dict[str, Any] | str:
    """The request's header, or why it is refused."""
    if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
        return f"a request larger than {_MAX_REQUEST} bytes or {_MAX_FDS} descriptors"
    if len(fds) not in (1, 2):
        return f"a request with {len(fds)} descriptors (a terminal, and a link in a classroom)"
    try:
        header = json.loads(request)
    except ValueError as error:
        return f"a request that is not JSON ({error})"
    return header if isinstance(header, dict) else "a request that is not a JSON object"


def _answer(sock: socket.socket, answer: dict[str, Any], fds: tuple[int, ...] = ()) -> None:
    socket.send_fds(sock, [json.dumps(answer).encode()], list(fds))


def _close(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


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
) -> None:
    """Fork one session's child and send the server its pid and a pidfd (or, when the
    system refuses the fork, an error: the zygote itself goes on)."""
    # Hold SIGCHLD until the pidfd exists: a child reaped before pidfd_open
    # could have its pid reused, and the server would watch a stranger.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    starting = children.starting
    slot = starting.take()
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the session's process
            _child(sock, header, fds, lesson, (starting.others, lambda: starting.done(slot)))
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            os.kill(pid, signal.SIGKILL)  # a child the server could not watch: none at all
            raise
        children.pids.add(pid)  # before SIGCHLD can reap it
        starting.own(slot, pid)
    except OSError as error:  # EAGAIN, ENOMEM, EMFILE: no session now
        starting.done(slot)
        _close(fds)
        _answer(sock, {"error": f"cannot start a process: {error.strerror or error}"})
        return
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
    _close(fds)
    try:
        _answer(sock, {"pid": pid}, (pidfd,))
    finally:
        os.close(pidfd)


def _child(
    sock: socket.socket,
    header: dict[str, Any],
    fds: list[int],
    lesson: Lesson,
    crowd: tuple[Callable[[], bool], Callable[[], None]],
) -> NoReturn:  # pragma: no cover - the session's process
    """Run the session's app and end the process, whatever happens: a child that
    returned into the zygote's loop would be a second zygote."""
    code = 1
    try:
        sock.close()
        from .child import run_child

        code = run_child(header, fds, lesson, crowd)
    finally:
        os._exit(code)
