"""The warm-up app's parsed CSS, kept in the zygote and handed to every session's app.

The zygote runs the app once before it forks (:mod:`bptui.serve.zygote`) and
keeps what Textual parsed; each forked session (:mod:`bptui.serve.child`) gives
its own app the same caches instead of parsing ``app.tcss`` and every widget's
CSS again. A module of its own, so that neither of the two imports the other.
"""

from __future__ import annotations

from typing import Any

#: Textual's caches of a stylesheet, by attribute name.
_CACHES = ("_parse_cache", "_style_parse_cache")
_WARM: dict[str, Any] = {}


def keep(stylesheet: Any) -> None:
    """Keep ``stylesheet``'s parsed CSS (the warm-up app's, in the zygote)."""
    for name in _CACHES:
        if hasattr(stylesheet, name):
            _WARM[name] = getattr(stylesheet, name)


def share(app: Any) -> None:
    """Give ``app`` the warm-up app's parsed CSS (the same lesson, the same stylesheet).

    Textual keeps these caches per stylesheet, so every new app would parse
    app.tcss and every widget's CSS again. They are private attributes: if a
    Textual release renames them, this does nothing and only the speed-up is lost.
    """
    stylesheet = getattr(app, "stylesheet", None)
    for name, cache in _WARM.items():
        if stylesheet is not None and hasattr(stylesheet, name):
            setattr(stylesheet, name, cache)
