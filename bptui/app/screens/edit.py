"""The edit form: change the learning rate, a parameter or the data mid-lesson."""

from __future__ import annotations

import math
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ...classroom.commands import Edit
from ...i18n import _
from ...lesson.numbers import parse_numbers
from ...lesson.snapshot import Kind, Message, Snapshot
from ...lesson.spec import Lesson, LessonError, float32_problem
from ...lesson.values import Data


class FieldError(LessonError):
    """A value of the form is wrong; ``field`` is the id of its input, if one is to blame."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Edits:
    """What the form asks the engine to change (None: unchanged)."""

    lr: float | None
    params: dict[str, float]
    x: tuple[Data, ...] | None
    y: tuple[Data, ...] | None

    def command(self) -> Edit:
        """The class command that makes these changes (a follower makes them too)."""
        return Edit(
            lr=self.lr,
            params=self.params,
            x=list(self.x) if self.x else None,
            y=list(self.y) if self.y else None,
        )


def refusal(snap: Snapshot, can_edit: bool) -> Message | None:
    """Why the form cannot open now (``can_edit``: at the start of a training step)."""
    if snap.finished:
        return Message(
            Kind.REFUSED,
            _(
                "The lesson is finished: there is no next step to change. "
                "r starts it again (and ← undoes that)."
            ),
        )
    if not can_edit:
        return Message(
            Kind.REFUSED,
            _(
                "Values can change at the start of a training step: finish this one "
                "first (s), then press E."
            ),
        )
    return None


def _numbers(values: tuple[Data, ...]) -> str:
    return ", ".join(f"{v:g}" for v in values)


class EditScreen(ModalScreen["Edits | None"]):
    """A small form over the lesson; every value is checked before it closes.

    The whole lesson is checked with the new values (the engine's own checks:
    a y for every x, bce targets between 0 and 1, float32's range), so a bad
    value keeps the form open with what was typed and a line naming the field.
    The change applies from the current training step on; the history so far
    stays, and ← undoes the change like any step.
    """

    CSS_PATH = "edit.tcss"  # read when the form first opens, not at the app's start

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, snapshot: Snapshot, lesson: Lesson) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.lesson = lesson
        self.x = x = lesson.x
        self.y = y = lesson.y
        # Numbers only: vectors and matrices are changed in the lesson file.
        self._editable = [p for p in snapshot.params if isinstance(p.data, float)]
        self._data_editable = not any(isinstance(v, tuple) for v in (*x, *y))

    def compose(self) -> ComposeResult:
        snap = self.snapshot
        with VerticalScroll(id="edit-body"):
            yield Static(_("From this step on · enter applies · esc cancels"), id="edit-title")
            # Above the fields: seen at once however many fields a lesson has.
            yield Static("", id="edit-error")
            with Grid(id="edit-grid"):
                yield Label(_("learning rate"))
                yield Input(f"{snap.lr:g}", id="edit-lr")
                for param in self._editable:
                    yield Label(param.name)
                    yield Input(f"{param.data:.7g}", id=f"edit-param-{param.name}")
                if self._data_editable:
                    yield Label(_("x values"))
                    yield Input(_numbers(self.x), id="edit-x")
                    yield Label(_("y values"))
                    yield Input(_numbers(self.y), id="edit-y")
            with Horizontal(id="edit-buttons"):
                yield Button(_("Apply"), variant="primary", id="edit-apply")
                yield Button(_("Cancel"), id="edit-cancel")

    def on_mount(self) -> None:
        """Start in the first field, ready to type (tab moves to the next)."""
        self.query_one("#edit-lr", Input).focus()

    def _read(self) -> Edits:
        """The form's values, checked as the engine will check them, or a
        :class:`FieldError` naming the field (as the form labels it) and why."""

        def number(widget_id: str, what: str) -> float:
            text = self.query_one(f"#{widget_id}", Input).value.strip()
            if not text:  # not "'' is not a number"
                raise FieldError(widget_id, _("{what} is empty: type a number").format(what=what))
            try:
                value = float(text)
            except ValueError:
                raise FieldError(
                    widget_id,
                    _("{what}: {text} is not a number").format(what=what, text=repr(text)),
                ) from None
            if not math.isfinite(value):
                raise FieldError(
                    widget_id,
                    _("{what} must be a finite number, not {text}").format(
                        what=what, text=repr(text)
                    ),
                )
            problem = float32_problem(value, underflow=widget_id == "edit-lr")
            if problem is not None:
                raise FieldError(widget_id, f"{what}: {problem}")
            return value

        def numbers(widget_id: str, what: str) -> tuple[float, ...]:
            try:
                return parse_numbers(self.query_one(f"#{widget_id}", Input).value, what)
            except LessonError as error:
                raise FieldError(widget_id, str(error)) from None

        lr = number("edit-lr", _("learning rate"))
        if lr <= 0:
            raise FieldError(
                "edit-lr",
                _("the learning rate must be greater than 0, got {lr}").format(lr=f"{lr:g}"),
            )
        params = {p.name: number(f"edit-param-{p.name}", p.name) for p in self._editable}
        x, y = self.x, self.y
        if self._data_editable:
            x = numbers("edit-x", _("x values"))
            y = numbers("edit-y", _("y values"))
        try:
            # The engine's own checks of the whole lesson, before the form closes.
            self.lesson.with_values(lr=lr, x=x, y=y)
        except LessonError as error:
            raise FieldError(None, str(error)) from None
        return Edits(
            lr=None if lr == self.snapshot.lr else lr,
            params={
                n: v
                for n, v in params.items()
                if f"{v:.7g}" != f"{self.snapshot.param(n).data:.7g}"
            },
            x=None if x == self.x else x,
            y=None if y == self.y else y,
        )

    _dismissed = False
    """Set once the form is dismissed: a second Enter in the same burst (a paste,
    a busy app catching up) must not dismiss it again (Textual raises then)."""

    def _close(self, edits: Edits | None) -> None:
        if not self._dismissed:
            self._dismissed = True
            self.dismiss(edits)

    def _submit(self) -> None:
        if self._dismissed:
            return
        try:
            edits = self._read()
        except FieldError as error:
            # The form stays open with everything typed; the field at fault gets the cursor.
            self.query_one("#edit-error", Static).update(
                _("Not applied: {error}").format(error=error)
            )
            if error.field is not None:
                self.query_one(f"#{error.field}", Input).focus()
            return
        self._close(edits)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "edit-apply":
            self._submit()
        else:
            self._close(None)

    def action_cancel(self) -> None:
        self._close(None)
