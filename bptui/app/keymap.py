"""Every key of the app in one table.

The app's ``BINDINGS`` (and so the footer), the engine actions keys call, the
keys greyed out once the lesson is finished and the help screen's key list are
all made from :data:`KEYS`; a test checks the key table of docs/using.md against
it. Plain data: the lesson session uses it without loading Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..i18n import N_, _
from ..lesson.snapshot import Snapshot


@dataclass(frozen=True)
class Key:
    """One action and the keys that run it."""

    #: The app's action, e.g. ``next`` or ``scroll_graph(-12)``.
    action: str
    #: Textual's key names, comma-separated.
    keys: str
    #: The keys as a person reads them, in the help and README.
    labels: tuple[str, ...]
    #: The footer's word for it.
    description: str
    show: bool = True
    tooltip: str | None = None
    #: The Stepper method the action calls, if it steps the engine.
    engine: str | None = None
    #: Takes training steps, so it has nothing to do once the lesson is finished.
    steps: bool = False


KEYS: tuple[Key, ...] = (
    Key(
        "next",
        "space,right,n",
        ("space", "→", "n"),
        N_("Next"),
        tooltip=N_("The next micro-step"),
        engine="next",
        steps=True,
    ),
    Key(
        "undo",
        "left,backspace",
        ("←", "backspace"),
        N_("Undo"),
        tooltip=N_("Undo one micro-step"),
        engine="undo",
    ),
    Key(
        "forward",
        "f",
        ("f",),
        N_("Fwd"),
        tooltip=N_("Next forward micro-step"),
        engine="forward",
        steps=True,
    ),
    Key(
        "finish_forward",
        "F",
        ("F",),
        N_("Fwd pass"),
        show=False,
        engine="finish_forward",
        steps=True,
    ),
    Key(
        "backward",
        "b",
        ("b",),
        N_("Bwd"),
        tooltip=N_("Next backward micro-step"),
        engine="backward",
        steps=True,
    ),
    Key(
        "finish_backward",
        "B",
        ("B",),
        N_("Bwd pass"),
        show=False,
        engine="finish_backward",
        steps=True,
    ),
    Key(
        "update",
        "u",
        ("u",),
        N_("Update"),
        tooltip="w.data = w.data - a * w.grad.data",
        engine="update",
        steps=True,
    ),
    Key("zero", "z", ("z",), N_("Zero"), tooltip="w.grad.data.zero_()", engine="zero", steps=True),
    Key("train_step", "s", ("s",), N_("Step"), show=False, engine="train_step", steps=True),
    Key("finish_epoch", "e", ("e",), N_("Epoch"), show=False, engine="finish_epoch", steps=True),
    Key("undo_step", "U", ("U",), N_("Undo step"), show=False, engine="undo_step"),
    Key("jump", "colon", (":",), N_("Go to step"), show=False),
    Key("jump_start", "home", ("Home",), N_("Start"), show=False, engine="jump_to_start"),
    Key(
        "jump_end",
        "end",
        ("End",),
        N_("End of epoch"),
        show=False,
        engine="jump_to_epoch_end",
        steps=True,
    ),
    Key("autoplay", "p", ("p",), N_("Play"), tooltip=N_("Autoplay on/off"), steps=True),
    Key("faster", "plus", ("+",), N_("Faster"), show=False),
    Key("slower", "minus", ("-",), N_("Slower"), show=False),
    Key("reset", "r", ("r",), N_("Reset"), show=False, engine="reset"),
    Key("cycle_plot", "g", ("g",), N_("Plot"), show=False),
    Key("cycle_zoom", "v", ("v",), N_("Enlarge"), show=False),
    Key("cycle_chain", "c", ("c",), N_("Chain"), show=False),
    Key("scroll_graph(-12)", "left_square_bracket", ("[",), N_("Graph ←"), show=False),
    Key("scroll_graph(12)", "right_square_bracket", ("]",), N_("Graph →"), show=False),
    Key("scroll_graph(0,-3)", "left_curly_bracket", ("{",), N_("Graph ↑"), show=False),
    Key("scroll_graph(0,3)", "right_curly_bracket", ("}",), N_("Graph ↓"), show=False),
    Key("graph_names", "y", ("y",), "grad_fn", show=False),
    Key("precise", "P", ("P",), N_("Digits"), show=False),
    Key("edit", "E", ("E",), N_("Edit values"), show=False),
    Key("skip_zero_mode", "Z", ("Z",), N_("No-zero mode"), show=False, engine="toggle_skip_zero"),
    Key("batch_mode", "m", ("m",), N_("Batch mode"), show=False, engine="toggle_batch"),
    Key("sum_loss_mode", "l", ("l",), "sum += l", show=False, engine="toggle_sum_loss"),
    Key(
        "toggle_follow",
        "t",
        ("t",),
        N_("Explore"),
        tooltip=N_("Explore alone, or follow the teacher again"),
    ),
    Key("toggle_quiz", "Q", ("Q",), N_("Quiz"), show=False),
    Key("handout", "x", ("x",), N_("Handout"), show=False),
    Key("svg_screenshot", "X", ("X",), N_("Screenshot"), show=False),
    Key(
        "switch_language",
        "L",
        ("L",),
        N_("Language"),
        show=False,
        tooltip=N_("English ↔ 中文"),
    ),
    Key("cycle_theme", "T", ("T",), N_("Theme"), show=False),
    Key("class_view", "C", ("C",), N_("Class"), show=False),
    Key("pick_lesson", "o", ("o",), N_("Lessons"), show=False),
    Key("help", "question_mark,f1", ("?", "F1"), N_("Help")),
    Key("quit", "q", ("q",), N_("Quit")),
)

BY_ACTION = {key.action: key for key in KEYS}

#: Actions that step the engine, each with the name of a Stepper method.
ENGINE_ACTIONS = {key.action: key.engine for key in KEYS if key.engine}

#: Keys that change the lesson: a following student's do nothing, so they are off
#: (hidden from the footer) while following.
LESSON_KEYS = frozenset(ENGINE_ACTIONS) | {"jump", "autoplay", "faster", "slower", "edit"}
LESSON_KEYS |= {"pick_lesson"}  # another lesson, ``o``: an explorer's own only
#: Keys of the view, kept off the usual footer, shown to a follower in their place.
FOLLOWER_FOOTER = ("cycle_plot", "cycle_zoom", "switch_language", "cycle_theme")

#: How the engine's messages name the keys (``Press b to ...``): each action's first key,
#: and the second key of ``next`` for "space (or →)".
ENGINE_LABELS = {
    **{key.action: key.labels[0] for key in KEYS if key.action.isidentifier()},
    "next_alt": BY_ACTION["next"].labels[1],
}

#: Actions with nothing to do once the lesson is finished (greyed in the footer).
STEPPING = frozenset(key.action for key in KEYS if key.steps)

#: The help screen's key list: the actions of each line, and what it says
#: (``{action}`` stands for that action's keys).
HELP_ROWS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("next",), N_("next micro-step")),
    (("undo",), N_("undo one micro-step (all the way back to the start)")),
    (("forward", "finish_forward"), N_("next forward micro-step / finish the forward pass")),
    (("backward", "finish_backward"), N_("next backward micro-step / finish the backward pass")),
    (("update",), N_("update the weight: `w.data = w.data - a * w.grad.data`")),
    (("zero",), N_("zero the gradient: `w.grad.data.zero_()`")),
    (("train_step",), N_("one whole training step")),
    (("finish_epoch",), N_("finish the epoch")),
    (
        ("undo_step",),
        N_("undo a whole training step: back to this step's start (or the previous one's)"),
    ),
    (
        ("jump",),
        N_(
            "go to a step: type N (N training steps done; 0 is the start), enter; "
            "back restores, forward computes every step"
        ),
    ),
    (
        ("jump_start", "jump_end"),
        N_(
            "jump to the lesson's start / to the end of this epoch "
            "({undo} undoes any of these four jumps at once)"
        ),
    ),
    (("autoplay",), N_("autoplay on/off; {faster} / {slower} faster / slower")),
    (("reset",), N_("reset to the start (undo brings it back)")),
    (("edit",), N_("edit the learning rate, a parameter or the data (at the start of a step)")),
    (("cycle_plot",), N_("switch the plot: loss vs w, loss vs step")),
    (
        ("cycle_zoom",),
        N_(
            "enlarge the plot, then the graph, then the chain rule and tensor panels, then "
            "back to the usual layout (a panel with rows cut off ends with …)"
        ),
    ),
    (
        ("cycle_chain",),
        N_("write out the next element of a matrix or vector, then the next parameter's chain"),
    ),
    (
        ("scroll_graph(-12)", "scroll_graph(12)", "scroll_graph(0,-3)", "scroll_graph(0,3)"),
        N_(
            "scroll a graph larger than its box left / right / up / down "
            "(it follows the node being computed by itself)"
        ),
    ),
    (("graph_names",), N_("show or hide torch's backward node (`grad_fn`) under each value")),
    (
        ("precise",),
        N_("the graph's values in every digit torch holds (`1.9999996`, not `2`), or five"),
    ),
    (
        ("skip_zero_mode",),
        N_("skip-zero mode: never zero the gradient (plot shows the zeroing run beside it)"),
    ),
    (
        ("batch_mode",),
        N_("batch mode: accumulate over the epoch, update once (plot shows per-sample SGD)"),
    ),
    (
        ("sum_loss_mode",),
        N_("the `sum += l` pitfall: sum the loss tensor and count the graph nodes it keeps alive"),
    ),
    (
        ("toggle_follow",),
        N_(
            "in a class (`bptui serve` with a teacher): explore on your own, "
            "or follow the teacher again"
        ),
    ),
    (
        ("toggle_quiz",),
        N_(
            "quiz on/off: predict each value (node, gradient, updated weight) before a single "
            "step shows it; enter checks, `esc` skips; vectors, matrices and keys that take "
            "many steps are not asked. The teacher's quiz asks the whole class: every "
            "follower answers, the teacher sees the answers come in, and the next step "
            "reveals torch's value"
        ),
    ),
    (
        ("handout", "svg_screenshot"),
        N_(
            "write a Markdown handout of the session so far / an SVG screenshot "
            "into the current directory"
        ),
    ),
    (
        ("switch_language",),
        N_("switch the language: English ↔ 中文 (every panel at once; only for you in a class)"),
    ),
    (("cycle_theme",), N_("colour theme: dark, light, projector (`--theme` at start)")),
    (
        ("class_view",),
        N_(
            "the teacher's class view: every student, following or exploring, idle how "
            "long, their score in class questions; `b` there calls explorers back"
        ),
    ),
    (
        ("pick_lesson",),
        N_(
            "open another lesson from its start: the built-in lessons and the one bptui was "
            "started with; in a class the teacher's choice moves every follower, and an "
            "explorer may pick their own"
        ),
    ),
    (("help",), N_("this help (`esc` closes it)")),
    (("quit",), N_("quit")),
)


def shown(action: str) -> str:
    """An action's keys as Markdown: `` `space` `→` `n` ``."""
    return " ".join(f"`{label}`" for label in BY_ACTION[action].labels)


def help_keys(translate: bool = True) -> str:
    """The help screen's list of keys, one Markdown bullet per line of HELP_ROWS,
    in the current language (or in English)."""
    names = {key.action: shown(key.action) for key in KEYS if key.action.isidentifier()}
    lines = []
    for actions, text in HELP_ROWS:
        keys = " / ".join(shown(action) for action in actions)
        lines.append(f"- {keys} — {(_(text) if translate else text).format(**names)}")
    return "\n".join(lines)


class Stepping(Protocol):
    """An app whose keys step the engine."""

    def step(self, action: str) -> None: ...


def engine_action(action: str) -> Callable[[Stepping], None]:
    """The action method of a key that steps the engine (``next``, ``undo``, ``reset``, …):
    Textual finds a key's action by its method's name, ``action_<name>``."""

    def run(self: Stepping) -> None:
        self.step(action)

    run.__name__ = run.__qualname__ = f"action_{action}"
    run.__doc__ = f"{' '.join(BY_ACTION[action].labels)}: {BY_ACTION[action].description}."
    return run


def available(action: str, snap: Snapshot | None, playing: bool, following: bool) -> bool | None:
    """Whether a key can do anything now: False hides it (a following student's lesson
    keys: the teacher's lesson), None greys it out in the footer."""
    if action in LESSON_KEYS and following:
        return False
    if action == "undo" and snap is not None and not snap.can_undo:
        return None
    if action in ("faster", "slower") and not playing:
        return None
    if snap is not None and snap.finished and action in STEPPING:
        return None
    return True
