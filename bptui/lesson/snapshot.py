"""Frozen pictures of the engine's state, made of plain floats and strings.

Views render these and nothing else: they never see a tensor, so a view can
neither change the lesson by accident nor hold the autograd graph alive.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TypeAlias, overload

from .values import FLOAT32_STEPS, Value


class Phase(enum.Enum):
    """Where a training step is. The natural order is the order of the members."""

    FORWARD = "forward"
    BACKWARD = "backward"
    UPDATE = "update"
    ZERO = "zero"
    DONE = "done"


# The phases as plain names, for the engine's hot path: on CPython 3.11 reading a
# member from its Enum class (``Phase.DONE``) goes through EnumType's Python-level
# attribute hook, ~70 ns, and a training step tests its phase some forty times.
FORWARD, BACKWARD, UPDATE, ZERO, DONE = (
    Phase.FORWARD,
    Phase.BACKWARD,
    Phase.UPDATE,
    Phase.ZERO,
    Phase.DONE,
)


class Kind(enum.Enum):
    """What a message is about, so a view can weigh it."""

    STEP = "step"  # narration of a normal micro-step
    TEACH = "teach"  # a teaching moment: torch did something worth a look
    REFUSED = "refused"  # the key made no sense now; nothing changed
    DIVERGED = "diverged"  # loss or a parameter is inf or NaN


@dataclass(frozen=True)
class Modes:
    """Ways of training that teach, each toggled on purpose.

    ``skip_zero``: never zero the gradient (it accumulates, as torch does).
    ``batch``: accumulate over every sample of an epoch, then update once.
    ``sum_loss``: the note's pitfall, ``sum += l`` on the loss tensor, which
    keeps every step's graph alive.
    """

    skip_zero: bool = False
    batch: bool = False
    sum_loss: bool = False


#: What a message says: its text, or how to say it (called each time it is shown, so
#: a message already on the screen follows a change of language).
Saying: TypeAlias = "str | Callable[[], str]"


class Message:
    """A sentence of the engine (or the app) and what it is about. ``text`` is worked
    out when it is read, in the language spoken then (see :mod:`bptui.i18n`)."""

    __slots__ = ("_saying", "kind")

    def __init__(self, kind: Kind, text: Saying) -> None:
        self.kind = kind
        self._saying = text

    @property
    def text(self) -> str:
        saying = self._saying
        return saying if isinstance(saying, str) else saying()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self.kind is other.kind and self.text == other.text

    def __hash__(self) -> int:
        return hash((self.kind, self.text))

    def __repr__(self) -> str:
        return f"Message(kind={self.kind!r}, text={self.text!r})"


@dataclass(frozen=True)
class NodeView:
    """One value of the graph: a data column, a parameter, or an operation's output."""

    name: str
    label: str
    kind: str  # "data", "param" or "op"
    op: str | None
    symbol: str | None
    #: Labels of the inputs (constants as written, e.g. "2").
    args: tuple[str, ...]
    #: A number, or nested lists for a vector or matrix; None until computed.
    value: Value | None
    #: ∂loss/∂(this value), once the backward pass has reached it.
    grad: Value | None
    #: torch's backward node for this value: "MulBackward0", "AccumulateGrad", …
    grad_fn: str | None
    requires_grad: bool
    current: bool
    #: Names of the input values (None for a constant such as the 2 in r²).
    inputs: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class FactorView:
    """One local derivative ∂out/∂wrt: the formula and torch's number."""

    out: str
    wrt: str
    out_label: str
    wrt_label: str
    formula: str
    #: The formula worked out on plain floats (the hand check).
    formula_value: float | None
    #: torch's number (from the op's own backward function); None until reached.
    value: Value | None

    @property
    def name(self) -> str:
        return f"∂{self.out_label}/∂{self.wrt_label}"

    @property
    def agrees(self) -> bool | None:
        if not isinstance(self.value, float) or self.formula_value is None:
            return None  # not reached, or a vector (hand formulas are for numbers)
        return _close(self.value, self.formula_value)


@dataclass(frozen=True)
class ChainView:
    """∂loss/∂param as a sum over paths of products of local derivatives."""

    param: str
    label: str
    paths: tuple[tuple[FactorView, ...], ...]
    #: The product of torch's factors, summed over paths (None until all are known).
    product: float | None
    #: ∂loss/∂param as torch's backward functions passed it down: what backward()
    #: adds to ``param.grad`` for this sample (None until reached).
    torch_grad: Value | None
    #: ``param.grad`` as torch holds it (differs from torch_grad when it accumulated).
    param_grad: Value | None
    #: A central finite difference of the loss, computed by torch in float64.
    finite_diff: float | None
    #: How the loss is shown ("loss"; "L" in the single-node lesson).
    loss_label: str = "loss"
    #: A vector or matrix parameter: one chain per element, ``∂loss/∂W[i,j] =
    #: ∂loss/∂z1[i] · x[j]``, in row-major order (empty for a number).
    elements: tuple[ChainView, ...] = ()
    #: The whole gradient of a vector or matrix in one line: ``∂loss/∂W = (∂loss/∂z1) xᵀ``.
    form: str = ""
    #: How far float32 rounding can move torch's gradient here: how much the float64
    #: finite difference changes when the value moves by a few float32 steps.
    fd_resolution: float = 0.0

    @property
    def verified(self) -> bool:
        """Product, torch, finite difference and every hand formula all agree."""
        return bool(self.agree) and all(f.agrees for path in self.paths for f in path)

    @property
    def agree(self) -> bool | None:
        """The product is torch's gradient, and the finite difference agrees with it
        (or is below float32's resolution: see :attr:`below_resolution`)."""
        if self.product is None or self.finite_diff is None:
            return None
        if not isinstance(self.torch_grad, float):
            return None  # not reached yet (a finite difference is only taken for numbers)
        return _close(self.product, self.torch_grad) and (self.fd_agrees or self.below_resolution)

    @property
    def fd_agrees(self) -> bool:
        """torch's gradient and the finite difference agree to 1 part in 1000."""
        if not isinstance(self.torch_grad, float) or self.finite_diff is None:
            return False
        return _close(self.torch_grad, self.finite_diff, rel=1e-3, abs_=1e-9)

    @property
    def below_resolution(self) -> bool:
        """torch's gradient and the finite difference differ, but by less than float32
        rounding can move the gradient: the check cannot tell (near the minimum, where
        the loss is ~1e-12). Not agreement, and not a wrong gradient either."""
        if self.fd_agrees or not isinstance(self.torch_grad, float):
            return False
        if self.finite_diff is None or not math.isfinite(self.finite_diff):
            return False
        # torch's own rounding of the chain's terms (b/b's gradient: 1/b − b/b², in
        # float32 not quite 0), beside how far rounding the value can move it.
        terms = sum(
            abs(math.prod(f.value for f in path))  # type: ignore[misc]
            for path in self.paths
            if all(isinstance(f.value, float) for f in path)
        )
        rounding = FLOAT32_STEPS * math.ldexp(terms, -23)
        return abs(self.torch_grad - self.finite_diff) <= max(self.fd_resolution, rounding)


@dataclass(frozen=True)
class ParamView:
    """What ``print(w)``, ``w.grad`` and friends would show, as floats."""

    name: str
    data: Value
    grad: Value | None
    requires_grad: bool = True
    is_leaf: bool = True


@dataclass(frozen=True)
class PlotCurve:
    """One sample's loss as a function of the first parameter, and where the run is on it."""

    ws: tuple[float, ...] = ()
    losses: tuple[float, ...] = ()
    #: (w, loss) on this curve: once the forward pass has computed the sample's loss,
    #: that loss (torch's) at the parameters it was computed with; before, the curve's
    #: own value at the current parameters. None where there is no curve.
    point: tuple[float, float] | None = None


class History(Sequence[float]):
    """The first ``n`` values of a list the engine only ever appends to.

    A snapshot is taken on every key, and copying a 30,000-step history each time
    cost more than the rest of the snapshot. A view is as good as a copy because
    the engine never changes a value it has appended: to go back (undo) it starts
    a new list from the old one's prefix, leaving the old list, and every view of
    it, as it was.
    """

    __slots__ = ("_items", "_n")

    def __init__(self, items: Sequence[float] | None = None, n: int | None = None) -> None:
        self._items: Sequence[float] = () if items is None else items
        self._n = len(self._items) if n is None else n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[float, ...]: ...
    def __getitem__(self, index: int | slice) -> float | tuple[float, ...]:
        if isinstance(index, slice):
            return tuple(self._items[i] for i in range(*index.indices(self._n)))
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError("history index out of range")
        return self._items[index]

    def __iter__(self) -> Iterator[float]:
        return islice(self._items, self._n)

    def extends(self, other: History) -> bool:
        """Whether this is ``other`` with values appended since (or the same): a view
        of the same list, at least as long (the list's values never change)."""
        return self._items is other._items and self._n >= other._n

    def __eq__(self, other: object) -> bool:
        if isinstance(other, History) and other._items is self._items:
            return other._n == self._n
        if isinstance(other, Sequence):
            return len(other) == self._n and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))  # it stands for the tuple it saves copying


@dataclass(frozen=True)
class Snapshot:
    """Everything a view needs to draw the lesson at one moment."""

    lesson: str
    title: str
    epoch: int  # 1-based
    epochs: int
    sample: int  # 1-based
    n_samples: int
    x: Value
    y: Value
    lr: float
    phase: Phase
    phase_step: int  # micro-steps done in this phase
    phase_steps: int  # micro-steps this phase has
    micro_steps: int  # micro-steps done since the start
    steps_done: int  # training steps completed
    nodes: tuple[NodeView, ...]
    chains: tuple[ChainView, ...]
    params: tuple[ParamView, ...]
    loss: float | None
    residual: Value | None
    loss_grad_fn: str | None
    graph_freed: bool
    code: tuple[str, ...]
    #: Lines of ``code`` run by the last micro-step, and by the next one.
    code_ran: tuple[int, ...]
    code_next: tuple[int, ...]
    #: What the last micro-step did, in torch: ``ŷ = x_val * w``, ``l.backward()``…
    last_source: str | None
    message: Message | None
    #: First parameter (before its update) and loss of each finished training step…
    history_w: History
    history_loss: History
    #: …and for the current sample once its loss is computed, as the note records it.
    current_point: tuple[float, float] | None
    can_undo: bool
    finished: bool
    #: Every local derivative of the graph, in the order the backward pass meets them.
    factors: tuple[FactorView, ...] = field(default=())
    modes: Modes = field(default_factory=Modes)
    #: In sum_loss mode: the summed loss tensor's value, and how many autograd
    #: nodes it keeps alive (counted in torch's graph as each loss was added).
    loss_sum: float | None = None
    kept_nodes: int = 0
    #: The lesson file's ``[narration]`` line for the phase of this step, if it has one.
    narration: str | None = None
    #: How the loss is named ("loss"; "L", a stand-in for the layers above, in the
    #: single-node lesson) and whether the lesson has targets y at all.
    loss_label: str = "loss"
    has_target: bool = True

    def node(self, name: str) -> NodeView:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def param(self, name: str) -> ParamView:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)


def _close(a: float, b: float, rel: float = 1e-5, abs_: float = 1e-6) -> bool:
    if a != a or b != b:  # NaN agrees with nothing, itself included
        return False
    if a == b:
        return True
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_)
