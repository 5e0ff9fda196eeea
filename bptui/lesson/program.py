"""The PyTorch program a lesson corresponds to, written out as source.

The app shows this program beside the graph and highlights the line each step
runs. For the seed lesson it is the note's own program (less the plotting). The
training modes change the program, as they change what the engine runs: skip-zero
leaves ``w.grad.data.zero_()`` out (commented), batch mode moves the update and
the zeroing out of the loop over samples, and the sum-loss pitfall adds
``sum += l``. Its comments are in the language spoken when it is written (as the
note's program has Chinese ones).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import _
from .actions import Action
from .ops import OPS, format_number
from .snapshot import Modes
from .spec import Lesson

#: Names the data columns have inside the program, as in the note.
SOURCE_NAMES = {"x": "x_val", "y": "y_val"}

_MAX_LISTED = 8


@dataclass(frozen=True)
class Program:
    """Source lines and where each phase of a training step is."""

    lines: tuple[str, ...]
    forward: tuple[int, ...]
    backward: tuple[int, ...]
    update: tuple[int, ...]
    zero: tuple[int, ...]
    #: ``sum += l`` (the sum-loss pitfall's line), run as the loss is computed.
    sum_loss: tuple[int, ...] = ()


def _literal(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(float(value))  # type: ignore[arg-type]


def _float_list(values: tuple[object, ...]) -> str:
    shown = [_literal(v) for v in values[:_MAX_LISTED]]
    if len(values) > _MAX_LISTED:
        shown.append("...  # " + _("{n} values").format(n=len(values)))
    return "[" + ", ".join(shown) + "]"


def update_source(param: str) -> str:
    """The note's update of one parameter."""
    return f"{param}.data = {param}.data - a * {param}.grad.data"


def zero_source(param: str) -> str:
    """The note's zeroing of one parameter's gradient."""
    return f"{param}.grad.data.zero_()"


def build_program(lesson: Lesson, modes: Modes | None = None) -> Program:
    """Write ``lesson`` as the note's per-sample SGD loop, as ``modes`` change it."""
    modes = modes or Modes()
    params = lesson.param_names
    # The single-node lesson has no targets: its L stands for the layers above.
    target = lesson.loss_kind != "upstream"
    args = ", ".join(["x_val", *params, *(["y_val"] if target else [])])
    lines = [
        "import torch",
        "",
        f"x_data = {_float_list(lesson.x)}",
        *([f"y_data = {_float_list(lesson.y)}"] if target else []),
        f"a = {lesson.lr!r}  # " + _("learning rate"),
    ]
    for name, value in lesson.params:
        shown = _literal(value) if isinstance(value, tuple) else f"[{float(value)!r}]"
        lines.append(f"{name} = torch.Tensor({shown})")
        lines.append(f"{name}.requires_grad = True")
    lines += [
        "",
        f"def loss({args}):"
        + (
            ""
            if target
            else "  # " + _("{L} stands for the layers above").format(L=lesson.loss.label)
        ),
        f"    return {lesson.expression(names=SOURCE_NAMES)}",
        "",
    ]
    if modes.sum_loss:
        lines.append("sum = 0")
    lines += [
        f"for epoch in range({lesson.epochs}):",
        "    for x_val, y_val in zip(x_data, y_data):" if target else "    for x_val in x_data:",
    ]
    if lesson.input_grad:
        lines.append(
            "        x_val = torch.tensor([x_val], requires_grad=True)  # " + _("wants ∂L/∂x")
        )
    if lesson.vector_data:
        lines.append("        x_val, y_val = torch.tensor(x_val), torch.tensor(y_val)")
    forward = (len(lines),)
    lines.append(f"        l = loss({args})")
    sum_loss: tuple[int, ...] = ()
    if modes.sum_loss:
        sum_loss = (len(lines),)
        lines.append("        sum += l  # " + _("keeps l's graph alive"))
    backward = (len(lines),)
    lines.append("        l.backward()")
    # Batch mode: one update (and zeroing) per epoch, after the loop over samples.
    indent = "    " if modes.batch else "        "
    update = tuple(range(len(lines), len(lines) + len(params)))
    lines += [indent + update_source(p) for p in params]
    if modes.batch:
        lines[update[0]] += "  # " + _("per epoch")
    zero = tuple(range(len(lines), len(lines) + len(params)))
    if modes.skip_zero:
        lines += [f"{indent}# {zero_source(p)}" for p in params]
        lines[zero[0]] += "  # " + _("skipped")
    else:
        lines += [indent + zero_source(p) for p in params]
    return Program(tuple(lines), forward, backward, update, zero, sum_loss)


def op_source(lesson: Lesson, name: str) -> str:
    """One node's own operation as source, e.g. ``ŷ = x_val * w``."""
    node = next(n for n in lesson.nodes if n.name == name)
    shown = [
        format_number(a) if not isinstance(a, str) else SOURCE_NAMES.get(a, lesson.label(a))
        for a in node.args
    ]
    return f"{node.label} = {OPS[node.op].source.format(*shown)}"


def code_lines(
    program: Program,
    last: Action | None,
    upcoming: Action | None,
    *,
    loss_computed: bool = False,
    computes_loss: bool = False,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The lines the ``last`` micro-step ran, and those the ``upcoming`` one will run.

    ``loss_computed``: the last micro-step computed the loss (so ``sum += l`` ran
    with it, in the sum-loss pitfall); ``computes_loss``: the upcoming one will.
    """
    by_action = {
        Action.NEXT_SAMPLE: program.forward,
        Action.FORWARD: program.forward,
        Action.BACKWARD: program.backward,
        Action.UPDATE: program.update,
        Action.ZERO: program.zero,
    }
    # Going on to the next sample runs nothing yet: its forward pass is next.
    ran = by_action.get(last, ()) if last not in (None, Action.NEXT_SAMPLE) else ()
    following = by_action[upcoming] if upcoming is not None else ()
    if loss_computed and last is Action.FORWARD:
        ran += program.sum_loss
    if computes_loss and upcoming is Action.FORWARD:
        following += program.sum_loss
    return ran, following
