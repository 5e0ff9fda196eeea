"""The help screen: every key and every panel, for a teacher seeing bptui for the first time."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from ..lesson.spec import Lesson
from .keymap import help_keys

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
- **Plot** — each step's (w, loss) `•`, as the note's program records them,
  this sample's loss as a function of w (the line `⠒⠒`), and the current point
  `●` on it; in the training modes `+` marks the run compared with. Each row is
  the loss range around its tick. `g` plots loss against the step instead, and
  `v` enlarges the plot (then the graph).
- **Status** — epoch, sample (with its x and y), the phase, the learning rate.

Run `bptui --help` for lesson options (`--x`, `--y`, `--init`, `--lr`,
`--epochs`) and `bptui trace` for the numbers without the interface.
"""


HELP = _HELP.format(keys=help_keys())


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
        with VerticalScroll(id="help-body"):
            yield Markdown(text)
