"""The status bar: where in the training loop the lesson is."""

from __future__ import annotations

from rich.text import Text

from ... import glyphs
from ...i18n import N_, NC_, _, pgettext
from ...lesson.snapshot import Phase, Snapshot
from ...lesson.values import short
from ..palette import BADGE, CURRENT, HINT, LABEL, PLAY
from .lines import LinePanel

_PHASES = (Phase.FORWARD, Phase.BACKWARD, Phase.UPDATE, Phase.ZERO)


#: Each phase's name in the bar, and its short form for a narrow one.
_NAMES = {
    Phase.FORWARD: (NC_("phase", "forward"), NC_("phase", "fwd")),
    Phase.BACKWARD: (NC_("phase", "backward"), NC_("phase", "bwd")),
    Phase.UPDATE: (NC_("phase", "update"), NC_("phase", "upd")),
    Phase.ZERO: (NC_("phase", "zero"), NC_("phase", "zero")),
}


def phase_word(phase: Phase) -> str:
    """The phase's name as the status bar says it, in the current language."""
    names = _NAMES.get(phase)
    return pgettext("phase", names[0]) if names else phase.value


#: How much of the bar each narrower form keeps: (phases, short badges, x and y).
#: Phases are "long", "short", "tight" (short, and close together) or "current"
#: (only the phase the step is in).
_FORMS = (
    ("long", False, True),
    ("short", False, True),
    ("short", True, True),
    ("tight", True, True),
    ("current", True, True),
    ("current", True, False),
)

#: Each training mode's badge, and its short form for a narrow bar.
_BADGES = ((N_("no zero_()"), N_("no zero")), (N_("batch"), N_("batch")), ("sum += l", "sum+=l"))


def status_text(
    snap: Snapshot,
    autoplay: str | None = None,
    width: int = 200,
    badge: str | None = None,
    quiz: str | None = None,
) -> Text:
    """``Epoch 1/100 · Sample 1/3 x=1 y=2 · [FORWARD 2/3] ▸ backward ▸ update ▸ zero · lr 0.01``,
    in the current language.

    Where that does not fit in ``width`` cells, the phases are abbreviated, then
    the mode badges, then only the current phase is named; the sample's x and y
    are the last thing left out. ``badge`` (in a classroom: "following",
    "exploring", "teacher · 12 students") leads; ``quiz`` (the quiz's score, ``quiz 1/2``)
    ends it.
    """
    for phases, short_badges, data in _FORMS:
        text = _status(snap, autoplay, badge, phases, short_badges, data, quiz)
        if text.cell_len <= width:
            break
    return text


def _status(
    snap: Snapshot,
    autoplay: str | None,
    badge: str | None,
    phases: str,
    short_badges: bool,
    data: bool,
    quiz: str | None = None,
) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    dot = glyphs.shown(" · ")
    if badge:
        text.append(glyphs.shown(f" {badge} "), CURRENT)
        text.append(" ")
    text.append(_("Epoch {epoch}/{epochs}").format(epoch=snap.epoch, epochs=snap.epochs), LABEL)
    if snap.finished:
        text.append("  " + _("finished"), PLAY)
    else:
        sample = _("Sample {sample}/{samples}").format(sample=snap.sample, samples=snap.n_samples)
        text.append(dot + sample)
        if data:
            target = f" y={short(snap.y)}" if snap.has_target else ""
            text.append(f" x={short(snap.x)}{target}", HINT)
    text.append(dot)
    shown = [p for p in _PHASES if phases != "current" or p is snap.phase]
    for i, phase in enumerate(shown):
        if i:
            text.append(
                glyphs.glyph("▸", ">") if phases == "tight" else glyphs.glyph(" ▸ ", " > "), HINT
            )
        name = pgettext("phase", _NAMES[phase][0 if phases == "long" else 1])
        if phase is snap.phase:
            # Brackets mark it among the others in every language (Chinese has no
            # capitals) and without colour; named alone, it needs no mark.
            label = name.upper()
            if snap.phase_steps > 1:
                label += f" {snap.phase_step}/{snap.phase_steps}"
            text.append(label if phases == "current" else f"[{label}]", CURRENT)
        else:
            text.append(name, HINT)
    if text.plain.endswith(dot):  # finished: no phase is current
        text.right_crop(3)
    text.append(dot + _("lr {lr}").format(lr=f"{snap.lr:g}"))
    modes = snap.modes
    on = [
        names
        for flag, names in zip((modes.skip_zero, modes.batch, modes.sum_loss), _BADGES, strict=True)
        if flag
    ]
    # Short: one badge for all the modes that are on.
    badges = (
        [glyphs.shown("·").join(_(short) for _long, short in on)]
        if short_badges and on
        else [_(b) for b, _short in on]
    )
    for shown_badge in badges:
        text.append(" ")
        text.append(f" {shown_badge} ", BADGE)
    if autoplay:
        text.append(glyphs.shown(f" · ▶ {autoplay}"), PLAY)
    if quiz:
        text.append(dot + quiz, LABEL)
    return text


class StatusBar(LinePanel):
    """Epoch, sample (with its x and y), the phase of the step, the learning rate."""

    def __init__(self, loading: str = "", **kwargs) -> None:  # type: ignore[no-untyped-def]
        """``loading``: what the bar says until the engine is ready (English: shown translated)."""
        super().__init__(**kwargs)
        self._loading = loading
        self._shown: tuple[Snapshot, str | None, str | None, str | None] | None = None

    def show(
        self,
        snapshot: Snapshot,
        autoplay: str | None = None,
        badge: str | None = None,
        quiz: str | None = None,
    ) -> None:
        self._shown = (snapshot, autoplay, badge, quiz)
        self.redraw()

    def build(self, width: int) -> list[Text]:
        # Whether the phases are abbreviated depends on the width.
        if self._shown is None:
            return [Text(_(self._loading))]
        snapshot, autoplay, badge, quiz = self._shown
        return [status_text(snapshot, autoplay, width, badge, quiz)]
