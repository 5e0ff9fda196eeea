"""Every sentence the engine says, as functions of plain values and action names.

Nothing here sees a tensor: the engine passes numbers (floats, or nested lists
for vectors and matrices) and names. Where a sentence tells the student what to
do next, it names the action; the :class:`Teacher` spells it with the labels the
interface gives it (the app passes its keymap's keys through ``Stepper(lesson,
labels=...)``; :data:`LABELS` are the defaults). No sentence names a command-line
option: the same words serve the app, a REPL and the trace. Another language
replaces the words of this one module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .snapshot import Kind, Message, Phase
from .values import MaybeValue, Value, format_plain, format_value

#: How the interface names each action the sentences mention. An interface that can
#: change the learning rate, parameters and data mid-lesson also gives ``edit`` (the
#: app's ``E``), and the sentences about fixing a divergence then point at it.
LABELS: Mapping[str, str] = {
    "next": "space",
    "next_alt": "→",
    "undo": "←",
    "forward": "f",
    "finish_forward": "F",
    "backward": "b",
    "finish_backward": "B",
    "update": "u",
    "zero": "z",
    "train_step": "s",
    "reset": "r",
    "undo_step": "U",
    "jump": ":",
}

#: Why an operation's result is not finite, by op.
_OUT_OF_RANGE = {
    "log": "the logarithm is only defined for positive numbers",
    "div": "division by zero",
    "exp": "float32 overflows above about 3.4e38",
    "pow": "the power is out of range (overflow, or a fractional power of a negative number)",
    "bce": "binary cross-entropy needs a prediction between 0 and 1",
}


def listing(values: Iterable[tuple[str, MaybeValue]], suffix: str = "") -> str:
    """``w.grad = -2, b.grad = 1``: names with their values, missing ones left out."""
    return ", ".join(f"{n}{suffix} = {format_plain(v)}" for n, v in values if v is not None)


class Teacher:
    """Every sentence of the engine. ``labels`` names the actions and options the
    sentences mention as the interface spells them (see :data:`LABELS`)."""

    def __init__(self, labels: Mapping[str, str] | None = None) -> None:
        self._k = {**LABELS, **(labels or {})}

    # ----------------------------------------------------------------- refusals

    def finished(self, epochs: int) -> Message:
        return Message(
            Kind.REFUSED,
            f"The lesson is finished ({epochs} epochs). Press {self._k['reset']} to start "
            f"again, or {self._k['undo']} to step back.",
        )

    def forward_during_backward(self, started: bool) -> Message:
        if not started:
            text = (
                "The forward pass is complete: the loss is computed. Press "
                f"{self._k['backward']} to start the backward pass."
            )
        else:
            text = (
                f"The backward pass is half done: finish it ({self._k['backward']} or "
                f"{self._k['finish_backward']}) before the next forward pass."
            )
        return Message(Kind.REFUSED, text)

    def backward_before_loss(self) -> Message:
        return Message(
            Kind.REFUSED,
            "There is no loss to differentiate yet: finish the forward pass first "
            f"({self._k['forward']} or {self._k['finish_forward']}).",
        )

    def update_before_backward(self, grads: Iterable[tuple[str, MaybeValue]]) -> Message:
        return Message(
            Kind.REFUSED,
            f"This sample's gradient is not computed yet ({listing(grads, '.grad')} is left "
            f"from before). Finish the forward and backward passes ({self._k['finish_forward']}, "
            f"then {self._k['finish_backward']}), then update.",
        )

    def update_twice(self) -> Message:
        return Message(
            Kind.REFUSED,
            f"The parameters were already updated with this gradient. Press {self._k['zero']} to "
            f"zero the gradient, or {self._k['forward']} to go on without zeroing and watch it "
            "accumulate.",
        )

    def zero_without_grad(self, first: str) -> Message:
        return Message(
            Kind.REFUSED,
            f"{first}.grad is None: there is nothing to zero yet. torch creates "
            f"{first}.grad in the first backward pass.",
        )

    def edit_mid_step(self) -> Message:
        return Message(
            Kind.REFUSED,
            "Values can change at the start of a training step: finish this one "
            f"first ({self._k['train_step']}), then edit.",
        )

    def next_sample_too_early(self) -> Message:
        return Message(Kind.REFUSED, "Finish this sample's forward and backward passes first.")

    def nothing_to_undo(self) -> Message:
        return Message(Kind.REFUSED, "Nothing to undo: this is the start.")

    # ------------------------------------------------------------ teaching moments

    def update_without_grad(self, first: str) -> Message:
        return Message(
            Kind.TEACH,
            f"{first}.grad is None: no backward pass has run yet, so there is no "
            f"gradient to update with (in torch, `{first}.grad.data` fails: 'NoneType' "
            f"object has no attribute 'data'). Run the forward pass ({self._k['forward']}) and "
            f"the backward pass ({self._k['backward']}) first.",
        )

    def backward_twice(self, torch_error: str) -> Message:
        """``torch_error``: torch's RuntimeError for a second backward through a freed graph."""
        first = torch_error.split(". ")[0].strip()
        return Message(
            Kind.TEACH,
            f"torch: RuntimeError: {first}. backward() frees what the graph saved, so "
            f"it runs once per graph; the next forward pass ({self._k['forward']}) builds a new one.",
        )

    def accumulated(
        self,
        names: Iterable[str],
        before: Mapping[str, MaybeValue],
        after: Mapping[str, MaybeValue],
        again: bool = False,
    ) -> Message:
        """The gradient was added to (not zeroed, or backward run twice on one graph)."""
        parts = []
        for name in names:
            new = after.get(name)
            old = before.get(name)
            if new is None:
                continue
            if not isinstance(new, float):
                parts.append(f"{name}.grad was {format_plain(old)}, now {format_plain(new)}")
                continue
            base = old if isinstance(old, float) and old else 0.0  # as ``old or 0.0``
            parts.append(
                f"{name}.grad = {format_value(base)} (old) + {format_value(new - base)} "
                f"(this backward) = {format_value(new)}"
            )
        lead = (
            "backward() ran again on the same graph (it saved no values, so torch allowed "
            "it) and added to the gradient: "
            if again
            else "The gradient was not zeroed, so backward() added to it: "
        )
        return Message(
            Kind.TEACH,
            lead + "; ".join(parts) + ". torch accumulates gradients on purpose; call "
            "w.grad.data.zero_() after each update to start every step from 0.",
        )

    def zeroed_early(self, before_update: bool) -> Message:
        if before_update:
            text = (
                "The gradient was zeroed before the update: the update now has nothing to "
                "move the parameters with (grad = 0), and this sample's step is lost."
            )
        else:
            text = (
                "Zeroed the gradient before this sample's backward pass: the next "
                "backward() starts from 0. This is what optimizer.zero_grad() at the top "
                "of a training loop does."
            )
        return Message(Kind.TEACH, text)

    def skipped(self, phase: Phase, grads: Iterable[tuple[str, MaybeValue]]) -> Message:
        shown = listing(grads, ".grad")
        if phase is Phase.UPDATE:
            text = (
                f"Skipped the update: the parameters stay as they are, and {shown} is kept "
                "(not zeroed), so the next backward() adds to it."
            )
        else:
            text = (
                f"Skipped zeroing the gradient: {shown} is kept, so the next backward() "
                "adds the new gradient to it. This is torch's accumulation."
            )
        return Message(Kind.TEACH, text)

    def batch_waits(self, grads: Iterable[tuple[str, MaybeValue]]) -> Message:
        # "The sum of samples 1–k" would be wrong after batch mode is switched on
        # mid-epoch (the earlier samples' gradients were zeroed): say what is certain.
        return Message(
            Kind.STEP,
            f"Batch mode: {listing(grads, '.grad')} holds the gradients added up since it was "
            "last zeroed; the update waits for the last sample of the epoch.",
        )

    def edit_text(
        self, lr: tuple[float, float] | None, params: Iterable[tuple[str, float, float]], data: bool
    ) -> str:
        """What an edit changes: ``lr`` (old, new), ``params`` (name, old, new), ``data``."""
        changes = []
        if lr is not None:
            changes.append(f"lr {lr[0]:g} → {lr[1]:g}")
        changes += [f"{n} {format_value(old)} → {format_value(new)}" for n, old, new in params]
        if data:
            changes.append("the data")
        return ("Changed " + ", ".join(changes) + ".") if changes else "Nothing changed."

    def edited(self, text: str) -> Message:
        return Message(Kind.TEACH, text + " The history so far stays.")

    def skip_zero_mode(self, on: bool) -> Message:
        return Message(
            Kind.TEACH,
            "Skip-zero mode on: the gradient is never zeroed, so every backward() adds to "
            "it and the updates grow. The plot shows the run that zeroes, for comparison."
            if on
            else "Skip-zero mode off: the gradient is zeroed after every update again.",
        )

    def batch_mode(self, on: bool) -> Message:
        return Message(
            Kind.TEACH,
            "Batch mode on: backward() runs for every sample and the gradients add up; "
            "one update per epoch uses the gradient of the summed loss (full-batch "
            "gradient descent). The plot shows per-sample SGD for comparison."
            if on
            else "Batch mode off: one update per sample again (per-sample SGD).",
        )

    def sum_loss_mode(self, on: bool, kept_nodes: int) -> Message:
        if on:
            text = (
                "The note's pitfall: `sum += l` adds the loss tensor, not its number, so "
                "the sum's graph keeps every step's graph alive and memory only grows. "
                "Watch the count in the tensor panel; `sum += l.item()` keeps a number."
            )
        else:
            text = (
                f"sum += l.item() again: the {kept_nodes:,} autograd nodes the sum "
                "kept alive are freed."
            )
        return Message(Kind.TEACH, text)

    # ---------------------------------------------------------------- divergence

    def _edit_hint(self, what: str) -> str:
        """`` (E changes it at the start of a step)`` where the interface can edit."""
        edit = self._k.get("edit")
        return f" ({edit} changes {what} at the start of a step)" if edit else ""

    def _stuck(self) -> str:
        return (
            "Once a parameter is NaN or inf, every later step is too; undo "
            f"({self._k['undo']}) or reset ({self._k['reset']})."
        )

    def out_of_range(self, label: str, op: str, value: float, inputs: Iterable[Value]) -> Message:
        """An operation's result is inf or NaN for finite inputs: why, for that op."""
        reason = _OUT_OF_RANGE.get(op, "the result is out of float32's range")
        shown = ", ".join(format_plain(a) for a in inputs)
        return Message(
            Kind.DIVERGED,
            f"{label} = {format_value(value)} for inputs {shown}: {reason}. torch does not "
            "stop: the NaN or inf flows on through the graph and the gradients. Change the "
            "data, the model or the initial values"
            + self._edit_hint("the data and the parameters")
            + ".",
        )

    def diverged(
        self, loss: float | None, params: Iterable[tuple[str, Value]], lr: float
    ) -> Message:
        """The values grew step by step until they overflowed: the learning rate."""
        shown = format_value(loss) if loss is not None else "?"
        return Message(
            Kind.DIVERGED,
            f"Diverged: loss = {shown}, {listing(params)}. Each update overshoots the minimum "
            "by more than the last, so the numbers grow until they overflow float32. The "
            f"learning rate {lr:g} is too large for this data; try a smaller one"
            + self._edit_hint("it")
            + ".",
        )

    def updated_with_nan(self, params: Iterable[tuple[str, Value]]) -> Message:
        """The loss was already NaN or inf (said at the forward pass); so is the gradient."""
        return Message(
            Kind.DIVERGED,
            f"Updated with a gradient that is not finite: now {listing(params)}. " + self._stuck(),
        )

    def gradient_not_finite(
        self, grads: Iterable[tuple[str, MaybeValue]], params: Iterable[tuple[str, Value]]
    ) -> Message:
        """The loss is finite but a local derivative is not (a square root at 0, say)."""
        return Message(
            Kind.DIVERGED,
            f"The loss is finite but the gradient is not ({listing(grads, '.grad')}): a local "
            "derivative is out of range here (the chain rule shows which), so the update made "
            f"{listing(params)}. " + self._stuck(),
        )

    def still_not_finite(self, params: Iterable[tuple[str, Value]]) -> Message:
        """A step that starts with a NaN or inf parameter: nothing new went wrong."""
        return Message(
            Kind.DIVERGED,
            f"{listing(params)} since an earlier step: a parameter that is NaN or inf stays "
            "so in every later update, whatever the loss. Undo "
            f"({self._k['undo']}) back to where it happened, or reset ({self._k['reset']}).",
        )

    # ----------------------------------------------------------------- narration

    def reset_done(self) -> Message:
        return Message(Kind.STEP, f"Back to the start. ({self._k['undo']} undoes the reset.)")

    def undone(self, action: str) -> Message:
        """``action``: the undone micro-step's name, e.g. ``forward``."""
        return Message(Kind.STEP, f"Undid one micro-step ({action}).")

    # ------------------------------------------------------------- time travel

    @staticmethod
    def _at(steps: int, finished: bool) -> str:
        if finished:
            return f"step {steps}, the end of the lesson"
        if steps == 0:
            return "step 0, the start of the lesson"
        return f"step {steps} ({steps} training step{'' if steps == 1 else 's'} done)"

    def jumped(self, steps: int, finished: bool, whole_step: bool = False) -> Message:
        """A jump (or a whole-step undo) landed ``steps`` training steps in."""
        what = "Back to the start of a training step" if whole_step else "Jumped"
        return Message(
            Kind.STEP,
            f"{what}: at {self._at(steps, finished)}. {self._k['undo']} undoes the jump at once.",
        )

    def jump_undone(self, steps: int, finished: bool) -> Message:
        return Message(Kind.STEP, f"Undid the jump: back at {self._at(steps, finished)}.")

    def jump_stopped(self, steps: int, wanted: int) -> Message:
        return Message(
            Kind.REFUSED,
            f"The lesson ended at step {steps}, before step {wanted}. "
            f"{self._k['undo']} undoes the jump.",
        )

    def no_such_step(self, wanted: int, last: int | None = None) -> Message:
        """``last``: the lesson's last step, when it is finished."""
        if last is not None:
            return Message(
                Kind.REFUSED, f"The lesson ends at step {last}: there is no step {wanted}."
            )
        return Message(
            Kind.REFUSED,
            f"There is no step {wanted}: step 0 is the start of the lesson and step N is "
            "after N training steps.",
        )

    def already_at_step(self, steps: int, finished: bool) -> Message:
        return Message(Kind.REFUSED, f"Already at {self._at(steps, finished)}.")

    def at_first_step(self, after_reset: bool) -> Message:
        tail = f" ({self._k['undo']} undoes the reset.)" if after_reset else ""
        return Message(
            Kind.REFUSED,
            f"Already at the start of the first training step: no step for "
            f"{self._k['undo_step']} to undo.{tail}",
        )

    def ready(self) -> Message:
        return Message(
            Kind.STEP,
            f"Ready. Press {self._k['next']} (or {self._k['next_alt']}) to compute the first node of "
            "the forward pass.",
        )

    def forward_done(self, source: str, value: Value, pass_done: bool, note: str = "") -> Message:
        """``note``: the lesson's sentence about this value (its ``[notes]``), if any."""
        tail = (
            f" The forward pass is done: press {self._k['backward']} for the backward pass."
            if pass_done
            else ""
        )
        note = f" {note}" if note else ""
        return Message(Kind.STEP, f"Forward: {source} = {format_plain(value)}.{note}{tail}")

    def backward_through(self, label: str, grads: Iterable[tuple[str, Value]]) -> Message:
        """``grads``: (∂loss/∂input's text, its value) for the node's inputs."""
        parts = [f"{name} = {format_plain(value)}" for name, value in grads]
        return Message(Kind.STEP, f"Backward through {label}: " + ", ".join(parts) + ".")

    def backward_finished(
        self, grads: Iterable[tuple[str, MaybeValue]], update_waits: bool = False
    ) -> Message:
        """``update_waits``: batch mode, before the epoch's last sample."""
        then = (
            f"Batch mode: the update waits for the epoch's last sample; {self._k['next']} "
            "goes on to the next sample."
            if update_waits
            else f"Press {self._k['update']} to update."
        )
        return Message(
            Kind.STEP,
            f"backward() finished: AccumulateGrad wrote {listing(grads, '.grad')}. {then}",
        )

    def updated_params(
        self, params: Iterable[tuple[str, Value]], zero_skipped: bool = False
    ) -> Message:
        """``zero_skipped``: skip-zero mode, where the gradient is kept."""
        then = (
            f"Skip-zero mode: the gradient is not zeroed; {self._k['next']} goes on to the "
            "next sample, whose backward() adds to it."
            if zero_skipped
            else f"Press {self._k['zero']} to zero the gradient."
        )
        return Message(Kind.STEP, f"Updated: {listing(params)}. {then}")

    def zeroed(self) -> Message:
        return Message(Kind.STEP, f"Gradient zeroed. Next sample: press {self._k['next']}.")
