"""The chain rule of one element of a vector or matrix parameter, in numbers.

``[1, 1] · [-2.4, 0.8] · … · 2×3`` is not a product a student can follow. One
element is: ``∂loss/∂W[1,2] = ∂loss/∂z1[1] · ∂z1[1]/∂W[1,2] = 0.8 · 3``. W[i,j]
reaches the loss only through z1[i] (row i of W·x), so its gradient is the
gradient arriving at z1[i] times x[j]: over all i and j, the outer product
``(∂loss/∂z1) xᵀ``. Both factors are torch's numbers (the gradient torch's
backward passed to z1, and the local derivative its backward function computed);
the hand formulas are worked out on the element's plain floats, and the product
is checked against ``W.grad[1,2]`` and a finite difference of that one element.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import product as grid
from typing import Any

import torch

from ..i18n import _
from .graph import LessonGraph
from .ops import OPS, format_number, pow_formula
from .snapshot import ChainView, FactorView
from .spec import Lesson, Node
from .torch_step import StepState, TorchModel, plain
from .values import FLOAT32_STEPS, Value, float32_spacing

Index = tuple[int, ...]


@dataclass(frozen=True)
class _Use:
    """Where a parameter enters the graph: the op using it, at which input, along which
    path from the loss, and which of the op's outputs an element reaches."""

    consumer: Node
    position: int
    path: tuple[FactorView, ...]
    out_index: Callable[[Index], Index]


def _at(value: Value | None, index: Index) -> float | None:
    """One element of a plain value (a float for a scalar, whatever the index)."""
    if value is None:
        return None
    for i in index:
        if not isinstance(value, (list, tuple)):
            break
        value = value[i]
    return value if isinstance(value, float) else None


def _indexed(label: str, index: Index) -> str:
    """``W[1,2]``, ``z1[1]``, as torch indexes a tensor (``W.grad[1,2]``)."""
    return f"{label}[{','.join(str(i) for i in index)}]" if index else label


def _nothing(index: Index) -> Index:
    return ()


def _row(index: Index) -> Index:
    return index[:1]


def _same(index: Index) -> Index:
    return index


class ElementChains:
    """Builds the per-element chains of a lesson's vector and matrix parameters."""

    def __init__(self, lesson: Lesson, graph: LessonGraph, model: TorchModel) -> None:
        self._lesson = self.lesson = lesson
        self._graph = graph
        self._model = model
        self._fd_cache: dict[tuple[Any, ...], float] = {}

    def form(self, name: str, path: tuple[FactorView, ...]) -> str:
        """The whole gradient in one line: ``∂loss/∂W = (∂loss/∂z1) xᵀ`` (an outer product)."""
        lesson, local = self._lesson, path[-1]
        node = self._graph.node(local.out)
        loss = lesson.loss.label
        if node.op == "matmul" and node.args[0] == name:
            other = node.args[1]
            shown = lesson.label(other) if isinstance(other, str) else format_number(other)
            return _("∂{loss}/∂{wrt} = (∂{loss}/∂{out}) {other}ᵀ: an outer product").format(
                loss=loss, wrt=local.wrt_label, out=local.out_label, other=shown
            )
        if local.formula == "1":
            return _("∂{loss}/∂{wrt} = ∂{loss}/∂{out}, element by element").format(
                loss=loss, wrt=local.wrt_label, out=local.out_label
            )
        return (
            f"∂{loss}/∂{local.wrt_label}[i] = ∂{loss}/∂{local.out_label}[i]"
            f" · ∂{local.out_label}[i]/∂{local.wrt_label}[i]"
        )

    def chains(
        self,
        state: StepState,
        name: str,
        paths: list[tuple[FactorView, ...]],
        torch_grad: Value | None,
        param_grad: Value | None,
    ) -> tuple[ChainView, ...]:
        """One chain per element of parameter ``name`` (empty where it has no elements or
        its path is not element by element, e.g. through a second matrix)."""
        param = self._model.params.get(name)
        vector = param is not None and (param.numel() > 1 or self._lesson.vector_data)
        if param is None or not vector or len(paths) != 1:
            return ()
        path = paths[0]
        use = self._mapping(state, name, path)
        if use is None:
            return ()
        # Worked out once per call, not once per element.
        self._memo: dict[Index, list[tuple[str, float | None]]] = {}
        self._local_memo: dict[Index, tuple[str, float | None]] = {}
        grad = state.node_grads.get(use.consumer.name)
        local = state.locals.get((use.consumer.name, use.position))
        self._grad = None if grad is None else plain(grad)
        self._local_value = None if local is None else plain(local)
        self._params = {
            n: state.params_before.get(n, plain(p)) for n, p in self._model.params.items()
        }
        self._fd_key = (repr(state.x), repr(state.y), repr(self._params))
        return tuple(
            self._element(state, name, use, index, torch_grad, param_grad)
            for index in grid(*(range(n) for n in param.shape))
        )

    def _mapping(self, state: StepState, name: str, path: tuple[FactorView, ...]) -> _Use | None:
        """The op that uses ``name``, where, and which of its outputs an element reaches."""
        graph, values = self._graph, state.values
        consumer = graph.node(path[-1].out)
        if consumer.args.count(name) != 1 or consumer.name not in values:
            return None
        position = consumer.args.index(name)
        out_numel = values[consumer.name].numel()
        shape = tuple(self._model.params[name].shape)
        out_index: Callable[[Index], Index]
        if out_numel == 1:
            out_index = _nothing
        elif consumer.op == "matmul" and position == 0 and len(shape) == 2:
            out_index = _row  # W[i,j] reaches z[i]
        elif consumer.op != "matmul" and tuple(values[consumer.name].shape) == shape:
            out_index = _same  # element by element
        else:
            return None
        # Above the consumer every op must go element by element (or sum to one number).
        for factor in path[:-1]:
            node = graph.node(factor.out)
            if node.op == "matmul" or node.args.count(factor.wrt) != 1:
                return None
            if factor.wrt not in values or node.name not in values:
                return None
            wrt_n, out_n = values[factor.wrt].numel(), values[node.name].numel()
            if not (out_n == 1 or out_n == wrt_n) or wrt_n not in (1, out_numel):
                return None
        return _Use(consumer, position, path, out_index)

    def _element(
        self,
        state: StepState,
        name: str,
        use: _Use,
        index: Index,
        grads: Value | None,
        param_grads: Value | None,
    ) -> ChainView:
        lesson = self._lesson
        consumer, position, path = use.consumer, use.position, use.path
        out_index = use.out_index(index)
        complete = grads is not None
        loss = lesson.loss.label
        out_label = _indexed(consumer.label, out_index)
        label = _indexed(lesson.label(name), index)
        # Factor 1: the gradient torch passed down to the consumer's element.
        up_value = _at(self._grad, out_index)
        parts = self._memo.get(out_index)
        if parts is None:  # the same for every element of a row: worked out once
            parts = self._memo[out_index] = [
                self._formula_at(state, node, node.args.index(factor.wrt), out_index)
                for node, factor in self._upstream(path)
            ]
        shown = [f for f, _ in parts if f != "1"]
        up_formula = "·".join(shown) if shown else "1"
        up_hand = None
        if up_value is not None and all(v is not None for _, v in parts):
            up_hand = math.prod(v for _, v in parts)  # type: ignore[misc]
        upstream = FactorView(
            self._graph.loss, consumer.name, loss, out_label, up_formula, up_hand, up_value
        )
        # Factor 2: the consumer's own local derivative for this element.
        local_value = _at(self._local_value, index)
        key = index[-1:] if consumer.op == "matmul" else index
        known = self._local_memo.get(key)
        if known is None:  # a matmul's is the same for every row: worked out once
            known = self._local_memo[key] = self._local(state, consumer, position, index)
        formula, hand = known
        own = FactorView(
            consumer.name,
            name,
            out_label,
            label,
            formula,
            hand if local_value is not None else None,
            local_value,
        )
        product = None
        if up_value is not None and local_value is not None:
            product = up_value * local_value
        return ChainView(
            param=name,
            label=label,
            paths=((upstream, own),),
            product=product,
            torch_grad=_at(grads, index) if complete else None,
            param_grad=_at(param_grads, index),
            finite_diff=self.finite_difference(state, name, index) if complete else None,
            loss_label=loss,
            fd_resolution=self.fd_resolution(state, name, index) if complete else 0.0,
        )

    def _upstream(self, path: tuple[FactorView, ...]) -> Iterator[tuple[Node, FactorView]]:
        for factor in path[:-1]:
            yield self._graph.node(factor.out), factor

    def _arg_labels(self, node: Node, index: Index, values: list[Any]) -> list[str]:
        lesson = self._lesson
        labels = []
        for arg, value in zip(node.args, values, strict=True):
            if not isinstance(arg, str):
                labels.append(format_number(arg))
                continue
            vector = isinstance(value, torch.Tensor) and value.numel() > 1
            labels.append(_indexed(lesson.label(arg), index) if vector else lesson.label(arg))
        return labels

    def _scalars(
        self, state: StepState, node: Node, index: Index
    ) -> tuple[list[Any], tuple[float, ...], float]:
        """The op's inputs as tensors, and as the element's plain floats, and its output's."""
        i = self._graph.index[node.name]
        tensors = [self._model.arg(state, i, p) for p in range(len(node.args))]
        floats = []
        for arg, value in zip(node.args, tensors, strict=True):
            before = state.params_before.get(arg) if isinstance(arg, str) else None
            plain_value = (
                before
                if before is not None
                else (plain(value) if isinstance(value, torch.Tensor) else float(value))
            )
            element = _at(plain_value, index) if isinstance(plain_value, list) else plain_value
            floats.append(float(element) if element is not None else math.nan)  # type: ignore[arg-type]
        out = state.values[node.name]
        out_value = _at(plain(out), index) if out.numel() > 1 else out.item()
        return tensors, tuple(floats), math.nan if out_value is None else out_value

    def _formula_at(
        self, state: StepState, node: Node, position: int, index: Index
    ) -> tuple[str, float | None]:
        """An element-by-element factor: its formula at ``index``, and its value there."""
        tensors, floats, out = self._scalars(state, node, index)
        vector_out = state.values[node.name].numel() > 1
        labels = self._arg_labels(node, index, tensors)
        out_label = _indexed(node.label, index) if vector_out else node.label
        info = OPS[node.op]
        if node.op == "pow" and position == 0 and not isinstance(node.args[1], str):
            text = pow_formula(float(node.args[1]), labels[0])
        else:
            text = info.formulas[position].format(*labels, out=out_label)
        return text, info.derivative(floats, out)[position]

    def _local(
        self, state: StepState, node: Node, position: int, index: Index
    ) -> tuple[str, float | None]:
        if node.op == "matmul":
            # ∂(W·v)[i]/∂W[i,j] = v[j]: the other input's element j.
            other = node.args[1 - position]
            j = index[-1:]
            tensors = self._scalars(state, node, ())[0]
            value = tensors[1 - position]
            label = self._lesson.label(other) if isinstance(other, str) else format_number(other)
            element = _at(plain(value), j) if isinstance(value, torch.Tensor) else float(value)
            return _indexed(label, j), element
        return self._formula_at(state, node, position, index)

    def fd_resolution(self, state: StepState, name: str, index: Index) -> float:
        """How far float32 rounding can move this element's gradient (see
        :meth:`Analysis.fd_resolution <bptui.lesson.analysis.Analysis.fd_resolution>`)."""
        shape = self._model.params[name].shape
        value = torch.tensor(self._params[name], dtype=torch.float64).reshape(shape)
        centre = float(value[index].item())
        step = FLOAT32_STEPS * float32_spacing(centre)
        middle = self.finite_difference(state, name, index)
        return max(
            abs(self.finite_difference(state, name, index, shift) - middle)
            for shift in (step, -step)
        )

    def finite_difference(
        self, state: StepState, name: str, index: Index, offset: float = 0.0
    ) -> float:
        """(loss(W[i,j] + h) − loss(W[i,j] − h)) / 2h, by torch in float64, at W[i,j] + ``offset``."""
        params = self._params
        key = (name, index, offset, *self._fd_key)
        cached = self._fd_cache.get(key)
        if cached is not None:
            return cached
        shapes = {n: p.shape for n, p in self._model.params.items()}
        base = {
            n: torch.tensor(v, dtype=torch.float64).reshape(shapes[n]) for n, v in params.items()
        }
        centre = float(base[name][index].item()) + offset
        h = 1e-6 * max(1.0, abs(centre))

        def loss(shift: float) -> float:
            values = dict(base)
            shifted = base[name].clone()
            shifted[index] = centre + shift
            values[name] = shifted
            return self._loss64(state, values)

        value = (loss(h) - loss(-h)) / (2 * h)
        if len(self._fd_cache) > 1024:
            self._fd_cache.clear()
        self._fd_cache[key] = value
        return value

    def _loss64(self, state: StepState, params: dict[str, torch.Tensor]) -> float:
        values: dict[str, Any] = {
            "x": torch.tensor(state.x, dtype=torch.float64),
            "y": torch.tensor(state.y, dtype=torch.float64),
            **params,
        }
        fns = self._model.fns
        with torch.no_grad():
            for i, node in enumerate(self._graph.nodes):
                args = [values[a] if isinstance(a, str) else a for a in node.args]
                if self._model.needs_tensor[i] and not isinstance(args[0], torch.Tensor):
                    args[0] = torch.tensor(float(args[0]), dtype=torch.float64)
                values[node.name] = fns[i](*args)
        return float(values[self._graph.loss].item())
