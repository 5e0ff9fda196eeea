"""The stepper: a lesson's training loop on torch, one micro-step at a time.

Every number comes from torch, computed with the same float32 operations in the
same order as the note's program, so a run of the stepper reproduces the note's
numbers bit for bit:

* forward: one graph node per micro-step, each a real torch op building the
  autograd graph exactly as ``loss(x_val, w, y_val)`` does;
* backward: one operation per micro-step in reverse topological order. Each
  micro-step calls that operation's own backward function (``PowBackward0``,
  ``SubBackward0``, ``MulBackward0``…) to get its local derivatives and the
  gradient it passes down. The last backward micro-step calls the real
  ``loss.backward()``, which writes ``w.grad`` (accumulating, as torch does);
* update: ``w.data = w.data - a * w.grad.data``;
* zero: ``w.grad.data.zero_()``.

Undo replays: each successful micro-step is logged, the full state is saved at
the start of every training step, and undoing restores the last saved state and
replays the log up to one micro-step earlier. torch on the CPU is
deterministic, so the replay gives back the exact tensors.
"""

from __future__ import annotations

import enum
import math
import operator
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch

from .ops import OPS, format_number, pow_formula
from .program import build_program, op_source
from .snapshot import (
    ChainView,
    FactorView,
    History,
    Kind,
    Message,
    Modes,
    NodeView,
    ParamView,
    Phase,
    Snapshot,
)
from .spec import Lesson, LessonError, Node

_PY_OPERATORS: dict[str, Callable[..., Any]] = {
    "mul": operator.mul,
    "add": operator.add,
    "sub": operator.sub,
    "div": operator.truediv,
    "pow": operator.pow,
    "neg": operator.neg,
}

#: At most this many paths are listed per parameter in the chain-rule view.
_MAX_PATHS = 16

#: Undo restores the last checkpoint and replays from it. One checkpoint every
#: few training steps keeps long runs cheap while an undo replays at most a few
#: dozen micro-steps (well under a millisecond each).
CHECKPOINT_EVERY = 8


class Action(enum.IntEnum):
    """The micro-steps a student can ask for. Compound commands are sequences of these."""

    FORWARD = 0
    BACKWARD = 1
    UPDATE = 2
    ZERO = 3
    RESET = 4
    SKIP_ZERO_MODE = 5
    BATCH_MODE = 6
    SUM_LOSS_MODE = 7
    NEXT_SAMPLE = 8
    EDIT = 9


@dataclass(frozen=True)
class _Edit:
    """A logged change of lesson values (lr, data, parameter values) at a step's start."""

    lesson: Lesson
    params: tuple[tuple[str, float], ...]
    text: str
    action: Action = Action.EDIT


# Kinds of op input, for Stepper._plans.
_FIXED, _X, _Y, _VALUE = object(), object(), object(), object()

_NATURAL = {
    Phase.FORWARD: Action.FORWARD,
    Phase.BACKWARD: Action.BACKWARD,
    Phase.UPDATE: Action.UPDATE,
    Phase.ZERO: Action.ZERO,
}


@dataclass(frozen=True)
class StepRecord:
    """One finished training step, as plain numbers (what ``bptui trace`` writes)."""

    step: int
    epoch: int
    sample: int
    x: float
    y: float
    #: Parameters when the loss was computed (what the note's ``ll_w`` records).
    params: dict[str, float]
    nodes: dict[str, float]
    loss: float
    #: Local derivatives keyed ``d<out>/d<wrt>``, e.g. ``dloss/dr``.
    factors: dict[str, float]
    #: ``param.grad`` after this step's backward (accumulated if not zeroed).
    grads: dict[str, float | None]
    params_after: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data, keys in a stable order."""
        return {
            "step": self.step,
            "epoch": self.epoch,
            "sample": self.sample,
            "x": self.x,
            "y": self.y,
            "loss": self.loss,
            "params": self.params,
            "grads": self.grads,
            "params_after": self.params_after,
            "nodes": self.nodes,
            "factors": self.factors,
        }


#: A finished step as the engine keeps it: a flat tuple is a tenth of the memory
#: of a record of dicts, which matters for a million-step trace. Fields:
#: epoch, sample, x, y, params, node values, factor keys, factors, grads,
#: params after, loss (the name tuples are shared between rows).
_Row = tuple


@dataclass
class _Checkpoint:
    """The full state at the start of a training step, after ``index`` logged actions."""

    index: int
    epoch: int
    sample: int
    phase: Phase
    #: Parameter values and gradients as nested lists of floats: exact for float32,
    #: and cheaper to take than tensor clones (one is taken per training step).
    data: dict[str, Any]
    grads: dict[str, Any]
    records: list[_Row]
    n_records: int
    #: The plot's history lists (reset starts new ones; undoing it needs the old).
    hist_w: list[float]
    hist_loss: list[float]
    modes: Modes
    lesson: Lesson
    #: The summed loss (sum_loss mode) as a number; its graphs cannot be saved.
    loss_sum: float | None
    kept_nodes: int


def _integral(value: float) -> float | int:
    """``2.0`` → ``2``: the note writes ``** 2``, and torch is given the same literal."""
    return int(value) if float(value).is_integer() else value


class Stepper:
    """Drives one lesson. Actions return True when they changed the state."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.program = build_program(lesson)
        self._nodes: tuple[Node, ...] = lesson.nodes
        self._index = {node.name: i for i, node in enumerate(self._nodes)}
        self._names = lesson.param_names
        # Forward needs a tensor among an op's inputs; ops on data alone get one made.
        tensors = {"x"} if lesson.input_grad else set()
        if lesson.vector_data:
            tensors = {"x", "y"}

        def is_tensor(arg: Any) -> bool:
            return isinstance(arg, str) and (arg not in ("x", "y") or arg in tensors)

        # So does a division of a number by a tensor: torch computes ``c / t`` as
        # ``t.reciprocal() * c``, two autograd nodes, and the backward micro-step
        # would find no DivBackward0 leading to the divisor.
        self._needs_tensor = [
            not any(is_tensor(a) for a in node.args)
            or (node.op == "div" and not is_tensor(node.args[0]))
            for node in self._nodes
        ]
        self._fns = [self._torch_fn(node) for node in self._nodes]
        needs = set(lesson.param_names) | ({"x"} if lesson.input_grad else set())
        for node in self._nodes:
            if any(isinstance(a, str) and a in needs for a in node.args):
                needs.add(node.name)
        # Values the loss depends on; others (shown beside the model) get no backward.
        feeds = {self._nodes[-1].name}
        for node in reversed(self._nodes):
            if node.name in feeds:
                feeds.update(a for a in node.args if isinstance(a, str))
        self._needs_grad = needs & feeds
        self._bsteps = tuple(
            node for node in reversed(self._nodes) if node.name in self._needs_grad
        )
        self._slots: dict[str, tuple[tuple[int, int], ...]] = {}
        self._ones_cache: dict[torch.Size, torch.Tensor] = {}
        self._factor_keys = {
            (node.name, i): f"d{node.name}/d{arg}"
            for node in self._nodes
            for i, arg in enumerate(node.args)
            if isinstance(arg, str)
        }
        self.params: dict[str, torch.Tensor] = {}
        for name, value in lesson.params:
            # The note's w is torch.Tensor([1.0]); a vector or matrix keeps its shape.
            tensor = torch.tensor(value if isinstance(value, tuple) else [value], dtype=torch.float32)
            tensor.requires_grad = True
            self.params[name] = tensor
        # How each op finds its inputs: a constant or parameter tensor (fixed
        # objects), the sample's x or y, or an earlier node's value.
        self._plans = [
            tuple(self._plan(arg) for arg in node.args) for node in self._nodes
        ]
        self._records: list[_Row] = []
        self._values: dict[str, torch.Tensor] = {}
        self._node_grads: dict[str, torch.Tensor] = {}
        self._locals: dict[tuple[str, int], torch.Tensor] = {}
        self._layouts: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._log: list[Action | _Edit] = []
        self._fd_cache: dict[tuple[Any, ...], float] = {}
        self._hist_w: list[float] = []
        self._hist_loss: list[float] = []
        self._last: Action | None = None
        self._message: Message | None = None
        # Tensor → Python: .item() for the note's numbers (the hot path of long
        # runs), nested lists where a lesson has vectors or matrices.
        scalar = not lesson.vector_data and all(not isinstance(v, tuple) for _, v in lesson.params)
        self._py: Callable[[torch.Tensor], Any] = torch.Tensor.item if scalar else _plain
        self._modes = Modes()
        self._loss_sum: torch.Tensor | None = None
        self._kept_nodes = 0
        self._begin_sample(0, 0)
        if lesson.vector_data or any(isinstance(v, tuple) for _, v in lesson.params):
            self._check_shapes()
        self._checkpoints = [self._capture(0)]
        self._steps_since_checkpoint = 0
        self._fresh = False

    # ------------------------------------------------------------------ actions

    def forward(self) -> bool:
        """Compute the next graph node (or start the next sample, skipping the rest)."""
        return self._do(Action.FORWARD)

    def backward(self) -> bool:
        """Run the backward function of the next operation, last to first."""
        return self._do(Action.BACKWARD)

    def update(self) -> bool:
        """``w.data = w.data - a * w.grad.data`` for every parameter."""
        return self._do(Action.UPDATE)

    def zero(self) -> bool:
        """``w.grad.data.zero_()`` for every parameter."""
        return self._do(Action.ZERO)

    def next(self) -> bool:
        """The micro-step that naturally comes next (in the current modes)."""
        if self._phase is Phase.DONE:
            self._message = self._finished_message()
            return False
        return self._do(self._natural())

    @property
    def modes(self) -> Modes:
        return self._modes

    def edit(
        self,
        *,
        lr: float | None = None,
        params: dict[str, float] | None = None,
        x: list[float] | None = None,
        y: list[float] | None = None,
    ) -> bool:
        """Change the learning rate, parameter values or data from this step on.

        Allowed at the start of a training step; the history so far stays, and
        the change is undoable. Bad values raise :class:`LessonError`.
        """
        lesson = self.lesson.with_values(lr=lr, x=x, y=y)
        values = {}
        for name, value in (params or {}).items():
            if name not in self.params:
                raise LessonError(f"unknown parameter {name!r}")
            if self.params[name].numel() != 1:
                raise LessonError(f"{name} is a matrix: change it in the lesson file")
            if not math.isfinite(value):
                raise LessonError(f"{name} must be a finite number")
            values[name] = float(value)
        changes = []
        if lesson.lr != self.lesson.lr:
            changes.append(f"lr {self.lesson.lr:g} → {lesson.lr:g}")
        for name, value in values.items():
            old = self.params[name].item()
            if _float32([value]).item() != old:
                changes.append(f"{name} {format_value(old)} → {format_value(value)}")
        if lesson.x != self.lesson.x or lesson.y != self.lesson.y:
            changes.append("the data")
        text = ("Changed " + ", ".join(changes) + ".") if changes else "Nothing changed."
        return self._do(_Edit(lesson, tuple(values.items()), text))

    def toggle_skip_zero(self) -> bool:
        """Never zero the gradient: each backward adds to it. Undoable."""
        return self._do(Action.SKIP_ZERO_MODE)

    def toggle_batch(self) -> bool:
        """Accumulate the gradient over the whole epoch, then update once. Undoable."""
        return self._do(Action.BATCH_MODE)

    def toggle_sum_loss(self) -> bool:
        """The note's pitfall: ``sum += l`` on the loss tensor. Undoable."""
        return self._do(Action.SUM_LOSS_MODE)

    def _natural(self) -> Action:
        phase = self._phase
        if phase is Phase.ZERO and self._modes.skip_zero:
            return Action.NEXT_SAMPLE  # go on without zeroing
        if (
            phase is Phase.UPDATE
            and self._modes.batch
            and self._sample < self.lesson.n_samples - 1
        ):
            return Action.NEXT_SAMPLE  # the update waits for the epoch's last sample
        # Identity tests, not _NATURAL[phase]: hashing a plain Enum runs Python code,
        # and this is called for every micro-step of a long run.
        if phase is Phase.FORWARD:
            return Action.FORWARD
        if phase is Phase.BACKWARD:
            return Action.BACKWARD
        if phase is Phase.UPDATE:
            return Action.UPDATE
        return Action.ZERO

    def reset(self) -> bool:
        """Back to the lesson's start. Undoable, like any other step."""
        return self._do(Action.RESET)

    def finish_forward(self) -> bool:
        """Complete the forward pass (starting the next sample if need be)."""
        if not self.forward():
            return False
        return self._repeat(lambda: self._phase is Phase.FORWARD, Action.FORWARD)

    def finish_backward(self) -> bool:
        """Complete the backward pass."""
        if not self.backward():
            return False
        return self._repeat(lambda: self._phase is Phase.BACKWARD, Action.BACKWARD)

    def train_step(self) -> bool:
        """Run to the start of the next training step (a whole step from a step's start)."""
        start = self._step_id()
        return self._run_naturally(lambda: self._step_id() == start)

    def finish_epoch(self) -> bool:
        """Run to the start of the next epoch."""
        epoch = self._epoch
        return self._run_naturally(lambda: self._epoch == epoch)

    def run_epochs(self, n: int) -> bool:
        """Run ``n`` more epoch boundaries (or to the end of the lesson)."""
        target = self._epoch + n
        return self._run_naturally(lambda: self._epoch < target)

    def run_to_end(self) -> bool:
        """Run every remaining step of the lesson."""
        return self._run_naturally(lambda: True)

    def undo(self) -> bool:
        """Undo the last micro-step, restoring every tensor exactly."""
        if not self._log:
            self._message = Message(Kind.REFUSED, "Nothing to undo: this is the start.")
            return False
        target = len(self._log) - 1
        undone = _action(self._log[-1])
        while self._checkpoints[-1].index > target:
            self._checkpoints.pop()
        checkpoint = self._checkpoints[-1]
        replay = self._log[checkpoint.index : target]
        del self._log[checkpoint.index :]
        self._restore(checkpoint)
        for entry in replay:
            if not self._do(entry):  # pragma: no cover - replay is deterministic
                raise RuntimeError(f"replay of {_action(entry).name} failed")
        self._message = Message(Kind.STEP, f"Undid one micro-step ({undone.name.lower()}).")
        return True

    # ----------------------------------------------------------------- queries

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def epoch(self) -> int:
        """0-based epoch of the current training step."""
        return self._epoch

    @property
    def sample(self) -> int:
        """0-based sample index of the current training step."""
        return self._sample

    @property
    def records(self) -> tuple[StepRecord, ...]:
        """Every finished training step so far."""
        return tuple(self.iter_records())

    @property
    def steps_done(self) -> int:
        return len(self._records)

    @property
    def message(self) -> Message | None:
        return self._message

    @property
    def micro_steps(self) -> int:
        return len(self._log)

    def iter_records(self, start: int = 0) -> Iterator[StepRecord]:
        """Records from index ``start`` on, built as they are read."""
        names = self._names
        nodes = tuple(node.name for node in self._nodes)
        for i in range(start, len(self._records)):
            epoch, sample, x, y, before, values, keys, factors, grads, after, loss = self._records[i]
            yield StepRecord(
                step=i + 1,
                epoch=epoch,
                sample=sample,
                x=x,
                y=y,
                params=dict(zip(names, before, strict=True)),
                nodes=dict(zip(nodes, values, strict=True)),
                loss=loss,
                factors=dict(zip(keys, factors, strict=True)),
                grads=dict(zip(names, grads, strict=True)),
                params_after=dict(zip(names, after, strict=True)),
            )

    # ---------------------------------------------------------------- internals

    def _plan(self, arg: Any) -> tuple[object, Any]:
        if not isinstance(arg, str):
            return (_FIXED, _integral(arg))
        if arg == "x":
            return (_X, None)
        if arg == "y":
            return (_Y, None)
        if arg in self.params:
            return (_FIXED, self.params[arg])
        return (_VALUE, arg)

    def _check_shapes(self) -> None:
        """Run the first sample's forward pass once, so a model that does not fit the
        data's shapes (W is 2×3 but x has 4 numbers) is a lesson error, not a crash."""
        try:
            self._values = values = {}
            with torch.no_grad():
                for index, node in enumerate(self._nodes):
                    values[node.name] = self._compute(index)
            if values[self._nodes[-1].name].numel() != 1:
                raise LessonError("the loss must be a single number")
        except RuntimeError as error:
            reason = str(error).splitlines()[0]
            raise LessonError(f"the model does not fit the data's shapes: {reason}") from None
        finally:
            self._values = {}

    def _ones(self, like: torch.Tensor) -> torch.Tensor:
        """A shared tensor of ones (the seed gradient), never written to."""
        ones = self._ones_cache.get(like.shape)
        if ones is None:
            ones = self._ones_cache[like.shape] = torch.ones_like(like)
        return ones

    def history(self) -> tuple[History, History]:
        """First parameter and loss of every finished step, as they are now."""
        n = len(self._hist_w)
        return History(self._hist_w, n), History(self._hist_loss, n)

    def _torch_fn(self, node: Node) -> Callable[..., Any]:
        if node.op in _PY_OPERATORS:
            return _PY_OPERATORS[node.op]
        if node.op == "bce":
            return _bce
        return getattr(torch, OPS[node.op].torch_name)

    def _do(self, entry: Action | _Edit) -> bool:
        self._message = None
        if isinstance(entry, _Edit):
            ok = self._act_edit(entry)
        else:
            ok = _HANDLERS[entry](self)
        if not ok:
            return False
        action = _action(entry)
        self._log.append(entry)
        self._last = action
        if self._fresh:
            self._fresh = False
            self._steps_since_checkpoint += 1
            # A checkpoint restores to a sample's start, so it is taken only when the
            # action ended there: f after an update or before zeroing begins the next
            # sample and runs its first op in one action, and restoring from a
            # checkpoint taken then would lose that op. The next clean start takes it.
            at_start = self._fwd == 0
            if at_start and (
                self._steps_since_checkpoint >= CHECKPOINT_EVERY
                or action in (Action.RESET, Action.EDIT)
            ):
                self._steps_since_checkpoint = 0
                self._checkpoints.append(self._capture(len(self._log)))
        return True

    def _loop(
        self,
        more: Callable[[], bool],
        action_of: Callable[[], Action],
        important: Message | None = None,
    ) -> Message | None:
        """Take micro-steps while ``more()``; the last message worth showing (not mere
        narration) is kept, so a teaching moment inside a run is not lost."""
        while self._phase is not Phase.DONE and more():
            if not self._do(action_of()):
                break
            if self._message is not None and self._message.kind is not Kind.STEP:
                important = self._message
        return important

    def _repeat(self, more: Callable[[], bool], action: Action) -> bool:
        first = self._message if self._message and self._message.kind is not Kind.STEP else None
        important = self._loop(more, lambda: action, first)
        if important is not None:
            self._message = important
        return True

    def _run_naturally(self, more: Callable[[], bool]) -> bool:
        if self._phase is Phase.DONE:
            self._message = self._finished_message()
            return False
        self._message = self._loop(more, self._natural)
        return True

    def _step_id(self) -> tuple[int, int]:
        return (self._epoch, self._sample)

    def _begin_sample(self, epoch: int, sample: int) -> None:
        self._epoch = epoch
        self._sample = sample
        self._fresh = True
        if epoch >= self.lesson.epochs:
            self._phase = Phase.DONE
            self._x = self._y = math.nan
            self._x_arg = self._y_arg = math.nan
        else:
            self._phase = Phase.FORWARD
            self._x = self.lesson.x[sample]
            self._y = self.lesson.y[sample]
            # What the ops get: the note's plain numbers, or tensors for vector data.
            self._x_arg: Any = self._x
            self._y_arg: Any = self._y
            if self.lesson.vector_data:
                self._x_arg = torch.tensor(self._x, dtype=torch.float32)
                self._y_arg = torch.tensor(self._y, dtype=torch.float32)
            if self.lesson.input_grad:
                # x stands for the output of a layer before: torch computes ∂L/∂x.
                self._x_tensor = torch.tensor([self._x], dtype=torch.float32, requires_grad=True)
                self._x_arg = self._x_tensor
        self._fwd = 0
        self._bwd = 0
        self._values.clear()
        self._node_grads.clear()
        self._locals.clear()
        self._freed = False
        self._loss_value: float | None = None
        self._params_before: dict[str, float] = {}
        self._grads_after: dict[str, float | None] = {}

    def _capture(self, index: int) -> _Checkpoint:
        return _Checkpoint(
            index=index,
            epoch=self._epoch,
            sample=self._sample,
            phase=self._phase,
            data={n: p.detach().tolist() for n, p in self.params.items()},
            grads={
                n: (p.grad.tolist() if p.grad is not None else None)
                for n, p in self.params.items()
            },
            records=self._records,
            n_records=len(self._records),
            hist_w=self._hist_w,
            hist_loss=self._hist_loss,
            modes=self._modes,
            lesson=self.lesson,
            loss_sum=None if self._loss_sum is None else self._loss_sum.item(),
            kept_nodes=self._kept_nodes,
        )

    def _restore(self, checkpoint: _Checkpoint) -> None:
        for name, tensor in self.params.items():
            tensor.data = _float32(checkpoint.data[name])
            grad = checkpoint.grads[name]
            tensor.grad = None if grad is None else _float32(grad)
        self._records = checkpoint.records
        del self._records[checkpoint.n_records :]
        # New lists from the checkpoint's prefix: snapshots taken since hold views
        # of the old lists (see History), which must not change under them.
        self._hist_w = checkpoint.hist_w[: checkpoint.n_records]
        self._hist_loss = checkpoint.hist_loss[: checkpoint.n_records]
        self._modes = checkpoint.modes
        if checkpoint.lesson is not self.lesson:
            self.lesson = checkpoint.lesson
            self.program = build_program(checkpoint.lesson)
        self._loss_sum = (
            None if checkpoint.loss_sum is None else _float32([checkpoint.loss_sum])
        )
        self._kept_nodes = checkpoint.kept_nodes
        self._begin_sample(checkpoint.epoch, checkpoint.sample)
        self._fresh = False
        self._steps_since_checkpoint = 0
        self._last = _action(self._log[-1]) if self._log else None

    def _arg(self, node_index: int, position: int) -> Any:
        kind, payload = self._plans[node_index][position]
        if kind is _VALUE:
            return self._values[payload]
        if kind is _X:
            return self._x_arg
        if kind is _Y:
            return self._y_arg
        return payload

    def _compute(self, index: int) -> torch.Tensor:
        args = []
        for kind, payload in self._plans[index]:
            if kind is _VALUE:
                args.append(self._values[payload])
            elif kind is _X:
                args.append(self._x_arg)
            elif kind is _Y:
                args.append(self._y_arg)
            else:
                args.append(payload)
        if self._needs_tensor[index]:
            args[0] = torch.tensor(float(args[0]), dtype=torch.float32)
        return self._fns[index](*args)

    # The four micro-steps. Each returns True if it changed the state.

    def _act_forward(self) -> bool:
        phase = self._phase
        if phase is Phase.DONE:
            self._message = self._finished_message()
            return False
        if phase is Phase.BACKWARD:
            text = (
                "The forward pass is complete: the loss is computed. Press b to start "
                "the backward pass."
                if self._bwd == 0
                else "The backward pass is half done: finish it (b or B) before the next "
                "forward pass."
            )
            self._message = Message(Kind.REFUSED, text)
            return False
        if phase in (Phase.UPDATE, Phase.ZERO):
            self._act_next_sample()
            if self._phase is Phase.DONE:
                return True
            skipped = self._message
            self._act_forward()
            self._message = skipped
            return True
        index = self._fwd
        out = self._compute(index)
        self._values[self._nodes[index].name] = out
        self._fwd += 1
        if self._fwd == len(self._nodes):
            self._phase = Phase.BACKWARD
            self._loss_value = out.item()
            self._params_before = {n: self._py(p) for n, p in self.params.items()}
            if self._modes.sum_loss:
                self._add_to_loss_sum(out)
            if not math.isfinite(self._loss_value):
                self._message = self._nonfinite_message()
        return True

    def _add_to_loss_sum(self, loss: torch.Tensor) -> None:
        """``sum += l``: the sum's graph now holds this step's whole graph too."""
        self._kept_nodes += _count_graph(loss.grad_fn) + (1 if self._loss_sum is not None else 0)
        self._loss_sum = loss if self._loss_sum is None else self._loss_sum + loss

    def _act_backward(self) -> bool:
        phase = self._phase
        if phase is Phase.DONE:
            self._message = self._finished_message()
            return False
        if phase is Phase.FORWARD:
            self._message = Message(
                Kind.REFUSED,
                "There is no loss to differentiate yet: finish the forward pass first "
                "(f or F).",
            )
            return False
        if phase in (Phase.UPDATE, Phase.ZERO):
            return self._backward_again()
        node = self._bsteps[self._bwd]
        out = self._values[node.name]
        fn = out.grad_fn
        ones = self._ones(out)
        if self._bwd == 0:
            self._node_grads[node.name] = ones
        upstream = self._node_grads[node.name]
        # Calling a backward function directly, outside autograd's engine: it must
        # not record a graph of its own. (The C switch: ``no_grad()`` costs 10× more.)
        _set_grad_enabled(False)
        try:
            passed = fn(upstream)
            local = passed if self._bwd == 0 else fn(ones)
        finally:
            _set_grad_enabled(True)
        if not isinstance(passed, tuple):
            passed, local = (passed,), (local if isinstance(local, tuple) else (local,))
        for slot, position in self._slot_map(node, fn):
            grad = passed[slot]
            if grad is None:
                continue
            arg = node.args[position]
            assert isinstance(arg, str)
            before = self._node_grads.get(arg)
            self._node_grads[arg] = grad if before is None else before + grad
            self._locals[(node.name, position)] = local[slot]
        self._bwd += 1
        if self._bwd == len(self._bsteps):
            self._real_backward()
        return True

    def _real_backward(self) -> None:
        before = {n: (self._py(p.grad) if p.grad is not None else None) for n, p in self.params.items()}
        loss = self._values[self._nodes[-1].name]
        _run_backward(loss, self._ones(loss))
        self._freed = True
        self._phase = Phase.UPDATE
        self._grads_after = {
            n: (self._py(p.grad) if p.grad is not None else None) for n, p in self.params.items()
        }
        accumulated = [n for n, v in before.items() if _nonzero(v)]
        if accumulated and not self._modes.batch:
            self._message = self._accumulated_message(accumulated, before)

    def _backward_again(self) -> bool:
        loss = self._values[self._nodes[-1].name]
        before = {n: (self._py(p.grad) if p.grad is not None else None) for n, p in self.params.items()}
        try:
            loss.backward()
        except RuntimeError as error:
            first = str(error).split(". ")[0].strip()
            self._message = Message(
                Kind.TEACH,
                f"torch: RuntimeError: {first}. backward() frees what the graph saved, so "
                "it runs once per graph; the next forward pass (f) builds a new one.",
            )
            return False
        self._grads_after = {
            n: (self._py(p.grad) if p.grad is not None else None) for n, p in self.params.items()
        }
        self._message = self._accumulated_message(list(before), before, again=True)
        return True

    def _act_update(self) -> bool:
        phase = self._phase
        if phase is Phase.DONE:
            self._message = self._finished_message()
            return False
        names = self._names
        if not any([self.params[n].grad is not None for n in names]):
            self._message = Message(
                Kind.TEACH,
                f"{names[0]}.grad is None: no backward pass has run yet, so there is no "
                f"gradient to update with (in torch, `{names[0]}.grad.data` fails: 'NoneType' "
                "object has no attribute 'data'). Run the forward pass (f) and the backward "
                "pass (b) first.",
            )
            return False
        if phase in (Phase.FORWARD, Phase.BACKWARD):
            grads = ", ".join(
                f"{n}.grad = {_show(self.params[n].grad)}"  # type: ignore[union-attr]
                for n in names
                if self.params[n].grad is not None
            )
            self._message = Message(
                Kind.REFUSED,
                f"This sample's gradient is not computed yet ({grads} is left from before). "
                "Finish the forward and backward passes (F, then B), then update.",
            )
            return False
        if phase is Phase.ZERO:
            self._message = Message(
                Kind.REFUSED,
                "The parameters were already updated with this gradient. Press z to zero "
                "the gradient, or f to go on without zeroing and watch it accumulate.",
            )
            return False
        lr = self.lesson.lr
        was_finite = all([all_finite(v) for v in self._params_before.values()])
        for name in names:
            w = self.params[name]
            if w.grad is not None:
                w.data = w.data - lr * w.grad.data
        self._phase = Phase.ZERO
        if not all([_finite_tensor(self.params[n]) for n in names]):
            loss_ok = self._loss_value is not None and math.isfinite(self._loss_value)
            if was_finite and not loss_ok:
                params = ", ".join(f"{n} = {_show(p)}" for n, p in self.params.items())
                self._message = Message(
                    Kind.DIVERGED,
                    f"Updated with a gradient that is not a number: now {params}. Once a "
                    "parameter is NaN every later step is NaN too; undo (←) or reset (r).",
                )
            else:
                self._message = self._diverged_message()
        return True

    def _act_zero(self) -> bool:
        phase = self._phase
        if phase is Phase.DONE:
            self._message = self._finished_message()
            return False
        grads = [p.grad for p in self.params.values() if p.grad is not None]
        if not grads:
            first = self.lesson.param_names[0]
            self._message = Message(
                Kind.REFUSED,
                f"{first}.grad is None: there is nothing to zero yet. torch creates "
                f"{first}.grad in the first backward pass.",
            )
            return False
        had = any(bool(g.ne(0).any()) for g in grads) if phase is not Phase.ZERO else True
        for grad in grads:
            grad.data.zero_()
        if phase is Phase.ZERO:
            self._end_step()
        elif phase is Phase.UPDATE and had:
            self._message = Message(
                Kind.TEACH,
                "The gradient was zeroed before the update: the update now has nothing to "
                "move the parameters with (grad = 0), and this sample's step is lost.",
            )
        elif had:
            self._message = Message(
                Kind.TEACH,
                "Zeroed the gradient before this sample's backward pass: the next "
                "backward() starts from 0. This is what optimizer.zero_grad() at the top "
                "of a training loop does.",
            )
        return True

    def _act_edit(self, edit: _Edit) -> bool:
        if self._phase is not Phase.FORWARD or self._fwd:
            self._message = Message(
                Kind.REFUSED,
                "Values can change at the start of a training step: finish this one "
                "first (s), then edit.",
            )
            return False
        self.lesson = edit.lesson
        self.program = build_program(edit.lesson)
        for name, value in edit.params:
            self.params[name].data = _float32([value])
        sample = min(self._sample, edit.lesson.n_samples - 1)
        self._begin_sample(self._epoch, sample)
        self._message = Message(Kind.TEACH, edit.text + " The history so far stays.")
        return True

    def _act_next_sample(self) -> bool:
        """Leave this sample without the rest of its step (no update, or no zeroing)."""
        phase = self._phase
        if phase not in (Phase.UPDATE, Phase.ZERO):
            self._message = Message(
                Kind.REFUSED, "Finish this sample's forward and backward passes first."
            )
            return False
        skipped = self._skip_message(phase)
        if self._modes.batch and phase is Phase.UPDATE:
            skipped = self._batch_message()
        self._end_step()
        self._message = skipped
        return True

    def _act_skip_zero_mode(self) -> bool:
        on = not self._modes.skip_zero
        self._modes = Modes(on, self._modes.batch, self._modes.sum_loss)
        self._message = Message(
            Kind.TEACH,
            "Skip-zero mode on: the gradient is never zeroed, so every backward() adds to "
            "it and the updates grow. The plot shows the run that zeroes, for comparison."
            if on
            else "Skip-zero mode off: the gradient is zeroed after every update again.",
        )
        return True

    def _act_batch_mode(self) -> bool:
        on = not self._modes.batch
        self._modes = Modes(self._modes.skip_zero, on, self._modes.sum_loss)
        self._message = Message(
            Kind.TEACH,
            "Batch mode on: backward() runs for every sample and the gradients add up; "
            "one update per epoch uses the gradient of the summed loss (full-batch "
            "gradient descent). The plot shows per-sample SGD for comparison."
            if on
            else "Batch mode off: one update per sample again (per-sample SGD).",
        )
        return True

    def _act_sum_loss_mode(self) -> bool:
        on = not self._modes.sum_loss
        self._modes = Modes(self._modes.skip_zero, self._modes.batch, on)
        if on:
            text = (
                "The note's pitfall: `sum += l` adds the loss tensor, not its number, so "
                "the sum's graph keeps every step's graph alive and memory only grows. "
                "Watch the count in the tensor panel; `sum += l.item()` keeps a number."
            )
        else:
            text = (
                f"sum += l.item() again: the {self._kept_nodes:,} autograd nodes the sum "
                "kept alive are freed."
            )
            self._loss_sum = None
            self._kept_nodes = 0
        self._message = Message(Kind.TEACH, text)
        return True

    def _act_reset(self) -> bool:
        start = self._checkpoints[0]
        if start.lesson is not self.lesson:
            self.lesson = start.lesson
            self.program = build_program(start.lesson)
        for name, tensor in self.params.items():
            tensor.data = _float32(start.data[name])
            tensor.grad = None
        self._records = []
        self._hist_w = []
        self._hist_loss = []
        self._modes = Modes()
        self._loss_sum = None
        self._kept_nodes = 0
        self._begin_sample(0, 0)
        self._message = Message(Kind.STEP, "Back to the start. (← undoes the reset.)")
        return True

    def _end_step(self) -> None:
        if self._loss_value is not None:
            self._record()
        sample = self._sample + 1
        epoch = self._epoch
        if sample == self.lesson.n_samples:
            sample, epoch = 0, epoch + 1
        self._begin_sample(epoch, sample)

    def _record(self) -> None:
        keys = tuple(self._factor_keys[key] for key in self._locals)
        keys = self._layouts.setdefault(keys, keys)
        before = tuple(self._params_before.values())
        self._records.append(
            (
                self._epoch + 1,
                self._sample + 1,
                self._x,
                self._y,
                before,
                tuple(map(self._py, self._values.values())),
                keys,
                tuple(map(self._py, self._locals.values())),
                tuple(self._grads_after.values()),
                tuple(map(self._py, self.params.values())),
                self._loss_value,
            )
        )
        self._hist_w.append(before[0] if isinstance(before[0], float) else math.nan)
        self._hist_loss.append(self._loss_value)

    def _slot_map(self, node: Node, fn: Any) -> tuple[tuple[int, int], ...]:
        """Which input of ``node`` each output of its backward function belongs to."""
        cached = self._slots.get(node.name)
        if cached is not None:
            return cached
        index = self._index[node.name]
        used: set[int] = set()
        pairs = []
        for slot, (next_fn, _) in enumerate(fn.next_functions):
            if next_fn is None:
                continue
            for position, arg in enumerate(node.args):
                if position in used or not isinstance(arg, str):
                    continue
                value = self._arg(index, position)
                if not isinstance(value, torch.Tensor) or not value.requires_grad:
                    continue
                target = value.grad_fn if value.grad_fn is not None else None
                if target is next_fn or getattr(next_fn, "variable", None) is value:
                    used.add(position)
                    pairs.append((slot, position))
                    break
        result = tuple(pairs)
        self._slots[node.name] = result
        return result

    # ---------------------------------------------------------------- messages

    def _finished_message(self) -> Message:
        return Message(
            Kind.REFUSED,
            f"The lesson is finished ({self.lesson.epochs} epochs). Press r to start "
            "again, or ← to step back.",
        )

    def _nonfinite_message(self) -> Message:
        """Why the loss is inf or NaN: an operation out of its range, or divergence."""
        for index, node in enumerate(self._nodes):
            value = self._values.get(node.name)
            if value is None or bool(torch.isfinite(value).all()):
                continue
            args = [self._arg(index, i) for i in range(len(node.args))]
            if not all(_finite_tensor(a) if isinstance(a, torch.Tensor) else math.isfinite(a)
                       for a in args):
                break  # a non-finite input: the trouble started earlier (divergence)
            if node.op not in ("log", "div", "bce") and self._records:
                # An overflow after training steps: the values grew step by step.
                break
            reason = {
                "log": "the logarithm is only defined for positive numbers",
                "div": "division by zero",
                "exp": "float32 overflows above about 3.4e38",
                "pow": "the power is out of range (overflow, or a fractional power of a "
                "negative number)",
                "bce": "binary cross-entropy needs a prediction between 0 and 1",
            }.get(node.op, "the result is out of float32's range")
            shown = ", ".join(_show(a) if isinstance(a, torch.Tensor) else format_value(a)
                              for a in args)
            return Message(
                Kind.DIVERGED,
                f"{node.label} = {format_value(value.flatten()[0].item())} for inputs "
                f"{shown}: {reason}. torch does not stop: the NaN or inf flows on through "
                "the graph and the gradients. Change the data, the model or the initial "
                "values (--init).",
            )
        return self._diverged_message()

    def _diverged_message(self) -> Message:
        names = ", ".join(f"{n} = {_show(p)}" for n, p in self.params.items())
        loss = format_value(self._loss_value) if self._loss_value is not None else "?"
        return Message(
            Kind.DIVERGED,
            f"Diverged: loss = {loss}, {names}. Each update overshoots the minimum by more "
            f"than the last, so the numbers grow until they overflow float32. The learning "
            f"rate {self.lesson.lr:g} is too large for this data; try a smaller --lr.",
        )

    def _batch_message(self) -> Message:
        grads = ", ".join(
            f"{n}.grad = {_show(p.grad)}"
            for n, p in self.params.items()
            if p.grad is not None
        )
        return Message(
            Kind.STEP,
            f"Batch mode: {grads} holds the sum of samples 1–{self._sample + 1}'s "
            "gradients; the update waits for the last sample of the epoch.",
        )

    def _skip_message(self, phase: Phase) -> Message:
        grads = ", ".join(
            f"{n}.grad = {_show(p.grad)}"
            for n, p in self.params.items()
            if p.grad is not None
        )
        if phase is Phase.UPDATE:
            text = (
                f"Skipped the update: the parameters stay as they are, and {grads} is kept "
                "(not zeroed), so the next backward() adds to it."
            )
        else:
            text = (
                f"Skipped zeroing the gradient: {grads} is kept, so the next backward() "
                "adds the new gradient to it. This is torch's accumulation."
            )
        return Message(Kind.TEACH, text)

    def _accumulated_message(
        self, names: list[str], before: dict[str, float | None], again: bool = False
    ) -> Message:
        parts = []
        for name in names:
            after = self._grads_after.get(name)
            old = before.get(name)
            if after is None:
                continue
            if not isinstance(after, float):
                parts.append(f"{name}.grad was {format_plain(old)}, now {format_plain(after)}")
                continue
            added = after - (old or 0.0)
            parts.append(
                f"{name}.grad = {format_value(old or 0.0)} (old) + {format_value(added)} "
                f"(this backward) = {format_value(after)}"
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

    # ---------------------------------------------------------------- snapshot

    def snapshot(self) -> Snapshot:
        """A frozen picture of the current state (plain floats only)."""
        lesson = self.lesson
        phase = self._phase
        current = self._current_node()
        nodes = self._leaf_views() + self._op_views(current)
        factors = self._factor_views()
        program = self.program
        ran, upcoming = self._code_lines()
        residual = None
        if lesson.residual and lesson.residual in self._values:
            residual = _plain(self._values[lesson.residual])
        loss_tensor = self._values.get(self._nodes[-1].name)
        hw, hl = self.history()
        first = lesson.param_names[0]
        current_point = (
            (_float_or_nan(self._params_before[first]), self._loss_value)
            if self._loss_value is not None and self._params_before
            else None
        )
        return Snapshot(
            lesson=lesson.name,
            title=lesson.title,
            epoch=min(self._epoch, lesson.epochs - 1) + 1,
            epochs=lesson.epochs,
            sample=self._sample + 1,
            n_samples=lesson.n_samples,
            x=self._x,
            y=self._y,
            lr=lesson.lr,
            phase=phase,
            phase_step={Phase.FORWARD: self._fwd, Phase.BACKWARD: self._bwd}.get(phase, 0),
            phase_steps={
                Phase.FORWARD: len(self._nodes),
                Phase.BACKWARD: len(self._bsteps),
            }.get(phase, 1),
            micro_steps=len(self._log),
            steps_done=len(self._records),
            nodes=nodes,
            chains=self._chain_views(factors),
            params=tuple(
                ParamView(n, _plain(p), None if p.grad is None else _plain(p.grad))
                for n, p in self.params.items()
            ),
            loss=self._loss_value,
            residual=residual,
            loss_grad_fn=(
                type(loss_tensor.grad_fn).__name__
                if loss_tensor is not None and loss_tensor.grad_fn is not None
                else None
            ),
            graph_freed=self._freed,
            code=program.lines,
            code_ran=ran,
            code_next=upcoming,
            last_source=self._last_source(),
            message=self._message or self._narration(),
            history_w=hw,
            history_loss=hl,
            current_point=current_point,
            can_undo=bool(self._log),
            finished=phase is Phase.DONE,
            factors=factors,
            modes=self._modes,
            loss_sum=None if self._loss_sum is None else self._loss_sum.item(),
            kept_nodes=self._kept_nodes,
        )

    def _current_node(self) -> str | None:
        if self._last is Action.FORWARD and self._phase in (Phase.FORWARD, Phase.BACKWARD):
            if self._fwd:
                return self._nodes[self._fwd - 1].name
        if self._last is Action.BACKWARD and self._bwd:
            return self._bsteps[self._bwd - 1].name
        return None

    def _leaf_views(self) -> tuple[NodeView, ...]:
        seen: list[str] = []
        for node in self._nodes:
            for arg in node.args:
                if isinstance(arg, str) and arg not in self._index and arg not in seen:
                    seen.append(arg)
        views = []
        touched = self._last in (Action.UPDATE, Action.ZERO)
        for name in seen:
            if name in self.params:
                p = self.params[name]
                grad = self._node_grads.get(name)
                views.append(
                    NodeView(
                        name, self.lesson.label(name), "param", None, None, (),
                        _plain(p), None if grad is None else _plain(grad),
                        "AccumulateGrad", True, touched,
                    )
                )
            else:
                value = self._x if name == "x" else self._y
                tracked = name in self._needs_grad
                grad = self._node_grads.get(name) if tracked else None
                views.append(
                    NodeView(
                        name, self.lesson.label(name), "data", None, None, (),
                        None if self._phase is Phase.DONE else value,
                        None if grad is None else _plain(grad),
                        "AccumulateGrad" if tracked else None, tracked, False,
                    )
                )
        return tuple(views)

    def _op_views(self, current: str | None) -> tuple[NodeView, ...]:
        views = []
        for node in self._nodes:
            value = self._values.get(node.name)
            grad = self._node_grads.get(node.name)
            grad_fn = None
            if value is not None and value.grad_fn is not None:
                grad_fn = type(value.grad_fn).__name__
            views.append(
                NodeView(
                    node.name,
                    node.label,
                    "op",
                    node.op,
                    OPS[node.op].symbol,
                    tuple(
                        self.lesson.label(a) if isinstance(a, str) else format_number(a)
                        for a in node.args
                    ),
                    None if value is None else _plain(value),
                    None if grad is None else _plain(grad),
                    grad_fn,
                    node.name in self._needs_grad,
                    node.name == current,
                    tuple(a if isinstance(a, str) else None for a in node.args),
                )
            )
        return tuple(views)

    def _factor_views(self) -> tuple[FactorView, ...]:
        views = []
        for node in self._bsteps:
            index = self._index[node.name]
            info = OPS[node.op]
            out_label = node.label
            for position, arg in enumerate(node.args):
                if not isinstance(arg, str):
                    continue
                tracked = arg in self._needs_grad
                if not tracked and arg not in ("x", "y"):
                    continue
                labels = [
                    self.lesson.label(a) if isinstance(a, str) else format_number(a)
                    for a in node.args
                ]
                if node.op == "pow" and position == 0 and not isinstance(node.args[1], str):
                    formula = pow_formula(float(node.args[1]), labels[0])
                else:
                    formula = info.formulas[position].format(*labels, out=out_label)
                value: float | None = None
                formula_value: float | None = None
                reached = (node.name, position) in self._locals or (
                    not tracked and node.name in self._reached_ops()
                )
                if reached:
                    if tracked:
                        value = _plain(self._locals[(node.name, position)])
                    else:
                        value = self._constant_local(index, position)
                    formula_value = self._formula_value(index, position)
                views.append(
                    FactorView(
                        node.name, arg, out_label, self.lesson.label(arg), formula,
                        formula_value, value,
                    )
                )
        return tuple(views)

    def _reached_ops(self) -> set[str]:
        return {node.name for node in self._bsteps[: self._bwd]}

    def _formula_value(self, index: int, position: int) -> float | None:
        node = self._nodes[index]
        inputs = [self._arg(index, i) for i in range(len(node.args))]
        if self._values[node.name].numel() != 1 or any(
            isinstance(a, torch.Tensor) and a.numel() != 1 for a in inputs
        ):
            return None  # hand formulas are for numbers; vectors are shown as torch has them
        # A parameter as the loss was computed with it: after the update the tensor
        # holds the new value, and torch's factors were computed with the old one.
        args = tuple(
            self._params_before.get(a, _as_float(v)) if isinstance(a, str) else _as_float(v)
            for a, v in zip(node.args, inputs, strict=True)
        )
        out = self._values[node.name].item()
        return OPS[node.op].derivative(args, out)[position]

    def _constant_local(self, index: int, position: int) -> float | None:
        """torch's derivative of one op with respect to a data input, at the current values.

        None where torch does not differentiate with respect to that input (the
        target of binary cross-entropy).
        """
        node = self._nodes[index]
        with torch.enable_grad():
            leaves = []
            for i in range(len(node.args)):
                value = self._arg(index, i)
                before = self._params_before.get(node.args[i])  # see _formula_value
                if isinstance(before, float):
                    value = before
                if isinstance(value, torch.Tensor):
                    value = value.detach()
                    leaf = value.clone()
                else:
                    leaf = torch.tensor(float(value), dtype=torch.float32)
                leaf.requires_grad_(i == position)
                leaves.append(leaf)
            try:
                out = self._fns[index](*leaves)
                (grad,) = torch.autograd.grad(out.sum(), leaves[position])
            except RuntimeError:
                return None
        return _plain(grad)

    def _paths(
        self, at: str, target: str, by_edge: dict[tuple[str, str], FactorView]
    ) -> list[tuple[FactorView, ...]]:
        """Every path of local derivatives from ``at`` down to ``target`` (at most _MAX_PATHS)."""
        paths: list[tuple[FactorView, ...]] = []

        def walk(node_name: str, trail: tuple[FactorView, ...]) -> None:
            if len(paths) >= _MAX_PATHS:
                return
            if node_name == target:
                paths.append(trail)
                return
            if node_name not in self._index:
                return
            node = self._nodes[self._index[node_name]]
            for arg in node.args:
                if isinstance(arg, str) and arg in self._needs_grad:
                    walk(arg, trail + (by_edge[(node.name, arg)],))

        walk(at, ())
        return paths

    def _chain_views(self, factors: tuple[FactorView, ...]) -> tuple[ChainView, ...]:
        by_edge = {(f.out, f.wrt): f for f in factors}
        loss = self._nodes[-1].name
        views = []
        targets = self.lesson.param_names + (("x",) if self.lesson.input_grad else ())
        for name in targets:
            paths = self._paths(loss, name, by_edge)
            product: float | None = None
            if paths and all(isinstance(f.value, float) for path in paths for f in path):
                product = sum(math.prod(f.value for f in path) for path in paths)  # type: ignore[misc]
            complete = self._fwd == len(self._nodes) and self._bwd == len(self._bsteps)
            grad = self._node_grads.get(name) if complete else None
            torch_grad = _plain(grad) if grad is not None else None
            param = self.params[name] if name in self.params else self._x_tensor
            views.append(
                ChainView(
                    param=name,
                    label=self.lesson.label(name),
                    paths=tuple(paths),
                    product=product,
                    torch_grad=torch_grad,
                    param_grad=None if param.grad is None else _plain(param.grad),
                    loss_label=self.lesson.loss.label,
                    finite_diff=(
                        self._finite_difference(name)
                        if isinstance(torch_grad, float) and not self.lesson.vector_data
                        else None
                    ),
                )
            )
        return tuple(views)

    def _finite_difference(self, name: str) -> float:
        """(loss(v + h) − loss(v − h)) / 2h for a parameter (or the node lesson's x), by torch in float64."""
        params = {n: self._params_before.get(n, p.item()) for n, p in self.params.items()}
        key = (name, self._x, self._y, tuple(params.items()))
        cached = self._fd_cache.get(key)
        if cached is not None:
            return cached
        first = next(iter(params))

        def loss(shift: float) -> float:
            if name == "x":
                return self.loss_curve(first, [params[first]], params, x=self._x + shift)[0]
            return self.loss_at({**params, name: params[name] + shift})

        h = 1e-6 * max(1.0, abs(self._x if name == "x" else params[name]))
        value = (loss(h) - loss(-h)) / (2 * h)
        if len(self._fd_cache) > 256:
            self._fd_cache.clear()
        self._fd_cache[key] = value
        return value

    def loss_at(self, params: dict[str, float]) -> float:
        """The current sample's loss at the given parameters, by torch in float64."""
        name = next(iter(params))
        return self.loss_curve(name, [params[name]], params)[0]

    def loss_curve(
        self,
        name: str,
        grid: list[float],
        params: dict[str, float] | None = None,
        x: float | None = None,
        y: float | None = None,
    ) -> list[float]:
        """Loss of one sample as parameter ``name`` runs over ``grid`` (torch, float64)."""
        x = self._x if x is None else x
        y = self._y if y is None else y
        base = params or {n: p.item() for n, p in self.params.items()}
        values: dict[str, Any] = {
            "x": torch.tensor(x, dtype=torch.float64),
            "y": torch.tensor(y, dtype=torch.float64),
        }
        for pname, value in base.items():
            values[pname] = torch.tensor([value], dtype=torch.float64)
        values[name] = torch.tensor(grid, dtype=torch.float64)
        with torch.no_grad():
            for i, node in enumerate(self._nodes):
                args = [values[a] if isinstance(a, str) else _integral(a) for a in node.args]
                if self._needs_tensor[i] and not isinstance(args[0], torch.Tensor):
                    args[0] = torch.tensor(float(args[0]), dtype=torch.float64)
                values[node.name] = self._fns[i](*args)
            out = values[self._nodes[-1].name].expand(len(grid))
        return [float(v) for v in out.tolist()]

    def _code_lines(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        program = self.program
        by_action = {
            Action.NEXT_SAMPLE: program.forward,
            Action.FORWARD: program.forward,
            Action.BACKWARD: program.backward,
            Action.UPDATE: program.update,
            Action.ZERO: program.zero,
        }
        ran = by_action.get(self._last, ()) if self._last is not None else ()
        upcoming = by_action[self._natural()] if self._phase in _NATURAL else ()
        return ran, upcoming

    def _last_source(self) -> str | None:
        last = self._last
        if last is Action.FORWARD and self._fwd:
            return op_source(self.lesson, self._nodes[self._fwd - 1].name)
        if last is Action.BACKWARD:
            if self._phase is Phase.BACKWARD and self._bwd:
                node = self._bsteps[self._bwd - 1]
                fn = self._values[node.name].grad_fn
                return f"{type(fn).__name__}: ∂{self.lesson.loss.label}/∂{node.label} → its inputs"
            return "l.backward()"
        if last is Action.UPDATE:
            return "; ".join(self.program.lines[i].strip() for i in self.program.update)
        if last is Action.ZERO:
            return "; ".join(self.program.lines[i].strip() for i in self.program.zero)
        return None

    def _narration(self) -> Message | None:
        last = self._last
        if last is None:
            return Message(
                Kind.STEP,
                "Ready. Press space (or →) to compute the first node of the forward pass.",
            )
        if last is Action.FORWARD and self._fwd:
            node = self._nodes[self._fwd - 1]
            value = _show(self._values[node.name])
            tail = " The forward pass is done: press b for the backward pass." if (
                self._phase is Phase.BACKWARD
            ) else ""
            return Message(Kind.STEP, f"Forward: {op_source(self.lesson, node.name)} = {value}.{tail}")
        if last is Action.BACKWARD and self._phase is Phase.BACKWARD and self._bwd:
            node = self._bsteps[self._bwd - 1]
            parts = [
                f"∂{self.lesson.loss.label}/∂{self.lesson.label(str(node.args[pos]))} = "
                f"{_show(self._node_grads[str(node.args[pos])])}"
                for (name, pos) in self._locals
                if name == node.name
            ]
            return Message(Kind.STEP, f"Backward through {node.label}: " + ", ".join(parts) + ".")
        if last is Action.BACKWARD:
            grads = ", ".join(
                f"{n}.grad = {_show(p.grad)}"
                for n, p in self.params.items()
                if p.grad is not None
            )
            return Message(
                Kind.STEP, f"backward() finished: AccumulateGrad wrote {grads}. Press u to update."
            )
        if last is Action.UPDATE:
            params = ", ".join(f"{n} = {_show(p)}" for n, p in self.params.items())
            return Message(Kind.STEP, f"Updated: {params}. Press z to zero the gradient.")
        if last is Action.ZERO:
            return Message(Kind.STEP, "Gradient zeroed. Next sample: press space.")
        return None


_set_grad_enabled = torch._C._set_grad_enabled
_ENGINE = getattr(torch.autograd.Variable, "_execution_engine", None)


def _run_backward(loss: torch.Tensor, seed: torch.Tensor) -> None:
    """``loss.backward()``, calling torch's C++ autograd engine directly where it can.

    ``torch.autograd.backward`` checks its arguments and makes the seed gradient,
    then calls this same engine; that Python wrapper was a fifth of the stepper's
    cost per training step (bench/bench_engine.py). Same engine, same gradients,
    bit for bit (the seed-trajectory test checks); the public call is the fallback.
    """
    if _ENGINE is None:  # pragma: no cover - a torch without the internal handle
        loss.backward(seed)
        return
    _ENGINE.run_backward((loss,), (seed,), False, False, (), True, True)


def _bce(prediction: torch.Tensor, target: Any) -> torch.Tensor:
    """Binary cross-entropy of one sample; the target is data, a plain number."""
    if not isinstance(target, torch.Tensor):
        target = torch.full_like(prediction, float(target))
    return torch.nn.functional.binary_cross_entropy(prediction, target.expand_as(prediction))


def _float32(values: Any) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def _plain(t: torch.Tensor) -> Any:
    """A tensor as plain Python: a float for one element, nested lists otherwise."""
    return t.item() if t.numel() == 1 else t.tolist()


def _show(t: torch.Tensor) -> str:
    """A tensor as a student reads it in a message: ``-2``, ``[0.5, -1]``."""
    return format_value(t.item()) if t.numel() == 1 else format_plain(t.tolist())


def format_plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_plain(v) for v in value) + "]"
    return format_value(value)


def _finite_tensor(t: torch.Tensor) -> bool:
    return math.isfinite(t.item()) if t.numel() == 1 else bool(torch.isfinite(t).all())


def _nonzero(value: Any) -> bool:
    """A gradient that holds something (not None, not all zeros)."""
    if isinstance(value, list):
        return any(_nonzero(v) for v in value)
    return value not in (None, 0.0)


def all_finite(value: Any) -> bool:
    """A number, or every number of a (nested) list, is finite."""
    if isinstance(value, (list, tuple)):
        return all(all_finite(v) for v in value)
    return math.isfinite(value)


def _float_or_nan(value: Any) -> float:
    return value if isinstance(value, float) else math.nan


def _as_float(value: Any) -> float:
    if isinstance(value, torch.Tensor):
        return float(value.item())
    return float(value)


def format_value(value: float | None) -> str:
    """A float32 value as a student reads it: up to 7 significant digits."""
    if value is None:
        return "None"
    if value != value:
        return "nan"
    if value in (math.inf, -math.inf):
        return "inf" if value > 0 else "-inf"
    return f"{value:.7g}"


_HANDLERS: dict[Action, Callable[[Stepper], bool]] = {
    Action.FORWARD: Stepper._act_forward,
    Action.BACKWARD: Stepper._act_backward,
    Action.UPDATE: Stepper._act_update,
    Action.ZERO: Stepper._act_zero,
    Action.RESET: Stepper._act_reset,
    Action.SKIP_ZERO_MODE: Stepper._act_skip_zero_mode,
    Action.BATCH_MODE: Stepper._act_batch_mode,
    Action.SUM_LOSS_MODE: Stepper._act_sum_loss_mode,
    Action.NEXT_SAMPLE: Stepper._act_next_sample,
}


def _action(entry: Action | _Edit) -> Action:
    return entry.action if isinstance(entry, _Edit) else entry


def _count_graph(root: Any) -> int:
    """Autograd nodes reachable from ``root`` (torch's own graph), less AccumulateGrad:
    those belong to the parameters and are shared by every step's graph."""
    seen: set[int] = set()
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if type(node).__name__ != "AccumulateGrad":
            count += 1
        stack.extend(fn for fn, _ in node.next_functions)
    return count
