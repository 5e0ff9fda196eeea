"""The frozen views of the engine's state: what a snapshot holds, built from tensors
into plain floats, and the narration of the last micro-step."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..i18n import _
from . import words
from .actions import Action
from .analysis import Analysis
from .elements import ElementChains
from .graph import LessonGraph
from .narration import Narrator
from .ops import OPS, format_number, pow_formula
from .program import Program, code_lines, op_source, update_source, zero_source
from .snapshot import ChainView, FactorView, Message, Modes, NodeView, ParamView, Phase, Snapshot
from .spec import Lesson
from .timeline import Timeline
from .torch_step import StepState, TorchModel, plain
from .values import float_or_nan, format_float32, format_plain


@dataclass(frozen=True)
class Moment:
    """What the engine was doing when a snapshot is taken, besides the tensors."""

    lesson: Lesson
    program: Program
    state: StepState
    last: Action | None
    natural: Action | None
    message: Message | None
    modes: Modes


class Views:
    """Builds snapshots of one stepper's model."""

    def __init__(
        self, graph: LessonGraph, model: TorchModel, analysis: Analysis, say: Narrator
    ) -> None:
        self._say = say
        self._graph = graph
        self._model = model
        self._analysis = analysis
        self._elements: ElementChains | None = None

    def snapshot(self, now: Moment, timeline: Timeline) -> Snapshot:
        """A frozen picture of the current state (plain floats only)."""
        lesson, state, graph, model = now.lesson, now.state, self._graph, self._model
        phase = state.phase
        factors = self._factor_views(lesson, state)
        n_nodes = len(graph.nodes)
        ran, upcoming = code_lines(
            now.program,
            now.last,
            now.natural,
            loss_computed=phase is Phase.BACKWARD and state.fwd == n_nodes and state.bwd == 0,
            computes_loss=phase is Phase.FORWARD and state.fwd == n_nodes - 1,
        )
        residual = None
        if lesson.residual and lesson.residual in state.values:
            residual = plain(state.values[lesson.residual])
        loss_tensor = state.values.get(graph.loss)
        hw, hl = timeline.history()
        first = lesson.param_names[0]
        current_point = (
            (float_or_nan(state.params_before[first]), state.loss_value)
            if state.loss_value is not None and state.params_before
            else None
        )
        loss_sum = model.loss_sum
        return Snapshot(
            lesson=lesson.name,
            title=words.title(lesson),
            epoch=min(state.epoch, lesson.epochs - 1) + 1,
            epochs=lesson.epochs,
            sample=state.sample + 1,
            n_samples=lesson.n_samples,
            x=state.x,
            y=state.y,
            lr=lesson.lr,
            phase=phase,
            phase_step={Phase.FORWARD: state.fwd, Phase.BACKWARD: state.bwd}.get(phase, 0),
            phase_steps={
                Phase.FORWARD: len(graph.nodes),
                Phase.BACKWARD: len(graph.backward_steps),
            }.get(phase, 1),
            micro_steps=len(timeline.log),
            steps_done=timeline.steps,
            nodes=self._leaf_views(lesson, state, now.last)
            + self._op_views(lesson, state, now.last),
            chains=self._chain_views(lesson, state, factors),
            params=tuple(
                ParamView(n, plain(p), None if p.grad is None else plain(p.grad))
                for n, p in model.params.items()
            ),
            loss=state.loss_value,
            residual=residual,
            loss_grad_fn=(
                type(loss_tensor.grad_fn).__name__
                if loss_tensor is not None and loss_tensor.grad_fn is not None
                else None
            ),
            graph_freed=state.freed,
            code=now.program.lines,
            code_ran=ran,
            code_next=upcoming,
            last_source=self._last_source(now),
            message=now.message or self._narration(lesson, state, now.last, now.natural),
            narration=_lesson_narration(lesson, now.last, now.natural),
            history_w=hw,
            history_loss=hl,
            current_point=current_point,
            can_undo=bool(timeline.log or timeline.jumps),
            finished=phase is Phase.DONE,
            factors=factors,
            modes=now.modes,
            loss_sum=None if loss_sum is None else loss_sum.item(),
            kept_nodes=model.kept_nodes,
            loss_label=lesson.loss.label,
            has_target=lesson.loss_kind != "upstream",
        )

    def _current_node(self, state: StepState, last: Action | None) -> str | None:
        if last is Action.FORWARD and state.phase in (Phase.FORWARD, Phase.BACKWARD) and state.fwd:
            return self._graph.nodes[state.fwd - 1].name
        if last is Action.BACKWARD and state.bwd:
            return self._graph.backward_steps[state.bwd - 1].name
        return None

    def _leaf_views(
        self, lesson: Lesson, state: StepState, last: Action | None
    ) -> tuple[NodeView, ...]:
        views = []
        touched = last in (Action.UPDATE, Action.ZERO)
        params = self._model.params
        for name in self._graph.leaves:
            if name in params:
                p = params[name]
                grad = state.node_grads.get(name)
                views.append(
                    NodeView(
                        name,
                        lesson.label(name),
                        "param",
                        None,
                        None,
                        (),
                        plain(p),
                        None if grad is None else plain(grad),
                        "AccumulateGrad",
                        True,
                        touched,
                    )
                )
            else:
                value = state.x if name == "x" else state.y
                tracked = name in self._graph.needs_grad
                grad = state.node_grads.get(name) if tracked else None
                views.append(
                    NodeView(
                        name,
                        lesson.label(name),
                        "data",
                        None,
                        None,
                        (),
                        None if state.phase is Phase.DONE else value,
                        None if grad is None else plain(grad),
                        "AccumulateGrad" if tracked else None,
                        tracked,
                        False,
                    )
                )
        return tuple(views)

    def _op_views(
        self, lesson: Lesson, state: StepState, last: Action | None
    ) -> tuple[NodeView, ...]:
        current = self._current_node(state, last)
        views = []
        for node in self._graph.nodes:
            value = state.values.get(node.name)
            grad = state.node_grads.get(node.name)
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
                        lesson.label(a) if isinstance(a, str) else format_number(a)
                        for a in node.args
                    ),
                    None if value is None else plain(value),
                    None if grad is None else plain(grad),
                    grad_fn,
                    node.name in self._graph.needs_grad,
                    node.name == current,
                    tuple(a if isinstance(a, str) else None for a in node.args),
                )
            )
        return tuple(views)

    def _factor_views(self, lesson: Lesson, state: StepState) -> tuple[FactorView, ...]:
        graph = self._graph
        reached_ops = {node.name for node in graph.backward_steps[: state.bwd]}
        views = []
        for node in graph.backward_steps:
            index = graph.index[node.name]
            info = OPS[node.op]
            for position, arg in enumerate(node.args):
                if not isinstance(arg, str):
                    continue
                tracked = arg in graph.needs_grad
                if not tracked and arg not in ("x", "y"):
                    continue
                labels = [
                    lesson.label(a) if isinstance(a, str) else format_number(a) for a in node.args
                ]
                if node.op == "pow" and position == 0 and not isinstance(node.args[1], str):
                    formula = pow_formula(float(node.args[1]), labels[0])
                else:
                    formula = info.formulas[position].format(*labels, out=node.label)
                value = None
                formula_value = None
                if (node.name, position) in state.locals or (
                    not tracked and node.name in reached_ops
                ):
                    if tracked:
                        value = plain(state.locals[(node.name, position)])
                    else:
                        value = self._analysis.constant_local(state, index, position)
                    formula_value = self._analysis.formula_value(state, index, position)
                views.append(
                    FactorView(
                        node.name,
                        arg,
                        node.label,
                        lesson.label(arg),
                        formula,
                        formula_value,
                        value,
                    )
                )
        return tuple(views)

    def _chain_views(
        self, lesson: Lesson, state: StepState, factors: tuple[FactorView, ...]
    ) -> tuple[ChainView, ...]:
        graph = self._graph
        by_edge = {(f.out, f.wrt): f for f in factors}
        complete = state.fwd == len(graph.nodes) and state.bwd == len(graph.backward_steps)
        views = []
        if self._elements is None or self._elements.lesson is not lesson:
            self._elements = ElementChains(lesson, graph, self._model)
        for name in graph.chain_targets:
            paths = graph.paths(graph.loss, name, lambda out, wrt: by_edge[(out, wrt)])
            product: float | None = None
            if paths and all(isinstance(f.value, float) for path in paths for f in path):
                product = sum(math.prod(f.value for f in path) for path in paths)  # type: ignore[misc]
            grad = state.node_grads.get(name) if complete else None
            torch_grad = plain(grad) if grad is not None else None
            param = self._model.params.get(name, state.x_tensor)
            param_grad = None if param is None or param.grad is None else plain(param.grad)
            elements = self._elements.chains(state, name, paths, torch_grad, param_grad)
            views.append(
                ChainView(
                    param=name,
                    label=lesson.label(name),
                    paths=tuple(paths),
                    product=product,
                    torch_grad=torch_grad,
                    param_grad=param_grad,
                    loss_label=lesson.loss.label,
                    finite_diff=(
                        self._analysis.finite_difference(state, name)
                        if isinstance(torch_grad, float) and not lesson.vector_data
                        else None
                    ),
                    elements=elements,
                    form=self._elements.form(name, paths[0]) if elements else "",
                    fd_resolution=(
                        self._analysis.fd_resolution(state, name)
                        if isinstance(torch_grad, float) and not lesson.vector_data
                        else 0.0
                    ),
                )
            )
        return tuple(views)

    def _last_source(self, now: Moment) -> str | None:
        last, state, lesson = now.last, now.state, now.lesson
        if last is Action.FORWARD and state.fwd:
            return op_source(lesson, self._graph.nodes[state.fwd - 1].name)
        if last is Action.BACKWARD:
            if state.phase is Phase.BACKWARD and state.bwd:
                node = self._graph.backward_steps[state.bwd - 1]
                fn = state.values[node.name].grad_fn
                return _("{grad_fn}: ∂{loss}/∂{value} → its inputs").format(
                    grad_fn=type(fn).__name__, loss=lesson.loss.label, value=node.label
                )
            return "l.backward()"
        if last is Action.UPDATE:
            return "; ".join(update_source(p) for p in lesson.param_names)
        if last is Action.ZERO:
            return "; ".join(zero_source(p) for p in lesson.param_names)
        return None

    def _narration(
        self, lesson: Lesson, state: StepState, last: Action | None, natural: Action | None
    ) -> Message | None:
        params = self._model.params
        if last is None:
            return self._say.ready()
        if last is Action.FORWARD and state.fwd:
            node = self._graph.nodes[state.fwd - 1]
            value = plain(state.values[node.name])
            return self._say.forward_done(
                op_source(lesson, node.name),
                value,
                state.phase is Phase.BACKWARD,
                words.note(lesson, node.label),
            )
        if last is Action.BACKWARD and state.phase is Phase.BACKWARD and state.bwd:
            node = self._graph.backward_steps[state.bwd - 1]
            grads = [
                (
                    f"∂{lesson.loss.label}/∂{lesson.label(str(node.args[pos]))}",
                    plain(state.node_grads[str(node.args[pos])]),
                )
                for (name, pos) in state.locals
                if name == node.name
            ]
            return self._say.backward_through(node.label, grads)
        if last is Action.BACKWARD:
            return self._say.backward_finished(
                ((n, None if p.grad is None else plain(p.grad)) for n, p in params.items()),
                update_waits=state.phase is Phase.UPDATE and natural is Action.NEXT_SAMPLE,
            )
        if last is Action.UPDATE:
            return self._say.updated_params(
                ((n, plain(p)) for n, p in params.items()),
                zero_skipped=natural is Action.NEXT_SAMPLE,
            )
        if last is Action.ZERO and state.phase is Phase.DONE:
            done = ", ".join(
                f"{n} = {format_float32(v) if isinstance(v, float) else format_plain(v)}"
                for n, v in ((n, plain(p)) for n, p in params.items())
            )
            return self._say.lesson_done(lesson.epochs, done)
        if last is Action.ZERO:
            return self._say.zeroed()
        return None


#: The phase a micro-step belongs to, for the lesson's narration.
_PHASE_OF = {
    Action.FORWARD: Phase.FORWARD,
    Action.BACKWARD: Phase.BACKWARD,
    Action.UPDATE: Phase.UPDATE,
    Action.ZERO: Phase.ZERO,
}


def _lesson_narration(lesson: Lesson, last: Action | None, natural: Action | None) -> str | None:
    """The lesson file's ``[narration]`` line for the phase that comes next, said once:
    with the micro-step that ends the phase before it (the sentence that says what
    comes next), before any step, and after a mode switch, an edit or going on to the
    next sample; not within a phase, whose sentences already say which phase it is."""
    if not (lesson.narration or lesson.words) or natural is None:
        return None
    coming = Phase.FORWARD if natural is Action.NEXT_SAMPLE else _PHASE_OF.get(natural)
    if coming is None or (last is not None and _PHASE_OF.get(last) is coming):
        return None
    return words.narration(lesson, coming.value)
