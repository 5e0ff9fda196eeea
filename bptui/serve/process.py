"""An app forked from the zygote, on a pty of its own, with its class link.

A student's own app and a view group's shared app are the same thing to the
server: a child process drawing on a pty, watched through a pidfd, and (in a
classroom) a Unix socket speaking the class protocol. :class:`AppProcess`
owns those descriptors and hands what comes out of them to its owner's
callbacks; the owner decides where the screen goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import select
import signal
import socket
import struct
import termios
from collections.abc import Awaitable, Callable
from typing import Any

from ..classroom.protocol import FrameReader, Message, encode
from .logbook import log
from .outbox import Outbox

_READ = 65536

#: How an app is started: the zygote's ``spawn`` (the header, the descriptors it
#: gets) answering its pid and a pidfd.
Spawn = Callable[[dict[str, Any], list[int]], Awaitable[tuple[int, int]]]


class AppProcess:
    """One app: its pty, pidfd and class link, and who hears from them.

    ``output`` gets what the app draws, ``message`` each class message it sends,
    ``ended`` is called once when the app has gone (its last output passed on
    first). ``flow`` is told when keys back up (see :class:`Outbox`).
    """

    def __init__(
        self,
        output: Callable[[bytes], None],
        ended: Callable[[], None],
        message: Callable[[Message], None] | None = None,
        flow: Callable[[bool], None] | None = None,
    ) -> None:
        self._output = output
        self._ended = ended
        self._message = message
        self._flow = flow
        self.pid = 0
        self._master: int | None = None
        self._pidfd: int | None = None
        self._link: socket.socket | None = None
        self._keys: Outbox | None = None
        self._to_link: Outbox | None = None
        self._reader = FrameReader()
        self._reading = False
        self.finished = False

    @property
    def running(self) -> bool:
        return self._pidfd is not None and not self.finished

    async def start(
        self, spawn: Spawn, header: dict[str, Any], size: tuple[int, int], linked: bool
    ) -> None:
        """Fork the app on a new pty of ``size`` (columns, rows), with a class link if
        ``linked``. OSError if it cannot; if :meth:`close` was called meanwhile, the
        new app is killed at once."""
        master, slave = os.openpty()
        set_size(master, *size)
        os.set_blocking(master, False)
        fds = [slave]
        theirs = None
        if linked:
            self._link, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            fds.append(theirs.fileno())
        try:
            self.pid, pidfd = await spawn(header, fds)
        except OSError:
            os.close(master)
            if self._link is not None:
                self._link.close()
                self._link = None
            raise
        finally:
            os.close(slave)
            if theirs is not None:
                theirs.close()
        self._master, self._pidfd = master, pidfd
        if self.finished:  # closed while it started: no one wants it now
            self.signal(signal.SIGKILL)
            self._release()
            return
        loop = asyncio.get_running_loop()
        self._keys = Outbox(loop, master, flow=self._flow)
        loop.add_reader(pidfd, self._child_ended)
        if self._link is not None:
            self._link.setblocking(False)
            self._to_link = Outbox(loop, self._link.fileno())
            loop.add_reader(self._link.fileno(), self._link_readable)
        self.resume()

    # ------------------------------------------------------------ to the app

    def write(self, keys: bytes) -> None:
        """Keys for the app (buffered while its pty is full)."""
        if self._keys is not None:
            self._keys.write(keys)

    def send(self, message: Message) -> None:
        if self._to_link is not None:
            self._to_link.write(encode(message))

    def resize(self, columns: int, rows: int) -> None:
        if self._master is not None:
            with contextlib.suppress(OSError):
                set_size(self._master, columns, rows)

    def signal(self, sig: int) -> None:
        if self._pidfd is not None:
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self._pidfd, sig)

    def alive(self) -> bool:
        if self._pidfd is None:
            return False
        ended = select.poll()  # not select(): a pidfd may be numbered past 1024
        ended.register(self._pidfd, select.POLLIN)
        return not ended.poll(0)

    # ------------------------------------------------------------ from the app

    def pause(self) -> None:
        """Stop reading the app's screen (whoever shows it cannot keep up)."""
        if self._reading and self._master is not None:
            asyncio.get_running_loop().remove_reader(self._master)
            self._reading = False

    def resume(self) -> None:
        if not self._reading and self._master is not None and not self.finished:
            asyncio.get_running_loop().add_reader(self._master, self._readable)
            self._reading = True

    def _readable(self) -> None:
        assert self._master is not None
        try:
            data = os.read(self._master, _READ)
        except BlockingIOError:
            return
        except OSError:  # EIO: the app has closed its terminal
            data = b""
        if not data:
            self.pause()
            self._end()
            return
        self._output(data)

    def _child_ended(self) -> None:
        # Whatever the app wrote last is still in the pty: pass it on first.
        if self._master is not None:
            with contextlib.suppress(OSError):
                while not self.finished and (data := os.read(self._master, _READ)):
                    self._output(data)
        self._end()

    def _link_readable(self) -> None:
        assert self._link is not None
        try:
            data = self._link.recv(_READ)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self._link.fileno())
            return
        try:
            messages = self._reader.feed(data)
        except ValueError as error:
            log(f"bad message from an app (pid {self.pid}): {error}")
            return
        for message in messages:
            if self._message is not None and not self.finished:
                self._message(message)

    def _end(self) -> None:
        if not self.finished:
            self.close()
            self._ended()

    # ------------------------------------------------------------ the end

    def close(self) -> None:
        """Release everything; a child still running is killed (its screen is not
        read any more: whoever showed it has moved on)."""
        if self.finished:
            return
        if self.alive():
            self.signal(signal.SIGKILL)
        self.finished = True
        self._release()

    def _release(self) -> None:
        for outbox in (self._keys, self._to_link):
            if outbox is not None:
                outbox.close()
        self.pause()
        loop = asyncio.get_running_loop()
        link = self._link.fileno() if self._link is not None else None
        for fd in (link, self._master, self._pidfd):
            if fd is not None:
                with contextlib.suppress(ValueError, OSError):
                    loop.remove_reader(fd)
        if self._link is not None:
            self._link.close()
        for fd in (self._master, self._pidfd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._pidfd = None
        self._link = None


def set_size(fd: int, width: int, height: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
