"""The key footer: Textual's compact footer, cheaper to build.

Textual's ``Footer(compact=True)`` mounts each key and only then gives it the
``-compact`` class, which restyles every key a second time (nine restyles each
time the footer is rebuilt: at start, and whenever a key is greyed out or
back). Here each key carries the class from the start, so it looks the same and
is styled once. Each key's word and tooltip are English in the keymap and
shown in the current language, so ``L`` rebuilds the footer in the other one.
And while a class is joining ``bptui serve`` at once, the
footer is built once the other students' lessons are on screen (see
:mod:`bptui.app.startup`).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from ...i18n import _
from .. import startup


class KeyFooter(Footer):
    """A compact footer whose keys are compact before they mount."""

    def __init__(self) -> None:
        super().__init__(compact=True)
        #: The screen whose keys are put off (see :mod:`bptui.app.startup`).
        self._pending: Any = None

    def bindings_changed(self, screen: Any) -> None:
        if self._pending is None and not startup.waiting():
            super().bindings_changed(screen)
            return
        if self._pending is None:
            self.set_timer(startup.POLL, self._build_put_off)
        self._pending = screen  # the latest bindings, when the keys are built

    def _build_put_off(self) -> None:
        if not startup.put_off(self, self._build_put_off):
            screen, self._pending = self._pending, None
            super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        extra = self.app.footer_extra() if hasattr(self.app, "footer_extra") else ()
        if extra and self._bindings_ready:
            yield from self._keys(extra)
            return
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.set_class(self.compact, "-compact", update=False)
                widget.description = _(widget.description)
                if isinstance(widget.tooltip, str) and widget.tooltip:
                    widget.tooltip = _(widget.tooltip)
            yield widget

    def _keys(self, extra: tuple[str, ...]) -> ComposeResult:
        """The keys shown, with the ``extra`` actions though their bindings are hidden."""
        keys: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show or binding.action in extra:
                keys.setdefault(binding.action, (binding, enabled, tooltip))
        self.styles.grid_size_columns = len(keys)
        for binding, enabled, tooltip in keys.values():
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                _(binding.description),
                binding.action,
                disabled=not enabled,
                tooltip=_(tooltip) if tooltip else "",
                classes="-compact",
            ).data_bind(compact=Footer.compact)
