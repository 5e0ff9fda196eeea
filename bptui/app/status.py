"""The status bar: where in the training loop the lesson is."""

from __future__ import annotations

from rich.text import Text

from ..lesson.snapshot import Phase, Snapshot
from .fmt import short
from .lines import LinePanel

_PHASES = (Phase.FORWARD, Phase.BACKWARD, Phase.UPDATE, Phase.ZERO)


_SHORT = {Phase.FORWARD: "fwd", Phase.BACKWARD: "bwd", Phase.UPDATE: "upd", Phase.ZERO: "zero"}


def status_text(
    snap: Snapshot, autoplay: str | None = None, width: int = 200, badge: str | None = None
) -> Text:
    """``Epoch 1/100 · Sample 1/3 x=1 y=2 · FORWARD 2/3 ▸ backward ▸ update ▸ zero · lr 0.01``.

    Where that does not fit in ``width`` cells, the phases are abbreviated, and
    then the sample's x and y (the graph shows them) are left out. ``badge``
    (in a classroom: "following", "exploring", "teacher · 12 students") leads.
    """
    text = _status(snap, autoplay, badge, short_phases=False)
    if text.cell_len > width:
        text = _status(snap, autoplay, badge, short_phases=True)
    if text.cell_len > width:
        text = _status(snap, autoplay, badge, short_phases=True, data=False)
    return text


def _status(
    snap: Snapshot, autoplay: str | None, badge: str | None, short_phases: bool, data: bool = True
) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if badge:
        text.append(f" {badge} ", "reverse bold")
        text.append(" ")
    text.append(f"Epoch {snap.epoch}/{snap.epochs}", "bold")
    if snap.finished:
        text.append("  finished", "bold green")
    else:
        text.append(f" · Sample {snap.sample}/{snap.n_samples}")
        if data:
            target = f" y={short(snap.y)}" if snap.has_target else ""
            text.append(f" x={short(snap.x)}{target}", "dim")
    text.append(" · ")
    for i, phase in enumerate(_PHASES):
        if i:
            text.append(" ▸ ", "dim")
        name = _SHORT[phase] if short_phases else phase.value
        if phase is snap.phase:
            label = name.upper()
            if snap.phase_steps > 1:
                label += f" {snap.phase_step}/{snap.phase_steps}"
            text.append(label, "reverse bold")
        else:
            text.append(name, "dim")
    text.append(f" · lr {snap.lr:g}")
    for on, badge in (
        (snap.modes.skip_zero, "no zero_()"),
        (snap.modes.batch, "batch"),
        (snap.modes.sum_loss, "sum += l"),
    ):
        if on:
            text.append(" ")
            text.append(f" {badge} ", "reverse yellow")
    if autoplay:
        text.append(f" · ▶ {autoplay}", "bold green")
    return text


class StatusBar(LinePanel):
    """Epoch, sample (with its x and y), the phase of the step, the learning rate."""

    def __init__(self, loading: str = "", **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self._loading = loading
        self._shown: tuple[Snapshot, str | None, str | None] | None = None

    def show(
        self, snapshot: Snapshot, autoplay: str | None = None, badge: str | None = None
    ) -> None:
        self._shown = (snapshot, autoplay, badge)
        self.redraw()

    def build(self, width: int) -> list[Text]:
        # Whether the phases are abbreviated depends on the width.
        if self._shown is None:
            return [Text(self._loading)]
        snapshot, autoplay, badge = self._shown
        return [status_text(snapshot, autoplay, width, badge)]
