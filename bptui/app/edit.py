"""The edit form: change the learning rate, a parameter or the data mid-lesson."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ..lesson.snapshot import Snapshot
from ..lesson.spec import LessonError, parse_numbers
from ..lesson.values import Data


@dataclass(frozen=True)
class Edits:
    """What the form asks the engine to change (None: unchanged)."""

    lr: float | None
    params: dict[str, float]
    x: tuple[Data, ...] | None
    y: tuple[Data, ...] | None


def _numbers(values: tuple[Data, ...]) -> str:
    return ", ".join(f"{v:g}" for v in values)


class EditScreen(ModalScreen["Edits | None"]):
    """A small form over the lesson; values are checked before it closes.

    The change applies from the current training step on; the history so far
    stays, and ← undoes the change like any step.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, snapshot: Snapshot, x: tuple[Data, ...], y: tuple[Data, ...]) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.x = x
        self.y = y
        # Numbers only: vectors and matrices are changed in the lesson file.
        self._editable = [p for p in snapshot.params if isinstance(p.data, float)]
        self._data_editable = not any(isinstance(v, tuple) for v in (*x, *y))

    def compose(self) -> ComposeResult:
        snap = self.snapshot
        with VerticalScroll(id="edit-body"):
            yield Static("From this step on · enter applies · esc cancels", id="edit-title")
            with Grid(id="edit-grid"):
                yield Label("learning rate")
                yield Input(f"{snap.lr:g}", id="edit-lr")
                for param in self._editable:
                    yield Label(param.name)
                    yield Input(f"{param.data:.7g}", id=f"edit-param-{param.name}")
                if self._data_editable:
                    yield Label("x values")
                    yield Input(_numbers(self.x), id="edit-x")
                    yield Label("y values")
                    yield Input(_numbers(self.y), id="edit-y")
            yield Static("", id="edit-error")
            with Horizontal(id="edit-buttons"):
                yield Button("Apply", variant="primary", id="edit-apply")
                yield Button("Cancel", id="edit-cancel")

    def on_mount(self) -> None:
        """Start in the first field, ready to type (tab moves to the next)."""
        self.query_one("#edit-lr", Input).focus()

    def _read(self) -> Edits:
        def number(widget_id: str, what: str) -> float:
            text = self.query_one(f"#{widget_id}", Input).value.strip()
            try:
                return float(text)
            except ValueError:
                raise LessonError(f"{what}: {text!r} is not a number") from None

        lr = number("edit-lr", "learning rate")
        params = {p.name: number(f"edit-param-{p.name}", p.name) for p in self._editable}
        x, y = self.x, self.y
        if self._data_editable:
            x = parse_numbers(self.query_one("#edit-x", Input).value, "x values")
            y = parse_numbers(self.query_one("#edit-y", Input).value, "y values")
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
        except LessonError as error:
            self.query_one("#edit-error", Static).update(str(error))
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
