"""The help screen: every key and every panel, for a teacher seeing bptui for the first time."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from ..lesson.spec import Lesson
from .keymap import help_keys, shown

_HELP = """\
# bptui — backpropagation, one step at a time

*↑ ↓ scroll this page; esc closes it.*

One training step on one sample is **forward** (one node at a time) →
**backward** (one operation at a time, last to first) → **update** → **zero the
gradient**, then the next sample. Every number is computed by PyTorch.

## Keys

{keys}

Keys out of order are allowed where they teach something: `f` after the update
skips zeroing, so the next backward **adds** to `w.grad`; `b` twice runs into
torch's "backward through the graph a second time" error; `u` before `b` shows
why there is nothing to update with. The message line explains each.

## Panels

- **Graph** — x, w, y → × → ŷ → − → r → ² → loss. Values appear as the forward
  pass computes them; `∂` gradients (∂loss/∂node) as the backward pass reaches
  them. Under each value: torch's backward node (`MulBackward0`, …;
  `AccumulateGrad` writes `w.grad`). The node of the last step is highlighted.
- **Chain rule** — ∂loss/∂w = ∂loss/∂r · ∂r/∂ŷ · ∂ŷ/∂w = 2r · 1 · x: each
  factor's formula and the number torch computed, then the product, checked
  against torch's `w.grad` and a finite-difference estimate.
- **Tensor** — `w.data`, `w.grad` (`None` before the first backward),
  `requires_grad`, `is_leaf`, the loss's `grad_fn`; the residual and loss of
  the current sample.
- **PyTorch** — the lesson's program. `▶` marks the line the last step ran,
  `›` the line that runs next.
- **Plot** — each step's (w, loss), as the note's program records them, this
  sample's loss as a function of w, and the current point (red).
- **Status** — epoch, sample (with its x and y), the phase, the learning rate.

Inside the app, {edit} changes the learning rate, the parameters and the data.
To start another lesson or your own model, quit and run `bptui lessons` or
`bptui --help`; `bptui trace` gives the numbers without the interface.
"""


HELP = _HELP.format(keys=help_keys(), edit=shown("edit"))


class HelpBody(VerticalScroll):
    """The help's scroller: every key of a burst counts.

    Textual defers a key's scroll to after the next refresh and computes its target
    when the key arrives, so keys that arrive together (a held ↓ over SSH, a busy
    machine) all aimed at the same row and the page moved one line. Here each key
    moves the target at once, so eighty ↓ go eighty lines.
    """

    def action_scroll_down(self) -> None:
        self.scroll_to(y=self.scroll_target_y + 1, immediate=True)

    def action_scroll_up(self) -> None:
        self.scroll_to(y=self.scroll_target_y - 1, immediate=True)

    def action_page_down(self) -> None:
        self.scroll_to(
            y=self.scroll_target_y + self.scrollable_content_region.height, immediate=True
        )

    def action_page_up(self) -> None:
        self.scroll_to(
            y=self.scroll_target_y - self.scrollable_content_region.height, immediate=True
        )


class HelpScreen(ModalScreen[None]):
    """The lesson, the keys and the panels explained; esc, q, ? or F1 closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close help"),
    ]

    def __init__(self, lesson: Lesson | None = None) -> None:
        super().__init__()
        self.lesson = lesson

    def compose(self) -> ComposeResult:
        text = HELP
        if self.lesson is not None:
            about = f"## This lesson: {self.lesson.title}\n\n"
            if self.lesson.description:
                about += self.lesson.description + "\n\n"
            about += (
                f"`loss = {self.lesson.expression()}`, learning rate {self.lesson.lr:g}, "
                f"{self.lesson.epochs} epochs over {self.lesson.n_samples} samples.\n\n"
            )
            head, _, rest = HELP.partition("## Panels")
            text = head + about + "## Panels" + rest
        with HelpBody(id="help-body"):
            yield Markdown(text)
