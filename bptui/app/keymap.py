"""Every key of the app in one table.

The app's ``BINDINGS`` (and so the footer), the engine actions keys call, the
keys greyed out once the lesson is finished and the help screen's key list are
all made from :data:`KEYS`; a test checks README's key table against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


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
        "Next",
        tooltip="The next micro-step",
        engine="next",
        steps=True,
    ),
    Key(
        "undo",
        "left,backspace",
        ("←", "backspace"),
        "Undo",
        tooltip="Undo one micro-step",
        engine="undo",
    ),
    Key(
        "forward",
        "f",
        ("f",),
        "Fwd",
        tooltip="Next forward micro-step",
        engine="forward",
        steps=True,
    ),
    Key("finish_forward", "F", ("F",), "Fwd pass", show=False, engine="finish_forward", steps=True),
    Key(
        "backward",
        "b",
        ("b",),
        "Bwd",
        tooltip="Next backward micro-step",
        engine="backward",
        steps=True,
    ),
    Key(
        "finish_backward", "B", ("B",), "Bwd pass", show=False, engine="finish_backward", steps=True
    ),
    Key(
        "update",
        "u",
        ("u",),
        "Update",
        tooltip="w.data = w.data - a * w.grad.data",
        engine="update",
        steps=True,
    ),
    Key("zero", "z", ("z",), "Zero", tooltip="w.grad.data.zero_()", engine="zero", steps=True),
    Key("train_step", "s", ("s",), "Step", show=False, engine="train_step", steps=True),
    Key("finish_epoch", "e", ("e",), "Epoch", show=False, engine="finish_epoch", steps=True),
    Key("undo_step", "U", ("U",), "Undo step", show=False, engine="undo_step"),
    Key("jump", "colon", (":",), "Go to step", show=False),
    Key("jump_start", "home", ("Home",), "Start", show=False, engine="jump_to_start"),
    Key(
        "jump_end",
        "end",
        ("End",),
        "End of epoch",
        show=False,
        engine="jump_to_epoch_end",
        steps=True,
    ),
    Key("autoplay", "p", ("p",), "Play", tooltip="Autoplay on/off", steps=True),
    Key("faster", "plus", ("+",), "Faster", show=False),
    Key("slower", "minus", ("-",), "Slower", show=False),
    Key("reset", "r", ("r",), "Reset", show=False, engine="reset"),
    Key("cycle_plot", "g", ("g",), "Plot", show=False),
    Key("cycle_zoom", "v", ("v",), "Enlarge", show=False),
    Key("cycle_chain", "c", ("c",), "Chain", show=False),
    Key("scroll_graph(-12)", "left_square_bracket", ("[",), "Graph ←", show=False),
    Key("scroll_graph(12)", "right_square_bracket", ("]",), "Graph →", show=False),
    Key("scroll_graph(0,-3)", "left_curly_bracket", ("{",), "Graph ↑", show=False),
    Key("scroll_graph(0,3)", "right_curly_bracket", ("}",), "Graph ↓", show=False),
    Key("graph_names", "y", ("y",), "grad_fn", show=False),
    Key("edit", "E", ("E",), "Edit values", show=False),
    Key("skip_zero_mode", "Z", ("Z",), "No-zero mode", show=False, engine="toggle_skip_zero"),
    Key("batch_mode", "m", ("m",), "Batch mode", show=False, engine="toggle_batch"),
    Key("sum_loss_mode", "l", ("l",), "sum += l", show=False, engine="toggle_sum_loss"),
    Key(
        "toggle_follow",
        "t",
        ("t",),
        "Explore",
        tooltip="Explore alone, or follow the teacher again",
    ),
    Key("cycle_theme", "T", ("T",), "Theme", show=False),
    Key("help", "question_mark,f1", ("?", "F1"), "Help"),
    Key("quit", "q", ("q",), "Quit"),
)

BY_ACTION = {key.action: key for key in KEYS}

BINDINGS = [
    Binding(key.keys, key.action, key.description, show=key.show, tooltip=key.tooltip or "")
    for key in KEYS
]

#: Actions that step the engine, each with the name of a Stepper method.
ENGINE_ACTIONS = {key.action: key.engine for key in KEYS if key.engine}

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
    (("next",), "next micro-step"),
    (("undo",), "undo one micro-step (all the way back to the start)"),
    (("forward", "finish_forward"), "next forward micro-step / finish the forward pass"),
    (("backward", "finish_backward"), "next backward micro-step / finish the backward pass"),
    (("update",), "update the weight: `w.data = w.data - a * w.grad.data`"),
    (("zero",), "zero the gradient: `w.grad.data.zero_()`"),
    (("train_step",), "one whole training step"),
    (("finish_epoch",), "finish the epoch"),
    (
        ("undo_step",),
        "undo a whole training step: back to this step's start (or the previous one's)",
    ),
    (
        ("jump",),
        "go to a step: type N (N training steps done; 0 is the start), enter; "
        "back restores, forward computes every step",
    ),
    (
        ("jump_start", "jump_end"),
        "jump to the lesson's start / to the end of this epoch "
        "({undo} undoes any of these four jumps at once)",
    ),
    (("autoplay",), "autoplay on/off; {faster} / {slower} faster / slower"),
    (("reset",), "reset to the start (undo brings it back)"),
    (("edit",), "edit the learning rate, a parameter or the data (at the start of a step)"),
    (("cycle_plot",), "switch the plot: loss vs w, loss vs step"),
    (("cycle_zoom",), "enlarge the plot, then the graph, then back to the usual layout"),
    (
        ("cycle_chain",),
        "write out the next element of a matrix or vector, then the next parameter's chain",
    ),
    (
        ("scroll_graph(-12)", "scroll_graph(12)", "scroll_graph(0,-3)", "scroll_graph(0,3)"),
        "scroll a graph larger than its box left / right / up / down "
        "(it follows the node being computed by itself)",
    ),
    (("graph_names",), "show or hide torch's backward node (`grad_fn`) under each value"),
    (
        ("skip_zero_mode",),
        "skip-zero mode: never zero the gradient (plot shows the zeroing run beside it)",
    ),
    (
        ("batch_mode",),
        "batch mode: accumulate over the epoch, update once (plot shows per-sample SGD)",
    ),
    (
        ("sum_loss_mode",),
        "the `sum += l` pitfall: sum the loss tensor and count the graph nodes it keeps alive",
    ),
    (
        ("toggle_follow",),
        "in a class (`bptui serve` with a teacher): explore on your own, "
        "or follow the teacher again",
    ),
    (("cycle_theme",), "colour theme: dark, light, projector (`--theme` at start)"),
    (("help",), "this help (`esc` closes it)"),
    (("quit",), "quit"),
)


def shown(action: str) -> str:
    """An action's keys as Markdown: `` `space` `→` `n` ``."""
    return " ".join(f"`{label}`" for label in BY_ACTION[action].labels)


def help_keys() -> str:
    """The help screen's list of keys, one Markdown bullet per line of HELP_ROWS."""
    names = {key.action: shown(key.action) for key in KEYS if key.action.isidentifier()}
    lines = []
    for actions, text in HELP_ROWS:
        keys = " / ".join(shown(action) for action in actions)
        lines.append(f"- {keys} — {text.format(**names)}")
    return "\n".join(lines)
