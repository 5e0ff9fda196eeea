"""Re-evaluating the model beside the training run: finite differences, loss
curves and the hand formulas' values. None of it changes the run's tensors."""

from __future__ import annotations

import math
from typing import Any

import torch

from .graph import LessonGraph
from .ops import OPS
from .snapshot import PlotCurve, Snapshot
from .torch_step import StepState, TorchModel, integral, plain
from .values import FLOAT32_STEPS, Value, float32_spacing

#: Points of the plotted loss curve, and how many recent steps set its range.
CURVE_POINTS = 61
CURVE_HISTORY = 200
NO_CURVE = PlotCurve()


def _as_float(value: Any) -> float:
    if isinstance(value, torch.Tensor):
        return float(value.item())
    return float(value)


class Analysis:
    """float64 re-evaluations of one lesson's model, and torch's derivatives of single ops."""

    def __init__(self, graph: LessonGraph, model: TorchModel) -> None:
        self._graph = graph
        self._model = model
        self._fd_cache: dict[tuple[Any, ...], float] = {}
        self._curve_key: tuple[Any, ...] | None = None
        self._curve = NO_CURVE

    def loss_curve(
        self,
        state: StepState,
        name: str,
        grid: list[float],
        params: dict[str, float] | None = None,
        x: float | None = None,
        y: float | None = None,
    ) -> list[float]:
        """Loss of one sample as parameter ``name`` runs over ``grid`` (torch, float64)."""
        x = state.x if x is None else x  # type: ignore[assignment]
        y = state.y if y is None else y  # type: ignore[assignment]
        base = params or {n: p.item() for n, p in self._model.params.items()}
        values: dict[str, Any] = {
            "x": torch.tensor(x, dtype=torch.float64),
            "y": torch.tensor(y, dtype=torch.float64),
        }
        for pname, value in base.items():
            values[pname] = torch.tensor([value], dtype=torch.float64)
        values[name] = torch.tensor(grid, dtype=torch.float64)
        fns = self._model.fns
        needs_tensor = self._model.needs_tensor
        with torch.no_grad():
            for i, node in enumerate(self._graph.nodes):
                args = [values[a] if isinstance(a, str) else integral(a) for a in node.args]
                if needs_tensor[i] and not isinstance(args[0], torch.Tensor):
                    # An op of constants alone (``a * cos(0.5)``): torch needs a tensor.
                    args[0] = torch.tensor(float(args[0]), dtype=torch.float64)
                values[node.name] = fns[i](*args)
            out = values[self._graph.loss].expand(len(grid))
        return [float(v) for v in out.tolist()]

    def finite_difference(self, state: StepState, name: str, offset: float = 0.0) -> float:
        """(loss(v + h) − loss(v − h)) / 2h for a parameter (or the node lesson's x),
        by torch in float64; at v + ``offset``."""
        params = {n: state.params_before.get(n, p.item()) for n, p in self._model.params.items()}
        key = (name, offset, state.x, state.y, tuple(params.items()))
        cached = self._fd_cache.get(key)
        if cached is not None:
            return cached
        first = next(iter(params))
        x = float(state.x)  # type: ignore[arg-type]
        if name == "x":
            x += offset
        else:
            params[name] += offset  # type: ignore[operator]

        def loss(shift: float) -> float:
            if name == "x":
                return self.loss_curve(state, first, [params[first]], params, x=x + shift)[0]  # type: ignore[list-item, arg-type]
            shifted = {**params, name: params[name] + shift}  # type: ignore[operator]
            return self.loss_curve(state, first, [shifted[first]], shifted)[0]  # type: ignore[list-item, arg-type]

        h = 1e-6 * max(1.0, abs(x if name == "x" else params[name]))  # type: ignore[arg-type]
        value = (loss(h) - loss(-h)) / (2 * h)
        if len(self._fd_cache) > 256:
            self._fd_cache.clear()
        self._fd_cache[key] = value
        return value

    def fd_resolution(self, state: StepState, name: str) -> float:
        """How far float32 rounding can move the gradient by ``name``: the largest change
        of the float64 finite difference when the value moves by FLOAT32_STEPS float32
        steps either way (each of the forward pass's operations rounds to one)."""
        params = {n: state.params_before.get(n, p.item()) for n, p in self._model.params.items()}
        centre = float(state.x if name == "x" else params[name])  # type: ignore[arg-type]
        step = FLOAT32_STEPS * float32_spacing(centre)
        middle = self.finite_difference(state, name)
        moved = max(
            abs(self.finite_difference(state, name, shift) - middle) for shift in (step, -step)
        )
        # The finite difference's own rounding: two float64 losses of size |loss| subtracted
        # and divided by 2h (a large loss, a tiny gradient: x = 6e-8 against y = 5).
        first = next(iter(params))
        loss = self.loss_curve(state, first, [params[first]], params)[0]  # type: ignore[list-item, arg-type]
        h = 1e-6 * max(1.0, abs(centre))
        own = FLOAT32_STEPS * math.ldexp(abs(loss), -52) / h if math.isfinite(loss) else 0.0
        return max(moved, own)

    def formula_value(self, state: StepState, index: int, position: int) -> float | None:
        """The hand formula of a local derivative, on torch's values (None for vectors)."""
        node = self._graph.nodes[index]
        inputs = [self._model.arg(state, index, i) for i in range(len(node.args))]
        if state.values[node.name].numel() != 1 or any(
            isinstance(a, torch.Tensor) and a.numel() != 1 for a in inputs
        ):
            return None  # hand formulas are for numbers; vectors are shown as torch has them
        # A parameter as the loss was computed with it: after the update the tensor
        # holds the new value, and torch's factors were computed with the old one.
        args = tuple(
            _as_float(state.params_before.get(a, v)) if isinstance(a, str) else _as_float(v)
            for a, v in zip(node.args, inputs, strict=True)
        )
        out = state.values[node.name].item()
        return OPS[node.op].derivative(args, out)[position]

    def constant_local(self, state: StepState, index: int, position: int) -> Value | None:
        """torch's derivative of one op with respect to a data input, at the current values.

        None where torch does not differentiate with respect to that input (the
        target of binary cross-entropy).
        """
        node = self._graph.nodes[index]
        with torch.enable_grad():
            leaves = []
            for i in range(len(node.args)):
                value = self._model.arg(state, index, i)
                name = node.args[i]
                before = state.params_before.get(name) if isinstance(name, str) else None
                if isinstance(before, float):
                    value = before  # see formula_value
                if isinstance(value, torch.Tensor):
                    leaf = value.detach().clone()
                else:
                    leaf = torch.tensor(float(value), dtype=torch.float32)
                leaf.requires_grad_(i == position)
                leaves.append(leaf)
            try:
                out = self._model.fns[index](*leaves)
                (grad,) = torch.autograd.grad(out.sum(), leaves[position])
            except RuntimeError:
                return None
        return plain(grad)

    def plot_curve(self, state: StepState, snap: Snapshot) -> PlotCurve:
        """The plotted loss curve of ``snap``'s sample: a grid of the first parameter
        around its recent values, the loss at each point, and the run's point on it.

        Once the sample's loss is computed, the curve is taken at the parameters it
        was computed with (after the update the tensors hold new ones, and with
        several parameters the curve would move away from the point); before that,
        at the current parameters, and the point is the curve's value at the current
        first parameter. Either way the point lies on the curve drawn.
        """
        if snap.finished or not snap.params or not isinstance(snap.params[0].data, float):
            return NO_CURVE
        if isinstance(snap.x, (list, tuple)):
            return NO_CURVE  # vector data: no single curve
        first = snap.params[0].name
        params: dict[str, Value] = {p.name: p.data for p in snap.params}
        if snap.current_point is not None:
            params.update(state.params_before)
        current = params[first]
        if not isinstance(current, float) or not math.isfinite(current):
            return NO_CURVE
        ws = [w for w in snap.history_w[-CURVE_HISTORY:] if math.isfinite(w)]
        ws.append(current)
        now = snap.params[0].data
        if isinstance(now, float) and math.isfinite(now):
            ws.append(now)  # after the update: where w went, too
        lo, hi = min(ws), max(ws)
        span = max(hi - lo, 0.5, abs(current) * 0.2)
        lo, hi = lo - span * 0.25, hi + span * 0.25
        key = (
            snap.epoch,
            snap.sample,
            snap.x,
            snap.y,
            round(lo, 6),
            round(hi, 6),
            tuple(params.items()),
            snap.current_point,
        )
        if key != self._curve_key:
            steps = CURVE_POINTS - 1
            grid = [lo + (hi - lo) * i / steps for i in range(CURVE_POINTS)]
            losses = self.loss_curve(state, first, [*grid, current], params)  # type: ignore[arg-type]
            point = snap.current_point
            if point is None or not all(map(math.isfinite, point)):
                point = (current, losses[-1])
            self._curve_key = key
            self._curve = PlotCurve(tuple(grid), tuple(losses[:-1]), point)
        return self._curve
