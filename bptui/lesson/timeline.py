"""What has happened: finished steps' records, the plot's history, the undo log and
the checkpoints undo restores from. No torch: a checkpoint holds plain numbers."""

from __future__ import annotations

import marshal
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, overload

from .actions import Action, Edit, Entry, action_of
from .snapshot import History, Modes, Phase
from .spec import Lesson
from .values import MaybeValue, Value

#: Undo restores the last checkpoint and replays from it. One checkpoint every
#: few training steps keeps long runs cheap while an undo replays at most a few
#: dozen micro-steps (well under a millisecond each).
CHECKPOINT_EVERY = 8


@dataclass(frozen=True)
class StepRecord:
    """One finished training step, as plain numbers (what ``bptui trace`` writes)."""

    step: int
    epoch: int
    sample: int
    x: Value
    y: Value
    #: Parameters when the loss was computed (what the note's ``ll_w`` records).
    params: dict[str, Value]
    nodes: dict[str, Value]
    loss: float
    #: Local derivatives keyed ``d<out>/d<wrt>``, e.g. ``dloss/dr``.
    factors: dict[str, Value]
    #: ``param.grad`` after this step's backward (accumulated if not zeroed).
    grads: dict[str, MaybeValue]
    params_after: dict[str, Value]

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


#: A finished step as the engine keeps it: a flat tuple of plain values. Fields:
#: epoch, sample, x, y, params, node values, factor layout (an index into the
#: timeline's shared name tuples), factors, grads, params after, loss, and the
#: length of the undo log just after the micro-step that finished it (where a
#: jump to this step lands). The newest rows stay tuples; a full block of them is
#: packed by ``marshal`` (floats as 8 exact bytes each: a float object and its
#: pointer take 32) and compressed, once per block rather than once per step.
Row = tuple[Any, ...]

#: Rows packed together once this many are finished: a block of similar rows
#: compresses ~5-30x (the seed lesson's 140-byte rows to ~5 bytes each).
BLOCK = 512
#: Checkpoints kept at full density (one every CHECKPOINT_EVERY steps) behind the
#: newest; older ones are thinned to about one per OLD_SPACING logged actions, so
#: a jump far back replays at most that many (tens of milliseconds).
RECENT = 128
OLD_SPACING = 512


class Records:
    """The finished steps' rows, in order: the newest as they are, older ones
    packed into zlib-compressed blocks of :data:`BLOCK` rows. Reads like a list
    of :data:`Row`; only a tail is ever dropped (undo), or all but the last
    (a streamed run)."""

    __slots__ = ("_blocks", "_cache", "_tail")

    def __init__(self) -> None:
        self._blocks: list[bytes] = []
        self._tail: list[Row] = []
        self._cache: tuple[bytes, tuple[Row, ...]] | None = None

    def __len__(self) -> int:
        return len(self._blocks) * BLOCK + len(self._tail)

    def _block(self, b: int) -> tuple[Row, ...]:
        packed = self._blocks[b]
        cache = self._cache
        if cache is None or cache[0] is not packed:
            cache = self._cache = (packed, marshal.loads(zlib.decompress(packed)))
        return cache[1]

    def __getitem__(self, i: int) -> Row:
        if i < 0:
            i += len(self)
        b, r = divmod(i, BLOCK)
        if b < len(self._blocks):
            return self._block(b)[r]
        return self._tail[i - len(self._blocks) * BLOCK]

    def append(self, row: Row) -> None:
        tail = self._tail
        tail.append(row)
        if len(tail) == BLOCK:
            self._blocks.append(zlib.compress(marshal.dumps(tuple(tail)), 1))
            self._tail = []

    def truncate(self, n: int) -> None:
        """Keep the first ``n`` rows."""
        sealed = len(self._blocks) * BLOCK
        if n >= sealed:
            del self._tail[n - sealed :]
            return
        b = n // BLOCK
        rows = self._block(b)
        del self._blocks[b:]
        self._tail = list(rows[: n - b * BLOCK])

    def copy(self) -> Records:
        """A copy that shares the packed blocks (they never change)."""
        other = Records()
        other._blocks = self._blocks[:]
        other._tail = self._tail[:]
        return other

    def become(self, other: Records) -> None:
        """Hold exactly the rows of ``other`` (a :meth:`copy` of an earlier state)."""
        self._blocks = other._blocks[:]
        self._tail = other._tail[:]

    def keep_last(self) -> int:
        """Drop every row but the last; how many were dropped."""
        n = len(self)
        if n > 1:
            last = self[n - 1]
            self._blocks, self._tail = [], [last]
        return max(n - 1, 0)


#: The undo log's byte for each action (an edit's values are kept beside it).
_ACTIONS = tuple(Action)
_RESET = bytes([Action.RESET])
#: The actions after which a step's clean start always takes a checkpoint.
_CHECKPOINT_AFTER = (Action.RESET, Action.EDIT)


class Log:
    """The undo log: one byte per micro-step (a list of references took eight),
    with each edit's values kept by position. Indexing and slicing read like a
    list of :data:`Entry`."""

    __slots__ = ("_codes", "_edits", "codes")

    def __init__(self) -> None:
        self._codes = bytearray()
        #: The bytes themselves: the machine appends an action's code here directly,
        #: one C call on the hot path of a long run instead of a Python method.
        self.codes = self._codes
        self._edits: dict[int, Edit] = {}

    def __len__(self) -> int:
        return len(self._codes)

    def append(self, entry: Entry) -> None:
        if isinstance(entry, Edit):
            self._edits[len(self._codes)] = entry
            self._codes.append(Action.EDIT)
        else:
            self._codes.append(entry)

    def extend(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            self.append(entry)

    def _entry(self, i: int) -> Entry:
        code = self._codes[i]
        return self._edits[i] if code == Action.EDIT else _ACTIONS[code]

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...
    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        if isinstance(index, slice):
            return [self._entry(i) for i in range(*index.indices(len(self._codes)))]
        return self._entry(index + len(self._codes) if index < 0 else index)

    def __delitem__(self, index: slice) -> None:
        """Only a tail (``del log[n:]``) is ever dropped."""
        start = index.indices(len(self._codes))[0]
        del self._codes[start:]
        for i in [i for i in self._edits if i >= start]:
            del self._edits[i]

    def last_reset(self) -> int:
        """Position of the last reset, or -1."""
        return self._codes.rfind(_RESET)


@dataclass
class Jump:
    """A jump the undo key takes back as one unit: the log was ``before`` entries
    long and is ``at`` long just after the jump.

    A forward jump (``at > before``) is undone by going back to ``before``. A
    backward jump (``at < before``) cut the log: what it cut (the entries, the
    checkpoints after ``at``, and ``records`` as it was, ``saved``) comes back
    when it is undone, so the way back is a checkpoint restore and a short
    replay, however long the jump.
    """

    at: int
    before: int
    tail: list[Entry]
    checkpoints: list[Checkpoint]
    records: Records | None = None
    saved: Records | None = None


@dataclass(slots=True)
class Checkpoint:
    """The full state at the start of a training step, after ``index`` logged actions."""

    index: int
    epoch: int
    sample: int
    phase: Phase
    #: Parameter values and gradients as nested lists of floats: exact for float32,
    #: and cheaper to take than tensor clones (one is taken per training step).
    data: dict[str, Any]
    grads: dict[str, Any]
    records: Records
    n_records: int
    #: The plot's history (reset starts new ones; undoing it needs the old).
    hist_w: array[float]
    hist_loss: array[float]
    modes: Modes
    lesson: Lesson
    #: The summed loss (sum_loss mode) as a number; its graphs cannot be saved.
    loss_sum: float | None
    kept_nodes: int


class Timeline:
    """Records, plot history, undo log and checkpoints of one stepper."""

    def __init__(self) -> None:
        self.records = Records()
        self.hist_w = array("d")
        self.hist_loss = array("d")
        self.log = Log()
        self.checkpoints: list[Checkpoint] = []
        #: Jumps (and whole-step undos) the undo key takes back as one, latest last.
        self.jumps: list[Jump] = []
        self._layouts: dict[tuple[str, ...], int] = {}
        self._layout_names: list[tuple[str, ...]] = []
        self._since_checkpoint = 0
        #: The training step (its state object) the last logged action ended in.
        self.step_seen: object = None
        #: Records dropped by :meth:`forget` (a streamed run keeps none behind it).
        self.base = 0

    @property
    def steps(self) -> int:
        """Training steps finished (recorded), forgotten ones included."""
        return self.base + len(self.records)

    def forget(self) -> None:
        """Drop every record but the last, the plot's history with them, the undo
        log and every checkpoint but the lesson's start: a run that streams its
        records out keeps memory flat in the number of steps. Nothing before this
        can be undone or jumped to afterwards."""
        drop = self.records.keep_last()  # in place: the first checkpoint holds it
        if drop > 0:
            del self.hist_w[:drop], self.hist_loss[:drop]
            self.base += drop
        del self.log[:], self.checkpoints[1:], self.jumps[:]

    def start(self, checkpoint: Checkpoint, step: object) -> None:
        """The first checkpoint: the lesson's start, in its first training step."""
        self.checkpoints = [checkpoint]
        self.step_seen = step

    def began(
        self, entry: Entry, step: object, at_start: bool, capture: Callable[[int], Checkpoint]
    ) -> None:
        """The action ``entry``, just logged, began training step ``step`` (it is not
        ``step_seen``, the step the last action ended in): maybe a checkpoint.

        The rule for checkpoints: one is taken when an action has begun a new
        training step (``step`` is not the one the last action ended in) and ended
        at that step's clean start (``at_start``: no op of it run yet): every
        CHECKPOINT_EVERY steps, and after a reset or an edit. A checkpoint restores
        to a step's start, so one taken after ``f`` that began a sample and ran its
        first op would lose that op; the next clean start takes it instead.
        """
        self.step_seen = step
        self._since_checkpoint += 1
        if at_start and (
            self._since_checkpoint >= CHECKPOINT_EVERY or action_of(entry) in _CHECKPOINT_AFTER
        ):
            self._since_checkpoint = 0
            self.checkpoints.append(capture(len(self.log)))
            self._thin()

    def _thin(self) -> None:
        """Old history compacted: the checkpoint leaving the recent window stays
        only if it is OLD_SPACING actions past the last old one kept (the first,
        the lesson's start, always stays). Any subset of checkpoints restores
        exactly; fewer only means longer replays far back."""
        checkpoints = self.checkpoints
        leaving = len(checkpoints) - RECENT - 1
        if leaving >= 1 and (
            checkpoints[leaving].index - checkpoints[leaving - 1].index < OLD_SPACING
        ):
            del checkpoints[leaving]

    def rewind(self, target: int | None = None) -> tuple[Checkpoint, list[Entry]]:
        """Drop the logged actions from ``target`` on (the last one if None): the
        checkpoint to restore and the entries to replay after it."""
        if target is None:
            target = len(self.log) - 1
        while self.checkpoints[-1].index > target:
            self.checkpoints.pop()
        checkpoint = self.checkpoints[-1]
        replay = self.log[checkpoint.index : target]
        del self.log[checkpoint.index :]
        return checkpoint, replay

    def cut(self, target: int) -> tuple[Checkpoint, list[Entry], Jump]:
        """A backward jump to log length ``target``: like :meth:`rewind`, and the
        :class:`Jump` that keeps what was cut, to bring it back if it is undone."""
        before = len(self.log)
        tail = self.log[target:]
        n = len(self.checkpoints)
        while self.checkpoints[n - 1].index > target:
            n -= 1
        cut_off = self.checkpoints[n:]
        checkpoint, replay = self.rewind(target)
        records = checkpoint.records
        return checkpoint, replay, Jump(target, before, tail, cut_off, records, records.copy())

    def uncut(self, jump: Jump) -> tuple[Checkpoint, list[Entry]]:
        """Undo the backward ``jump`` (the log is back at ``jump.at``): the checkpoint
        to restore and the entries to replay to be where the jump started."""
        assert jump.records is not None and jump.saved is not None
        jump.records.become(jump.saved)
        self.log.extend(jump.tail)
        self.checkpoints.extend(jump.checkpoints)
        checkpoint = self.checkpoints[-1]
        replay = self.log[checkpoint.index :]
        del self.log[checkpoint.index :]
        return checkpoint, replay

    def step_start(self, n: int) -> int:
        """The log length at which ``n`` training steps were first done (in the run
        since the last reset): where a jump to step ``n`` lands."""
        if n > 0:
            return int(self.records[n - 1][11])
        return self.log.last_reset() + 1

    def restored(self, checkpoint: Checkpoint, step: object) -> None:
        """Records and history back to ``checkpoint``; ``step`` is the step now current."""
        self.records = checkpoint.records
        self.records.truncate(checkpoint.n_records)
        # New lists from the checkpoint's prefix: snapshots taken since hold views
        # of the old lists (see History), which must not change under them.
        self.hist_w = checkpoint.hist_w[: checkpoint.n_records]
        self.hist_loss = checkpoint.hist_loss[: checkpoint.n_records]
        self.step_seen = step
        self._since_checkpoint = 0

    def clear(self) -> None:
        """A reset: no records, new history lists (undo keeps the old ones)."""
        self.records = Records()
        self.hist_w = array("d")
        self.hist_loss = array("d")

    def last_action(self) -> Action | None:
        return action_of(self.log[-1]) if self.log else None

    def layout(self, keys: tuple[str, ...]) -> int:
        """The index of this set of factor names, so rows hold no copies."""
        index = self._layouts.get(keys)
        if index is None:
            index = self._layouts[keys] = len(self._layout_names)
            self._layout_names.append(keys)
        return index

    def add(self, row: tuple[Any, ...], w: float, loss: float) -> None:
        """A finished step (see :data:`Row`) and its point on the plot."""
        self.records.append(row)
        self.hist_w.append(w)
        self.hist_loss.append(loss)

    def history(self) -> tuple[History, History]:
        """First parameter and loss of every finished step, as they are now."""
        n = len(self.hist_w)
        return History(self.hist_w, n), History(self.hist_loss, n)

    def iter_records(
        self, names: tuple[str, ...], nodes: tuple[str, ...], start: int = 0
    ) -> Iterator[StepRecord]:
        """Records from index ``start`` on, built as they are read."""
        records, base, layouts = self.records, self.base, self._layout_names
        for i in range(max(start - base, 0), len(records)):
            row = records[i]
            epoch, sample, x, y, before, values, layout, factors, grads, after, loss, _ = row
            keys = layouts[layout]
            yield StepRecord(
                step=base + i + 1,
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
