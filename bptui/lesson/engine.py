"""The stepper: a lesson's training loop on torch, one micro-step at a time.

:class:`Stepper` is the state machine of a training step (forward, backward,
update, zero, in or out of order) and composes the rest: the torch work of each
micro-step (:mod:`.torch_step`), what has happened (:mod:`.timeline`), every
sentence it says (:mod:`.teaching`) and the frozen views (:mod:`.views`).

Undo replays: each successful micro-step is logged, the full state is saved at
the start of a training step every few steps, and undoing restores the last
saved state and replays the log up to one micro-step earlier. torch on the CPU
is deterministic, so the replay gives back the exact tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch

from . import teaching
from .actions import Action, Edit, Entry, action_of, natural_action
from .analysis import Analysis
from .graph import LessonGraph
from .program import build_program
from .snapshot import History, Kind, Message, Modes, Phase, Snapshot
from .spec import Lesson, LessonError
from .timeline import CHECKPOINT_EVERY, Checkpoint, StepRecord, Timeline
from .torch_step import StepState, TorchModel, finite, float32, plain
from .values import Value, all_finite, format_plain, format_value, nonzero
from .views import Moment, Views

__all__ = [
    "CHECKPOINT_EVERY",
    "Action",
    "StepRecord",
    "Stepper",
    "all_finite",
    "format_plain",
    "format_value",
]


class Stepper:
    """Drives one lesson. Actions return True when they changed the state."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.program = build_program(lesson)
        self._graph = graph = LessonGraph(lesson)
        self._model = model = TorchModel(lesson, graph)
        #: The parameter tensors (the note's ``w``), shared with the model.
        self.params: dict[str, torch.Tensor] = model.params
        self._analysis = Analysis(graph, model)
        self._views = Views(graph, model, self._analysis)
        self._timeline = Timeline()
        self._state = StepState(lesson, 0, 0)
        self._modes = Modes()
        self._last: Action | None = None
        self._message: Message | None = None
        self._comparison: Stepper | None = None
        self._timeline.start(self._capture(0), self._state)

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
        if self._state.phase is Phase.DONE:
            self._message = teaching.finished(self.lesson.epochs)
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
        changed = [
            (name, self.params[name].item(), value)
            for name, value in values.items()
            if float32([value]).item() != self.params[name].item()
        ]
        text = teaching.edit_text(
            (self.lesson.lr, lesson.lr) if lesson.lr != self.lesson.lr else None,
            changed,
            lesson.x != self.lesson.x or lesson.y != self.lesson.y,
        )
        return self._do(Edit(lesson, tuple(values.items()), text))

    def toggle_skip_zero(self) -> bool:
        """Never zero the gradient: each backward adds to it. Undoable."""
        return self._do(Action.SKIP_ZERO_MODE)

    def toggle_batch(self) -> bool:
        """Accumulate the gradient over the whole epoch, then update once. Undoable."""
        return self._do(Action.BATCH_MODE)

    def toggle_sum_loss(self) -> bool:
        """The note's pitfall: ``sum += l`` on the loss tensor. Undoable."""
        return self._do(Action.SUM_LOSS_MODE)

    def reset(self) -> bool:
        """Back to the lesson's start. Undoable, like any other step."""
        return self._do(Action.RESET)

    def finish_forward(self) -> bool:
        """Complete the forward pass (starting the next sample if need be)."""
        if not self.forward():
            return False
        return self._repeat(lambda: self._state.phase is Phase.FORWARD, Action.FORWARD)

    def finish_backward(self) -> bool:
        """Complete the backward pass."""
        if not self.backward():
            return False
        return self._repeat(lambda: self._state.phase is Phase.BACKWARD, Action.BACKWARD)

    def train_step(self) -> bool:
        """Run to the start of the next training step (a whole step from a step's start)."""
        start = self._state
        return self._run_naturally(lambda: self._state is start)

    def finish_epoch(self) -> bool:
        """Run to the start of the next epoch."""
        epoch = self._state.epoch
        return self._run_naturally(lambda: self._state.epoch == epoch)

    def run_epochs(self, n: int) -> bool:
        """Run ``n`` more epoch boundaries (or to the end of the lesson)."""
        target = self._state.epoch + n
        return self._run_naturally(lambda: self._state.epoch < target)

    def run_to_end(self) -> bool:
        """Run every remaining step of the lesson."""
        return self._run_naturally(lambda: True)

    def undo(self) -> bool:
        """Undo the last micro-step, restoring every tensor exactly."""
        timeline = self._timeline
        if not timeline.log:
            self._message = teaching.nothing_to_undo()
            return False
        undone = action_of(timeline.log[-1])
        checkpoint, replay = timeline.rewind()
        self._restore(checkpoint)
        for entry in replay:
            if not self._do(entry):  # pragma: no cover - replay is deterministic
                raise RuntimeError(f"replay of {action_of(entry).name} failed")
        self._message = teaching.undone(undone.name.lower())
        return True

    # ----------------------------------------------------------------- queries

    @property
    def phase(self) -> Phase:
        return self._state.phase

    @property
    def epoch(self) -> int:
        """0-based epoch of the current training step."""
        return self._state.epoch

    @property
    def sample(self) -> int:
        """0-based sample index of the current training step."""
        return self._state.sample

    @property
    def records(self) -> tuple[StepRecord, ...]:
        """Every finished training step so far."""
        return tuple(self.iter_records())

    @property
    def steps_done(self) -> int:
        return len(self._timeline.records)

    @property
    def message(self) -> Message | None:
        return self._message

    @property
    def micro_steps(self) -> int:
        return len(self._timeline.log)

    def iter_records(self, start: int = 0) -> Iterator[StepRecord]:
        """Records from index ``start`` on, built as they are read."""
        nodes = tuple(node.name for node in self._graph.nodes)
        return self._timeline.iter_records(self.lesson.param_names, nodes, start)

    def last_record(self) -> StepRecord | None:
        """The latest finished training step, if any (without building the others)."""
        n = len(self._timeline.records)
        return next(self.iter_records(n - 1), None) if n else None

    def history(self) -> tuple[History, History]:
        """First parameter and loss of every finished step, as they are now."""
        return self._timeline.history()

    def can_edit(self) -> bool:
        """Values can change now: at the start of a training step."""
        return self._state.phase is Phase.FORWARD and self._state.at_start

    def snapshot(self) -> Snapshot:
        """A frozen picture of the current state (plain floats only)."""
        state = self._state
        moment = Moment(
            self.lesson,
            self.program,
            state,
            self._last,
            self._natural() if state.phase is not Phase.DONE else None,
            self._message,
            self._modes,
        )
        return self._views.snapshot(moment, self._timeline)

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
        return self._analysis.loss_curve(self._state, name, grid, params, x, y)

    def plot_curve(self, snap: Snapshot) -> tuple[list[float], list[float]]:
        """The loss curve to plot for ``snap``: the first parameter's grid and the losses."""
        return self._analysis.plot_curve(self._state, snap)

    def comparison(self, snap: Snapshot) -> tuple[str, History, History] | None:
        """In skip-zero or batch mode: the plain per-sample run as far as this one got
        (a second stepper that zeroes after every update), to plot beside it."""
        if not (snap.modes.skip_zero or snap.modes.batch):
            self._comparison = None
            return None
        ref = self._comparison
        if ref is None or ref.steps_done > snap.steps_done:
            ref = self._comparison = Stepper(self._timeline.checkpoints[0].lesson)
        while ref.steps_done < snap.steps_done and ref.train_step():
            pass
        label = "per-sample SGD" if snap.modes.batch else "with zeroing"
        return (label, *ref.history())

    # ---------------------------------------------------------------- internals

    def _natural(self) -> Action:
        state = self._state
        return natural_action(state.phase, self._modes, state.sample, self.lesson.n_samples)

    def _do(self, entry: Entry) -> bool:
        self._message = None
        if isinstance(entry, Edit):
            ok = self._act_edit(entry)
        else:
            ok = _HANDLERS[entry](self)
        if not ok:
            return False
        action = action_of(entry)
        self._last = action
        state = self._state
        self._timeline.logged(entry, state, state.fwd == 0, self._capture)
        return True

    def _loop(
        self,
        more: Callable[[], bool],
        next_action: Callable[[], Action],
        important: Message | None = None,
    ) -> Message | None:
        """Take micro-steps while ``more()``; the last message worth showing (not mere
        narration) is kept, so a teaching moment inside a run is not lost."""
        while self._state.phase is not Phase.DONE and more():
            if not self._do(next_action()):
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
        if self._state.phase is Phase.DONE:
            self._message = teaching.finished(self.lesson.epochs)
            return False
        self._message = self._loop(more, self._natural)
        return True

    def _begin_sample(self, epoch: int, sample: int) -> None:
        self._state = StepState(self.lesson, epoch, sample, self._state.x_tensor)

    def _set_lesson(self, lesson: Lesson) -> None:
        if lesson is not self.lesson:
            self.lesson = lesson
            self.program = build_program(lesson)

    def _capture(self, index: int) -> Checkpoint:
        state, timeline, model = self._state, self._timeline, self._model
        data, grads = model.saved()
        return Checkpoint(
            index=index,
            epoch=state.epoch,
            sample=state.sample,
            phase=state.phase,
            data=data,
            grads=grads,
            records=timeline.records,
            n_records=len(timeline.records),
            hist_w=timeline.hist_w,
            hist_loss=timeline.hist_loss,
            modes=self._modes,
            lesson=self.lesson,
            loss_sum=None if model.loss_sum is None else model.loss_sum.item(),
            kept_nodes=model.kept_nodes,
        )

    def _restore(self, checkpoint: Checkpoint) -> None:
        self._model.set_values(checkpoint.data, checkpoint.grads)
        self._modes = checkpoint.modes
        self._set_lesson(checkpoint.lesson)
        self._model.restore_loss_sum(checkpoint.loss_sum, checkpoint.kept_nodes)
        self._begin_sample(checkpoint.epoch, checkpoint.sample)
        self._timeline.restored(checkpoint, self._state)
        self._last = self._timeline.last_action()

    def _grads(self) -> list[tuple[str, Value | None]]:
        return [(n, None if p.grad is None else plain(p.grad)) for n, p in self.params.items()]

    # The micro-steps. Each returns True if it changed the state.

    def _act_forward(self) -> bool:
        state = self._state
        phase = state.phase
        if phase is Phase.DONE:
            self._message = teaching.finished(self.lesson.epochs)
            return False
        if phase is Phase.BACKWARD:
            self._message = teaching.forward_during_backward(state.bwd > 0)
            return False
        if phase in (Phase.UPDATE, Phase.ZERO):
            self._act_next_sample()
            if self._state.phase is Phase.DONE:
                return True
            skipped = self._message
            self._act_forward()
            self._message = skipped
            return True
        out = self._model.forward_op(state)
        if state.phase is Phase.BACKWARD:  # the loss is computed
            if self._modes.sum_loss:
                self._model.add_to_loss_sum(out)
            if not math.isfinite(state.loss_value):  # type: ignore[arg-type]
                self._message = self._nonfinite_message()
        return True

    def _act_backward(self) -> bool:
        state = self._state
        phase = state.phase
        if phase is Phase.DONE:
            self._message = teaching.finished(self.lesson.epochs)
            return False
        if phase is Phase.FORWARD:
            self._message = teaching.backward_before_loss()
            return False
        if phase in (Phase.UPDATE, Phase.ZERO):
            try:
                before = self._model.backward_again(state)
            except RuntimeError as error:
                self._message = teaching.backward_twice(str(error))
                return False
            self._message = teaching.accumulated(before, before, state.grads_after, again=True)
            return True
        if self._model.backward_op(state):
            before = self._model.real_backward(state)
            accumulated = [n for n, v in before.items() if nonzero(v)]
            if accumulated and not self._modes.batch:
                self._message = teaching.accumulated(accumulated, before, state.grads_after)
        return True

    def _act_update(self) -> bool:
        state = self._state
        phase = state.phase
        if phase is Phase.DONE:
            self._message = teaching.finished(self.lesson.epochs)
            return False
        params = self.params
        if not any([p.grad is not None for p in params.values()]):
            self._message = teaching.update_without_grad(self.lesson.param_names[0])
            return False
        if phase in (Phase.FORWARD, Phase.BACKWARD):
            self._message = teaching.update_before_backward(self._grads())
            return False
        if phase is Phase.ZERO:
            self._message = teaching.update_twice()
            return False
        was_finite = all([all_finite(v) for v in state.params_before.values()])
        self._model.update(self.lesson.lr)
        state.phase = Phase.ZERO
        if not all([finite(p) for p in params.values()]):
            shown = [(n, plain(p)) for n, p in params.items()]
            loss_ok = state.loss_value is not None and math.isfinite(state.loss_value)
            if was_finite and not loss_ok:
                self._message = teaching.updated_with_nan(shown)
            else:
                self._message = teaching.diverged(state.loss_value, shown, self.lesson.lr)
        return True

    def _act_zero(self) -> bool:
        state = self._state
        phase = state.phase
        if phase is Phase.DONE:
            self._message = teaching.finished(self.lesson.epochs)
            return False
        had = self._model.zero(state)
        if had is None:
            self._message = teaching.zero_without_grad(self.lesson.param_names[0])
            return False
        if phase is Phase.ZERO:
            self._end_step()
        elif had:
            self._message = teaching.zeroed_early(before_update=phase is Phase.UPDATE)
        return True

    def _act_edit(self, edit: Edit) -> bool:
        if not self.can_edit():
            self._message = teaching.edit_mid_step()
            return False
        self._set_lesson(edit.lesson)
        self._model.set_values({name: [value] for name, value in edit.params})
        self._begin_sample(self._state.epoch, min(self._state.sample, edit.lesson.n_samples - 1))
        self._message = teaching.edited(edit.text)
        return True

    def _act_next_sample(self) -> bool:
        """Leave this sample without the rest of its step (no update, or no zeroing)."""
        phase = self._state.phase
        if phase not in (Phase.UPDATE, Phase.ZERO):
            self._message = teaching.next_sample_too_early()
            return False
        if self._modes.batch and phase is Phase.UPDATE:
            skipped = teaching.batch_waits(self._grads(), self._state.sample + 1)
        else:
            skipped = teaching.skipped(phase, self._grads())
        self._end_step()
        self._message = skipped
        return True

    def _act_skip_zero_mode(self) -> bool:
        modes = self._modes
        self._modes = Modes(not modes.skip_zero, modes.batch, modes.sum_loss)
        self._message = teaching.skip_zero_mode(self._modes.skip_zero)
        return True

    def _act_batch_mode(self) -> bool:
        modes = self._modes
        self._modes = Modes(modes.skip_zero, not modes.batch, modes.sum_loss)
        self._message = teaching.batch_mode(self._modes.batch)
        return True

    def _act_sum_loss_mode(self) -> bool:
        modes, model = self._modes, self._model
        self._modes = Modes(modes.skip_zero, modes.batch, not modes.sum_loss)
        self._message = teaching.sum_loss_mode(self._modes.sum_loss, model.kept_nodes)
        if not self._modes.sum_loss:
            model.restore_loss_sum(None, 0)
        return True

    def _act_reset(self) -> bool:
        start = self._timeline.checkpoints[0]
        self._set_lesson(start.lesson)
        self._model.set_values(start.data, {})
        self._timeline.clear()
        self._modes = Modes()
        self._model.restore_loss_sum(None, 0)
        self._begin_sample(0, 0)
        self._message = teaching.reset_done()
        return True

    def _end_step(self) -> None:
        state = self._state
        if state.loss_value is not None:
            self._record(state)
        sample = state.sample + 1
        epoch = state.epoch
        if sample == self.lesson.n_samples:
            sample, epoch = 0, epoch + 1
        self._begin_sample(epoch, sample)

    def _record(self, state: StepState) -> None:
        timeline, py, keys = self._timeline, self._model.py, self._graph.factor_keys
        before = tuple(state.params_before.values())
        loss = state.loss_value
        timeline.record(
            (
                state.epoch + 1,
                state.sample + 1,
                state.x,
                state.y,
                before,
                tuple(map(py, state.values.values())),
                timeline.layout(tuple([keys[key] for key in state.locals])),
                tuple(map(py, state.locals.values())),
                tuple(state.grads_after.values()),
                tuple(map(py, self.params.values())),
                loss,
            ),
            before[0] if isinstance(before[0], float) else math.nan,
            loss,  # type: ignore[arg-type]
        )

    def _nonfinite_message(self) -> Message:
        """Why the loss is inf or NaN: an operation out of its range, or divergence."""
        state, model = self._state, self._model
        for index, node in enumerate(self._graph.nodes):
            value = state.values.get(node.name)
            if value is None or bool(torch.isfinite(value).all()):
                continue
            args = [model.arg(state, index, i) for i in range(len(node.args))]
            if not all(finite(a) for a in args):
                break  # a non-finite input: the trouble started earlier (divergence)
            if node.op not in ("log", "div", "bce") and self._timeline.records:
                # An overflow after training steps: the values grew step by step.
                break
            return teaching.out_of_range(
                node.label,
                node.op,
                value.flatten()[0].item(),
                [plain(a) if isinstance(a, torch.Tensor) else a for a in args],
            )
        shown = [(n, plain(p)) for n, p in self.params.items()]
        return teaching.diverged(state.loss_value, shown, self.lesson.lr)


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
