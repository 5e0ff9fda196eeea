"""Handouts: ``x`` writes the session so far as Markdown, ``X`` an SVG screenshot.

Both go into the current directory as ``bptui-<lesson>-<YYYYmmdd-HHMMSS>.md`` (or
``.svg``); an existing file is never overwritten (a second one in the same second
gets ``-2``). The Markdown is ``bptui trace --format md``'s table of every training
step done so far (:func:`bptui.trace.write_markdown`, from the stepper's own
records), then each step's chain-rule factors, the chain each gradient is the
product of, where the session is now and the quiz score. A directory that cannot be
written gets one clear line on the message bar, and the lesson goes on.

In a ``bptui serve`` session the files would land on the server, not on the
student's computer: the keys say so and write nothing. The teacher's are
written, on the server (the teacher's machine), and the handout adds the class:
each class question's answers and each student's score
(:func:`class_markdown`; names come from the network and are escaped). A student in a browser
(``bptui serve --web``) gets the file instead: it goes to the terminal in-band as
iTerm2's file sequence (``OSC 1337 ; File=``), which the server cuts out of the
output and the page saves as a download (``deliver``: what writes to the terminal).
"""

from __future__ import annotations

import base64
import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..classroom.protocol import Results
from ..i18n import _, ngettext
from ..lesson.snapshot import Kind, Message, Snapshot
from ..lesson.values import format_plain
from .keymap import BY_ACTION
from .panels.status import phase_word

if TYPE_CHECKING:
    from textual.app import App

    from ..lesson.engine import Stepper
    from ..lesson.spec import Lesson


def now() -> float:
    """The time a file is named after (a function, so a test can set the clock)."""
    return time.time()


def file_stem(lesson: str, when: float) -> str:
    """``bptui-<lesson>-<YYYYmmdd-HHMMSS>``, the lesson's name made safe for a file name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", lesson).strip("-.") or "lesson"
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    return f"bptui-{safe}-{stamp}"


def write_new(folder: Path, stem: str, suffix: str, text: str) -> Path:
    """Write ``text`` to a new file ``<stem><suffix>`` in ``folder`` (``<stem>-2<suffix>``…
    when that exists): never over an existing file. Raises OSError."""
    for n in range(1, 1000):
        path = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
        try:
            with path.open("x", encoding="utf-8", newline="") as file:
                file.write(text)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{stem}{suffix} and 999 others exist")


def handout_markdown(stepper: Stepper, snap: Snapshot, score: tuple[int, int] | None = None) -> str:
    """The session so far: the trace's table of the training steps done, their chain-rule
    factors, where the session is now, and the quiz score."""
    from ..trace import write_markdown  # csv, json: not on the first frame's path

    lesson: Lesson = stepper.lesson
    out = io.StringIO()
    no_steps = _(
        "No training step is finished yet, so there is no table of steps: it begins when "
        "the first one ends ({train_step} does a whole training step)."
    ).format(train_step=BY_ACTION["train_step"].labels[0])
    write_markdown(stepper.iter_records(), out, lesson, empty=no_steps)
    records = list(stepper.iter_records())
    factors = [f for f in snap.factors if any(f"d{f.out}/d{f.wrt}" in r.factors for r in records)]
    if records and factors:
        out.write("\n## " + _("Chain-rule factors of each step") + "\n\n")
        for chain in snap.chains:
            # A sum over the paths from the loss to the parameter, each a product.
            paths = " + ".join(" · ".join(f.name for f in path) for path in chain.paths)
            out.write(f"- ∂{chain.loss_label}/∂{chain.label} = {paths}\n")
        out.write("\n| " + " | ".join([_("step"), *(f.name for f in factors)]) + " |\n")
        out.write("|" + "---:|" * (len(factors) + 1) + "\n")
        for record in records:
            cells = [str(record.step)]
            cells += [format_plain(record.factors.get(f"d{f.out}/d{f.wrt}")) for f in factors]
            out.write("| " + " | ".join(cells) + " |\n")
    out.write("\n## " + _("Where the session is") + "\n\n")
    steps = snap.steps_done
    if snap.finished:
        out.write(
            ngettext(
                "The lesson is finished: {steps} training step.",
                "The lesson is finished: {steps} training steps.",
                steps,
            ).format(steps=steps)
        )
    else:
        out.write(
            ngettext(
                "{steps} training step done; now epoch {epoch}, sample {sample}, {phase} "
                "({micro} micro-steps since the start).",
                "{steps} training steps done; now epoch {epoch}, sample {sample}, {phase} "
                "({micro} micro-steps since the start).",
                steps,
            ).format(
                steps=steps,
                epoch=snap.epoch,
                sample=snap.sample,
                phase=phase_word(snap.phase),
                micro=snap.micro_steps,
            )
        )
    out.write("\n")
    if score is not None:
        right, asked = score
        out.write(
            "\n" + _("Quiz: {right} right of {asked} asked.").format(right=right, asked=asked)
        )
        out.write("\n")
    return out.getvalue()


#: Characters Markdown reads as formatting (a name must show as typed).
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def markdown_text(text: str) -> str:
    """``text`` (from the network) as plain Markdown text: no control characters, every
    character Markdown would read as formatting escaped."""
    printable = "".join(c for c in text if c.isprintable())
    return _MARKDOWN.sub(r"\\\1", printable)


def class_markdown(results: Results) -> str:
    """The class's questions (each one's answers) and every student's score, as Markdown."""
    if not results.questions and not results.scores:
        return ""
    out = io.StringIO()
    out.write("\n## " + _("Class questions") + "\n\n")
    head = [_("question"), _("torch's value"), _("right"), _("wrong"), _("not answered")]
    out.write("| # | " + " | ".join([*head, _("common wrong answers")]) + " |\n")
    out.write("|---:|---|---:|---:|---:|---:|---|\n")
    for n, tally in enumerate(results.questions, 1):
        wrong = ", ".join(f"{format_plain(v)} ×{count}" for v, count in tally.wrong)
        cells = [str(n), markdown_text(tally.name), format_plain(tally.value)]
        cells += [str(tally.right), str(tally.answered - tally.right)]
        cells += [str(tally.asked - tally.answered), markdown_text(wrong) or "–"]
        out.write("| " + " | ".join(cells) + " |\n")
    out.write("\n## " + _("Scores") + "\n\n")
    out.write("| " + " | ".join([_("student"), _("from"), _("right"), _("asked")]) + " |\n")
    out.write("|---|---|---:|---:|\n")
    for score in results.scores:
        cells = [markdown_text(score.name), markdown_text(score.address)]
        out.write("| " + " | ".join([*cells, str(score.right), str(score.asked)]) + " |\n")
    return out.getvalue()


def _served() -> Message:
    """What ``x`` and ``X`` say in a ``bptui serve`` session, instead of writing."""
    return Message(
        Kind.REFUSED,
        _(
            "This lesson runs on the classroom server: a file written now would be the "
            "server's, not yours. For a handout, run bptui on your own computer "
            "(bptui trace --format md writes the table too)."
        ),
    )


#: How a file reaches a browser student's page (``bptui serve --web``): written to the
#: app's terminal. Set in that session's own process (see :func:`to_browser`).
_deliver: Callable[[str], None] | None = None


def to_browser(app: App[Any]) -> None:
    """This process's session is a page's: x and X hand their files to it."""
    global _deliver

    def deliver(text: str) -> None:
        driver = app._driver  # noqa: SLF001 - the terminal the app draws on, in turn with its frames
        if driver is not None:
            driver.write(text)

    _deliver = deliver


def write_handout(
    stepper: Stepper,
    snap: Snapshot,
    score: tuple[int, int] | None,
    served: bool,
    results: Results | None = None,
) -> Message:
    """x: the session so far as a Markdown handout in the current directory (with the
    class's ``results``, the teacher's); what to say."""
    if served and _deliver is None:
        return _served()
    stem = file_stem(snap.lesson, now())
    text = handout_markdown(stepper, stepper.snapshot(), score)
    if results is not None:
        text += class_markdown(results)
    if _deliver is not None:
        return _hand_over(stem + ".md", text, _deliver)
    return _save(stem, ".md", text, _("Handout written: {file}"))


def write_screenshot(lesson: str, svg: Callable[[], str], served: bool) -> Message:
    """X: what the screen shows now (``svg()``), as an SVG file in the current directory."""
    if served and _deliver is None:
        return _served()
    if _deliver is not None:
        return _hand_over(file_stem(lesson, now()) + ".svg", svg(), _deliver)
    return _save(file_stem(lesson, now()), ".svg", svg(), _("Screenshot saved: {file}"))


def _hand_over(name: str, text: str, deliver: Callable[[str], None]) -> Message:
    """``text`` to the student's browser as the file ``name`` (see the module)."""
    content = text.encode("utf-8")
    data = base64.b64encode(content).decode("ascii")
    label = base64.b64encode(name.encode("utf-8")).decode("ascii")
    deliver(f"\x1b]1337;File=name={label};size={len(content)};inline=0:{data}\x07")
    return Message(Kind.STEP, _("Sent to your browser's downloads: {file}").format(file=name))


def _save(stem: str, suffix: str, text: str, done: str) -> Message:
    folder = "."
    try:
        folder = str(Path.cwd())
        path = write_new(Path(folder), stem, suffix, text)
    except OSError as error:
        reason = error.strerror or str(error)
        return Message(
            Kind.REFUSED,
            _("Cannot write {file} in {folder}: {reason}. Nothing was saved.").format(
                file=stem + suffix, folder=folder, reason=reason
            ),
        )
    return Message(Kind.STEP, done.format(file=path.name))
