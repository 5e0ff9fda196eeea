"""The rules of a training step: what each micro-step does, in order or out of it.

:class:`StepMachine` holds the state of a lesson's run (the model's tensors,
the step in progress, the modes, the timeline) and carries out one logged
micro-step at a time, saying why when it refuses or when torch does something
worth a look. :class:`~.engine.Stepper` holds one and builds the public API with it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import ClassVar

import torch

from ..i18n import language
from .actions import Action, Edit, Entry, natural_action
from .graph import LessonGraph
from .program import Program, build_program
from .snapshot import BACKWARD as _BACKWARD
from .snapshot import DONE as _DONE
from .snapshot import FORWARD as _FORWARD
from .snapshot import UPDATE as _UPDATE
from .snapshot import ZERO as _ZERO
from .snapshot import Kind, Message, Modes, Phase
from .spec import Lesson
from .teaching import Teacher
from .timeline import Checkpoint, Timeline
from .torch_step import StepState, TorchModel, finite, plain
from .values import Value, all_finite, nonzero

#: The machine's message as its handler left it, read past mypy's narrowing of a
#: cleared attribute (a C call; ``typing.cast`` is a Python one, on the hot path).
_message_of: Callable[[StepMachine], Message | None] = operator.attrgetter("message")


def _outranks(message: Message, important: Message | None) -> bool:
    """Whether a run keeps ``message`` over the one it kept: anything but narration,
    unless the one kept is the run's first divergence (the cause; what follows is
    its consequence)."""
    return message.kind is not Kind.STEP and (
        important is None or important.kind is not Kind.DIVERGED
    )


class StepMachine:
    """One lesson's run, advanced one micro-step at a time. Each step returns True
    when it changed the state; undo replays the log of these."""

    #: Called after each micro-step that changed the state, replays included: an
    #: interface that says every micro-step of a compound command (the app's
    #: ``--narrate`` for ``F``, ``B``, ``s``, ``e``) sets it for that command only.
    after_step: Callable[[], None] | None = None
    #: Inside a run of whole training steps no one sees (see :meth:`run`): the
    #: backward micro-steps skip the gradient each operation passes down.
    lean = False

    def __init__(self, lesson: Lesson, labels: Mapping[str, str] | None = None) -> None:
        self.lesson = lesson
        self.say = Teacher(labels)
        self.tell = self.say.narrator
        self.graph = graph = LessonGraph(lesson)
        self.model = model = TorchModel(lesson, graph)
        #: The parameter tensors (the note's ``w``), shared with the model.
        self.params: dict[str, torch.Tensor] = model.params
        self.timeline = Timeline()
        self.state = StepState(lesson, 0, 0)
        self.modes = Modes()
        self.last: Action | None = None
        self.message: Message | None = None
        #: The program as the lesson, modes and language it was written for last give it.
        self._program = (lesson, self.modes, language(), build_program(lesson))
        #: The last divergence message and how to say it again with the values as
        #: they are now (see :meth:`refresher`).
        self._refresh: tuple[Message, Callable[[], Message]] | None = None
        self.timeline.start(self._capture(0), self.state)
        #: A whole training step's natural micro-steps (no mode skips one), with
        #: their handlers: a lean run takes them without asking for each.
        handlers = self._HANDLERS
        self._whole_step = tuple(
            (action, handlers[action])
            for action in (Action.FORWARD,) * len(graph.nodes)
            + (Action.BACKWARD,) * len(graph.backward_steps)
            + (Action.UPDATE, Action.ZERO)
        )

    @property
    def program(self) -> Program:
        """The lesson as the PyTorch program the current modes run."""
        lesson, modes, spoken, program = self._program
        if lesson is not self.lesson or modes != self.modes or spoken != language():
            program = build_program(self.lesson, self.modes)
            self._program = (self.lesson, self.modes, language(), program)
        return program

    @property
    def watching(self) -> bool:
        """Someone else steps this lesson (a student following the teacher): the
        messages say what the next step does, not which key does it."""
        return self.tell.watching

    @watching.setter
    def watching(self, on: bool) -> None:
        self.tell.watching = on

    def can_edit(self) -> bool:
        """Values can change now: at the start of a training step."""
        return self.state.phase is Phase.FORWARD and self.state.at_start

    # ------------------------------------------------------------- micro-steps

    def natural(self) -> Action:
        state = self.state
        return natural_action(state.phase, self.modes, state.sample, self.lesson)

    def do(self, entry: Entry) -> bool:
        self.message = None
        timeline = self.timeline
        if isinstance(entry, Edit):
            if not self._act_edit(entry):
                return False
            self.last = Action.EDIT
            timeline.log.append(entry)
        else:
            if not self._HANDLERS[entry](self):
                return False
            self.last = entry
            timeline.log.codes.append(entry)  # Log.append's work, without its call
        state = self.state
        if state is not timeline.step_seen:  # the action began a new training step
            timeline.began(entry, state, state.fwd == 0, self._capture)
        if self.after_step is not None:
            self.after_step()
        return True

    def _begin_sample(self, epoch: int, sample: int) -> None:
        self.state = StepState(self.lesson, epoch, sample, self.state.x_tensor)

    def _capture(self, index: int) -> Checkpoint:
        state, timeline, model = self.state, self.timeline, self.model
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
            modes=self.modes,
            lesson=self.lesson,
            loss_sum=None if model.loss_sum is None else model.loss_sum.item(),
            kept_nodes=model.kept_nodes,
        )

    def restore(self, checkpoint: Checkpoint) -> None:
        self.model.set_values(checkpoint.data, checkpoint.grads)
        self.modes = checkpoint.modes
        self.lesson = checkpoint.lesson
        self.model.restore_loss_sum(checkpoint.loss_sum, checkpoint.kept_nodes)
        self._begin_sample(checkpoint.epoch, checkpoint.sample)
        self.timeline.restored(checkpoint, self.state)
        self.last = self.timeline.last_action()

    def _grads(self) -> list[tuple[str, Value | None]]:
        return [(n, None if p.grad is None else plain(p.grad)) for n, p in self.params.items()]

    # The micro-steps. Each returns True if it changed the state.

    def _act_forward(self) -> bool:
        state = self.state
        phase = state.phase
        if phase is _FORWARD:
            out = self.model.forward_op(state)
            if state.phase is _BACKWARD:  # the loss is computed
                if self.modes.sum_loss:
                    self.model.add_to_loss_sum(out)
                if not math.isfinite(state.loss_value):  # type: ignore[arg-type]
                    self.message = self._nonfinite_message()
            return True
        if phase is _DONE:
            self.message = self.say.finished(self.lesson.epochs)
            return False
        if phase is _BACKWARD:
            self.message = self.say.forward_during_backward(state.bwd > 0)
            return False
        # UPDATE or ZERO: on to the next sample, and its first op.
        self._act_next_sample()
        if self.state.phase is _DONE:
            return True
        skipped = self.message
        self._act_forward()
        self.message = skipped
        return True

    def _act_backward(self) -> bool:
        state = self.state
        phase = state.phase
        if phase is _BACKWARD:
            if self.model.backward_op(state, self.lean):
                before = self.model.real_backward(state)
                accumulated = [n for n, v in before.items() if nonzero(v)]
                if accumulated and not self.modes.batch:
                    self.message = self.say.accumulated(accumulated, before, state.grads_after)
            return True
        if phase is _DONE:
            self.message = self.say.finished(self.lesson.epochs)
            return False
        if phase is _FORWARD:
            self.message = self.say.backward_before_loss()
            return False
        # UPDATE or ZERO: loss.backward() again, on a graph already freed.
        try:
            before = self.model.backward_again(state)
        except RuntimeError as error:
            self.message = self.say.backward_twice(str(error))
            return False
        self.message = self.say.accumulated(before, before, state.grads_after, again=True)
        return True

    def _act_update(self) -> bool:
        state = self.state
        phase = state.phase
        if phase is _DONE:
            self.message = self.say.finished(self.lesson.epochs)
            return False
        params = self.params
        if not any([p.grad is not None for p in params.values()]):
            self.message = self.say.update_without_grad(self.lesson.param_names[0])
            return False
        if phase in (_FORWARD, _BACKWARD):
            self.message = self.say.update_before_backward(self._grads())
            return False
        if phase is _ZERO:
            self.message = self.say.update_twice()
            return False
        was_finite = all([all_finite(v) for v in state.params_before.values()])
        self.model.update(self.lesson.lr)
        state.phase = _ZERO
        if not all([finite(p) for p in params.values()]):
            self.message = self._update_not_finite(was_finite)
        return True

    def _update_not_finite(self, was_finite: bool) -> Message:
        """Why the update left a parameter inf or NaN: the cause, never a guess."""
        state = self.state
        shown = [(n, plain(p)) for n, p in self.params.items()]
        if not was_finite:
            return self._still_not_finite()
        if state.loss_value is None or not math.isfinite(state.loss_value):
            return self.say.updated_with_nan(shown)  # the forward pass said why
        grads = self._grads()
        if not all([g is None or all_finite(g) for _, g in grads]):
            return self.say.gradient_not_finite(grads, shown)
        return self._diverged()

    def _still_not_finite(self) -> Message:
        """This step began with a parameter already inf or NaN."""
        message = self.say.still_not_finite(
            [(n, plain(p)) for n, p in self.params.items() if not finite(p)]
        )
        self._refresh = (message, self._still_not_finite)
        return message

    def _diverged(self) -> Message:
        """The learning rate's divergence, with the loss and parameters as they are now."""
        state, losses = self.state, self.timeline.hist_loss
        loss = state.loss_value
        if loss is None and losses:
            loss = losses[-1]  # between steps: the last step's loss
        shown = [(n, plain(p)) for n, p in self.params.items()]
        message = self.say.diverged(loss, shown, self.lesson.lr)
        self._refresh = (message, self._diverged)
        return message

    def refresher(self, message: Message) -> Callable[[], Message] | None:
        """How to say ``message`` again with the values as they are now, if it quotes
        values that later micro-steps change (a divergence names the loss and parameters)."""
        refresh = self._refresh
        return refresh[1] if refresh is not None and refresh[0] is message else None

    def _act_zero(self) -> bool:
        state = self.state
        phase = state.phase
        if phase is _DONE:
            self.message = self.say.finished(self.lesson.epochs)
            return False
        had = self.model.zero(state)
        if had is None:
            self.message = self.say.zero_without_grad(self.lesson.param_names[0])
            return False
        if phase is _ZERO:
            self._end_step()
        elif had:
            self.message = self.say.zeroed_early(before_update=phase is _UPDATE)
        else:  # "Gradient zeroed. Next sample" would be untrue mid-step
            self.message = self.say.zeroed_already()
        return True

    def _act_edit(self, edit: Edit) -> bool:
        if not self.can_edit():
            self.message = self.say.edit_mid_step()
            return False
        self.lesson = edit.lesson
        self.model.set_values({name: [value] for name, value in edit.params})
        self._begin_sample(self.state.epoch, min(self.state.sample, edit.lesson.n_samples - 1))
        self.message = self.say.edited(edit.text)
        return True

    def _act_next_sample(self) -> bool:
        """Leave this sample without the rest of its step (no update, or no zeroing)."""
        phase = self.state.phase
        if phase not in (Phase.UPDATE, Phase.ZERO):
            self.message = self.say.next_sample_too_early()
            return False
        if self.modes.batch and phase is Phase.UPDATE:
            skipped = self.say.batch_waits(self._grads())
        else:
            skipped = self.say.skipped(phase, self._grads())
        self._end_step()
        self.message = skipped
        return True

    def _act_skip_zero_mode(self) -> bool:
        modes = self.modes
        self.modes = Modes(not modes.skip_zero, modes.batch, modes.sum_loss)
        self.message = self.say.skip_zero_mode(self.modes.skip_zero)
        return True

    def _act_batch_mode(self) -> bool:
        modes = self.modes
        self.modes = Modes(modes.skip_zero, not modes.batch, modes.sum_loss)
        self.message = self.say.batch_mode(self.modes.batch)
        return True

    def _act_sum_loss_mode(self) -> bool:
        modes, model = self.modes, self.model
        self.modes = Modes(modes.skip_zero, modes.batch, not modes.sum_loss)
        self.message = self.say.sum_loss_mode(self.modes.sum_loss, model.kept_nodes)
        if not self.modes.sum_loss:
            model.restore_loss_sum(None, 0)
        return True

    def _act_reset(self) -> bool:
        start = self.timeline.checkpoints[0]
        self.lesson = start.lesson
        self.model.set_values(start.data, {})
        self.timeline.clear()
        self.modes = Modes()
        self.model.restore_loss_sum(None, 0)
        self._begin_sample(0, 0)
        self.message = self.tell.reset_done()
        return True

    def _end_step(self) -> None:
        state = self.state
        if state.loss_value is not None:
            self._record(state)
        sample = state.sample + 1
        epoch = state.epoch
        if sample == self.lesson.n_samples:
            sample, epoch = 0, epoch + 1
        self._begin_sample(epoch, sample)

    def _record(self, state: StepState) -> None:
        timeline, py, keys = self.timeline, self.model.py, self.graph.factor_keys
        before = tuple(state.params_before.values())
        loss = state.loss_value
        row = (
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
            len(timeline.log) + 1,  # this micro-step is logged after it runs
        )
        # The plot's point: the first parameter (NaN for a vector) and the loss.
        first = before[0] if isinstance(before[0], float) else math.nan
        timeline.add(row, first, loss)  # type: ignore[arg-type]

    def _nonfinite_message(self) -> Message:
        """Why the loss is inf or NaN: an operation out of its range, or divergence."""
        state, model = self.state, self.model
        if not all([all_finite(v) for v in state.params_before.values()]):
            return self._still_not_finite()
        for index, node in enumerate(self.graph.nodes):
            value = state.values.get(node.name)
            if value is None or bool(torch.isfinite(value).all()):
                continue
            args = [model.arg(state, index, i) for i in range(len(node.args))]
            if not all(finite(a) for a in args):
                break  # a non-finite input: the trouble started earlier (divergence)
            if node.op not in ("log", "div", "bce") and self.timeline.records:
                # An overflow after training steps: the values grew step by step.
                break
            return self.say.out_of_range(
                node.label,
                node.op,
                value.flatten()[0].item(),
                [plain(a) if isinstance(a, torch.Tensor) else a for a in args],
            )
        return self._diverged()

    #: Each micro-step's handler (edits have their own, with the edit's values).
    def run(
        self,
        more: Callable[[], bool],
        action: Action | None = None,
        important: Message | None = None,
    ) -> Message | None:
        """Take micro-steps (``action``, or each time the natural one) while ``more()``;
        the last message worth showing (not mere narration) is kept, so a teaching
        moment inside a run is not lost. The first divergence of a run is kept over
        everything after it: it names the cause (a logarithm of a negative number, say),
        and what follows (NaN parameters, NaN losses) is its consequence."""
        again = self.refresher(important) if important is not None else None
        # A natural run that no one watches step by step is lean (see backward_op).
        # Its ``more()`` changes only as a training step ends (a step, an epoch, a
        # jump's target), and a natural micro-step never fails mid-step (the loss
        # depends on a parameter, so the update and the zeroing find a gradient):
        # such a run stops only at a step's start, where the gradients a lean
        # backward skips are gone anyway, and ``more()`` need only be asked there.
        lean = self.lean = action is None and self.after_step is None
        # Whole steps in a row, where no mode skips a micro-step (a run changes no mode).
        modes = self.modes
        whole = self._whole_step if lean and not (modes.skip_zero or modes.batch) else ()
        timeline, codes = self.timeline, self.timeline.log.codes
        try:
            while (state := self.state).phase is not _DONE and more():
                if not whole or state.fwd or state is not timeline.step_seen:
                    # The natural action without a call of natural(): this loop is
                    # the hot path of a long run (bench/bench_engine.py).
                    entry = (
                        action
                        if action is not None
                        else natural_action(state.phase, self.modes, state.sample, self.lesson)
                    )
                    if not self.do(entry):
                        break
                    message = self.message
                    if message is not None and _outranks(message, important):
                        important = message
                        again = self.refresher(message)
                    continue
                # A whole step from its start: do()'s work for each micro-step,
                # without asking which comes next (the modes skip none of them).
                for entry, handler in whole:
                    self.message = None
                    if not handler(self):  # pragma: no cover - see above
                        break
                    self.last = entry
                    codes.append(entry)
                    message = _message_of(self)  # the handler's (mypy saw it cleared)
                    if message is not None and _outranks(message, important):
                        important = message
                        again = self.refresher(message)
                else:
                    state = self.state
                    timeline.began(Action.ZERO, state, state.fwd == 0, self._capture)
                    continue
                break  # pragma: no cover - see above
        finally:
            self.lean = False
        if again is not None and important is not self.message:
            # Kept from earlier in the run: the values it quotes have moved on since.
            return again()
        return important

    _HANDLERS: ClassVar[dict[Action, Callable[[StepMachine], bool]]] = {
        Action.FORWARD: _act_forward,
        Action.BACKWARD: _act_backward,
        Action.UPDATE: _act_update,
        Action.ZERO: _act_zero,
        Action.RESET: _act_reset,
        Action.SKIP_ZERO_MODE: _act_skip_zero_mode,
        Action.BATCH_MODE: _act_batch_mode,
        Action.SUM_LOSS_MODE: _act_sum_loss_mode,
        Action.NEXT_SAMPLE: _act_next_sample,
    }
