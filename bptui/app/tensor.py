"""The tensor panel: what ``print(w)``, ``w.grad`` and ``l.grad_fn`` would show."""

from __future__ import annotations

from rich.text import Text

from ..lesson.snapshot import Snapshot
from .fmt import full, is_number, rows, short
from .lines import LinePanel


class TensorPanel(LinePanel):
    """The parameter tensors as torch holds them, and the current sample's loss.

    ``w.grad`` reads ``None`` until the first backward pass creates it, the way
    torch prints it; ``grad_fn`` is the loss's backward node.
    """

    DEFAULT_CSS = """
    TensorPanel { height: auto; }
    """

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.border_title = "Tensor"
        self._snapshot: Snapshot | None = None

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self.redraw(
            source=(
                snapshot.params,
                snapshot.loss,
                snapshot.residual,
                snapshot.loss_grad_fn,
                snapshot.graph_freed,
                snapshot.modes.sum_loss,
                snapshot.loss_sum,
                snapshot.kept_nodes,
            )
        )

    def build(self, width: int) -> list[Text]:
        snap = self._snapshot
        if snap is None:
            return [Text("")]
        lines: list[Text] = []
        if any(not is_number(p.data) for p in snap.params):
            # Vectors and matrices: .data and .grad side by side, a line per row.
            for param in snap.params:
                data = rows(param.data)
                grad = rows(param.grad) if param.grad is not None else ["None"]
                width = max(len(f"{param.name}.data"), *(len(r) for r in data))
                lines.append(
                    Text.assemble(
                        (f"{param.name}.data".ljust(width + 1), "bold"),
                        (f"{param.name}.grad", "bold"),
                    )
                )
                for i in range(max(len(data), len(grad))):
                    left = data[i] if i < len(data) else ""
                    right = grad[i] if i < len(grad) else ""
                    style = "bold magenta" if param.grad is not None else "dim"
                    lines.append(Text.assemble(left.ljust(width + 1), (right, style)))
        elif len(snap.params) == 1:
            param = snap.params[0]
            lines.append(Text.assemble((f"{param.name}.data ", "bold"), full(param.data)))
            grad_style = "bold magenta" if param.grad is not None else "dim"
            lines.append(
                Text.assemble((f"{param.name}.grad ", "bold"), (full(param.grad), grad_style))
            )
        else:
            # One row per parameter: .data and .grad side by side.
            width = max(len(p.name) for p in snap.params)
            lines.append(Text(f"{'':<{width}} .data      .grad", "bold"))
            for param in snap.params:
                grad_style = "bold magenta" if param.grad is not None else "dim"
                lines.append(
                    Text.assemble(
                        (f"{param.name:<{width}} ", "bold"),
                        f"{short(param.data, 6):<10} ",
                        (short(param.grad, 6) if param.grad is not None else "None", grad_style),
                    )
                )
        lines.append(Text("requires_grad ✓  is_leaf ✓", "dim"))
        grad_fn = Text.assemble(
            ("l.grad_fn ", "bold"), f"<{snap.loss_grad_fn}>" if snap.loss_grad_fn else "None"
        )
        if snap.graph_freed:
            grad_fn.append(" freed", "dim")
        lines.append(grad_fn)
        sample = Text.assemble(("loss ", "bold"), full(snap.loss) if snap.loss is not None else "?")
        if snap.residual is not None:
            sample.append_text(Text.assemble(("  r ", "bold"), short(snap.residual)))
        lines.append(sample)
        if snap.modes.sum_loss:
            lines.append(
                Text.assemble(
                    ("sum ", "bold"),
                    short(snap.loss_sum),
                    (f"  keeps {snap.kept_nodes:,} nodes", "bold yellow"),
                )
            )
        for line in lines:
            line.no_wrap = True
            line.overflow = "ellipsis"
        return lines
