"""Every sentence the engine says, as functions of plain values and action names.

Nothing here sees a tensor: the engine passes numbers (floats, or nested lists
for vectors and matrices) and names. Where a sentence tells the student what to
do next, it names the action; the :class:`Teacher` spells it with the labels the
interface gives it (the app passes its keymap's keys through ``Stepper(lesson,
labels=...)``; :data:`LABELS` are the defaults). No sentence names a command-line
option: the same words serve the app, a REPL and the trace. The sentences are
English, marked for translation and said in the current language when shown
(see :mod:`.narration`); the Chinese is in ``bptui/locale/zh/LC_MESSAGES/engine.po``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ..i18n import N_
from .narration import Narrator, epochs_trained, joined, listing, phrase, said
from .snapshot import Kind, Message, Phase, Saying
from .values import MaybeValue, Value, format_plain, format_value

__all__ = ["LABELS", "Teacher", "listing"]

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
    "log": N_("the logarithm is only defined for positive numbers"),
    "div": N_("division by zero"),
    "exp": N_("float32 overflows above about 3.4e38"),
    "pow": N_("the power is out of range (overflow, or a fractional power of a negative number)"),
    "bce": N_("binary cross-entropy needs a prediction between 0 and 1"),
}


class Teacher:
    """Every sentence of the engine. ``labels`` names the actions and options the
    sentences mention as the interface spells them (see :data:`LABELS`)."""

    def __init__(self, labels: Mapping[str, str] | None = None) -> None:
        self._k = {**LABELS, **(labels or {})}
        #: The sentences of normal micro-steps and of moving in time, with the same names
        #: for the keys.
        self.narrator = Narrator(self._k)

    @property
    def watching(self) -> bool:
        """A student following a teacher: a refusal or a teaching moment the teacher's
        key caused says what happens, not which key to press (theirs do nothing)."""
        return self.narrator.watching

    def _said(self, kind: Kind, template: str, watched: str, **fields: object) -> Message:
        """``template``, or ``watched`` (the same sentence without keys) for a follower."""
        return said(kind, watched if self.watching else template, **fields)

    # ----------------------------------------------------------------- refusals

    def finished(self, epochs: int) -> Message:
        return self._said(
            Kind.REFUSED,
            N_(
                "The lesson is finished ({epochs}). Press {reset} to start again, or "
                "{undo} to step back."
            ),
            N_("The lesson is finished ({epochs}). {explore} explores it on your own."),
            epochs=epochs_trained(epochs),
            explore=self._k.get("toggle_follow", "t"),
            reset=self._k["reset"],
            undo=self._k["undo"],
        )

    def forward_during_backward(self, started: bool) -> Message:
        template = (
            N_(
                "The backward pass is half done: finish it ({backward} or {finish_backward}) "
                "before the next forward pass."
            )
            if started
            else N_(
                "The forward pass is complete: the loss is computed. Press {backward} to start "
                "the backward pass."
            )
        )
        if self.watching:
            template = (
                N_("The backward pass is half done: it is finished before the next forward pass.")
                if started
                else N_(
                    "The forward pass is complete: the loss is computed. The backward pass "
                    "comes next."
                )
            )
        k = self._k
        return said(
            Kind.REFUSED, template, backward=k["backward"], finish_backward=k["finish_backward"]
        )

    def backward_before_loss(self) -> Message:
        return self._said(
            Kind.REFUSED,
            N_(
                "There is no loss to differentiate yet: finish the forward pass first "
                "({forward} or {finish_forward})."
            ),
            N_("There is no loss to differentiate yet: the forward pass comes first."),
            forward=self._k["forward"],
            finish_forward=self._k["finish_forward"],
        )

    def update_before_backward(self, grads: Iterable[tuple[str, MaybeValue]]) -> Message:
        return self._said(
            Kind.REFUSED,
            N_(
                "This sample's gradient is not computed yet ({grads} is left from before). "
                "Finish the forward and backward passes ({finish_forward}, then "
                "{finish_backward}), then update."
            ),
            N_(
                "This sample's gradient is not computed yet ({grads} is left from before). "
                "The forward and backward passes come first, then the update."
            ),
            grads=listing(grads, ".grad"),
            finish_forward=self._k["finish_forward"],
            finish_backward=self._k["finish_backward"],
        )

    def update_twice(self) -> Message:
        return self._said(
            Kind.REFUSED,
            N_(
                "The parameters were already updated with this gradient. Press {zero} to zero "
                "the gradient, or {forward} to go on without zeroing and watch it accumulate."
            ),
            N_(
                "The parameters were already updated with this gradient. Next the gradient is "
                "zeroed, or the next forward pass goes on without zeroing and it accumulates."
            ),
            zero=self._k["zero"],
            forward=self._k["forward"],
        )

    def zero_without_grad(self, first: str) -> Message:
        return said(
            Kind.REFUSED,
            N_(
                "{first}.grad is None: there is nothing to zero yet. torch creates "
                "{first}.grad in the first backward pass."
            ),
            first=first,
        )

    def edit_mid_step(self) -> Message:
        return self._said(
            Kind.REFUSED,
            N_(
                "Values can change at the start of a training step: finish this one first "
                "({train_step}), then edit."
            ),
            N_("Values can change at the start of a training step: this one finishes first."),
            train_step=self._k["train_step"],
        )

    def next_sample_too_early(self) -> Message:
        return said(Kind.REFUSED, N_("Finish this sample's forward and backward passes first."))

    def nothing_to_undo(self) -> Message:
        return said(Kind.REFUSED, N_("Nothing to undo: this is the start."))

    # ------------------------------------------------------------ teaching moments

    def update_without_grad(self, first: str) -> Message:
        return self._said(
            Kind.TEACH,
            N_(
                "{first}.grad is None: no backward pass has run yet, so there is no gradient "
                "to update with (in torch, `{first}.grad.data` fails: 'NoneType' object has "
                "no attribute 'data'). Run the forward pass ({forward}) and the backward pass "
                "({backward}) first."
            ),
            N_(
                "{first}.grad is None: no backward pass has run yet, so there is no gradient "
                "to update with (in torch, `{first}.grad.data` fails: 'NoneType' object has "
                "no attribute 'data'). The forward pass and the backward pass come first."
            ),
            first=first,
            forward=self._k["forward"],
            backward=self._k["backward"],
        )

    def backward_twice(self, torch_error: str) -> Message:
        """``torch_error``: torch's RuntimeError for a second backward through a freed graph."""
        first = torch_error.split(". ")[0].strip()
        return self._said(
            Kind.TEACH,
            N_(
                "torch: RuntimeError: {error}. backward() frees what the graph saved, so it "
                "runs once per graph; the next forward pass ({forward}) builds a new one."
            ),
            N_(
                "torch: RuntimeError: {error}. backward() frees what the graph saved, so it "
                "runs once per graph; the next forward pass builds a new one."
            ),
            error=first,
            forward=self._k["forward"],
        )

    def accumulated(
        self,
        names: Iterable[str],
        before: Mapping[str, MaybeValue],
        after: Mapping[str, MaybeValue],
        again: bool = False,
    ) -> Message:
        """The gradient was added to (not zeroed, or backward run twice on one graph)."""
        parts: list[Saying] = []
        for name in names:
            new = after.get(name)
            old = before.get(name)
            if new is None:
                continue
            if not isinstance(new, float):
                parts.append(
                    phrase(
                        N_("{name}.grad was {old}, now {new}"),
                        name=name,
                        old=format_plain(old),
                        new=format_plain(new),
                    )
                )
                continue
            base = old if isinstance(old, float) and old else 0.0  # as ``old or 0.0``
            parts.append(
                phrase(
                    N_("{name}.grad = {old} (old) + {added} (this backward) = {new}"),
                    name=name,
                    old=format_value(base),
                    added=format_value(new - base),
                    new=format_value(new),
                )
            )
        template = (
            N_(
                "backward() ran again on the same graph (it saved no values, so torch allowed "
                "it) and added to the gradient: {parts}. torch accumulates gradients on "
                "purpose; call w.grad.data.zero_() after each update to start every step from 0."
            )
            if again
            else N_(
                "The gradient was not zeroed, so backward() added to it: {parts}. torch "
                "accumulates gradients on purpose; call w.grad.data.zero_() after each update "
                "to start every step from 0."
            )
        )
        return said(Kind.TEACH, template, parts=joined("; ", parts))

    def zeroed_already(self) -> Message:
        """``zero_()`` on a gradient that is 0 already, before the step's own zeroing."""
        return said(
            Kind.STEP,
            N_(
                "The gradient was 0 already: zero_() changed nothing, and this sample's step "
                "goes on where it was."
            ),
        )

    def zeroed_early(self, before_update: bool) -> Message:
        if before_update:
            return said(
                Kind.TEACH,
                N_(
                    "The gradient was zeroed before the update: the update now has nothing to "
                    "move the parameters with (grad = 0), and this sample's step is lost."
                ),
            )
        return said(
            Kind.TEACH,
            N_(
                "Zeroed the gradient before this sample's backward pass: the next backward() "
                "starts from 0. This is what optimizer.zero_grad() at the top of a training "
                "loop does."
            ),
        )

    def skipped(self, phase: Phase, grads: Iterable[tuple[str, MaybeValue]]) -> Message:
        template = (
            N_(
                "Skipped the update: the parameters stay as they are, and {grads} is kept "
                "(not zeroed), so the next backward() adds to it."
            )
            if phase is Phase.UPDATE
            else N_(
                "Skipped zeroing the gradient: {grads} is kept, so the next backward() adds "
                "the new gradient to it. This is torch's accumulation."
            )
        )
        return said(Kind.TEACH, template, grads=listing(grads, ".grad"))

    def batch_waits(self, grads: Iterable[tuple[str, MaybeValue]]) -> Message:
        # "The sum of samples 1–k" would be wrong after batch mode is switched on
        # mid-epoch (the earlier samples' gradients were zeroed): say what is certain.
        return said(
            Kind.STEP,
            N_(
                "Batch mode: {grads} holds the gradients added up since it was last zeroed; "
                "the update waits for the last sample of the epoch."
            ),
            grads=listing(grads, ".grad"),
        )

    def edit_text(
        self, lr: tuple[float, float] | None, params: Iterable[tuple[str, float, float]], data: bool
    ) -> Callable[[], str]:
        """What an edit changes: ``lr`` (old, new), ``params`` (name, old, new), ``data``."""
        changes: list[Saying] = []
        if lr is not None:
            changes.append(f"lr {lr[0]:g} → {lr[1]:g}")
        changes += [f"{n} {format_value(old)} → {format_value(new)}" for n, old, new in params]
        if data:
            changes.append(phrase(N_("the data")))
        if not changes:
            return phrase(N_("Nothing changed."))
        return phrase(N_("Changed {changes}."), changes=joined(", ", changes))

    def edited(self, text: Saying) -> Message:
        return said(Kind.TEACH, N_("{changes} The history so far stays."), changes=text)

    def skip_zero_mode(self, on: bool) -> Message:
        if on:
            return said(
                Kind.TEACH,
                N_(
                    "Skip-zero mode on: the gradient is never zeroed, so every backward() adds "
                    "to it and the updates grow. The plot shows the run that zeroes, for "
                    "comparison."
                ),
            )
        return said(
            Kind.TEACH, N_("Skip-zero mode off: the gradient is zeroed after every update again.")
        )

    def batch_mode(self, on: bool) -> Message:
        if on:
            return said(
                Kind.TEACH,
                N_(
                    "Batch mode on: backward() runs for every sample and the gradients add up; "
                    "one update per epoch uses the gradient of the summed loss (full-batch "
                    "gradient descent). The plot shows per-sample SGD for comparison."
                ),
            )
        return said(Kind.TEACH, N_("Batch mode off: one update per sample again (per-sample SGD)."))

    def sum_loss_mode(self, on: bool, kept_nodes: int) -> Message:
        if on:
            return said(
                Kind.TEACH,
                N_(
                    "The note's pitfall: `sum += l` adds the loss tensor, not its number, so the "
                    "sum's graph keeps every step's graph alive and memory only grows. Watch the "
                    "count in the tensor panel; `sum += l.item()` keeps a number."
                ),
            )
        return said(
            Kind.TEACH,
            N_(
                "sum += l.item() again: the {kept_nodes:,} autograd nodes the sum kept alive "
                "are freed."
            ),
            kept_nodes=kept_nodes,
        )

    # ---------------------------------------------------------------- divergence

    def _edit_hint(self, whole: bool) -> Saying:
        """`` (E changes it at the start of a step)`` where the interface can edit."""
        edit = self._k.get("edit")
        if not edit or self.watching:
            return ""
        if whole:
            return phrase(
                N_(" ({edit} changes the data and the parameters at the start of a step)"),
                edit=edit,
            )
        return phrase(N_(" ({edit} changes it at the start of a step)"), edit=edit)

    def _stuck(self) -> Callable[[], str]:
        if self.watching:
            return phrase(
                N_(
                    "Once a parameter is NaN or inf, every later step is too, until undone or reset."
                )
            )
        return phrase(
            N_(
                "Once a parameter is NaN or inf, every later step is too; undo ({undo}) or reset ({reset})."
            ),
            undo=self._k["undo"],
            reset=self._k["reset"],
        )

    def out_of_range(self, label: str, op: str, value: float, inputs: Iterable[Value]) -> Message:
        """An operation's result is inf or NaN for finite inputs: why, for that op."""
        reason = _OUT_OF_RANGE.get(op, N_("the result is out of float32's range"))
        return said(
            Kind.DIVERGED,
            N_(
                "{label} = {value} for inputs {inputs}: {reason}. torch does not stop: the NaN "
                "or inf flows on through the graph and the gradients. Change the data, the "
                "model or the initial values{hint}."
            ),
            label=label,
            value=format_value(value),
            inputs=", ".join(format_plain(a) for a in inputs),
            reason=phrase(reason),
            hint=self._edit_hint(whole=True),
        )

    def diverged(
        self, loss: float | None, params: Iterable[tuple[str, Value]], lr: float
    ) -> Message:
        """The values grew step by step until they overflowed: the learning rate."""
        return said(
            Kind.DIVERGED,
            N_(
                "Diverged: loss = {loss}, {params}. Each update overshoots the minimum by more "
                "than the last, so the numbers grow until they overflow float32. The learning "
                "rate {lr} is too large for this data; try a smaller one{hint}."
            ),
            loss=format_value(loss) if loss is not None else "?",
            params=listing(params),
            lr=f"{lr:g}",
            hint=self._edit_hint(whole=False),
        )

    def updated_with_nan(self, params: Iterable[tuple[str, Value]]) -> Message:
        """The loss was already NaN or inf (said at the forward pass); so is the gradient."""
        return said(
            Kind.DIVERGED,
            N_("Updated with a gradient that is not finite: now {params}. {stuck}"),
            params=listing(params),
            stuck=self._stuck(),
        )

    def gradient_not_finite(
        self, grads: Iterable[tuple[str, MaybeValue]], params: Iterable[tuple[str, Value]]
    ) -> Message:
        """The loss is finite but a local derivative is not (a square root at 0, say)."""
        return said(
            Kind.DIVERGED,
            N_(
                "The loss is finite but the gradient is not ({grads}): a local derivative is "
                "out of range here (the chain rule shows which), so the update made {params}. "
                "{stuck}"
            ),
            grads=listing(grads, ".grad"),
            params=listing(params),
            stuck=self._stuck(),
        )

    def still_not_finite(self, params: Iterable[tuple[str, Value]]) -> Message:
        """A step that starts with a NaN or inf parameter: nothing new went wrong."""
        return self._said(
            Kind.DIVERGED,
            N_(
                "{params} since an earlier step: a parameter that is NaN or inf stays so in "
                "every later update, whatever the loss. Undo ({undo}) back to where it "
                "happened, or reset ({reset})."
            ),
            N_(
                "{params} since an earlier step: a parameter that is NaN or inf stays so in "
                "every later update, whatever the loss, until it is undone or reset."
            ),
            params=listing(params),
            undo=self._k["undo"],
            reset=self._k["reset"],
        )
