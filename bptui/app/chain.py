"""The chain-rule panel: ∂loss/∂w as a product of local derivatives."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widget import Widget

from ..lesson.snapshot import ChainView, Snapshot
from .fmt import short

GRAD = "bold magenta"
OK = "bold green"
BAD = "bold red"


def chain_lines(chain: ChainView) -> list[Text]:
    """Three aligned rows: the factors' names, their formulas, torch's numbers."""
    if not chain.paths:
        return [Text(f"∂loss/∂{chain.label}: the loss does not depend on {chain.label}")]
    lines: list[Text] = []
    lead = f"∂loss/∂{chain.label} = "
    pad = " " * len(lead)
    for p, path in enumerate(chain.paths):
        names = [f.name for f in path]
        formulas = [f.formula if f.value is not None else "?" for f in path]
        numbers = [short(f.value) if f.value is not None else "?" for f in path]
        widths = [max(len(a), len(b), len(c)) for a, b, c in zip(names, formulas, numbers)]
        row1 = Text(lead if p == 0 else pad[:-2] + "+ ")
        row2 = Text(pad[:-2] + "= ")
        row3 = Text(pad[:-2] + "= ")
        for i, w in enumerate(widths):
            sep = " · " if i else ""
            row1.append(sep + names[i].center(w))
            row2.append(sep + formulas[i].center(w), "cyan")
            row3.append(sep + numbers[i].center(w), GRAD if path[i].value is not None else "dim")
        if p == len(chain.paths) - 1 and chain.product is not None:
            row3.append(f" = {short(chain.product)}", GRAD)
        lines += [row1, row2, row3]
    return lines


def check_lines(chain: ChainView, width: int) -> list[Text]:
    """torch's gradient, a finite difference, and one mark for whether everything agrees.

    "Everything" is the product of the factors, torch's gradient, the finite
    difference, and each hand formula against torch's local derivative.
    """
    if chain.torch_grad is None:
        return [Text("factors appear as backward reaches them", "dim")]
    grad = Text.assemble(
        (f"{chain.label}.grad ", "bold"), (short(chain.torch_grad), GRAD)
    )
    if chain.param_grad is not None and chain.param_grad != chain.torch_grad:
        grad.append(f" (accumulated {short(chain.param_grad)})", "yellow")
    diff = Text.assemble("finite diff ", (short(chain.finite_diff), GRAD))
    formulas_ok = all(f.agrees for path in chain.paths for f in path)
    agree = bool(chain.agree) and formulas_ok
    mark = Text("✓ all agree" if agree else "✗ disagree", OK if agree else BAD)
    one = Text(" · ").join([grad, diff, mark])
    if one.cell_len <= width:
        return [one]
    return [Text(" · ").join([grad, diff]), mark]


class ChainPanel(Widget):
    """The chain rule, filled in factor by factor during the backward pass.

    Each local derivative is shown as its formula (``2r``) and as the number
    torch's backward function computed; the product is checked against torch's
    ``w.grad`` and a finite-difference estimate.
    """

    DEFAULT_CSS = """
    ChainPanel { height: auto; }
    """

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.border_title = "Chain rule"
        self._snapshot: Snapshot | None = None

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self.refresh(layout=True)

    def _lines(self, width: int) -> list[Text]:
        if self._snapshot is None:
            return [Text("")]
        lines: list[Text] = []
        for chain in self._snapshot.chains:
            lines += chain_lines(chain)
            lines += check_lines(chain, width)
        for line in lines:
            line.no_wrap = True
            line.overflow = "ellipsis"
        return lines

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        return len(self._lines(width))

    def render(self) -> RenderableType:
        return Group(*self._lines(self.content_size.width))
