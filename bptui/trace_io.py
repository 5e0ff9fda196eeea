"""Where ``bptui trace`` writes: standard output, or a file replaced only after a whole run.

Nothing here imports torch: the run itself (``bptui.trace.run_trace``) loads it
when it starts.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import i18n
from .i18n import _
from .lesson.spec import Lesson, LessonError


def write_trace(
    lesson: Lesson, fmt: str, output: str | None, source: str | None, language: str | None = None
) -> int:
    """Write the trace to standard output or to ``output``; the exit code.

    ``source`` is the lesson file given, if any (it is never overwritten). A
    file is written beside its target under a temporary name and renamed into
    place only when the whole run succeeded, so a run that fails or is
    interrupted leaves an existing file as it was. Data is always UTF-8, written in
    ``language`` (default: the one spoken), whatever the terminal can show.
    """

    if output is not None and not output.strip():
        print(
            _("bptui trace: error: -o needs a file name (or - for standard output)"),
            file=sys.stderr,
        )
        return 2
    if output == "-":
        output = None
    if output is None:
        if sys.stdout is None:
            print(_("bptui trace: error: standard output is closed; use -o FILE"), file=sys.stderr)
            return 2
        binary = getattr(sys.stdout, "buffer", None)
        # Data is UTF-8 whatever the locale says; a stdout without bytes (a test's
        # StringIO) is written as text.
        out = (
            io.TextIOWrapper(binary, encoding="utf-8", newline="")
            if binary is not None
            else sys.stdout
        )
        try:
            _run(lesson, out, fmt, language)
            out.flush()
        except LessonError as error:  # found once torch runs the model (shapes)
            print(_("bptui trace: error: {message}").format(message=error), file=sys.stderr)
            return 2
        except BrokenPipeError:
            # The reader stopped early (``bptui trace | head``): nothing is wrong.
            quiet_stdout()
            return 0
        except OSError as error:
            quiet_stdout()
            cannot_write("trace", _("to standard output"), error)
            return 1
        finally:
            if isinstance(out, io.TextIOWrapper) and out is not sys.stdout:
                with contextlib.suppress(ValueError, OSError):
                    out.detach()  # sys.stdout keeps its buffer
        return 0
    return _trace_to_file(lesson, fmt, output, source, language)


def _trace_to_file(
    lesson: Lesson, fmt: str, output: str, source: str | None, language: str | None
) -> int:
    target = Path(output)
    if source and Path(source).is_file() and target.exists() and Path(source).samefile(target):
        print(
            _(
                "bptui trace: error: -o {file} is the lesson file itself; choose another name"
            ).format(file=output),
            file=sys.stderr,
        )
        return 2
    replacing = target.is_file()
    if target.exists() and not replacing:
        # /dev/null, a terminal, a pipe: nothing to protect, written in place.
        return _trace_in_place(lesson, fmt, output, language)
    try:
        fd, partial = tempfile.mkstemp(
            dir=target.parent or ".", prefix=f".{target.name}.", suffix=".part"
        )
    except OSError as error:
        cannot_write("trace", output, error)
        return 2
    done = False
    try:
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            stepper = _run(lesson, handle, fmt, language)
        mode = target.stat().st_mode & 0o7777 if replacing else 0o666 & ~_umask()
        os.chmod(partial, mode)
        os.replace(partial, target)
        done = True
    except LessonError as error:  # found once torch runs the model (shapes)
        print(_("bptui trace: error: {message}").format(message=error), file=sys.stderr)
        return 2
    except OSError as error:
        cannot_write("trace", output, error)
        return 1
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(partial)
    _report(stepper, output, replaced=replacing)
    return 0


def _trace_in_place(lesson: Lesson, fmt: str, output: str, language: str | None) -> int:
    try:
        out = open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
    except OSError as error:
        cannot_write("trace", output, error)
        return 2
    try:
        with out:
            stepper = _run(lesson, out, fmt, language)
    except LessonError as error:
        print(_("bptui trace: error: {message}").format(message=error), file=sys.stderr)
        return 2
    except OSError as error:
        cannot_write("trace", output, error)
        return 1
    _report(stepper, output, replaced=False)
    return 0


def _run(lesson: Lesson, out: Any, fmt: str, language: str | None) -> Any:
    """The run, its words (Markdown headings …) in the data's language; messages
    about it stay in the language the terminal is spoken to in."""
    from .trace import run_trace  # torch is imported here, not before

    spoken = i18n.language()
    i18n.set_language(language or spoken)
    try:
        return run_trace(lesson, out, fmt)
    finally:
        i18n.set_language(spoken)


def _report(stepper: Any, output: str, replaced: bool) -> None:
    last = stepper.last_record()  # one record, not a list of every one
    if last is None:
        return
    params = ", ".join(f"{n} = {v!r}" for n, v in last.params_after.items())
    text = (
        i18n.ngettext(
            "bptui trace: {steps} step written to {file} (replacing the file that was there); "
            "final {params}",
            "bptui trace: {steps} steps written to {file} (replacing the file that was there); "
            "final {params}",
            last.step,
        )
        if replaced
        else i18n.ngettext(
            "bptui trace: {steps} step written to {file}; final {params}",
            "bptui trace: {steps} steps written to {file}; final {params}",
            last.step,
        )
    )
    print(text.format(steps=last.step, file=output, params=params), file=sys.stderr)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def cannot_write(command: str, where: str, error: OSError) -> None:
    """The one-line message for an output that failed (a full disk, a closed pipe's
    kin, a read-only file), e.g. ``bptui trace: error: cannot write out.md: …``."""
    print(
        _("bptui {command}: error: cannot write {where}: {reason}").format(
            command=command, where=where, reason=error.strerror or error
        ),
        file=sys.stderr,
    )


def quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush stays quiet."""
    with contextlib.suppress(OSError, AttributeError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
