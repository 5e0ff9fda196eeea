"""Lesson files (TOML) and the built-in lessons, which are such files.

A teacher copies a built-in lesson (``bptui lessons`` lists them and where they
are), edits data, model or narration, and runs ``bptui my-lesson.toml``. Every
key is checked: an unknown key, a wrong type or a missing value is reported
with the file, the key and its line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import i18n
from ..i18n import N_, _, language
from .expr import LOSSES, Model, ModelError, loss_nodes, parse_model
from .file_words import check_note_labels, kept_words, split_words, title_in_language
from .spec import Lesson, LessonError, Node, make_lesson
from .toml_io import LessonFileError as LessonFileError
from .toml_io import invisible, line_of, read_config, unsafe_character

LESSON_DIR = Path(__file__).resolve().parent.parent / "lessons"
DEFAULT = "linear"
#: A parameter that neither the lesson nor --init gives a value starts here.
DEFAULT_INIT = 1.0
PHASES = ("forward", "backward", "update", "zero")


@dataclass(frozen=True)
class _Key:
    kind: tuple[type, ...]
    what: str
    required: bool = False


_KEYS: dict[str, _Key] = {
    "title": _Key((str,), N_("a string")),
    "description": _Key((str,), N_("a string")),
    "model": _Key((str,), N_('an expression such as "x * w + b"'), required=True),
    "prediction": _Key((str,), N_('a label such as "ŷ"')),
    "loss": _Key((str,), N_("one of squared, abs, bce, upstream")),
    "upstream": _Key((int, float), N_("a number")),
    "input_grad": _Key((bool,), N_("true or false")),
    "x": _Key((list,), N_("a list of numbers"), required=True),
    "y": _Key((list,), N_("a list of numbers"), required=True),
    "lr": _Key((int, float), N_("a number greater than 0"), required=True),
    "epochs": _Key((int,), N_("a whole number"), required=True),
    "init": _Key((dict,), N_("a table of name = number")),
    "narration": _Key((dict,), N_("a table with forward, backward, update, zero texts")),
    "also": _Key((dict,), N_("a table of label = expression")),
    "notes": _Key((dict,), N_("a table of value label = text")),
}


def _finite(value: int | float) -> bool:
    """TOML integers have no size limit: one too large for a float is not finite either."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


class _Reader:
    """Checks one lesson table key by key; each error names the file, the line and the key."""

    def __init__(
        self, values: Mapping[str, Any], where: str, text: str, replaced: bool, loss_given: bool
    ) -> None:
        self.values = values
        self.where = where
        self.text = text
        #: The loss came from the command line: the file's loss line is not to blame.
        self.loss_given = loss_given
        #: A model given on the command line replaces the file's: its extra
        #: expressions and the initial values of parameters it lacks no longer apply.
        self.replaced = replaced

    def fail(self, key: str | None, message: str, table: str | None = None) -> LessonFileError:
        line = line_of(self.text, key, table) if key and self.text else None
        where = self.where
        prefix = f"{where}:{line}: " if where and line else f"{where}: " if where else ""
        return LessonFileError(prefix + message)

    def check_keys(self, config: Mapping[str, Any]) -> None:
        for key, value in config.items():
            spec = _KEYS.get(key)
            if spec is None:
                known = ", ".join(sorted(_KEYS))
                raise self.fail(
                    key,
                    _("unknown key {key} (known keys: {known})").format(key=repr(key), known=known),
                )
            if isinstance(value, bool) and bool not in spec.kind:
                raise self.fail(
                    key,
                    _("{key} must be {what}, not {value}").format(
                        key=key, what=i18n._(spec.what), value=repr(value)
                    ),
                )
            if not isinstance(value, spec.kind):
                raise self.fail(
                    key,
                    _("{key} must be {what}, not {type} {value}").format(
                        key=key,
                        what=i18n._(spec.what),
                        type=type(value).__name__,
                        value=repr(value),
                    ),
                )
        for key, spec in _KEYS.items():
            if spec.required and key not in config:
                raise self.fail(
                    None, _("missing {key} ({what})").format(key=key, what=i18n._(spec.what))
                )
        for key, value in config.items():
            bad = unsafe_character(key, value)
            if bad is not None and invisible(bad):
                raise self.fail(
                    key,
                    _(
                        "{key} contains the invisible character {code}: on screen it can "
                        "reverse, hide or break text; use printable text and line breaks only"
                    ).format(key=key, code=f"U+{ord(bad):04X}"),
                )
            if bad is not None:
                raise self.fail(
                    key,
                    _(
                        "{key} contains the control character {code}: a lesson's text is "
                        "shown in terminals, where it could change colours or the window's title; "
                        "use printable text and line breaks only"
                    ).format(key=key, code=f"U+{ord(bad):04X}"),
                )

    def loss(self) -> str:
        loss = self.values.get("loss", "squared")
        if loss not in (*LOSSES, "upstream"):
            raise self.fail(
                "loss",
                _("loss must be one of {losses}, upstream; not {loss}").format(
                    losses=", ".join(LOSSES), loss=repr(loss)
                ),
            )
        return str(loss)

    def model(self) -> Model:
        try:
            return parse_model(self.values["model"], self.values.get("prediction", "ŷ"))
        except ModelError as error:
            if self.replaced:
                raise ModelError(
                    _("{what}: {problem}").format(what="--model", problem=error)
                ) from None
            raise self.fail(
                "model", _("{what}: {problem}").format(what="model", problem=error)
            ) from None

    def also_nodes(self, model: Model) -> list[Node]:
        """The nodes of the extra expressions shown beside the model (``[also]``)."""
        nodes = []
        also = {} if self.replaced else self.values.get("also", {})
        for i, (label, expression) in enumerate(also.items()):
            if not isinstance(expression, str):
                raise self.fail(
                    label,
                    _("also.{label} must be an expression string").format(label=label),
                    "also",
                )
            try:
                extra = parse_model(expression, label)
            except ModelError as error:
                raise self.fail(
                    label,
                    _("{what}: {problem}").format(what=f"also.{label}", problem=error),
                    "also",
                ) from None
            unknown = [p for p in extra.params if p not in model.params]
            if unknown:
                raise self.fail(
                    label,
                    _("also.{label} uses {names}, which the model does not have").format(
                        label=label, names=", ".join(unknown)
                    ),
                    "also",
                )
            rename = {n.name: f"also{i}_{n.name}" for n in extra.nodes}
            for node in extra.nodes:
                args = tuple(rename.get(a, a) if isinstance(a, str) else a for a in node.args)
                shown = node.label if node.name == extra.output else f"{node.label}'"
                nodes.append(Node(rename[node.name], shown, node.op, args))
        return nodes

    def loss_nodes(self, loss: str, model: Model) -> tuple[list[Node], str | None]:
        """The loss part of the graph, and the residual node if the loss has one."""
        values = self.values
        if loss == "upstream":
            upstream = values.get("upstream")
            if upstream is None:
                raise self.fail(
                    None, _('loss = "upstream" needs upstream = <number> (∂L/∂z from above)')
                )
            if not _finite(upstream):
                raise self.fail("upstream", _("upstream must be a finite number"))
            return [Node("loss", "L", "mul", (model.output, float(upstream)))], None
        vector = any(isinstance(v, list) for v in [*values["x"], *values["y"]])
        try:
            nodes = list(loss_nodes(loss, model.output, vector=vector))
        except LessonError as error:
            if self.loss_given:
                raise LessonError(
                    _(
                        "--loss {loss}: this lesson's x and y are vectors, and with vectors "
                        "the loss is squared (summed over the outputs); leave out --loss"
                    ).format(loss=loss)
                ) from None
            raise self.fail("loss", str(error)) from None
        return nodes, ("r" if loss != "bce" else None)

    def params(self, model: Model) -> dict[str, Any]:
        """Initial values: in the order the init table lists them, then the rest in order
        of appearance (the first one is the plot's horizontal axis)."""
        init_table = self.values.get("init", {})
        if self.replaced:
            init_table = {k: v for k, v in init_table.items() if k in model.params}
        for pname, value in init_table.items():
            if pname not in model.params:
                raise self.fail(
                    pname,
                    _(
                        "init.{name}: the model has no parameter {quoted} (its parameters: {known})"
                    ).format(name=pname, quoted=repr(pname), known=", ".join(model.params)),
                    "init",
                )
            if not _numbers(value):
                raise self.fail(
                    pname,
                    _("init.{name} must be a number (or a list of them), not {value}").format(
                        name=pname, value=repr(value)
                    ),
                    "init",
                )
            if not _all_finite(value):
                raise self.fail(
                    pname,
                    _("init.{name} must be a finite number, not {value}").format(
                        name=pname, value=repr(value)
                    ),
                    "init",
                )
        order = [p for p in init_table if p in model.params]
        order += [p for p in model.params if p not in order]
        return {
            p: v if isinstance(v := init_table.get(p, DEFAULT_INIT), list) else float(v)
            for p in order
        }

    def narration(self) -> dict[str, str]:
        narration: dict[str, str] = self.values.get("narration", {})
        for phase, line in narration.items():
            if phase not in PHASES:
                raise self.fail(
                    phase,
                    _("narration.{phase}: the phases are {phases}").format(
                        phase=phase, phases=", ".join(PHASES)
                    ),
                    "narration",
                )
            if not isinstance(line, str):
                raise self.fail(
                    phase,
                    _("narration.{phase} must be a string").format(phase=phase),
                    "narration",
                )
        return narration

    def notes(self, nodes: list[Node]) -> dict[str, str]:
        """A sentence per value, said when the forward pass computes it."""
        notes: dict[str, str] = self.values.get("notes", {})
        labels = [node.label for node in nodes]
        for label, text in notes.items():
            if label not in labels:
                raise self.fail(
                    label,
                    _("notes.{label}: no value is labelled {quoted} ({labels})").format(
                        label=label, quoted=repr(label), labels=", ".join(labels)
                    ),
                    "notes",
                )
            if not isinstance(text, str):
                raise self.fail(
                    label, _("notes.{label} must be a string").format(label=label), "notes"
                )
        return notes

    def check_data_and_ranges(self) -> None:
        values = self.values
        for column in ("x", "y"):
            for i, item in enumerate(values[column]):
                if not _numbers(item):
                    raise self.fail(
                        column,
                        _("{item} must be a number (or a list of them), not {value}").format(
                            item=f"{column}[{i}]", value=repr(item)
                        ),
                    )
                if not _all_finite(item):
                    raise self.fail(
                        column,
                        _("{item} must be a finite number, not {value}").format(
                            item=f"{column}[{i}]", value=repr(item)
                        ),
                    )
        # Range errors found later would name --lr and --epochs; in a file, name the key.
        if not (_finite(values["lr"]) and values["lr"] > 0):
            raise self.fail(
                "lr",
                _("{key} must be {what}, not {value}").format(
                    key="lr", what=i18n._(_KEYS["lr"].what), value=repr(values["lr"])
                ),
            )
        if values["epochs"] < 1:
            raise self.fail(
                "epochs",
                _("epochs must be at least 1, not {value}").format(value=repr(values["epochs"])),
            )


def lesson_from_config(
    config: Mapping[str, Any],
    name: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    where: str = "",
    text: str = "",
) -> Lesson:
    """Build and check a lesson from a TOML table (with command-line overrides on top)."""
    config, words = split_words(config, _Reader(config, where, text, False, False).fail)
    values = {**config, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    given = {k for k, v in (overrides or {}).items() if v is not None}
    read = _Reader(values, where, text, replaced="model" in given, loss_given="loss" in given)
    read.check_keys(config)
    loss = read.loss()
    model = read.model()
    nodes = [*model.nodes, *read.also_nodes(model)]
    loss_part, residual = read.loss_nodes(loss, model)
    nodes += loss_part
    params = read.params(model)
    narration = read.narration()
    notes = read.notes(nodes)
    check_note_labels(words, (node.label for node in nodes), read.fail)
    read.check_data_and_ranges()
    # A model or loss from the command line makes another lesson than the file's:
    # its title, description and (for a new model) narration would describe the wrong one.
    new_model = bool(overrides and overrides.get("model"))
    new_loss = loss != config.get("loss", "squared")
    try:
        lesson = make_lesson(
            name=name,
            title=values.get("title", name),
            x=values["x"],
            y=values["y"],
            params=params,
            nodes=nodes,
            lr=values["lr"],
            epochs=values["epochs"],
            prediction=model.output,
            residual=residual,
            description=values.get("description", ""),
            narration=narration,
            notes=notes,
            input_grad=bool(values.get("input_grad", False)),
            loss_kind=loss,
        )
        lesson = replace(lesson, words=tuple(words))
        if new_model or new_loss:
            lesson = replace(
                lesson,
                title=_own_title(lesson, None if new_model else name),
                description="",
                narration=() if new_model else lesson.narration,
                words=kept_words(lesson.words, new_model),
            )
        return lesson
    except LessonFileError:
        raise
    except LessonError as error:
        if given & {"model", "loss", "x", "y"}:
            # The model, loss or data came from the command line: the file is not to blame.
            raise LessonError(str(error)) from None
        raise read.fail(None, str(error)) from None


def _own_title(lesson: Lesson, base: str | None) -> str:
    """``Your model: ŷ = x * w + b, squared loss``, or with ``base`` (a lesson whose
    loss alone was changed) ``ŷ = x * w, abs loss (the linear lesson's model)``."""
    prediction = lesson.prediction or lesson.loss.name
    model = lesson.expression(prediction).replace("torch.", "")
    loss = "upstream gradient" if lesson.loss_kind == "upstream" else f"{lesson.loss_kind} loss"
    formula = f"{lesson.label(prediction)} = {model}, {loss}"
    return f"Your model: {formula}" if base is None else f"{formula} (the {base} lesson's model)"


def _numbers(value: Any) -> bool:
    """A number, or a (nested) list of numbers: a vector or a matrix."""
    if isinstance(value, list):
        return bool(value) and all(_numbers(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _all_finite(value: Any) -> bool:
    if isinstance(value, list):
        return all(_all_finite(v) for v in value)
    return _finite(value)


def builtin_names() -> list[str]:
    """The built-in lessons, the default first."""
    names = sorted(p.stem for p in LESSON_DIR.glob("*.toml"))
    return [DEFAULT, *(n for n in names if n != DEFAULT)]


def builtin_path(name: str) -> Path:
    return LESSON_DIR / f"{name}.toml"


def load_lesson(
    name_or_path: str | None = None, overrides: Mapping[str, Any] | None = None
) -> Lesson:
    """A built-in lesson by name, or a lesson file by path, with overrides applied."""
    target = name_or_path or DEFAULT
    if target in builtin_names():
        path, name = builtin_path(target), target
    else:
        path = Path(target)
        if path.suffix != ".toml" and not path.exists():
            raise LessonError(
                _(
                    "no lesson called {name}: the built-in lessons are {names} "
                    "(or give a .toml file)"
                ).format(name=repr(target), names=", ".join(builtin_names()))
            )
        name = path.stem
    config, text = read_config(path)
    return lesson_from_config(config, name, overrides=overrides, where=str(path), text=text)


def seed_lesson() -> Lesson:
    """The note's lesson: ŷ = x·w, r = ŷ − y, loss = r², per-sample SGD (``linear.toml``)."""
    return load_lesson("linear")


def describe_builtins() -> list[tuple[str, str, Path]]:
    """(name, title, path) of every built-in lesson, for ``bptui lessons``."""
    rows = []
    for name in builtin_names():
        config = read_config(builtin_path(name))[0]
        rows.append((name, title_in_language(config, name, language()), builtin_path(name)))
    return rows
