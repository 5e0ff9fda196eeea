"""How the engine's sentences are said, and the narration of the micro-steps and jumps.

A sentence is English in the code, marked with ``N_`` and translated when it is
shown (:func:`said`): a message already on the screen follows a change of
language (``bptui.i18n``). Values go in named fields; a field may itself be a
phrase (:func:`phrase`), said in the language of the sentence around it.
:class:`Narrator` holds the sentences of normal micro-steps and of moving in
time; :class:`~.teaching.Teacher` adds the refusals and teaching moments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ..i18n import N_, language, ngettext
from ..i18n import _ as translate
from .snapshot import Kind, Message, Saying
from .values import MaybeValue, Value, format_plain

#: How the undo message names the micro-step it undid (``Action`` names, lower case).
ACTION_NAMES: Mapping[str, str] = {
    "forward": N_("forward"),
    "backward": N_("backward"),
    "update": N_("update"),
    "zero": N_("zero"),
    "reset": N_("reset"),
    "skip_zero_mode": N_("skip_zero_mode"),
    "batch_mode": N_("batch_mode"),
    "sum_loss_mode": N_("sum_loss_mode"),
    "next_sample": N_("next_sample"),
    "edit": N_("edit"),
}


def _fill(fields: Mapping[str, object]) -> dict[str, object]:
    return {name: value() if callable(value) else value for name, value in fields.items()}


def phrase(template: str, **fields: object) -> Callable[[], str]:
    """``template`` (marked with ``N_``) in the language spoken when it is said, with
    ``fields`` filled in (a field that is a phrase is said then, too)."""
    return lambda: translate(template).format(**_fill(fields))


def said(kind: Kind, template: str, **fields: object) -> Message:
    """A message saying :func:`phrase` ``(template, **fields)``."""
    return Message(kind, phrase(template, **fields))


def joined(separator: str, parts: Iterable[Saying]) -> Callable[[], str]:
    """Phrases said one after the other, ``separator`` between them."""
    kept = list(parts)
    return lambda: separator.join(p if isinstance(p, str) else p() for p in kept)


def listing(values: Iterable[tuple[str, MaybeValue]], suffix: str = "") -> str:
    """``w.grad = -2, b.grad = 1``: names with their values, missing ones left out."""
    return ", ".join(f"{n}{suffix} = {format_plain(v)}" for n, v in values if v is not None)


def _at(steps: int, finished: bool) -> Callable[[], str]:
    if finished:
        return phrase(N_("step {steps}, the end of the lesson"), steps=steps)
    if steps == 0:
        return phrase(N_("step 0, the start of the lesson"))
    return lambda: ngettext(
        "step {steps} ({steps} training step done)",
        "step {steps} ({steps} training steps done)",
        steps,
    ).format(steps=steps)


def epochs_trained(epochs: int) -> Callable[[], str]:
    """``1 epoch``, ``100 epochs``: how many passes over the data, said in the sentence's
    language."""
    return lambda: ngettext("{n} epoch", "{n} epochs", epochs).format(n=epochs)


class Narrator:
    """The sentences of normal micro-steps and of moving in time. ``_k`` names the
    actions the way the interface spells them (see ``teaching.LABELS``)."""

    def __init__(self, keys: dict[str, str]) -> None:
        self._k = keys
        #: A student following a teacher: the sentences say what the teacher's next step
        #: does, not which key to press (their stepping keys do nothing then).
        self.watching = False

    def reset_done(self) -> Message:
        if self.watching:
            return said(Kind.STEP, N_("The teacher went back to the start."))
        return said(
            Kind.STEP, N_("Back to the start. ({undo} undoes the reset.)"), undo=self._k["undo"]
        )

    def undone(self, action: str) -> Message:
        """``action``: the undone micro-step's name, e.g. ``forward``."""
        name = ACTION_NAMES.get(action)
        shown = phrase(name) if name is not None else action
        return said(Kind.STEP, N_("Undid one micro-step ({action})."), action=shown)

    # ------------------------------------------------------------- time travel

    def jumped(self, steps: int, finished: bool, whole_step: bool = False) -> Message:
        """A jump (or a whole-step undo) landed ``steps`` training steps in."""
        if self.watching:
            template = (
                N_("The teacher went back to the start of a training step: at {at}.")
                if whole_step
                else N_("The teacher jumped: at {at}.")
            )
        else:
            template = (
                N_("Back to the start of a training step: at {at}. {undo} undoes the jump at once.")
                if whole_step
                else N_("Jumped: at {at}. {undo} undoes the jump at once.")
            )
        return said(Kind.STEP, template, at=_at(steps, finished), undo=self._k["undo"])

    def jump_undone(self, steps: int, finished: bool) -> Message:
        return said(Kind.STEP, N_("Undid the jump: back at {at}."), at=_at(steps, finished))

    def jump_stopped(self, steps: int, wanted: int) -> Message:
        if self.watching:
            return said(
                Kind.REFUSED,
                N_("The lesson ended at step {steps}, before step {wanted}."),
                steps=steps,
                wanted=wanted,
            )
        return said(
            Kind.REFUSED,
            N_("The lesson ended at step {steps}, before step {wanted}. {undo} undoes the jump."),
            steps=steps,
            wanted=wanted,
            undo=self._k["undo"],
        )

    def no_such_step(self, wanted: int, last: int | None = None) -> Message:
        """``last``: the lesson's last step, when it is finished."""
        if last is not None:
            return said(
                Kind.REFUSED,
                N_("The lesson ends at step {last}: there is no step {wanted}."),
                last=last,
                wanted=wanted,
            )
        return said(
            Kind.REFUSED,
            N_(
                "There is no step {wanted}: step 0 is the start of the lesson and step N is "
                "after N training steps."
            ),
            wanted=wanted,
        )

    def already_at_step(self, steps: int, finished: bool) -> Message:
        return said(Kind.REFUSED, N_("Already at {at}."), at=_at(steps, finished))

    def at_first_step(self, after_reset: bool) -> Message:
        if self.watching:
            return said(
                Kind.REFUSED,
                N_("Already at the start of the first training step: no step to undo."),
            )
        template = (
            N_(
                "Already at the start of the first training step: no step for {undo_step} to "
                "undo. ({undo} undoes the reset.)"
            )
            if after_reset
            else N_(
                "Already at the start of the first training step: no step for {undo_step} to undo."
            )
        )
        return said(Kind.REFUSED, template, undo_step=self._k["undo_step"], undo=self._k["undo"])

    # ----------------------------------------------------------------- narration

    def ready(self) -> Message:
        if self.watching:
            return said(
                Kind.STEP,
                N_("Ready. The teacher's first step computes the first node of the forward pass."),
            )
        return said(
            Kind.STEP,
            N_(
                "Ready. Press {next} (or {next_alt}) to compute the first node of the forward pass."
            ),
            next=self._k["next"],
            next_alt=self._k["next_alt"],
        )

    def forward_done(
        self, source: str, value: Value, pass_done: bool, note: Saying = ""
    ) -> Message:
        """``note``: the lesson's sentence about this value (its ``[notes]``), if any."""
        template = (
            N_(
                "Forward: {source} = {value}.{note} The forward pass is done: press {backward} for the backward pass."
            )
            if pass_done
            else N_("Forward: {source} = {value}.{note}")
        )
        if pass_done and self.watching:
            template = N_(
                "Forward: {source} = {value}.{note} The forward pass is done: the teacher's "
                "next step starts the backward pass."
            )

        def spaced() -> str:
            text = note if isinstance(note, str) else note()
            if not text:
                return ""
            return text if language() == "zh" else f" {text}"  # no space after "。"

        return said(
            Kind.STEP,
            template,
            source=source,
            value=format_plain(value),
            note=spaced,
            backward=self._k["backward"],
        )

    def backward_through(self, label: str, grads: Iterable[tuple[str, Value]]) -> Message:
        """``grads``: (∂loss/∂input's text, its value) for the node's inputs."""
        parts = ", ".join(f"{name} = {format_plain(value)}" for name, value in grads)
        return said(Kind.STEP, N_("Backward through {label}: {grads}."), label=label, grads=parts)

    def backward_finished(
        self, grads: Iterable[tuple[str, MaybeValue]], update_waits: bool = False
    ) -> Message:
        """``update_waits``: batch mode, before the epoch's last sample."""
        grads = list(grads)
        if self.watching:
            template = (
                N_(
                    "backward() finished: AccumulateGrad wrote {grads}. Batch mode: the update "
                    "waits for the epoch's last sample; the teacher's next step goes on to the "
                    "next sample."
                )
                if update_waits
                else N_(
                    "backward() finished: AccumulateGrad wrote {grads}. "
                    "The teacher's next step updates {params}."
                )
            )
            return said(
                Kind.STEP,
                template,
                grads=listing(grads, ".grad"),
                params=", ".join(name for name, _value in grads),
            )
        template = (
            N_(
                "backward() finished: AccumulateGrad wrote {grads}. Batch mode: the update "
                "waits for the epoch's last sample; {next} goes on to the next sample."
            )
            if update_waits
            else N_("backward() finished: AccumulateGrad wrote {grads}. Press {update} to update.")
        )
        return said(
            Kind.STEP,
            template,
            grads=listing(grads, ".grad"),
            next=self._k["next"],
            update=self._k["update"],
        )

    def updated_params(
        self, params: Iterable[tuple[str, Value]], zero_skipped: bool = False
    ) -> Message:
        """``zero_skipped``: skip-zero mode, where the gradient is kept."""
        if self.watching:
            template = (
                N_(
                    "Updated: {params}. Skip-zero mode: the gradient is not zeroed; the "
                    "teacher's next step goes on to the next sample, whose backward() adds to it."
                )
                if zero_skipped
                else N_("Updated: {params}. The teacher's next step zeroes the gradient.")
            )
            return said(Kind.STEP, template, params=listing(params))
        template = (
            N_(
                "Updated: {params}. Skip-zero mode: the gradient is not zeroed; {next} goes on "
                "to the next sample, whose backward() adds to it."
            )
            if zero_skipped
            else N_("Updated: {params}. Press {zero} to zero the gradient.")
        )
        return said(
            Kind.STEP, template, params=listing(params), next=self._k["next"], zero=self._k["zero"]
        )

    def lesson_done(self, epochs: int, params: str) -> Message:
        """The last micro-step of the last epoch: what the training came to, and what next."""
        if self.watching:
            return said(
                Kind.STEP,
                N_(
                    "Gradient zeroed. The lesson is done: {epochs} trained, {params}. "
                    "{explore} explores it on your own."
                ),
                epochs=epochs_trained(epochs),
                params=params,
                explore=self._k.get("toggle_follow", "t"),
            )
        return said(
            Kind.STEP,
            N_(
                "Gradient zeroed. The lesson is done: {epochs} trained, {params}. "
                "{jump} goes to any step, {undo} steps back, {reset} starts again."
            ),
            epochs=epochs_trained(epochs),
            params=params,
            jump=self._k["jump"],
            undo=self._k["undo"],
            reset=self._k["reset"],
        )

    def zeroed(self) -> Message:
        if self.watching:
            return said(
                Kind.STEP, N_("Gradient zeroed. The teacher's next step starts the next sample.")
            )
        return said(
            Kind.STEP, N_("Gradient zeroed. Next sample: press {next}."), next=self._k["next"]
        )
