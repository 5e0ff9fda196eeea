"""`:` (go to a step): the prompt for a step number, and what may be typed there.

Time travel in the app is U (a whole training step back), `:`, Home (the
lesson's start) and End (the rest of the epoch), each one unit for ←.

The engine does the travelling (:meth:`~bptui.lesson.engine.Stepper.jump_to` and
friends): a jump back restores a checkpoint, a jump forward computes every
step. Each is one classroom command (``Step("undo_step")``, ``Jump(12)``),
so a following student's app makes the same jump on its own stepper.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ...glyphs import glyph, shown
from ...i18n import _, ngettext
from ...lesson.snapshot import Snapshot

#: A jump forward computes every step on the event loop: at most this many at a
#: time (a few seconds on the seed lesson), so a typo cannot freeze the app.
MAX_FORWARD = 5_000


def last_step(snap: Snapshot) -> int:
    """The lesson's last step (epochs × samples, as the lesson is now)."""
    return snap.epochs * snap.n_samples


def read_step(text: str, snap: Snapshot) -> int | str:
    """The step typed, or why it cannot be gone to (one line)."""
    text = text.strip().replace(",", "").replace("_", "")
    last = last_step(snap)
    if not text:
        return _(
            "Type a step number from 0 (the start) to {last}, then enter; esc cancels."
        ).format(last=f"{last:,}")
    if not text.isdigit() or len(text) > 9:
        shown = text if len(text) <= 12 else text[:12] + glyph("…", "...")
        return _("{text} is not a step number: type a whole number from 0 to {last}.").format(
            text=repr(shown), last=f"{last:,}"
        )
    step = int(text)
    if step > last:
        return ngettext(
            "The lesson has {last} training step: type a number from 0 to {last}.",
            "The lesson has {last} training steps: type a number from 0 to {last}.",
            last,
        ).format(last=f"{last:,}")
    if step > snap.steps_done + MAX_FORWARD:
        return _(
            "A jump forward computes every step: at most {most} at a time "
            "(up to step {step} from here)."
        ).format(most=f"{MAX_FORWARD:,}", step=f"{snap.steps_done + MAX_FORWARD:,}")
    return step


class JumpScreen(ModalScreen[int | None]):
    """A one-line prompt at the bottom: a step number, enter goes, esc cancels."""

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("escape", "cancel", "Cancel"),
        # Enter typed before the app had the terminal (`:300` enter while Python starts)
        # reaches it as a newline: the terminal's own line editing turned it into one.
        Binding("ctrl+j", "submit", "Go", show=False),
    ]
    DEFAULT_CSS = """
    JumpScreen { align: center bottom; }
    #jump-box {
        width: 100%; height: auto; padding: 0 1;
        background: $panel; border-top: solid $accent;
    }
    #jump-input { border: none; height: 1; padding: 0 1; background: $boost; }
    #jump-error { color: $error; height: auto; }
    """

    def __init__(self, snap: Snapshot) -> None:
        super().__init__()
        self.snap = snap
        self._done = False

    def compose(self) -> ComposeResult:
        snap = self.snap
        with Vertical(id="jump-box"):
            yield Static(
                _(
                    "Go to step: 0 = the start, {last} = the end, now {now} "
                    "· enter goes · esc cancels"
                ).format(last=f"{last_step(snap):,}", now=f"{snap.steps_done:,}"),
                id="jump-title",
            )
            yield Input(placeholder=_("step number"), id="jump-input")
            yield Static("", id="jump-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self._done:  # a second enter in one burst (a paste)
            return
        step = read_step(event.value, self.snap)
        if isinstance(step, str):
            self.query_one("#jump-error", Static).update(shown(step))
            return
        self._close(step)

    async def action_submit(self) -> None:
        await self.query_one(Input).action_submit()

    def action_cancel(self) -> None:
        self._close(None)

    def _close(self, step: int | None) -> None:
        if not self._done:
            self._done = True
            self.dismiss(step)
