"""Numbers typed by a user: ``--x 1,2,3``, ``--init w=1,b=0`` and the edit form's fields.

Each bad item gets a :class:`~bptui.lesson.spec.LessonError` that names it, and
values torch's float32 cannot hold are refused (see :func:`float32_problem`).
"""

from __future__ import annotations

import math

from ..i18n import _
from .spec import LessonError, float32_problem


def parse_numbers(text: str, what: str) -> tuple[float, ...]:
    """``"1, 2,-3"`` → ``(1.0, 2.0, -3.0)``, or a :class:`LessonError` naming the bad item.

    ``what`` names the numbers as the user knows them (``--x``, ``x values``).
    """
    items = [item.strip() for item in text.split(",")]
    if items == [""]:
        raise LessonError(
            _("{what} is empty: give comma-separated numbers, e.g. 1,2,3").format(what=what)
        )
    values = []
    for i, item in enumerate(items, 1):
        if not item:
            raise LessonError(
                _(
                    "{what} has an empty item at position {i}: {text}; give comma-separated "
                    "numbers, e.g. 1,2,3"
                ).format(what=what, i=i, text=_cut(text))
            )
        try:
            value = float(item)
        except ValueError:
            raise LessonError(
                _(
                    "{what}: {item} (item {i}) is not a number; give comma-separated "
                    "numbers, e.g. 1,2.5,-3"
                ).format(what=what, item=_cut(item), i=i)
            ) from None
        if not math.isfinite(value):
            raise LessonError(
                _("{what}: {item} (item {i}) is not a finite number").format(
                    what=what, item=_cut(item), i=i
                )
            )
        problem = float32_problem(value, underflow=False)
        if problem is not None:
            raise LessonError(_("{what}: {problem}").format(what=what, problem=problem))
        values.append(value)
    return tuple(values)


def _cut(text: str, limit: int = 24) -> str:
    """A value echoed in a message: quoted, and cut if long (5,000 digits help nobody)."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def parse_init(text: str) -> dict[str, float]:
    """``"w=1.0,b=-2"`` → ``{"w": 1.0, "b": -2.0}``."""
    result: dict[str, float] = {}
    for item in (part.strip() for part in text.split(",")):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise LessonError(
                _(
                    "--init: {item} is not name=value; use e.g. --init w=1.0 or --init w=1,b=0"
                ).format(item=repr(item))
            )
        if not name.isidentifier():
            raise LessonError(_("--init: {name} is not a parameter name").format(name=repr(name)))
        if name in result:
            raise LessonError(_("--init gives {name} twice").format(name=name))
        try:
            number = float(value)
        except ValueError:
            raise LessonError(
                _("--init: the value of {name}, {value}, is not a number").format(
                    name=name, value=repr(value.strip())
                )
            ) from None
        if not math.isfinite(number):
            raise LessonError(
                _("--init: the value of {name} must be finite, got {value}").format(
                    name=name, value=repr(value.strip())
                )
            )
        result[name] = number
    return result
