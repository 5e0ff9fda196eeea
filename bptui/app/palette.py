"""The colour themes: ``dark`` (the usual look), ``light`` and ``projector``.

A theme is two things. The screen's colours (backgrounds, borders, the message
line, the footer) are a Textual :class:`~textual.theme.Theme`, used by
``app.tcss`` through its variables (``$primary``, ``$text-muted`` …). The
numbers' styles, which the panels build in Python as Rich ``Text``, are named
by their role (``bptui.grad`` for a gradient, ``bptui.current`` for the node
of the last micro-step, …) and each theme gives every role its Rich style in a
Rich :class:`~rich.theme.Theme` that the app pushes on its console; a panel
repaints with the new styles when the theme changes, without building its
lines again.

Without colour (``NO_COLOR``, ``bptui serve --color none``, a monochrome
terminal) the roles that colour alone told apart get a mark of their own:
gradients are underlined, the current node is reversed, formulas are italic.
16 colours need nothing more: the roles' colours are the terminal's own ANSI
colours (magenta gradients, cyan wires), and the current node is reversed.
"""

from __future__ import annotations

from textual.theme import BUILTIN_THEMES, Theme

from ..i18n import _
from .settings import THEMES

DEFAULT = THEMES[0]

#: The screen's colours: dark is Textual's own dark theme, the look bptui always had.
TEXTUAL_THEMES: dict[str, Theme] = {
    "dark": BUILTIN_THEMES["textual-dark"],
    # Dark text on white: for a lit room, a light terminal, a printed screenshot.
    "light": Theme(
        name="bptui-light",
        primary="#004f9e",
        secondary="#0178d4",
        accent="#b35900",
        warning="#c77c00",
        error="#b00020",
        success="#1a7f37",
        foreground="#111111",
        background="#ffffff",
        surface="#f0f0f0",
        panel="#e4e4e4",
        dark=False,
        variables={
            "footer-key-foreground": "#004f9e",
            "text-muted": "auto 75%",
            "panel-border": "#004f9e 60%",
        },
    ),
    # White on black, full-strength borders, no faint text: readable from the back of
    # a room on a projector that washes colours out.
    "projector": Theme(
        name="bptui-projector",
        primary="#00d7ff",
        secondary="#5fafff",
        accent="#ffd700",
        warning="#ffd700",
        error="#ff5f5f",
        success="#5fff5f",
        foreground="#ffffff",
        background="#000000",
        surface="#121212",
        panel="#1c1c1c",
        boost="#262626",
        dark=True,
        text_alpha=1.0,
        variables={
            "text": "auto 100%",
            "text-muted": "auto 100%",
            "text-disabled": "auto 70%",
            "footer-key-foreground": "#ffd700",
            "footer-description-foreground": "#ffffff",
            "panel-border": "#00d7ff",
        },
    ),
}

#: The variables app.tcss uses beyond Textual's own, as the dark theme has them.
VARIABLES = {"panel-border": f"{BUILTIN_THEMES['textual-dark'].primary} 50%"}

#: Each role's Rich style in the dark theme (plain ANSI colours: 16-colour terminals
#: show them too, and Textual maps them to its dark or light ANSI palette).
_DARK = {
    "value": "bold",  # a forward value
    "grad": "bold magenta",  # a gradient (∂) or torch's .grad
    "grad_fn": "dim",  # torch's backward node under a value
    "edge": "cyan",  # the graph's wires
    "current": "reverse bold",  # the node(s) of the last micro-step
    "formula": "cyan",  # a local derivative's formula
    "ok": "bold green",  # ✓ agree
    "bad": "bold red",  # ✗ disagree
    "label": "bold",  # a name: w.data, Epoch, …
    "unknown": "dim",  # ? and None: not computed yet
    "hint": "dim",  # hints and separators: (c: next), ▸, requires_grad ✓
    "warn": "yellow",  # cut · , earlier grads + this sample's
    "warn_bold": "bold yellow",  # keeps 1,234 nodes
    "badge": "reverse yellow",  # a training mode that is on
    "play": "bold green",  # autoplay, finished
    "ran": "reverse bold",  # the code line the last micro-step ran
    "next": "underline",  # the code line that runs next
    "narration": "italic",  # the lesson file's narration
    "axis": "dim",  # the plot's axes and ticks
    "curve": "bright_blue",  # this sample's loss curve
    "history": "bright_green",  # every step's (w, loss)
    "reference": "magenta",  # the run compared with
    "now": "bold bright_red",  # the current point
}

#: What each theme changes from dark.
_CHANGES: dict[str, dict[str, str]] = {
    "dark": {},
    # Textual maps the ANSI colours to a palette made for a white background;
    # only the brightest would wash out on white.
    "light": {
        "curve": "blue",
        "history": "green",
        "now": "bold red",
    },
    # Nothing thin or dim where a value is shown; bold where it matters.
    "projector": {
        "grad": "bold #ff87ff",
        "grad_fn": "bold",
        "edge": "bold #00d7ff",
        "formula": "bold #00d7ff",
        "ok": "bold #5fff5f",
        "bad": "bold #ff5f5f",
        "unknown": "bold",
        "hint": "none",
        "warn": "bold #ffd700",
        "warn_bold": "bold #ffd700",
        "badge": "reverse bold #ffd700",
        "play": "bold #5fff5f",
        "next": "underline bold",
        "narration": "bold",
        "axis": "bold",
        "curve": "bold #5fafff",
        "history": "bold #5fff5f",
        "reference": "bold #ff87ff",
        "now": "bold #ff5f5f",
    },
}

#: Without colour: marks instead, so a gradient never looks like a forward value.
_MONO = {
    "grad": "bold underline",
    "formula": "italic",
    "edge": "none",
    "unknown": "none",
    "ok": "bold",
    "bad": "bold reverse",
    "warn": "italic",
    "warn_bold": "bold italic",
    "badge": "reverse",
    "play": "bold",
    "curve": "none",
    "history": "none",
    "reference": "none",
    "now": "bold",
}


#: The help's Markdown, drawn by Rich with its ``markdown.*`` styles: Rich's own
#: put inline code on black, which a light theme shows as black bars.
_MARKDOWN = {"h1": "bold", "h2": "bold underline", "code": "bold cyan", "item.bullet": "bold"}
#: What each theme changes from it, and what no colour does.
_MARKDOWN_CHANGES: dict[str, dict[str, str]] = {
    "dark": {},
    "light": {"code": "bold blue"},
    "projector": {"h2": "bold underline #00d7ff", "code": "bold #00d7ff"},
}
_MARKDOWN_MONO = {"h2": "bold underline", "code": "bold"}


def role(name: str) -> str:
    """The style name a panel gives a role's text: ``bptui.grad``."""
    return f"bptui.{name}"


VALUE, GRAD, GRAD_FN, EDGE, CURRENT = map(role, ("value", "grad", "grad_fn", "edge", "current"))
FORMULA, OK, BAD, LABEL, UNKNOWN, HINT = map(
    role, ("formula", "ok", "bad", "label", "unknown", "hint")
)
WARN, WARN_BOLD, BADGE, PLAY, RAN, NEXT = map(
    role, ("warn", "warn_bold", "badge", "play", "ran", "next")
)
NARRATION, AXIS, CURVE, HISTORY, REFERENCE, NOW = map(
    role, ("narration", "axis", "curve", "history", "reference", "now")
)


def styles(theme: str, mono: bool = False) -> dict[str, str]:
    """Every role's Rich style in ``theme`` (``mono``: without colour), by style name."""
    chosen = {**_DARK, **_CHANGES[theme], **(_MONO if mono else {})}
    markdown = {**_MARKDOWN, **_MARKDOWN_CHANGES[theme], **(_MARKDOWN_MONO if mono else {})}
    return {
        **{role(name): style for name, style in chosen.items()},
        **{f"markdown.{name}": style for name, style in markdown.items()},
    }


def next_theme(theme: str) -> str:
    """The theme after ``theme``, for ``T``."""
    return THEMES[(THEMES.index(theme) + 1) % len(THEMES)]


def theme_word(theme: str) -> str:
    """A theme's name as the message line says it."""
    return {"dark": _("dark"), "light": _("light"), "projector": _("projector")}[theme]


def marks(mono: bool) -> str:
    """What marks what on the screen, for the help: the marks without colour (``mono``),
    the colours with it."""
    if mono:
        return _(
            "Without colour: the node of the last micro-step is reversed, forward values "
            "are bold, gradients (∂) are bold and underlined, formulas are italic; in the "
            "code, ▶ marks the line that ran and › the next one."
        )
    return _(
        "The node of the last micro-step is reversed, forward values are bold, gradients "
        "(∂) are bold magenta and formulas cyan; in the code, ▶ marks the line that ran "
        "and › the next one."
    )
