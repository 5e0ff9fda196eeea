"""The tensor panel: what ``print(w)``, ``w.grad`` and ``l.grad_fn`` would show."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from ...glyphs import shown
from ...i18n import N_, _
from ...lesson.snapshot import ParamView, Snapshot
from ...lesson.values import full, short
from ..palette import GRAD, HINT, LABEL, UNKNOWN, WARN, WARN_BOLD
from .lines import LinePanel


class TensorPanel(LinePanel):
    """The parameter tensors as torch holds them, and the current sample's loss.

    ``w.grad`` reads ``None`` until the first backward pass creates it, the way
    torch prints it; ``grad_fn`` is the loss's backward node.
    """

    DEFAULT_CSS = """
    TensorPanel { height: auto; }
    """
    TITLE = N_("Tensor")

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._snapshot: Snapshot | None = None
        #: The element of a vector or matrix shown whole when the panel cuts it
        #: (the chain panel's: ``c`` steps through them).
        self._point: tuple[str, int] = ("", 0)

    def point_at(self, name: str, element: int) -> None:
        """Show element ``element`` (row-major) of parameter ``name`` if it is cut."""
        self._point = (name, element)
        self.redraw(source=self._source_of())

    def _source_of(self) -> tuple[object, ...]:
        snapshot = self._snapshot
        if snapshot is None:
            return (self._point,)
        return (
            snapshot.params,
            snapshot.loss,
            snapshot.residual,
            snapshot.loss_grad_fn,
            snapshot.graph_freed,
            snapshot.modes.sum_loss,
            snapshot.loss_sum,
            snapshot.kept_nodes,
            self._point,
        )

    def _element_lines(self, cut: list[ParamView], width: int) -> list[Text]:
        """One element of a cut parameter, whole: ``cut · W[0,2] -0.1 grad -7.2``."""
        name, element = self._point
        param = next((p for p in cut if p.name == name), None)
        if param is None:
            param, element = cut[0], 0
        index = _unravel(param.data, element)
        label = f"{param.name}[{','.join(str(i) for i in index)}]"
        data = short(_at(param.data, index), 7)
        grad = short(_at(param.grad, index), 7) if param.grad is not None else "None"
        style = GRAD if param.grad is not None else UNKNOWN
        one = Text.assemble((label, LABEL), f"={data}  ", (_("grad") + " ", LABEL), (grad, style))
        cut_mark = _("cut") + shown(" · ")
        if one.cell_len + cell_len(cut_mark) <= width:
            return [Text.assemble((cut_mark, WARN), one)]
        if one.cell_len <= width:
            return [one]
        first = Text.assemble((label, LABEL), f"={data}")
        if first.cell_len + cell_len(cut_mark) <= width:
            first = Text.assemble((cut_mark, WARN), first)
        return [
            first,
            Text.assemble((f"{param.name}.grad{label[len(param.name) :]} ", LABEL), (grad, style)),
        ]

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self.redraw(source=self._source_of())

    def _vector_lines(self, snap: Snapshot, width: int) -> list[Text]:
        """Vectors and matrices: .data and .grad side by side, a line per row, in
        fewer digits where that makes them fit, else cut with … and one element
        shown whole above them (c walks the elements in the chain panel)."""
        lines: list[Text] = []
        cut: list[ParamView] = []
        for param in snap.params:
            for digits in (4, 3):
                block = _side_by_side(param, digits)
                if all(line.cell_len <= width for line in block):
                    break
            else:
                cut.append(param)
            lines += block
        if cut:
            lines[:0] = self._element_lines(cut, width)
        return lines

    def build(self, width: int) -> list[Text]:
        snap = self._snapshot
        if snap is None:
            return [Text("")]
        lines: list[Text] = []
        if any(not is_number(p.data) for p in snap.params):
            lines += self._vector_lines(snap, width)
        elif len(snap.params) == 1:
            param = snap.params[0]
            lines.append(Text.assemble((f"{param.name}.data ", LABEL), full(param.data)))
            grad_style = GRAD if param.grad is not None else UNKNOWN
            lines.append(
                Text.assemble((f"{param.name}.grad ", LABEL), (full(param.grad), grad_style))
            )
        else:
            # One row per parameter: .data and .grad side by side.
            names = max(cell_len(p.name) for p in snap.params)
            lines.append(Text(f"{'':<{names}} .data      .grad", LABEL))
            for param in snap.params:
                grad_style = GRAD if param.grad is not None else UNKNOWN
                lines.append(
                    Text.assemble(
                        (f"{param.name:<{names}} ", LABEL),
                        f"{short(param.data, 6):<10} ",
                        (short(param.grad, 6) if param.grad is not None else "None", grad_style),
                    )
                )
        lines.append(Text(shown("requires_grad ✓  is_leaf ✓"), HINT))
        grad_fn = Text.assemble(
            ("l.grad_fn ", LABEL), f"<{snap.loss_grad_fn}>" if snap.loss_grad_fn else "None"
        )
        if snap.graph_freed:
            freed = _("freed")
            # A space before it where there is room (a CJK word reads well without one).
            space = " " if grad_fn.cell_len + 1 + cell_len(freed) <= width else ""
            grad_fn.append(space + freed, HINT)
        lines.append(grad_fn)
        sample = Text.assemble(
            (f"{snap.loss_label} ", LABEL), full(snap.loss) if snap.loss is not None else "?"
        )
        if snap.residual is not None:
            sample.append_text(Text.assemble(("  r ", LABEL), short(snap.residual)))
        lines.append(sample)
        if snap.modes.sum_loss:
            lines.append(
                Text.assemble(
                    ("sum ", LABEL),
                    short(snap.loss_sum),
                    (
                        "  " + _("keeps {count} nodes").format(count=f"{snap.kept_nodes:,}"),
                        WARN_BOLD,
                    ),
                )
            )
        for line in lines:
            line.no_wrap = True
            line.overflow = "ellipsis"
        return lines


def _side_by_side(param: ParamView, digits: int) -> list[Text]:
    """``W.data`` and ``W.grad`` side by side, a line per row."""
    data = rows(param.data, digits)
    grad = rows(param.grad, digits) if param.grad is not None else ["None"]
    width = max(cell_len(f"{param.name}.data"), *(cell_len(r) for r in data))
    lines = [
        Text.assemble((f"{param.name}.data".ljust(width + 1), LABEL), (f"{param.name}.grad", LABEL))
    ]
    style = GRAD if param.grad is not None else UNKNOWN
    for i in range(max(len(data), len(grad))):
        left = data[i] if i < len(data) else ""
        right = grad[i] if i < len(grad) else ""
        lines.append(Text.assemble(left.ljust(width + 1), (right, style)))
    return lines


def _unravel(value: object, element: int) -> tuple[int, ...]:
    """Row-major element number → index, for a vector or a matrix."""
    if not isinstance(value, (list, tuple)) or not value:
        return ()
    if isinstance(value[0], (list, tuple)):
        columns = max(1, len(value[0]))
        element %= len(value) * columns
        return (element // columns, element % columns)
    return (element % len(value),)


def _at(value: object, index: tuple[int, ...]) -> object:
    for i in index:
        assert isinstance(value, (list, tuple))
        value = value[i]
    return value


def rows(value: object, digits: int = 4) -> list[str]:
    """A vector as one row, a matrix as one row per line, columns aligned."""
    if not isinstance(value, (list, tuple)):
        return [short(value, digits)]
    matrix = value if value and isinstance(value[0], (list, tuple)) else [value]
    cells = [[short(v, digits) for v in row] for row in matrix]
    width = max(cell_len(c) for row in cells for c in row)
    return ["[" + " ".join(c.rjust(width) for c in row) + "]" for row in cells]


def is_number(value: object) -> bool:
    return isinstance(value, (int, float))
