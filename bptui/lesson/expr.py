"""Model expressions: ``sigmoid(x*w + b)`` → lesson nodes, without ever running them.

The text is parsed by Python's parser into a syntax tree and only a whitelist
of node kinds is accepted: numbers, names, ``+ - * / **``, unary minus and
calls of a few named functions with one argument. Nothing is evaluated: the
tree is translated into :class:`~bptui.lesson.spec.Node` operations that the
engine later runs with torch. Anything else is refused with a caret under the
offending part.
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata
from dataclasses import dataclass, field

from .. import i18n
from ..i18n import N_, _
from .spec import LessonError, Node

FUNCTIONS = ("sigmoid", "tanh", "relu", "exp", "log", "sin", "cos", "abs", "sum")
MAX_LENGTH = 300
MAX_NODES = 30
MAX_EXPONENT = 16
DATA = ("x", "y")
#: Names the graph gives its own values (the prediction, the residual, the loss and the
#: intermediate results z1, z2, …): a parameter called so would be two things at once.
RESERVED = ("yhat", "r", "sq", "loss")

_BINARY = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.Pow: "pow",
    ast.MatMult: "matmul",
}


class ModelError(LessonError):
    """A model expression was refused; the message points at the part."""


#: Why a kind of syntax is refused (translated where it is said).
_REFUSED = {
    "Attribute": N_("attributes (a.b) are not allowed"),
    "Subscript": N_("indexing (a[i]) is not allowed"),
    "Lambda": N_("lambdas are not allowed"),
    "Compare": N_("comparisons are not allowed"),
    "BoolOp": N_("and/or are not allowed"),
    "IfExp": N_("if-expressions are not allowed"),
    "NamedExpr": N_("assignments are not allowed"),
}


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes: a wide (CJK, full-width) character takes 2."""
    return sum(
        0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1
        for char in text
    )


def printable(text: str) -> str:
    """``text`` fit to echo in a message: each control or invisible character (an
    escape sequence a terminal would obey, U+202E that turns the line around, a
    zero-width space) is shown as ``?``, one cell, so a caret under it still points."""
    return "".join(char if char.isprintable() else "?" for char in text)


def _point(text: str, node: ast.AST, why: str) -> ModelError:
    # The parser counts columns in UTF-8 bytes; the caret goes under the characters,
    # two cells for each wide one (x＊w typed with a Chinese input method).
    raw = text.encode("utf-8")
    col = getattr(node, "col_offset", 0) or 0
    end = getattr(node, "end_col_offset", col + 1) or col + 1
    before = raw[:col].decode("utf-8", "replace")
    under = raw[col:end].decode("utf-8", "replace")
    caret = " " * cells(printable(before)) + "^" * max(1, cells(printable(under)))
    return ModelError(f"{why}\n    {printable(text)}\n    {caret}")


@dataclass
class _Builder:
    text: str
    taken: set[str]
    nodes: list[Node] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    uses_x: bool = False
    counter: int = 0

    def fresh(self) -> tuple[str, str]:
        while True:
            self.counter += 1
            name = f"z{self.counter}"
            if name not in self.taken:
                self.taken.add(name)
                return name, name

    def add(self, op: str, args: tuple[str | float, ...]) -> str:
        if len(self.nodes) >= MAX_NODES:
            raise ModelError(
                _(
                    "the model is too large: at most {limit} operations, so the graph "
                    "stays readable"
                ).format(limit=MAX_NODES)
            )
        name, label = self.fresh()
        self.nodes.append(Node(name, label, op, args))
        return name

    def visit(self, node: ast.AST) -> str | float:
        """A number, or the name of the value (leaf or new node) ``node`` computes."""
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return self.unary(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        kind = type(node).__name__
        refused = _REFUSED.get(kind)
        why = (
            i18n._(refused)
            if refused
            else _("this is not allowed in a model ({kind})").format(kind=kind)
        )
        if isinstance(node, ast.BinOp):
            why = _("the operator {op} is not allowed: use + - * / **").format(
                op=type(node.op).__name__
            )
        raise _point(self.text, node, why)

    def constant(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _point(
                self.text, node, _("only numbers may appear, not {value}").format(value=repr(value))
            )
        # The size first: float() of a huge integer (0xfff…) raises OverflowError.
        if abs(value) > 1e12 or not math.isfinite(float(value)):
            raise _point(self.text, node, _("numbers must be finite and at most 1e12"))
        return float(value)

    def unary(self, node: ast.UnaryOp) -> str | float:
        inner = self.visit(node.operand)
        if isinstance(node.op, ast.UAdd):
            return inner
        if isinstance(inner, float):
            return -inner
        return self.add("neg", (inner,))

    def binary(self, node: ast.BinOp) -> str:
        op = _BINARY[type(node.op)]
        left = self.visit(node.left)
        right = self.visit(node.right)
        if op == "pow" and isinstance(right, float) and abs(right) > MAX_EXPONENT:
            raise _point(
                self.text,
                node.right,
                _("exponents are limited to ±{limit}").format(limit=MAX_EXPONENT),
            )
        if op == "pow" and not isinstance(right, float):
            raise _point(self.text, node.right, _("an exponent must be a number, e.g. x ** 2"))
        return self.add(op, (left, right))

    def call(self, node: ast.Call) -> str:
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
            shown = func.id if isinstance(func, ast.Name) else _("this")
            raise _point(
                self.text,
                func,
                _("{name} cannot be called: the functions are {functions}").format(
                    name=shown, functions=", ".join(FUNCTIONS)
                ),
            )
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _point(
                self.text, node, _("{name}() takes exactly one argument").format(name=func.id)
            )
        return self.add(func.id, (self.visit(node.args[0]),))

    def name(self, node: ast.Name) -> str:
        name = node.id
        if name == "x":
            self.uses_x = True
            return name
        if name == "y":
            raise _point(self.text, node, _("the model cannot use y: y is the target it predicts"))
        if name in FUNCTIONS:
            raise _point(
                self.text, node, _("{name} is a function: write {name}(...)").format(name=name)
            )
        if name.startswith("_") or not name.isidentifier() or not name.isascii():
            raise _point(
                self.text,
                node,
                _("{name} is not a parameter name (use e.g. w, b, w1)").format(name=repr(name)),
            )
        if name in RESERVED or (
            name[:1] == "z" and name[1:2] in "123456789" and name[1:].isdigit()
        ):
            raise _point(
                self.text,
                node,
                _(
                    "{name} is a reserved name: the graph names its own values "
                    "{reserved} and z1, z2, …; call the parameter something else, "
                    "e.g. w, b or w1"
                ).format(name=name, reserved=", ".join(RESERVED)),
            )
        if name not in self.params:
            self.params.append(name)
        return name


@dataclass(frozen=True)
class Model:
    """A parsed model: its operations (the last one is the prediction) and parameters."""

    nodes: tuple[Node, ...]
    params: tuple[str, ...]
    #: The node holding the prediction (always ``yhat``).
    output: str


def _reason(error: SyntaxError) -> str:
    """Python's reason, with the common ones said in the current language. A full-width
    character (＊ （ ，, typed with a Chinese input method in full-width mode) is named
    with the character to type instead."""
    found = re.fullmatch(r"invalid character '(.)' \(U\+[0-9A-F]+\)", error.msg)
    if found:
        plain = unicodedata.normalize("NFKC", found.group(1))
        if plain != found.group(1) and plain.isascii():
            return _("{char} is a full-width character: type {plain} instead").format(
                char=found.group(1), plain=plain
            )
    return _("invalid syntax") if error.msg == "invalid syntax" else error.msg


def parse_model(text: str, prediction_label: str = "ŷ") -> Model:
    """Translate ``text`` into operations, or raise :class:`ModelError` saying why not."""
    text = text.strip()
    if not text:
        raise ModelError(_("the model is empty: write an expression such as x * w + b"))
    if len(text) > MAX_LENGTH:
        raise ModelError(
            _("the model is too long: at most {limit} characters").format(limit=MAX_LENGTH)
        )
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        col = max((error.offset or 1) - 1, 0)
        why = _("the model is not a valid expression: {reason}").format(reason=_reason(error))
        caret = " " * cells(printable(text[:col])) + "^"
        raise ModelError(f"{why}\n    {printable(text)}\n    {caret}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ModelError(_("the model is nested too deeply")) from None
    builder = _Builder(text, taken=set(DATA))
    try:
        output = builder.visit(tree.body)
    except RecursionError:
        raise ModelError(_("the model is nested too deeply")) from None
    if not builder.params:
        raise ModelError(
            _("the model {text} has no parameters to learn: use a name such as w").format(
                text=repr(text)
            )
        )
    nodes = builder.nodes
    if isinstance(output, str) and nodes and nodes[-1].name == output:
        last = nodes[-1]
        nodes[-1] = Node("yhat", prediction_label, last.op, last.args)
    else:
        # The whole model is a single name or number (``w``): make ŷ a node anyway.
        nodes.append(Node("yhat", prediction_label, "mul", (output, 1.0)))
    return Model(tuple(nodes), tuple(builder.params), "yhat")


LOSSES = ("squared", "abs", "bce")


def loss_nodes(loss: str, prediction: str = "yhat", vector: bool = False) -> tuple[Node, ...]:
    """The loss part of the graph after the prediction (summed over a vector output)."""
    if vector and loss == "squared":
        return (
            Node("r", "r", "sub", (prediction, "y")),
            Node("sq", "r²", "pow", ("r", 2.0)),
            Node("loss", "loss", "sum", ("sq",)),
        )
    if vector:
        raise LessonError(_("with vector data the loss is squared (summed over the outputs)"))
    if loss == "squared":
        return (Node("r", "r", "sub", (prediction, "y")), Node("loss", "loss", "pow", ("r", 2.0)))
    if loss == "abs":
        return (Node("r", "r", "sub", (prediction, "y")), Node("loss", "loss", "abs", ("r",)))
    if loss == "bce":
        return (Node("loss", "loss", "bce", (prediction, "y")),)
    raise LessonError(
        _("unknown loss {loss}: choose one of {losses}").format(
            loss=repr(loss), losses=", ".join(LOSSES)
        )
    )
