"""What a student can ask the engine to do, and what naturally comes next. No torch.

Compound commands (finish the pass, a whole training step, an epoch) are
sequences of these micro-steps; undo replays them from a checkpoint.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .snapshot import BACKWARD as _BACKWARD
from .snapshot import FORWARD as _FORWARD
from .snapshot import UPDATE as _UPDATE
from .snapshot import ZERO as _ZERO
from .snapshot import Modes, Phase, Saying
from .spec import Lesson


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
class Edit:
    """A logged change of lesson values (lr, data, parameter values) at a step's start."""

    lesson: Lesson
    params: tuple[tuple[str, float], ...]
    #: What the edit changed, said in the language of the moment (see ``Teacher.edit_text``).
    text: Saying
    action: Action = Action.EDIT


#: An entry of the undo log: a micro-step, or an edit with its values.
Entry = Action | Edit

#: The phases a training step passes through, each with its own micro-step.
STEP_PHASES = (Phase.FORWARD, Phase.BACKWARD, Phase.UPDATE, Phase.ZERO)


def action_of(entry: Entry) -> Action:
    """The action an undo-log entry stands for."""
    return entry.action if isinstance(entry, Edit) else entry


#: Members by plain name for natural_action, on the hot path of a long run: reading
#: a member from its Enum class costs ~70 ns on CPython 3.11 (EnumType's hook).
_STEP_ACTIONS = (Action.FORWARD, Action.BACKWARD, Action.UPDATE, Action.ZERO, Action.NEXT_SAMPLE)


def natural_action(phase: Phase, modes: Modes, sample: int, lesson: Lesson) -> Action:
    """The micro-step that naturally comes next in ``phase`` (not DONE), in these modes,
    at 0-based ``sample`` of ``lesson``."""
    forward, backward, update, zero, next_sample = _STEP_ACTIONS
    if phase is _ZERO and modes.skip_zero:
        return next_sample  # go on without zeroing
    if phase is _UPDATE and modes.batch and sample < lesson.n_samples - 1:
        return next_sample  # the update waits for the epoch's last sample
    # Identity tests, not a dict: hashing a plain Enum runs Python code, and this
    # is called for every micro-step of a long run.
    if phase is _FORWARD:
        return forward
    if phase is _BACKWARD:
        return backward
    if phase is _UPDATE:
        return update
    return zero
