"""The stepper: a lesson's training loop on torch, one micro-step at a time.

:class:`Stepper` is the public face of the engine: the micro-steps by name,
the compound commands built from them (finish a pass, a training step, an
epoch), undo, and the frozen views. The rules of each micro-step are in
:mod:`.machine`, the torch work in :mod:`.torch_step`, what has happened in
:mod:`.timeline`, every sentence in :mod:`.teaching`, snapshots in :mod:`.views`
and the float64 re-evaluations in :mod:`.analysis`.

Undo replays: each successful micro-step is logged, the full state is saved at
the start of a training step every few steps, and undoing restores the last
saved state and replays the log up to one micro-step earlier. torch on the CPU
is deterministic, so the replay gives back the exact tensors.

Time travel works the same way: a jump back to step N (``jump_to``, ``undo_step``)
restores the checkpoint nearest that moment and replays the few micro-steps after
it, keeping what it cut so that one undo brings it all back; a jump forward takes
the natural micro-steps, exactly as stepping does. Each jump is one unit for undo.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from ..i18n import _
from .actions import Action, Edit, Entry, action_of
from .analysis import Analysis
from .machine import StepMachine
from .program import Program
from .snapshot import History, Kind, Message, Modes, Phase, PlotCurve, Snapshot
from .spec import Lesson, LessonError
from .timeline import CHECKPOINT_EVERY, Checkpoint, Jump, StepRecord
from .torch_step import float32
from .values import Data, all_finite, format_plain, format_value
from .views import Moment, Views

if TYPE_CHECKING:
    import torch

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
    """Drives one lesson. Actions return True when they changed the state.

    It *has* the parts of the engine, each with its own job: the
    :class:`~.machine.StepMachine` (the rules of one micro-step, and the run's
    state), its :class:`~.timeline.Timeline` (what has happened, for undo and
    jumps) and its :class:`~.teaching.Teacher` (every sentence).
    """

    def __init__(self, lesson: Lesson, *, labels: Mapping[str, str] | None = None) -> None:
        """``labels``: how the interface names the actions and options its messages
        mention (``{"backward": "b", ...}``; see :data:`.teaching.LABELS`)."""
        self._machine = machine = StepMachine(lesson, labels)
        self._timeline = machine.timeline
        self._say = machine.say
        self._tell = machine.tell
        self._analysis = Analysis(machine.graph, machine.model)
        self._views = Views(machine.graph, machine.model, self._analysis, machine.tell)
        self._comparison: Stepper | None = None

    # ------------------------------------------------------------------ actions

    def forward(self) -> bool:
        """Compute the next graph node (or start the next sample, skipping the rest)."""
        return self._machine.do(Action.FORWARD)

    def backward(self) -> bool:
        """Run the backward function of the next operation, last to first."""
        return self._machine.do(Action.BACKWARD)

    def update(self) -> bool:
        """``w.data = w.data - a * w.grad.data`` for every parameter."""
        return self._machine.do(Action.UPDATE)

    def zero(self) -> bool:
        """``w.grad.data.zero_()`` for every parameter."""
        return self._machine.do(Action.ZERO)

    def next(self) -> bool:
        """The micro-step that naturally comes next (in the current modes)."""
        if self._machine.state.phase is Phase.DONE:
            self._machine.message = self._say.finished(self.lesson.epochs)
            return False
        return self._machine.do(self._machine.natural())

    @property
    def modes(self) -> Modes:
        return self._machine.modes

    # ------------------------------------------------------------- the machine's state

    @property
    def lesson(self) -> Lesson:
        """The lesson as it is now (an edit changes its learning rate or data)."""
        return self._machine.lesson

    @property
    def params(self) -> dict[str, torch.Tensor]:
        """The parameter tensors (the note's ``w``), shared with the model."""
        return self._machine.params

    @property
    def program(self) -> Program:
        """The lesson as the PyTorch program the current modes run."""
        return self._machine.program

    @property
    def watching(self) -> bool:
        """Someone else steps this lesson (a student following the teacher): the
        messages say what the next step does, not which key does it."""
        return self._machine.watching

    @watching.setter
    def watching(self, on: bool) -> None:
        self._machine.watching = on

    @property
    def after_step(self) -> Callable[[], None] | None:
        """Called after each micro-step that changed the state, replays included."""
        return self._machine.after_step

    @after_step.setter
    def after_step(self, call: Callable[[], None] | None) -> None:
        self._machine.after_step = call

    def can_edit(self) -> bool:
        """Values can change now: at the start of a training step."""
        return self._machine.can_edit()

    def edit(
        self,
        *,
        lr: float | None = None,
        params: dict[str, float] | None = None,
        x: list[Data] | None = None,
        y: list[Data] | None = None,
    ) -> bool:
        """Change the learning rate, parameter values or data from this step on.

        Allowed at the start of a training step; the history so far stays, and
        the change is undoable. Bad values raise :class:`LessonError`.
        """
        lesson = self.lesson.with_values(lr=lr, x=x, y=y)
        values = {}
        for name, value in (params or {}).items():
            if name not in self.params:
                raise LessonError(_("unknown parameter {name!r}").format(name=name))
            if self.params[name].numel() != 1:
                raise LessonError(
                    _("{name} is a matrix: change it in the lesson file").format(name=name)
                )
            if not math.isfinite(value):
                raise LessonError(_("{name} must be a finite number").format(name=name))
            values[name] = float(value)
        changed = [
            (name, self.params[name].item(), value)
            for name, value in values.items()
            if float32([value]).item() != self.params[name].item()
        ]
        text = self._say.edit_text(
            (self.lesson.lr, lesson.lr) if lesson.lr != self.lesson.lr else None,
            changed,
            lesson.x != self.lesson.x or lesson.y != self.lesson.y,
        )
        return self._machine.do(Edit(lesson, tuple(values.items()), text))

    def toggle_skip_zero(self) -> bool:
        """Never zero the gradient: each backward adds to it. Undoable."""
        return self._machine.do(Action.SKIP_ZERO_MODE)

    def toggle_batch(self) -> bool:
        """Accumulate the gradient over the whole epoch, then update once. Undoable."""
        return self._machine.do(Action.BATCH_MODE)

    def toggle_sum_loss(self) -> bool:
        """The note's pitfall: ``sum += l`` on the loss tensor. Undoable."""
        return self._machine.do(Action.SUM_LOSS_MODE)

    def reset(self) -> bool:
        """Back to the lesson's start. Undoable, like any other step."""
        return self._machine.do(Action.RESET)

    def finish_forward(self) -> bool:
        """Complete the forward pass (starting the next sample if need be)."""
        if not self.forward():
            return False
        return self._repeat(lambda: self._machine.state.phase is Phase.FORWARD, Action.FORWARD)

    def finish_backward(self) -> bool:
        """Complete the backward pass."""
        if not self.backward():
            return False
        return self._repeat(lambda: self._machine.state.phase is Phase.BACKWARD, Action.BACKWARD)

    def train_step(self) -> bool:
        """Run to the start of the next training step (a whole step from a step's start)."""
        start = self._machine.state
        return self._run_naturally(lambda: self._machine.state is start)

    def finish_epoch(self) -> bool:
        """Run to the start of the next epoch."""
        epoch = self._machine.state.epoch
        return self._run_naturally(lambda: self._machine.state.epoch == epoch)

    def run_epochs(self, n: int) -> bool:
        """Run ``n`` more epoch boundaries (or to the end of the lesson)."""
        target = self._machine.state.epoch + n
        return self._run_naturally(lambda: self._machine.state.epoch < target)

    def run_to_end(self) -> bool:
        """Run every remaining step of the lesson."""
        return self._run_naturally(lambda: True)

    def undo(self) -> bool:
        """Undo the last micro-step, or the last jump as a whole, restoring every
        tensor exactly."""
        timeline = self._timeline
        if timeline.jumps and timeline.jumps[-1].at == len(timeline.log):
            self._undo_jump()
            return True
        if not timeline.log:
            self._machine.message = self._say.nothing_to_undo()
            return False
        undone = action_of(timeline.log[-1])
        self._replay(*timeline.rewind())
        self._machine.message = self._tell.undone(undone.name.lower())
        return True

    # ------------------------------------------------------------- time travel

    def undo_step(self) -> bool:
        """Back to the start of this training step, or of the previous one when at a
        step's start. One unit for :meth:`undo`."""
        timeline = self._timeline
        steps, here = len(timeline.records), len(timeline.log)
        if timeline.base:
            self._machine.message = self._say.nothing_to_undo()
            return False
        start = timeline.step_start(steps)
        if here > start:
            return self._jump_back(start, whole_step=True)
        if steps == 0:
            if here == 0:
                self._machine.message = self._say.nothing_to_undo()
            else:
                self._machine.message = self._tell.at_first_step(after_reset=True)
            return False
        return self._jump_back(timeline.step_start(steps - 1), whole_step=True)

    def jump_to(self, step: int) -> bool:
        """To the start of the step after ``step`` training steps (0: the lesson's start).

        Backward, it restores the state of that moment of the run (as it was run,
        since the last reset); forward, it takes every natural micro-step to get
        there, exactly as stepping would. One unit for :meth:`undo`.
        """
        timeline = self._timeline
        steps, here = len(timeline.records), len(timeline.log)
        if step < 0 or timeline.base:
            self._machine.message = self._tell.no_such_step(step)
            return False
        if step < steps or (step == steps and here > timeline.step_start(steps)):
            return self._jump_back(timeline.step_start(step))
        if step == steps:
            self._machine.message = self._tell.already_at_step(steps, self.phase is Phase.DONE)
            return False
        if self.phase is Phase.DONE:
            self._machine.message = self._tell.no_such_step(step, steps)
            return False
        return self._jump_forward(lambda: len(timeline.records) < step, step)

    def jump_to_start(self) -> bool:
        """Home: the lesson's start (step 0), as one unit for :meth:`undo`."""
        return self.jump_to(0)

    def jump_to_epoch_end(self) -> bool:
        """End: the rest of this epoch, as one unit for :meth:`undo`."""
        if self.phase is Phase.DONE:
            self._machine.message = self._say.finished(self.lesson.epochs)
            return False
        epoch = self._machine.state.epoch
        return self._jump_forward(lambda: self._machine.state.epoch == epoch, None)

    def _jump_forward(self, more: Callable[[], bool], wanted: int | None) -> bool:
        timeline = self._timeline
        before = len(timeline.log)
        self._machine.message = self._machine.run(more)
        if len(timeline.log) == before:
            return False  # pragma: no cover - a step that is not done always has a micro-step
        timeline.jumps.append(Jump(len(timeline.log), before, [], []))
        steps, done = len(timeline.records), self.phase is Phase.DONE
        if wanted is not None and steps < wanted:
            self._machine.message = self._tell.jump_stopped(steps, wanted)
        elif self._machine.message is None or self._machine.message.kind is Kind.STEP:
            self._machine.message = self._tell.jumped(steps, done)
        return True

    def _jump_back(self, target: int, whole_step: bool = False) -> bool:
        checkpoint, replay, jump = self._timeline.cut(target)
        self._replay(checkpoint, replay)
        self._timeline.jumps.append(jump)
        self._machine.message = self._tell.jumped(
            len(self._timeline.records), self.phase is Phase.DONE, whole_step
        )
        return True

    def _undo_jump(self) -> None:
        timeline = self._timeline
        jump = timeline.jumps.pop()
        if jump.before < jump.at:  # forward: back to where it started
            self._replay(*timeline.rewind(jump.before))
        else:
            self._replay(*timeline.uncut(jump))
        self._machine.message = self._tell.jump_undone(
            len(timeline.records), self.phase is Phase.DONE
        )

    def _replay(self, checkpoint: Checkpoint, replay: list[Entry]) -> None:
        self._machine.restore(checkpoint)
        for entry in replay:
            if not self._machine.do(entry):  # pragma: no cover - replay is deterministic
                raise RuntimeError(f"replay of {action_of(entry).name} failed")

    # ----------------------------------------------------------------- queries

    @property
    def phase(self) -> Phase:
        return self._machine.state.phase

    @property
    def epoch(self) -> int:
        """0-based epoch of the current training step."""
        return self._machine.state.epoch

    @property
    def sample(self) -> int:
        """0-based sample index of the current training step."""
        return self._machine.state.sample

    @property
    def records(self) -> tuple[StepRecord, ...]:
        """Every finished training step so far."""
        return tuple(self.iter_records())

    @property
    def steps_done(self) -> int:
        return self._timeline.steps

    @property
    def message(self) -> Message | None:
        return self._machine.message

    @property
    def micro_steps(self) -> int:
        return len(self._timeline.log)

    def iter_records(self, start: int = 0) -> Iterator[StepRecord]:
        """Records from index ``start`` on, built as they are read."""
        nodes = tuple(node.name for node in self._machine.graph.nodes)
        return self._timeline.iter_records(self.lesson.param_names, nodes, start)

    def last_record(self) -> StepRecord | None:
        """The latest finished training step, if any (without building the others)."""
        n = self._timeline.steps
        return next(self.iter_records(n - 1), None) if n else None

    def history(self) -> tuple[History, History]:
        """First parameter and loss of every finished step, as they are now."""
        return self._timeline.history()

    def stream_records(self) -> Iterator[StepRecord]:
        """Run to the end, yielding each training step's record as it is finished.

        Nothing is kept behind (memory stays flat however many steps: ``bptui
        trace`` writes a million); so nothing of the run can be undone or jumped
        back to afterwards. The last record stays for :meth:`last_record`.
        """
        timeline = self._timeline
        while self._machine.state.phase is not Phase.DONE:
            start = timeline.steps
            if not self.train_step():  # pragma: no cover - a step not done always runs
                break
            yield from self.iter_records(start)
            timeline.forget()

    def snapshot(self) -> Snapshot:
        """A frozen picture of the current state (plain floats only)."""
        state = self._machine.state
        moment = Moment(
            self.lesson,
            self.program,
            state,
            self._machine.last,
            self._machine.natural() if state.phase is not Phase.DONE else None,
            self._machine.message,
            self._machine.modes,
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
        return self._analysis.loss_curve(self._machine.state, name, grid, params, x, y)

    def plot_curve(self, snap: Snapshot) -> PlotCurve:
        """The loss curve to plot for ``snap``: the first parameter's grid, the losses
        and the run's point on the curve."""
        return self._analysis.plot_curve(self._machine.state, snap)

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
        label = _("per-sample SGD") if snap.modes.batch else _("with zeroing")
        return (label, *ref.history())

    # ------------------------------------------------------- compound commands

    def _repeat(self, more: Callable[[], bool], action: Action) -> bool:
        first = (
            self._machine.message
            if self._machine.message and self._machine.message.kind is not Kind.STEP
            else None
        )
        important = self._machine.run(more, action, first)
        if important is not None:
            self._machine.message = important
        return True

    def _run_naturally(self, more: Callable[[], bool]) -> bool:
        if self._machine.state.phase is Phase.DONE:
            self._machine.message = self._say.finished(self.lesson.epochs)
            return False
        self._machine.message = self._machine.run(more)
        return True
