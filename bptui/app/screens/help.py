"""The help screen: every key and every panel, for a teacher seeing bptui for the first time."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import Markdown, Paragraph
from rich.segment import Segment
from textual import events
from textual._time import get_time
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ... import glyphs
from ...i18n import N_, _, ngettext
from ...lesson import words
from ...lesson.narration import epochs_trained
from ...lesson.snapshot import NodeView, Snapshot
from ...lesson.spec import Lesson
from ..keymap import help_keys, shown
from ..palette import marks
from ..wrapping import wrap

#: The help in English, with the lesson's own graph, chain and names as fields.
_HELP = N_("""\
# bptui — backpropagation, one step at a time

*↑ ↓ scroll this page; esc closes it.*

One training step on one sample is **forward** (one node at a time) →
**backward** (one operation at a time, last to first) → **update** → **zero the
gradient**, then the next sample. Every number is computed by PyTorch.

## Keys

{keys}

Keys out of order are allowed where they teach something: `f` after the update
skips zeroing, so the next backward **adds** to `{p}.grad`; `b` twice runs into
torch's "backward through the graph a second time" error; `u` before `b` shows
why there is nothing to update with. The message line explains each.

## Panels

- **Graph** — {graph}. Values appear as the forward
  pass computes them; `∂` gradients (∂{loss}/∂node) as the backward pass reaches
  them. Under each value: torch's backward node (`MulBackward0`, …;
  `AccumulateGrad` writes `{p}.grad`). The node of the last step is highlighted.
- **Chain rule** — {chain}: each
  factor's formula and the number torch computed, then the product, checked
  against torch's `{p}.grad` and a finite-difference estimate.{more}
- **Tensor** — `{p}.data`, `{p}.grad` (`None` before the first backward),
  `requires_grad`, `is_leaf`, the loss's `grad_fn`; the residual and loss of
  the current sample.
- **PyTorch** — the lesson's program, as the training modes (`Z`, `m`, `l`)
  change it. `▶` marks the line the last step ran, `›` the line that runs next.
- **Plot** — each step's ({p}, loss) `•`, as the note's program records them,
  this sample's loss as a function of {p} (the line `⠒⠒`), and the current point
  `●` on it; in the training modes `+` marks the run compared with. Each row is
  the loss range around its tick. `g` plots loss against the step instead, and
  `v` enlarges the plot, then the graph, then the chain rule and tensor panels,
  then the program.
- **Status** — epoch, sample (with its x and y), the phase, the learning rate,
  and the training modes that are on.

Inside the app, {edit} changes the learning rate, the parameters and the data,
and `o` opens another lesson. For a model of your own, quit and run
`bptui --help`; `bptui trace` gives the numbers without the interface.
""")


def note_help(translate: bool = True) -> str:
    """The help of the note's lesson, in the current language (or English); the screen
    writes the running lesson's own (:func:`lesson_help`)."""
    return (_(_HELP) if translate else _HELP).format(
        keys=help_keys(translate),
        p="w",
        loss="loss",
        graph="x, w, y → × → ŷ → − → r → ² → loss",
        chain="∂loss/∂w = ∂loss/∂r · ∂r/∂ŷ · ∂ŷ/∂w = 2r · 1 · x",
        more="",
        edit=shown("edit"),
    )


#: The help of the note's lesson in English, the source text (:func:`note_help` is
#: in the language spoken).
HELP = note_help(translate=False)

_SUPERSCRIPT = {"2": "²", "3": "³"}


def _op(node: NodeView) -> str:
    consts = [a for a, i in zip(node.args, node.inputs, strict=False) if i is None]
    if node.op == "pow" and len(consts) == 1 and consts[0] in _SUPERSCRIPT:
        return _SUPERSCRIPT[consts[0]]
    return (node.symbol or "?") + ",".join(consts)


def lesson_help(snap: Snapshot) -> str:
    """The help with the running lesson's graph, chain rule and first parameter, in the
    current language."""
    leaves = [n.label for n in snap.nodes if n.kind != "op"]
    ops = [f"{_op(n)} → {n.label}" for n in snap.nodes if n.kind == "op"]
    graph = " → ".join([", ".join(leaves), *ops])
    if not snap.chains:
        return note_help()
    chain = snap.chains[0]
    lead = f"∂{chain.loss_label}/∂{chain.label}"
    if chain.paths:
        names = " + ".join(" · ".join(f.name for f in path) for path in chain.paths)
        formulas = " + ".join(" · ".join(f.formula for f in path) for path in chain.paths)
        written = f"{lead} = {names} = {formulas}"
    else:
        written = f"{lead} = 0 " + _("(the loss does not depend on {param})").format(
            param=chain.label
        )
    more = ""
    if len(snap.chains) > 1:
        others = ", ".join(c.label for c in snap.chains[1:])
        more = " " + _("`c` writes out the next parameter's ({others}).").format(others=others)
    return _(_HELP).format(
        keys=help_keys(),
        p=snap.params[0].name if snap.params else chain.label,
        loss=chain.loss_label,
        graph=graph,
        chain=written,
        more=more,
        edit=shown("edit"),
    )


def help_text(lesson: Lesson | None, snapshot: Snapshot | None) -> str:
    """The help's Markdown in the current language: the running lesson's graph and chain
    rule (else the note's), and before the panels, what the lesson is."""
    text = note_help() if snapshot is None else lesson_help(snapshot)
    if lesson is None:
        return text
    about = "## " + _("This lesson: {title}").format(title=words.title(lesson)) + "\n\n"
    if lesson.description:
        about += words.description(lesson) + "\n\n"
    about += (
        _("`loss = {expression}`, learning rate {lr}, {epochs} over {samples}.").format(
            expression=lesson.expression(),
            lr=f"{lesson.lr:g}",
            epochs=epochs_trained(lesson.epochs)(),
            samples=ngettext("{n} sample", "{n} samples", lesson.n_samples).format(
                n=lesson.n_samples
            ),
        )
        + "\n\n"
    )
    # Before the panels: the third section (title, keys, panels), whatever its language.
    panels = "\n## " + text.split("\n## ")[2].split("\n", 1)[0]
    head, _sep, rest = text.partition(panels)
    return head + about + panels + rest


class _Paragraph(Paragraph):
    """A paragraph whose lines may break between Chinese characters (see
    :mod:`bptui.linebreak`; Rich breaks at spaces only)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield wrap(console, self.text, options.max_width, self.justify)


class _Markdown(Markdown):
    elements = {**Markdown.elements, "paragraph_open": _Paragraph}


class _Page:
    """The help's Markdown as Rich draws it; in ASCII mode its bullets are ``-``
    (Rich's are ``•``, the one character of its own it adds to the text)."""

    def __init__(self, source: str, ascii_only: bool) -> None:
        self.markdown = _Markdown(source)
        self.ascii_only = ascii_only

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.markdown, options):
            if self.ascii_only and "•" in segment.text:
                segment = Segment(segment.text.replace("•", "-"), segment.style, segment.control)
            yield segment


class HelpPage(Static):
    """The whole help as one widget, its Markdown drawn by Rich.

    Textual's Markdown widget made a widget of every heading, paragraph and list
    item, about 260 here: opening the help cost 0.43 s of CPU, and a class
    pressing ``?`` together on a 2-core server waited seconds for it. As one
    widget it costs about a fifth of that (BENCHMARKS.md). Its headings', code's
    and bullets' styles are the theme's (``markdown.*`` in :mod:`..palette`).
    """

    def __init__(self, source: str) -> None:
        super().__init__(_Page(source, glyphs.ascii_only()))
        #: The Markdown shown, as written.
        self.source = source


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

    CSS_PATH = "help.tcss"  # read when the help first opens, not at the app's start

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", N_("Close help")),
        Binding("L", "switch_language", N_("Language"), show=False),
    ]

    def __init__(self, lesson: Lesson | None = None, snapshot: Snapshot | None = None) -> None:
        """``snapshot``: the lesson as it runs (its graph and chain rule are described)."""
        super().__init__()
        self.lesson = lesson
        self.snapshot = snapshot
        #: When the help was first on screen: a toggle key pressed before closes nothing.
        self._shown_at = float("inf")

    def on_mount(self) -> None:
        self.call_after_refresh(self._shown)

    def _shown(self) -> None:
        self._shown_at = get_time()  # the clock of a key event's time

    def on_key(self, event: events.Key) -> None:
        """``?`` or F1 pressed before the help was on screen (a second press while it
        opens, on a busy machine) leaves it open: it was not seen yet."""
        if event.key in ("question_mark", "f1") and event.time < self._shown_at:
            event.stop()
            event.prevent_default()

    async def action_switch_language(self) -> None:
        """L over the help: the app speaks the next language, and the help is written again."""
        switch = getattr(self.app, "action_switch_language", None)
        if switch is not None:
            switch()
            await self.recompose()

    def page_text(self) -> str:
        """The page's Markdown: the help, then what marks what on this screen."""
        text = help_text(self.lesson, self.snapshot)
        text += "\n\n" + marks(
            bool(getattr(getattr(self.app, "themes", None), "colourless", False))
        )
        return glyphs.shown(text)

    def compose(self) -> ComposeResult:
        with HelpBody(id="help-body"):
            yield HelpPage(self.page_text())
