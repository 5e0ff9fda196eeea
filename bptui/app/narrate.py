"""``--narrate FILE``: each step in plain words, a line at a time, for screen readers and notes.

:func:`step_line` says what the last micro-step of a snapshot did, from the snapshot
alone (``forward: ŷ = x·w = 1``, ``backward: ∂loss/∂r = 2r = -2``, ``update: w =
1.02``); :func:`command_lines` says what a key did, given the snapshots before and
after it (an undo names the step it took back; a jump, which may take thousands
of micro-steps, gets one line for where it landed). The actions of :data:`SAID_EACH`
(``space``, ``F``, ``B``, ``s``, ``e``, autoplay …) get a line per micro-step: the
app takes a snapshot after each. Every number is torch's, from the snapshot. :class:`NarrationFile` appends the lines to the file and
flushes each, so ``tail -f`` follows the lesson as it is taught.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import IO

from ..i18n import N_, _, ngettext
from ..lesson.snapshot import NodeView, Phase, Snapshot
from ..lesson.values import format_plain, short

#: The engine actions whose micro-steps are said one by one, as they are taken (the
#: others replay micro-steps, or take thousands: they get one line, :func:`command_lines`).
SAID_EACH = frozenset(
    {"next", "forward", "backward", "update", "zero"}
    | {"finish_forward", "finish_backward", "train_step", "finish_epoch"}
)
_SUPERSCRIPT = {"2": "²", "3": "³"}
#: How an operation reads in a line: ``x·w``, not the graph's ``×``.
_INFIX = {"mul": "·", "matmul": "·", "add": "+", "sub": "−", "div": "/"}


def _number(value: object) -> str:
    """A number in full (as the engine's sentences write it), a matrix by its shape."""
    if isinstance(value, (list, tuple)):
        return short(value)
    return format_plain(value)


def expression(node: NodeView) -> str:
    """What an operation computes, over its inputs' labels: ``x·w``, ``r²``, ``σ(z2)``."""
    args = node.args
    if node.op == "pow" and len(args) == 2 and args[1] in _SUPERSCRIPT:
        return args[0] + _SUPERSCRIPT[args[1]]
    if len(args) == 2 and node.op in _INFIX:
        gap = "" if _INFIX[node.op] == "·" else " "
        return f"{args[0]}{gap}{_INFIX[node.op]}{gap}{args[1]}"
    if len(args) == 2:
        return f"{args[0]} {node.symbol} {args[1]}"
    return f"{node.symbol}({', '.join(args)})"


def _forward(node: NodeView) -> str:
    return _("forward: {name} = {expression} = {value}").format(
        name=node.label, expression=expression(node), value=_number(node.value)
    )


def _backward(snap: Snapshot, node: NodeView) -> str:
    """The gradients one backward micro-step passed from ``node`` to its inputs."""
    used = {name for other in snap.nodes for name in other.inputs if name}
    root = node.name not in used  # the loss: ∂loss/∂loss = 1 is left out
    parts = []
    for factor in snap.factors:
        if factor.out != node.name or factor.value is None:
            continue
        target = next((n for n in snap.nodes if n.name == factor.wrt), None)
        if target is None or target.grad is None:
            continue  # a value that needs no gradient (the data)
        name = f"∂{snap.loss_label}/∂{factor.wrt_label}"
        if root:
            value = _number(target.grad)
            said = value if factor.formula == value else f"{factor.formula} = {value}"
            parts.append(f"{name} = {said}")
            continue
        upstream = f"∂{snap.loss_label}/∂{node.label}"
        parts.append(
            f"{name} = {upstream} · {factor.name} = {_number(node.grad)} · "
            f"{_number(factor.value)} = {_number(target.grad)}"
        )
    if not parts:
        return _("backward: through {name}").format(name=node.label)
    return _("backward: {gradients}").format(gradients="; ".join(parts))


def step_line(snap: Snapshot) -> str | None:
    """What the snapshot's last micro-step did, in plain words (None at the start)."""
    current = [node for node in snap.nodes if node.current]
    if not current:
        return None
    ops = [node for node in current if node.kind == "op"]
    if ops:
        node = ops[0]
        return _forward(node) if node.grad is None else _backward(snap, node)
    if snap.last_source is not None and "zero_()" in snap.last_source:
        grads = ", ".join(f"{p.name}.grad = {_number(p.grad)}" for p in snap.params)
        return _("zero: {gradients}").format(gradients=grads)
    values = ", ".join(f"{p.name} = {_number(p.data)}" for p in snap.params)
    rate = format_plain(snap.lr)
    return _("update: {values} (lr {lr})").format(values=values, lr=rate)


def where(snap: Snapshot) -> str:
    """Where the lesson is: ``epoch 1/100, sample 2/3, forward; loss = 1; w = 1.02``."""
    if snap.finished:
        place = _("epoch {epoch}/{epochs}, finished").format(epoch=snap.epoch, epochs=snap.epochs)
    else:
        place = _("epoch {epoch}/{epochs}, sample {sample}/{samples}, {phase}").format(
            epoch=snap.epoch,
            epochs=snap.epochs,
            sample=snap.sample,
            samples=snap.n_samples,
            phase=_phase(snap.phase),
        )
    values = ", ".join(f"{p.name} = {_number(p.data)}" for p in snap.params)
    if snap.loss is not None:
        values = f"{snap.loss_label} = {_number(snap.loss)}; {values}"
    return f"{place}; {values}"


#: A key's action in the words of a line.
_WORDS = {
    "next": N_("next"),
    "forward": N_("forward"),
    "backward": N_("backward"),
    "update": N_("update"),
    "zero": N_("zero"),
    "undo": N_("undo"),
    "finish_forward": N_("forward pass"),
    "finish_backward": N_("backward pass"),
    "train_step": N_("training step"),
    "finish_epoch": N_("rest of the epoch"),
    "undo_step": N_("back to a training step's start"),
    "jump": N_("jump"),
    "jump_start": N_("jump to the start"),
    "jump_end": N_("jump to the end of the epoch"),
    "reset": N_("reset"),
    "skip_zero_mode": N_("no-zero mode"),
    "batch_mode": N_("batch mode"),
    "sum_loss_mode": N_("sum += l mode"),
    "edit": N_("edit"),
}


def _words(action: str) -> str:
    """A key's action in the words of a line (the engine's name if it has none)."""
    words = _WORDS.get(action)
    return _(words) if words is not None else action


def _phase(phase: Phase) -> str:
    """The phase's name (the engine's word for it, as ``forward: …`` lines say it)."""
    return "" if phase is Phase.DONE else _(_WORDS[phase.value])


#: Actions that travel (replaying or computing many micro-steps): said by where they land.
JUMPS = frozenset({"jump", "jump_start", "jump_end", "undo_step"})


def command_lines(action: str, before: Snapshot, after: Snapshot) -> list[str]:
    """The lines for one key, whose engine action is ``action`` (``next``, ``undo``,
    ``jump``, ``batch_mode`` …), from the snapshots before and after it: an undo names
    the micro-step it took back, a micro-step says itself, a jump where it landed, and
    anything else (a mode, an edit, a reset, a refusal) is said in the engine's words."""
    taken = after.micro_steps - before.micro_steps
    if action == "undo" and taken == -1:
        line = step_line(before)
        if line is not None:
            return [_("undone: {step}").format(step=line)]
    if action in SAID_EACH and taken == 1:
        line = step_line(after)
        if line is not None:
            return [line]
    if action in JUMPS or (action in SAID_EACH and taken > 1):
        count = abs(taken)
        return [
            ngettext(
                "{what} ({count} micro-step): now {where}",
                "{what} ({count} micro-steps): now {where}",
                count,
            ).format(what=_words(action), count=count, where=where(after))
        ]
    if after.message is None:
        return []
    return [f"{_words(action)}: {after.message.text}"]


class NarrationFile:
    """Appends lines to the narration file (opened at the first line), each flushed."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: IO[str] | None = None
        self._stopped = False

    def write(self, lines: list[str]) -> str | None:
        """Write ``lines``; on failure, stop narrating and say why (one line)."""
        if self._stopped or not lines:
            return None
        try:
            if self._file is None:
                self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
            self._file.write("".join(line + "\n" for line in lines))
            self._file.flush()
        except OSError as error:
            self.close()
            self._stopped = True
            return _("Narration stopped: cannot write {path}: {reason}").format(
                path=self.path, reason=error.strerror or error
            )
        return None

    def close(self) -> None:
        """Close the file (the app is ending, or writing failed)."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None


class Narration:
    """What a session says to the narration file (``--narrate FILE``), if it has one.

    The engine calls back after every micro-step, so the keys that step (one
    micro-step or many, and autoplay) get a line for each. Undo and the jumps
    replay micro-steps to get where they go: those are kept quiet, and the key gets
    one line, from the snapshots before and after it (see :func:`command_lines`).
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._file: NarrationFile | None = None
        #: The lesson as the last line left it (what an undo takes back).
        self._narrated: Snapshot | None = None
        #: Micro-steps being replayed (undo, a jump): not said one by one.
        self.quiet = False
        #: Lines said by the engine's call-backs during the current command.
        self._said = 0

    @property
    def on(self) -> bool:
        return self.path is not None

    def start(self, snap: Snapshot) -> None:
        """The lesson as it is before the first key."""
        self._narrated = snap

    def micro_step(self, snapshot: Callable[[], Snapshot]) -> str | None:
        """The engine took a micro-step: its line (unless replaying); a problem, if any."""
        if self.quiet:
            return None
        snap = self._narrated = snapshot()
        line = step_line(snap)
        if line is None:
            return None
        self._said += 1
        return self.write([line])

    def begin(self, snapshot: Callable[[], Snapshot], action: str) -> Snapshot:
        """A key's command starts: the lesson before it."""
        before = self._narrated or snapshot()
        self.quiet, self._said = action not in SAID_EACH, 0
        return before

    def end(self, before: Snapshot, after: Snapshot, action: str) -> str | None:
        """The command is done: one line for it if its micro-steps said none."""
        self._narrated = after
        if self._said:
            return None
        return self.write(command_lines(action, before, after))  # an undo, a jump, a mode…

    def write(self, lines: list[str]) -> str | None:
        """Append ``lines``; why narration stopped, if writing failed."""
        if self.path is None:
            return None
        if self._file is None:
            self._file = NarrationFile(self.path)
        return self._file.write(lines)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def cannot_narrate(path: str) -> str | None:
    """Why ``path`` cannot take the narration (one line), or None: tried by opening it."""
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as error:
        return _("cannot write the narration to {path}: {reason}").format(
            path=path, reason=error.strerror or error
        )
    return None
