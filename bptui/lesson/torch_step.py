"""The torch work of one micro-step, and the state of the training step in progress.

Every number comes from torch, computed with the same float32 operations in the
same order as the note's program, so the stepper reproduces its numbers bit for bit:

* forward: one graph node per micro-step, each a real torch op building the
  autograd graph exactly as ``loss(x_val, w, y_val)`` does;
* backward: one operation per micro-step in reverse topological order. Each
  micro-step calls that operation's own backward function (``PowBackward0``,
  ``SubBackward0``, ``MulBackward0``…) to get its local derivatives and the
  gradient it passes down (in a run no one watches step by step, the local
  derivatives only: see :meth:`TorchModel.backward_op`). The last backward
  micro-step calls the real ``loss.backward()``, which writes ``w.grad``
  (accumulating, as torch does);
* update: ``w.data = w.data - a * w.grad.data``;
* zero: ``w.grad.data.zero_()``.

This is the only module that uses torch's private API (behind a version check).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import torch

from ..i18n import _
from .graph import LessonGraph
from .ops import OPS
from .snapshot import BACKWARD as _BACKWARD
from .snapshot import DONE as _DONE
from .snapshot import FORWARD as _FORWARD
from .snapshot import UPDATE as _UPDATE
from .snapshot import ZERO as _ZERO
from .spec import Lesson, LessonError, Node
from .values import MaybeValue, Value

_PY_OPERATORS: dict[str, Callable[..., Any]] = {
    "mul": operator.mul,
    "add": operator.add,
    "sub": operator.sub,
    "div": operator.truediv,
    "pow": operator.pow,
    "neg": operator.neg,
}

# Kinds of op input, for TorchModel's plans.
_FIXED, _X, _Y, _VALUE = object(), object(), object(), object()


def _torch_version() -> tuple[int, int]:
    major, minor = torch.__version__.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


# Two shortcuts into torch's C++ core, where the public calls cost a fifth of the
# stepper's time per training step (bench/bench_engine.py): the grad-mode switch
# (``no_grad()`` costs 10× more) and the autograd engine itself. Both exist in
# every torch 2.x; another major version falls back to the public calls.
_PRIVATE = _torch_version()[0] == 2
_set_grad_enabled: Callable[[bool], object] = (
    torch._C._set_grad_enabled if _PRIVATE else torch.set_grad_enabled
)
_is_grad_enabled: Callable[[], bool] = torch.is_grad_enabled
_ENGINE = getattr(torch.autograd.Variable, "_execution_engine", None) if _PRIVATE else None


def run_backward(loss: torch.Tensor, seed: torch.Tensor) -> None:
    """``loss.backward()``, calling torch's C++ autograd engine directly where it can.

    ``torch.autograd.backward`` checks its arguments and makes the seed gradient,
    then calls this same engine; same engine, same gradients, bit for bit (the
    seed-trajectory test checks); the public call is the fallback.
    """
    if _ENGINE is None:  # pragma: no cover - a torch without the internal handle
        loss.backward(seed)  # type: ignore[no-untyped-call]
        return
    _ENGINE.run_backward((loss,), (seed,), False, False, (), True, True)


def integral(value: float) -> float | int:
    """``2.0`` → ``2``: the note writes ``** 2``, and torch is given the same literal."""
    return int(value) if float(value).is_integer() else value


def float32(values: Any) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def plain(t: torch.Tensor) -> Value:
    """A tensor as plain Python: a float for one element, nested lists otherwise."""
    return t.item() if t.numel() == 1 else t.tolist()


def finite(value: torch.Tensor | float) -> bool:
    """A tensor's every element, or a number, is finite."""
    if not isinstance(value, torch.Tensor):
        return math.isfinite(value)
    return math.isfinite(value.item()) if value.numel() == 1 else bool(torch.isfinite(value).all())


def bce(prediction: torch.Tensor, target: Any) -> torch.Tensor:
    """Binary cross-entropy of one sample; the target is data, a plain number."""
    if not isinstance(target, torch.Tensor):
        target = torch.full_like(prediction, float(target))
    return torch.nn.functional.binary_cross_entropy(prediction, target.expand_as(prediction))


def torch_fn(node: Node) -> Callable[..., Any]:
    """What computes ``node``: Python's operator (as the note writes it) or torch's function."""
    if node.op in _PY_OPERATORS:
        return _PY_OPERATORS[node.op]
    if node.op == "bce":
        return bce
    return getattr(torch, OPS[node.op].torch_name)  # type: ignore[no-any-return]


def count_graph(root: Any) -> int:
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


class StepState:
    """The training step in progress: which sample, how far, and its tensors.

    A new one begins every training step (and at a reset, an edit or an undo's
    restore); nothing of it outlives its step but the record made from it.
    """

    __slots__ = (
        "bwd",
        "epoch",
        "freed",
        "fwd",
        "grads_after",
        "locals",
        "loss_value",
        "node_grads",
        "params_before",
        "phase",
        "sample",
        "values",
        "x",
        "x_arg",
        "x_tensor",
        "y",
        "y_arg",
    )

    def __init__(
        self, lesson: Lesson, epoch: int, sample: int, x_tensor: torch.Tensor | None = None
    ) -> None:
        self.epoch = epoch
        self.sample = sample
        #: x as a tensor that takes a gradient (the node lesson); a finished lesson
        #: keeps the last sample's, whose gradient the chain-rule view still shows.
        self.x_tensor = x_tensor
        self.x: Value
        self.y: Value
        #: What the ops get: the note's plain numbers, or tensors for vector data.
        self.x_arg: Any
        self.y_arg: Any
        if epoch >= lesson.epochs:
            self.phase = _DONE
            self.x = self.y = math.nan
            self.x_arg = self.y_arg = math.nan
        else:
            self.phase = _FORWARD
            self.x = self.x_arg = lesson.x[sample]
            self.y = self.y_arg = lesson.y[sample]
            if lesson.vector_data:
                self.x_arg = float32(self.x)
                self.y_arg = float32(self.y)
            if lesson.input_grad:
                # x stands for the output of a layer before: torch computes ∂L/∂x.
                self.x_tensor = torch.tensor([self.x], dtype=torch.float32, requires_grad=True)
                self.x_arg = self.x_tensor
        #: Forward and backward micro-steps done.
        self.fwd = 0
        self.bwd = 0
        self.values: dict[str, torch.Tensor] = {}
        #: ∂loss/∂value as the backward pass reaches each value.
        self.node_grads: dict[str, torch.Tensor] = {}
        #: Local derivatives by (node, input position), in the order they were met.
        self.locals: dict[tuple[str, int], torch.Tensor] = {}
        #: loss.backward() has run: the graph's saved values are freed.
        self.freed = False
        self.loss_value: float | None = None
        self.params_before: dict[str, Value] = {}
        self.grads_after: dict[str, MaybeValue] = {}

    @property
    def at_start(self) -> bool:
        """No op of this step has run yet."""
        return self.fwd == 0


class TorchModel:
    """A lesson's model on torch: the parameters, and the torch work of each micro-step."""

    def __init__(self, lesson: Lesson, graph: LessonGraph) -> None:
        self.graph = graph
        nodes = graph.nodes
        # Forward needs a tensor among an op's inputs; ops on data alone get one made.
        tensors = {"x"} if lesson.input_grad else set()
        if lesson.vector_data:
            tensors = {"x", "y"}

        def is_tensor(arg: Any) -> bool:
            return isinstance(arg, str) and (arg not in ("x", "y") or arg in tensors)

        # So does a division of a number by a tensor: torch computes ``c / t`` as
        # ``t.reciprocal() * c``, two autograd nodes, and the backward micro-step
        # would find no DivBackward0 leading to the divisor.
        self.needs_tensor = [
            not any(is_tensor(a) for a in node.args)
            or (node.op == "div" and not is_tensor(node.args[0]))
            for node in nodes
        ]
        self.fns = [torch_fn(node) for node in nodes]
        self.params: dict[str, torch.Tensor] = {}
        for name, value in lesson.params:
            # The note's w is torch.Tensor([1.0]); a vector or matrix keeps its shape.
            tensor = float32(value if isinstance(value, tuple) else [value])
            tensor.requires_grad = True
            self.params[name] = tensor
        # How each op finds its inputs: a constant or parameter tensor (fixed
        # objects), the sample's x or y, or an earlier node's value.
        self._plans = [tuple(self._plan(arg) for arg in node.args) for node in nodes]
        self._slots: dict[str, tuple[tuple[int, int], ...]] = {}
        self._ones_cache: dict[torch.Size, torch.Tensor] = {}
        # Tensor → Python: .item() for the note's numbers (the hot path of long
        # runs), nested lists where a lesson has vectors or matrices.
        scalar = not lesson.vector_data and all(not isinstance(v, tuple) for _, v in lesson.params)
        self.py: Callable[[torch.Tensor], Any] = torch.Tensor.item if scalar else plain
        #: sum_loss mode: the summed loss tensor, and the autograd nodes it keeps alive.
        self.loss_sum: torch.Tensor | None = None
        self.kept_nodes = 0
        if not scalar:
            self._check_shapes(lesson)

    def _plan(self, arg: Any) -> tuple[object, Any]:
        if not isinstance(arg, str):
            return (_FIXED, integral(arg))
        if arg == "x":
            return (_X, None)
        if arg == "y":
            return (_Y, None)
        if arg in self.params:
            return (_FIXED, self.params[arg])
        return (_VALUE, arg)

    def _check_shapes(self, lesson: Lesson) -> None:
        """Run the first sample's forward pass once, so a model that does not fit the
        data's shapes (W is 2×3 but x has 4 numbers) is a lesson error, not a crash."""
        state = StepState(lesson, 0, 0)
        try:
            with torch.no_grad():
                for index, node in enumerate(self.graph.nodes):
                    state.values[node.name] = self.compute(state, index)
            if state.values[self.graph.loss].numel() != 1:
                raise LessonError(_("the loss must be a single number"))
        except (RuntimeError, TypeError) as error:
            reason = str(error).splitlines()[0]
            raise LessonError(
                _("the model does not fit the data's shapes: {reason}").format(reason=reason)
            ) from None

    def arg(self, state: StepState, node_index: int, position: int) -> Any:
        """The value an op gets as its input ``position``."""
        kind, payload = self._plans[node_index][position]
        if kind is _VALUE:
            return state.values[payload]
        if kind is _X:
            return state.x_arg
        if kind is _Y:
            return state.y_arg
        return payload

    def compute(self, state: StepState, index: int) -> torch.Tensor:
        """Op ``index`` on its inputs, by torch."""
        args = []
        for kind, payload in self._plans[index]:
            if kind is _VALUE:
                args.append(state.values[payload])
            elif kind is _X:
                args.append(state.x_arg)
            elif kind is _Y:
                args.append(state.y_arg)
            else:
                args.append(payload)
        if self.needs_tensor[index]:
            args[0] = torch.tensor(float(args[0]), dtype=torch.float32)
        return self.fns[index](*args)  # type: ignore[no-any-return]

    def ones(self, like: torch.Tensor) -> torch.Tensor:
        """A shared tensor of ones (the seed gradient), never written to."""
        ones = self._ones_cache.get(like.shape)
        if ones is None:
            ones = self._ones_cache[like.shape] = torch.ones_like(like)
        return ones

    # ------------------------------------------------------------ micro-steps

    def forward_op(self, state: StepState) -> torch.Tensor:
        """The next node of the forward pass; at the last, the loss is read."""
        index = state.fwd
        out = self.compute(state, index)
        nodes = self.graph.nodes
        state.values[nodes[index].name] = out
        state.fwd += 1
        if state.fwd == len(nodes):
            state.phase = _BACKWARD
            state.loss_value = out.item()
            py = self.py
            state.params_before = {n: py(p) for n, p in self.params.items()}
        return out

    def add_to_loss_sum(self, loss: torch.Tensor) -> None:
        """``sum += l``: the sum's graph now holds this step's whole graph too."""
        self.kept_nodes += count_graph(loss.grad_fn) + (1 if self.loss_sum is not None else 0)
        self.loss_sum = loss if self.loss_sum is None else self.loss_sum + loss

    def backward_op(self, state: StepState, lean: bool = False) -> bool:
        """The next operation's own backward function; True when it was the last.

        ``lean``: the local derivatives only (one call of the backward function,
        with ones), not the gradient it passes down (``node_grads``, a second call).
        A run of whole steps needs only what the records keep: the local
        derivatives, and ``loss.backward()``'s gradients. The derivatives are the
        same calls on the same tensors either way, so the records are equal.
        """
        steps = self.graph.backward_steps
        node = steps[state.bwd]
        out = state.values[node.name]
        fn = out.grad_fn
        ones = self.ones(out)
        if lean:
            mode = _is_grad_enabled()
            _set_grad_enabled(False)
            try:
                local = fn(ones)  # type: ignore[misc, operator]
            finally:
                _set_grad_enabled(mode)
            if not isinstance(local, tuple):
                local = (local,)
            locals_ = state.locals
            slots = self._slots.get(node.name)
            if slots is None:
                slots = self._slot_map(state, node, fn)
            for slot, position in slots:
                grad = local[slot]
                if grad is not None:
                    locals_[(node.name, position)] = grad
            state.bwd += 1
            return state.bwd == len(steps)
        node_grads = state.node_grads
        if state.bwd == 0:
            node_grads[node.name] = ones
        upstream = node_grads[node.name]
        # Calling a backward function directly, outside autograd's engine: it must
        # not record a graph of its own.
        mode = _is_grad_enabled()
        _set_grad_enabled(False)
        try:
            passed = fn(upstream)  # type: ignore[misc, operator]
            local = passed if state.bwd == 0 else fn(ones)  # type: ignore[misc, operator]
        finally:
            _set_grad_enabled(mode)
        if not isinstance(passed, tuple):
            passed, local = (passed,), (local if isinstance(local, tuple) else (local,))
        for slot, position in self._slot_map(state, node, fn):
            grad = passed[slot]
            if grad is None:
                continue
            arg = node.args[position]
            assert isinstance(arg, str)
            before = node_grads.get(arg)
            node_grads[arg] = grad if before is None else before + grad
            state.locals[(node.name, position)] = local[slot]
        state.bwd += 1
        return state.bwd == len(steps)

    def grads(self) -> dict[str, MaybeValue]:
        """Every parameter's ``.grad`` as plain Python (None before the first backward)."""
        py = self.py
        return {n: (py(p.grad) if p.grad is not None else None) for n, p in self.params.items()}

    def real_backward(self, state: StepState) -> dict[str, MaybeValue]:
        """``loss.backward()``: writes the parameters' ``.grad``; returns them as before."""
        before = self.grads()
        loss = state.values[self.graph.loss]
        run_backward(loss, self.ones(loss))
        state.freed = True
        state.phase = _UPDATE
        state.grads_after = self.grads()
        return before

    def backward_again(self, state: StepState) -> dict[str, MaybeValue]:
        """``loss.backward()`` a second time on the same graph (RuntimeError if freed)."""
        before = self.grads()
        state.values[self.graph.loss].backward()  # type: ignore[no-untyped-call]
        state.grads_after = self.grads()
        return before

    def update(self, lr: float) -> None:
        """``w.data = w.data - a * w.grad.data`` for every parameter with a gradient."""
        for w in self.params.values():
            if w.grad is not None:
                w.data = w.data - lr * w.grad.data

    def zero(self, state: StepState) -> bool | None:
        """``w.grad.data.zero_()``; whether the gradients held anything (None: no grads)."""
        grads = [p.grad for p in self.params.values() if p.grad is not None]
        if not grads:
            return None
        had = any(bool(g.ne(0).any()) for g in grads) if state.phase is not _ZERO else True
        for grad in grads:
            grad.data.zero_()
        return had

    def set_values(self, values: dict[str, Any], grads: dict[str, Any] | None = None) -> None:
        """Parameters (and gradients: None clears them) from plain numbers."""
        for name, tensor in self.params.items():
            if name in values:
                tensor.data = float32(values[name])
            if grads is not None:
                grad = grads.get(name)
                tensor.grad = None if grad is None else float32(grad)

    def saved(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Parameter values and gradients as nested lists (exact for float32)."""
        data = {n: p.detach().tolist() for n, p in self.params.items()}
        grads = {
            n: (p.grad.tolist() if p.grad is not None else None) for n, p in self.params.items()
        }
        return data, grads

    def restore_loss_sum(self, value: float | None, kept_nodes: int) -> None:
        self.loss_sum = None if value is None else float32([value])
        self.kept_nodes = kept_nodes

    def _slot_map(self, state: StepState, node: Node, fn: Any) -> tuple[tuple[int, int], ...]:
        """Which input of ``node`` each output of its backward function belongs to."""
        cached = self._slots.get(node.name)
        if cached is not None:
            return cached
        index = self.graph.index[node.name]
        used: set[int] = set()
        pairs = []
        for slot, (next_fn, _slot) in enumerate(fn.next_functions):
            if next_fn is None:
                continue
            for position, arg in enumerate(node.args):
                if position in used or not isinstance(arg, str):
                    continue
                value = self.arg(state, index, position)
                if not isinstance(value, torch.Tensor) or not value.requires_grad:
                    continue
                if value.grad_fn is next_fn or getattr(next_fn, "variable", None) is value:
                    used.add(position)
                    pairs.append((slot, position))
                    break
        result = tuple(pairs)
        self._slots[node.name] = result
        return result
