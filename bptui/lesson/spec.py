"""What a lesson is, as plain data, and how its values are checked.

A lesson is data, parameters with initial values, a small graph of operations
ending in the loss, a learning rate and a number of epochs. Everything here is
plain Python (no torch) so that the command line can validate a lesson and
report a bad value before paying for the torch import.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from ..i18n import _
from .ops import OPS, PRECEDENCE, format_number
from .values import Data

#: Upper bounds that keep a run from hanging a classroom machine.
MAX_SAMPLES = 10_000
MAX_EPOCHS = 100_000
MAX_STEPS = 1_000_000

Arg = str | float


class LessonError(ValueError):
    """A lesson value is wrong. The message says which value and how to fix it."""


@dataclass(frozen=True)
class Node:
    """One operation of the model graph: ``name = op(*args)``.

    ``args`` name earlier nodes, data columns (``x``, ``y``) or parameters; a
    float is a constant. ``label`` is how the value is shown (``ŷ`` for ``yhat``).
    """

    name: str
    label: str
    op: str
    args: tuple[Arg, ...]


@dataclass(frozen=True)
class Lesson:
    """A complete, validated lesson. Build it with :func:`make_lesson`."""

    name: str
    title: str
    #: One value per sample: numbers, or vectors (the matrix lesson).
    x: tuple[Data, ...]
    y: tuple[Data, ...]
    params: tuple[tuple[str, Data], ...]
    nodes: tuple[Node, ...]
    lr: float
    epochs: int
    #: How leaves (data columns and parameters) are shown.
    leaf_labels: tuple[tuple[str, str], ...] = ()
    #: The node holding the model's prediction, if the lesson has one.
    prediction: str | None = None
    #: The node holding the residual (prediction − target), if the lesson has one.
    residual: str | None = None
    #: A paragraph for the help and the start screen.
    description: str = ""
    #: Optional text shown in the app for each phase: (phase name, text).
    narration: tuple[tuple[str, str], ...] = ()
    #: A sentence per value (by label), said when the forward pass computes it.
    notes: tuple[tuple[str, str], ...] = ()
    #: Whether x is a tensor that requires grad (so torch computes ∂L/∂x).
    input_grad: bool = False
    #: How the loss was built: "squared", "abs", "bce" or "upstream".
    loss_kind: str = "squared"
    #: The lesson's own words in other languages than English: (language, key, text),
    #: the key being title, description, narration.<phase> or notes.<label>. Read
    #: them in the language spoken with :mod:`.words` (English where none is given).
    words: tuple[tuple[str, str, str], ...] = ()

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.params)

    @property
    def vector_data(self) -> bool:
        """Whether each sample's x and y are vectors (the matrix lesson), not numbers."""
        return isinstance(self.x[0], tuple) or isinstance(self.y[0], tuple)

    @property
    def loss(self) -> Node:
        return self.nodes[-1]

    @property
    def n_samples(self) -> int:
        return len(self.x)

    def label(self, name: str) -> str:
        """How the value called ``name`` is shown to a student."""
        for node in self.nodes:
            if node.name == name:
                return node.label
        return dict(self.leaf_labels).get(name, name)

    def with_values(
        self,
        *,
        x: Iterable[Data] | None = None,
        y: Iterable[Data] | None = None,
        init: Mapping[str, float] | None = None,
        lr: float | None = None,
        epochs: int | None = None,
        options: Mapping[str, str] | None = None,
    ) -> Lesson:
        """The same lesson with some values changed, validated again.

        ``options``: how the caller's user names the values (``{"lr": "--lr"}`` on
        the command line), for the messages; without it they name none.
        """
        params = dict(self.params)
        for name, value in (init or {}).items():
            if name not in params:
                known = ", ".join(params) or _("none")
                raise LessonError(
                    _(
                        "unknown parameter {name}{option}: this lesson's parameters are {known}"
                    ).format(name=repr(name), option=_tag(options, "init"), known=known)
                )
            params[name] = value
        lesson = make_lesson(
            name=self.name,
            title=self.title,
            x=self.x if x is None else x,
            y=self.y if y is None else y,
            params=params,
            nodes=self.nodes,
            lr=self.lr if lr is None else lr,
            epochs=self.epochs if epochs is None else epochs,
            leaf_labels=dict(self.leaf_labels),
            prediction=self.prediction,
            residual=self.residual,
            description=self.description,
            narration=dict(self.narration),
            notes=dict(self.notes),
            input_grad=self.input_grad,
            loss_kind=self.loss_kind,
            options=options,
        )
        return replace(lesson, words=self.words)

    def expression(self, name: str | None = None, names: Mapping[str, str] | None = None) -> str:
        """The node ``name`` (default: the loss) written out as Python source."""
        names = dict(names or {})
        by_name = {node.name: node for node in self.nodes}

        def render(arg: Arg, parent_prec: int, right: bool) -> str:
            if not isinstance(arg, str):
                return format_number(arg)
            if arg not in by_name:
                return names.get(arg, arg)
            node = by_name[arg]
            info = OPS[node.op]
            prec = PRECEDENCE.get(node.op, 9)
            # ``**`` is right-associative; the others are left-associative.
            call = "(" in info.source  # torch.sigmoid(...): its argument needs no parentheses
            inner = [
                render(a, 0 if call else prec, right=(i == 1) != (node.op == "pow"))
                for i, a in enumerate(node.args)
            ]
            text = info.source.format(*inner)
            needs = prec < parent_prec or (prec == parent_prec and right and prec < 9)
            return f"({text})" if needs else text

        return render(name or self.loss.name, 0, False)


def _tag(options: Mapping[str, str] | None, key: str) -> str:
    """`` (--lr)``: the option or field a value came from, where the caller named one."""
    given = (options or {}).get(key)
    return f" ({given})" if given else ""


def float32_problem(value: float, underflow: bool = True) -> str | None:
    """Why torch's float32 cannot hold ``value`` (1e39 becomes inf; with ``underflow``,
    1e-46 becoming 0 counts too, as for a learning rate), or None."""
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        single = math.inf
    if math.isfinite(value) and not math.isfinite(single):
        return _(
            "{value} is too large for float32, the precision torch computes in "
            "(at most about 3.4e38)"
        ).format(value=f"{value:g}")
    if underflow and value != 0 and single == 0:
        return _(
            "{value} is too small for float32, the precision torch computes in: it would be 0"
        ).format(value=f"{value:g}")
    return None


def _finite(value: float, what: str, underflow: bool = False) -> float:
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        number = math.inf
    except (TypeError, ValueError):
        raise LessonError(
            _("{what} must be a number, got {value}").format(what=what, value=repr(value))
        ) from None
    if not math.isfinite(number):
        raise LessonError(
            _("{what} must be a finite number, got {value}").format(what=what, value=repr(value))
        )
    problem = float32_problem(number, underflow)
    if problem is not None:
        raise LessonError(_("{what}: {problem}").format(what=what, problem=problem))
    return number


def _value(value: object, what: str) -> Data:
    """A number, or a vector or matrix of numbers (nested lists, as in a lesson file)."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise LessonError(_("{what} is an empty list").format(what=what))
        items = tuple(_value(v, what) for v in value)
        shapes = {_shape(i) for i in items}
        if len(shapes) != 1:
            raise LessonError(_("{what}: the rows have different lengths").format(what=what))
        if len(_shape(items)) > 2:
            raise LessonError(_("{what}: at most a matrix (a list of lists)").format(what=what))
        return items
    if isinstance(value, bool):
        raise LessonError(
            _("{what} must be a number, got {value}").format(what=what, value=repr(value))
        )
    return _finite(value, what)  # type: ignore[arg-type]


def _shape(value: object) -> tuple[int, ...]:
    """``()`` for a number, ``(3,)`` for a vector, ``(2, 3)`` for a matrix."""
    if isinstance(value, tuple):
        return (len(value), *_shape(value[0]))
    return ()


def make_lesson(  # noqa: PLR0913 - keyword-only: one per field of Lesson
    *,
    name: str,
    title: str,
    x: Iterable[Data],
    y: Iterable[Data],
    #: Numbers, or nested lists or tuples of them (checked here).
    params: Mapping[str, object],
    nodes: Iterable[Node],
    lr: float,
    epochs: int,
    leaf_labels: Mapping[str, str] | None = None,
    prediction: str | None = None,
    residual: str | None = None,
    description: str = "",
    narration: Mapping[str, str] | None = None,
    notes: Mapping[str, str] | None = None,
    input_grad: bool = False,
    loss_kind: str = "squared",
    options: Mapping[str, str] | None = None,
) -> Lesson:
    """Check every value of a lesson and return it, or raise :class:`LessonError`.

    ``options`` names where the learning rate and the epochs came from
    (``{"lr": "--lr", "epochs": "--epochs"}``), for the messages.
    """
    xs = tuple(_value(v, _("x value #{n}").format(n=i + 1)) for i, v in enumerate(x))
    ys = tuple(_value(v, _("y value #{n}").format(n=i + 1)) for i, v in enumerate(y))
    for column, values in (("x", xs), ("y", ys)):
        if len({_shape(v) for v in values}) > 1:
            raise LessonError(
                _("every {column} value must have the same shape").format(column=column)
            )
        if values and len(_shape(values[0])) > 1:
            raise LessonError(
                _(
                    "each {column} value is a number or a list of numbers, at most a matrix "
                    "in all: a sample cannot be a matrix"
                ).format(column=column)
            )
    if not xs:
        raise LessonError(_("the data is empty: give at least one x value and its y"))
    if len(xs) != len(ys):
        raise LessonError(
            _("x has {nx} values but y has {ny}: give one y for every x").format(
                nx=len(xs), ny=len(ys)
            )
        )
    if len(xs) > MAX_SAMPLES:
        raise LessonError(
            _("{n} samples is too many: at most {limit}").format(
                n=len(xs), limit=f"{MAX_SAMPLES:,}"
            )
        )
    rate = _("the learning rate") + _tag(options, "lr")
    lr = _finite(lr, rate, underflow=True)
    if lr <= 0:
        raise LessonError(
            _("{what} must be greater than 0, got {value}").format(what=rate, value=f"{lr:g}")
        )
    count = _("the number of epochs") + _tag(options, "epochs")
    if isinstance(epochs, bool) or not isinstance(epochs, int):
        raise LessonError(
            _("{what} must be a whole number, got {value}").format(what=count, value=repr(epochs))
        )
    if epochs < 1:
        raise LessonError(
            _("{what} must be at least 1, got {value}").format(what=count, value=epochs)
        )
    if epochs > MAX_EPOCHS or epochs * len(xs) > MAX_STEPS:
        raise LessonError(
            _(
                "{what} is {epochs}, too large: at most {max_epochs} epochs and "
                "{max_steps} training steps (epochs × samples) in one run"
            ).format(
                what=count,
                epochs=epochs,
                max_epochs=f"{MAX_EPOCHS:,}",
                max_steps=f"{MAX_STEPS:,}",
            )
        )
    checked_params = {
        pname: _value(value, _("the initial value of {name}").format(name=pname))
        for pname, value in params.items()
    }
    node_list = tuple(nodes)
    _check_graph(node_list, checked_params)
    _check_bce(node_list, ys)
    _check_matmul(node_list, (*xs, *ys, *checked_params.values()), {"x": xs, "y": ys})
    return Lesson(
        name=name,
        title=title,
        x=xs,
        y=ys,
        params=tuple(checked_params.items()),
        nodes=node_list,
        lr=lr,
        epochs=epochs,
        leaf_labels=tuple((leaf_labels or {}).items()),
        prediction=prediction,
        residual=residual,
        description=description,
        narration=tuple((narration or {}).items()),
        notes=tuple((notes or {}).items()),
        input_grad=input_grad,
        loss_kind=loss_kind,
    )


def _numbers(value: Data) -> Iterable[float]:
    if isinstance(value, tuple):
        for item in value:
            yield from _numbers(item)
    else:
        yield value


def _check_bce(nodes: tuple[Node, ...], ys: tuple[Data, ...]) -> None:
    """Binary cross-entropy takes a probability and a target, both between 0 and 1.

    torch refuses anything else mid-run ("all elements of target should be
    between 0 and 1"); here it is said up front, with what to do instead.
    """
    bce = [node for node in nodes if node.op == "bce"]
    if not bce:
        return
    by_name = {node.name: node for node in nodes}
    for node in bce:
        prediction = by_name.get(node.args[0]) if isinstance(node.args[0], str) else None
        if prediction is None or prediction.op != "sigmoid":
            raise LessonError(
                _(
                    "binary cross-entropy (bce) needs a prediction between 0 and 1: end the "
                    "model in sigmoid(...), e.g. sigmoid(x*w + b), or use the squared loss"
                )
            )
    for i, y in enumerate(ys):
        for value in _numbers(y):
            if not 0.0 <= value <= 1.0:
                raise LessonError(
                    _(
                        "binary cross-entropy (bce) needs targets between 0 and 1, but y value "
                        "#{n} is {value}: use 0 and 1 as the classes, or the squared loss"
                    ).format(n=i + 1, value=f"{value:g}")
                )


def _check_matmul(
    nodes: tuple[Node, ...], values: tuple[Data, ...], data: Mapping[str, tuple[Data, ...]]
) -> None:
    """``@`` multiplies a matrix by a vector: with numbers only, torch raises a TypeError."""
    matmuls = [node for node in nodes if node.op == "matmul"]
    if matmuls and not any(isinstance(value, tuple) for value in values):
        raise LessonError(
            _(
                "@ multiplies a matrix by a vector, but every value in this lesson is a single "
                "number: use * (e.g. x * w), or give vectors and a matrix in a lesson file "
                "(see matrix.toml)"
            )
        )
    for node in matmuls:
        for arg in node.args:
            column = data.get(arg) if isinstance(arg, str) else None
            if column and not isinstance(column[0], tuple):
                raise LessonError(
                    _(
                        "the model multiplies a matrix by {arg} (@), so each {arg} value must be "
                        "a list of numbers, but {arg} value #1 is a single number: give vectors "
                        "in a lesson file (see matrix.toml)"
                    ).format(arg=arg)
                )


def _check_graph(nodes: tuple[Node, ...], params: Mapping[str, Data]) -> None:
    if not nodes:
        raise LessonError(_("the lesson has no operations"))
    known = {"x", "y", *params}
    for node in nodes:
        if node.op not in OPS:
            raise LessonError(
                _("unknown operation {op} in node {node}").format(
                    op=repr(node.op), node=repr(node.name)
                )
            )
        if len(node.args) != OPS[node.op].arity:
            raise LessonError(
                _("{op} takes {arity} inputs, node {node} has {count}").format(
                    op=node.op,
                    arity=OPS[node.op].arity,
                    node=repr(node.name),
                    count=len(node.args),
                )
            )
        for arg in node.args:
            if isinstance(arg, str) and arg not in known:
                raise LessonError(
                    _("node {node} uses {arg} before it is defined").format(
                        node=repr(node.name), arg=repr(arg)
                    )
                )
        if node.name in known:
            raise LessonError(_("the name {name} is used twice").format(name=repr(node.name)))
        known.add(node.name)
    # The loss must depend on a parameter, or there is nothing to learn.
    depends = set(params)
    for node in nodes:
        if any(isinstance(a, str) and a in depends for a in node.args):
            depends.add(node.name)
    if nodes[-1].name not in depends:
        raise LessonError(_("the loss does not depend on any parameter: there is nothing to learn"))
