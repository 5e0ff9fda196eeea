"""The chain-rule panel: ∂loss/∂w as a product of local derivatives."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from ...glyphs import shown
from ...i18n import N_, _
from ...lesson.snapshot import ChainView, Snapshot
from ...lesson.values import short
from ..palette import BAD, FORMULA, GRAD, HINT, LABEL, OK, UNKNOWN, WARN
from .lines import LinePanel

#: Whether the chain, torch and the finite difference agree (long form).
ALL_AGREE = N_("✓ all agree")
DISAGREE = N_("✗ disagree")
#: torch and the finite difference differ by less than float32 rounding can move the
#: gradient: neither agreement (✓) nor a wrong gradient (✗).
UNRESOLVED = (
    N_("≈ finite difference below float32 resolution"),
    N_("≈ below float32 resolution"),
)


def chain_lines(chain: ChainView, width: int = 200, lead_row: bool = False) -> list[Text]:
    """Rows of aligned columns: the factors' names, their formulas, torch's numbers.

    A chain wider than ``width`` continues in further groups of three rows; with
    ``lead_row`` (one element of a matrix) ``∂loss/∂W[1,2] =`` may take a row of its
    own instead, where that keeps the factors on one.
    """
    if not chain.paths:
        return [
            Text(
                _("∂{loss}/∂{param}: the loss does not depend on {param}").format(
                    loss=chain.loss_label, param=chain.label
                )
            )
        ]
    lines: list[Text] = []
    lead = shown(f"∂{chain.loss_label}/∂{chain.label} = ")
    pad = " " * (cell_len(lead) - 2)
    for p, path in enumerate(chain.paths):
        cols = [
            (
                shown(f.name),
                f.formula if f.value is not None else "?",
                short(f.value) if f.value is not None else "?",
                f.value is not None,
            )
            for f in path
        ]
        groups = _groups(cols, cell_len(lead), width)
        one_row = len(chain.paths) == 1 and len(_groups(cols, 2, width)) == 1
        if lead_row and one_row and len(groups) > 1:
            # One row fits once "∂loss/∂W1[0,0] =" stands on a row of its own.
            lines.append(Text(lead.rstrip()))
            lead, pad = "  ", ""
            groups = _groups(cols, cell_len(lead), width)
        for g, group in enumerate(groups):
            first = p == 0 and g == 0
            row1 = Text(lead if first else pad + ("+ " if g == 0 else shown("· ")))
            row2 = Text(pad + "= ")
            row3 = Text(pad + "= ")
            for i, (name, formula, number, known) in enumerate(group):
                w = max(cell_len(name), cell_len(formula), cell_len(number))
                sep = shown(" · ") if i else ""
                row1.append(sep + _center(name, w))
                row2.append(sep + _center(formula, w), FORMULA)
                row3.append(sep + _center(number, w), GRAD if known else UNKNOWN)
            lines += [row1, row2, row3]
            last = p == len(chain.paths) - 1 and g == len(groups) - 1
            if last and chain.product is not None:
                product = short(chain.product)
                if row3.cell_len + 3 + cell_len(product) <= width:
                    row3.append(f" = {product}", GRAD)
                else:  # too narrow for it beside the factors: it goes on the next row
                    lines.append(Text.assemble(pad + "= ", (product, GRAD)))
    return lines


def _center(text: str, width: int) -> str:
    """``str.center`` (the same split of an odd margin) by terminal cells: a CJK
    character takes two."""
    room = max(0, width - cell_len(text))
    left = room // 2 + (room & width & 1)
    return " " * left + text + " " * (room - left)


def _groups(
    cols: list[tuple[str, str, str, bool]], lead: int, width: int
) -> list[list[tuple[str, str, str, bool]]]:
    """The factors in rows of at most ``width`` cells after a lead of ``lead`` cells."""
    groups: list[list[tuple[str, str, str, bool]]] = [[]]
    used = lead - 3  # the first column of a row has no " · " before it
    for col in cols:
        w = max(cell_len(col[0]), cell_len(col[1]), cell_len(col[2])) + 3
        if groups[-1] and used + w > width:
            groups.append([])
            used = lead - 3
        groups[-1].append(col)
        used += w
    return groups


def summary_line(chain: ChainView) -> Text:
    """One line for a parameter whose full chain is not on screen."""
    line = Text.assemble((shown(f"∂{chain.loss_label}/∂{chain.label} "), LABEL))
    if chain.torch_grad is None:
        line.append("?", UNKNOWN)
        return line
    line.append(short(chain.torch_grad), GRAD)
    if not isinstance(chain.torch_grad, float) and not chain.elements:
        return line  # a vector or matrix: no single number to check
    # A vector or matrix is checked element by element.
    checked = chain.elements or (chain,)
    agree = all(e.verified for e in checked)
    if agree and any(e.below_resolution for e in checked):
        line.append(shown(" ≈"), WARN)  # the check cannot tell: see UNRESOLVED
    else:
        line.append(shown(" ✓" if agree else " ✗"), OK if agree else BAD)
    return line


def check_lines(chain: ChainView, width: int) -> list[Text]:
    """torch's gradient, a finite difference, and one mark for whether everything agrees.

    "Everything" is the product of the factors, torch's gradient, the finite
    difference, and each hand formula against torch's local derivative.
    """
    if chain.torch_grad is None:
        return [Text(_("factors appear as backward reaches them"), HINT)]
    if not isinstance(chain.torch_grad, float):
        return [
            Text.assemble(
                (f"{chain.label}.grad ", LABEL),
                (short(chain.torch_grad), GRAD),
                (shown(" — ") + _("torch's numbers are in the Tensor panel"), HINT),
            )
        ]
    accumulated = chain.param_grad is not None and chain.param_grad != chain.torch_grad
    # This sample's gradient is w.grad only when nothing was there before it; else
    # w.grad (as torch holds it, and as the Tensor panel shows it) gets its own line.
    base, bracket, index = chain.label.partition("[")  # an element: W.grad[1, 2]
    held = f"{base}.grad{bracket}{index}"
    name = shown(f"∂{chain.loss_label}/∂{chain.label} ") if accumulated else f"{held} "
    grad = Text.assemble((name, LABEL), (short(chain.torch_grad), GRAD))
    diff = Text.assemble(_("finite diff") + " ", (short(chain.finite_diff), GRAD))
    agree = chain.verified
    unresolved = agree and chain.below_resolution
    style = WARN if unresolved else OK if agree else BAD
    forms: tuple[tuple[str, str], ...] = (
        ((UNRESOLVED[0], " · "), (UNRESOLVED[1], " · "))
        if unresolved
        else (
            (ALL_AGREE if agree else DISAGREE, " · "),
            (N_("✓ agree") if agree else N_("✗ differ"), " · "),
            ("✓" if agree else "✗", " "),
        )
    )
    lines: list[Text] = []
    for word, sep in forms:
        mark = Text(shown(_(word)), style)
        one = Text(shown(" · ")).join([grad, diff]) + Text(shown(sep)) + mark
        if one.cell_len <= width:
            lines = [one]
            break
    if not lines:
        whole = UNRESOLVED[0] if unresolved else ALL_AGREE if agree else DISAGREE
        # Unresolved: ≈ between the two numbers, so that the first line alone (all a
        # small panel may show) never reads as agreement.
        between = Text(shown(" ≈ "), style) if unresolved else Text(shown(" · "))
        lines = [between.join([grad, diff]), Text(shown(_(whole)), style)]
    if accumulated:
        lines.append(
            Text.assemble(
                (f"{held} ", LABEL),
                (short(chain.param_grad), GRAD),
                (" = " + _("earlier grads + this sample's"), WARN),
            )
        )
    return lines


class ChainPanel(LinePanel):
    """The chain rule, filled in factor by factor during the backward pass.

    Each local derivative is shown as its formula (``2r``) and as the number
    torch's backward function computed; the product is checked against torch's
    ``w.grad`` and a finite-difference estimate. With several parameters one
    chain is written out and the others get a line each; ``c`` switches.
    """

    DEFAULT_CSS = """
    ChainPanel { height: auto; }
    """
    TITLE = N_("Chain rule")

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._snapshot: Snapshot | None = None
        #: Which parameter's chain is written out in full (``c`` cycles).
        self.selected = 0
        #: Which element of a vector or matrix parameter (``c`` steps through them first).
        self.element = 0

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self.selected %= max(1, len(snapshot.chains))
        self.redraw(source=(snapshot.chains, self.selected, self.element))

    def cycle(self) -> None:
        """Write out the next element of a vector or matrix, or else the next parameter's chain."""
        if self._snapshot is not None and self._snapshot.chains:
            chains = self._snapshot.chains
            if self.element + 1 < len(chains[self.selected % len(chains)].elements):
                self.element += 1
            else:
                self.selected, self.element = (self.selected + 1) % len(chains), 0
            self.redraw(source=(chains, self.selected, self.element))

    def selection(self) -> tuple[str, int]:
        """The parameter written out, and which of its elements (row-major)."""
        if self._snapshot is None or not self._snapshot.chains:
            return ("", 0)
        chains = self._snapshot.chains
        chain = chains[self.selected % len(chains)]
        return (chain.param, self.element % max(1, len(chain.elements)))

    def build(self, width: int) -> list[Text]:
        if self._snapshot is None or not self._snapshot.chains:
            return [Text("")]
        chains = self._snapshot.chains
        chain = chains[self.selected % len(chains)]
        hint = "  " + _("(c: next)")
        if chain.elements:
            # One element's chain in numbers, then the whole matrix's form.
            element = chain.elements[self.element % len(chain.elements)]
            lines = chain_lines(element, width, lead_row=True) + check_lines(element, width)
            lines.append(Text(chain.form, FORMULA))
            hint = "  " + _("(c: next element)")
        else:
            lines = chain_lines(chain, width) + check_lines(chain, width)
        others = [summary_line(c) for c in chains if c is not chain]
        if others or chain.elements:
            row = Text("  ").join(others)
            row.append(hint.lstrip() if not others else hint, HINT)
            lines.append(row)
        for line in lines:
            line.no_wrap = True
            line.overflow = "ellipsis"
        return lines
