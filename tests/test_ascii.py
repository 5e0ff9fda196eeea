"""ASCII mode (``--ascii``, or a terminal that is not UTF-8): the transliteration
table, the decision from the locale and from an ssh client, the command line's
output, and the app's screens, where the driver's safety net must never have to act.

The end-to-end check, every byte a real process writes, is in test_pty_ascii.py.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_app import drawn, make_app, wait_for
from textual.drivers.headless_driver import HeadlessDriver
from textual.pilot import Pilot

from bptui import cli, glyphs, i18n
from bptui.app.main import BptuiApp
from bptui.app.panels.message import MessageBar
from bptui.app.plainterm import ENGLISH_ONLY, NET, SafetyNet, ascii_driver
from bptui.app.settings import Settings
from bptui.lesson.engine import Stepper
from bptui.lesson.files import builtin_names, load_lesson
from bptui.lesson.snapshot import FactorView, Kind, Message

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _plain_after() -> Iterator[None]:
    """ASCII mode is one switch per process: leave it off for the next test."""
    yield
    glyphs.set_ascii(False)
    i18n.set_language("en")


# ------------------------------------------------------------- the table


@pytest.mark.parametrize(
    ("fancy", "plain"),
    [
        ("∂loss/∂ŷ = ∂loss/∂r · ∂r/∂ŷ", "dloss/dy_hat = dloss/dr * dr/dy_hat"),
        ("ŷ = σ(x·w + b)", "y_hat = sigmoid(x*w + b)"),
        ("(ŷ − y)²", "(y_hat - y)^2"),
        ("✓ all agree", "ok all agree"),
        ("✗ disagree", "x disagree"),
        ("Loading PyTorch…", "Loading PyTorch..."),
        ("x×w", "x*w"),
        ("2×3 matrix; at least {width}×{height}", "2x3 matrix; at least {width}x{height}"),
        ("▶ l.backward()", "> l.backward()"),
        ("› w.grad.data.zero_()", "> w.grad.data.zero_()"),
        ("fwd ▸ bwd", "fwd > bwd"),
        ("space → n ← backspace", "space -> n <- backspace"),
        ("(∂loss/∂z1) xᵀ", "(dloss/dz1) x^T"),
        ("r³ — Σ", "r^3 -- sum"),
        ("┌─┬─┐│└┘├┤┴┼", "+-+-+|++++++"),
        ("café", "cafe"),  # not in the table: the letter without its accent
        ("中文", "??"),  # nothing in ASCII: a question mark each
    ],
)
def test_transliteration(fancy: str, plain: str) -> None:
    assert glyphs.to_ascii(fancy) == plain
    assert plain.isascii()


def test_ascii_text_comes_back_as_it_is() -> None:
    text = "w.grad = 2 * r * x"
    assert glyphs.to_ascii(text) is text


def test_every_spelling_in_the_table_is_ascii() -> None:
    assert all(plain.isascii() and plain for plain in glyphs.TABLE.values())
    assert all(not fancy.isascii() and len(fancy) == 1 for fancy in glyphs.TABLE)


def test_every_character_bptui_writes_has_its_spelling() -> None:
    """Each non-ASCII character in the code and the built-in lessons is in the table (a new
    one added without its ASCII spelling would show as ``?``), Chinese names aside."""
    sources = [*ROOT.joinpath("bptui").rglob("*.py"), *ROOT.joinpath("bptui").rglob("*.toml")]
    sources.remove(ROOT / "bptui" / "glyphs.py")  # the table itself, and its examples
    found = {ch for path in sources for ch in path.read_text("utf-8") if not ch.isascii()}
    cjk = {ch for ch in found if re.match(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]", ch)}
    missing = sorted(found - cjk - set(glyphs.TABLE))
    assert not missing, f"add to glyphs.TABLE: {missing}"


def test_shown_and_glyph_follow_the_mode() -> None:
    assert glyphs.shown("∂") == "∂" and glyphs.glyph("─", "-") == "─"
    glyphs.set_ascii(True)
    assert glyphs.shown("∂") == "d" and glyphs.glyph("─", "-") == "-"
    assert glyphs.ascii_only()


def test_plain_snapshot_parts() -> None:
    """Every string of a frozen tree in ASCII; parts without one are the same objects."""
    factor = FactorView("yhat", "w", "ŷ", "w", "x", 1.0, 1.0)
    message = Message(Kind.STEP, "plain words")
    tree = (factor, message, None, 2.5)
    assert glyphs.plain(tree) is tree  # off: untouched
    glyphs.set_ascii(True)
    plain = glyphs.plain(tree)
    assert plain[0] == dataclasses.replace(factor, out_label="y_hat")
    assert plain[1] is message and plain[2] is None and plain[3] == 2.5


# ------------------------------------------------------------- which terminals


@pytest.mark.parametrize(
    ("env", "encoding", "utf8"),
    [
        ({"LANG": "en_US.UTF-8"}, "utf-8", True),
        ({"LANG": "zh_CN.utf8"}, "utf-8", True),
        ({"LANG": "C.UTF-8"}, "utf-8", True),
        ({"LANG": "C"}, "utf-8", False),
        ({"LANG": "POSIX"}, "utf-8", False),
        ({}, "utf-8", False),  # no locale at all: the C locale
        ({"LANG": "de_DE.ISO-8859-1"}, "utf-8", False),
        ({"LANG": "de_DE"}, "utf-8", False),  # no character set named: ISO-8859-1
        ({"LANG": "de_DE@euro"}, "utf-8", False),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "C"}, "utf-8", False),  # LC_ALL first
        ({"LANG": "en_US.UTF-8", "LC_CTYPE": "en_US.ISO-8859-1"}, "utf-8", False),
        ({"LANG": "C", "LC_CTYPE": "C.UTF-8"}, "utf-8", False),  # Python's coercion of C
        ({"LC_CTYPE": "C.UTF-8"}, "utf-8", False),
        ({"LANG": "de_DE.ISO-8859-1", "LC_CTYPE": "C.UTF-8"}, "utf-8", False),
        ({"LANG": "en_US.UTF-8", "LC_CTYPE": "C.UTF-8"}, "utf-8", True),
        ({"LANG": "en_US.UTF-8"}, "ascii", False),  # PYTHONIOENCODING=ascii
        ({"LANG": "en_US.UTF-8"}, "latin-1", False),
        ({"LANG": "en_US.UTF-8"}, "UTF8", True),
    ],
)
def test_local_terminal(env: dict[str, str], encoding: str, utf8: bool) -> None:
    assert glyphs.utf8_locale(env, encoding) is utf8


@pytest.mark.parametrize(
    ("env", "term", "utf8"),
    [
        ({}, "xterm-256color", True),
        ({}, "screen", True),
        ({}, "linux", True),
        ({}, "vt100", False),
        ({}, "vt220", False),
        ({}, "dumb", False),
        ({"LANG": "C"}, "xterm-256color", False),  # the locale it sent decides
        ({"LC_ALL": "en_US.UTF-8"}, "vt100", True),
        ({"LANG": "fr_FR.ISO-8859-1"}, "xterm", False),
    ],
)
def test_ssh_client(env: dict[str, str], term: str, utf8: bool) -> None:
    assert glyphs.utf8_client(env, term) is utf8


# ------------------------------------------------------------- the command line


def _locale(monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", lang)


@pytest.mark.parametrize(
    ("argv", "lang", "on"),
    [
        (["--ascii"], "en_US.UTF-8", True),
        (["--no-ascii"], "C", False),
        ([], "C", True),
        ([], "en_US.ISO-8859-1", True),
        ([], "en_US.UTF-8", False),
        (["--ascii", "--no-ascii"], "en_US.UTF-8", False),  # the last one wins
    ],
)
def test_settings_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], lang: str, on: bool
) -> None:
    _locale(monkeypatch, lang)
    args = cli.build_parser().parse_args(argv)
    assert cli.settings_from_args(args).ascii_only is on
    assert cli._plain_terminal(argv) is on


def test_serve_takes_the_option_and_leaves_the_rest_to_each_student() -> None:
    parser = cli.build_parser()
    assert cli.ascii_given(parser.parse_args(["serve", "--ascii"])) is True
    assert cli.ascii_given(parser.parse_args(["--ascii", "serve"])) is True
    assert cli.ascii_given(parser.parse_args(["serve", "--no-ascii"])) is False
    assert cli.ascii_given(parser.parse_args(["serve"])) is None


def test_help_and_errors_are_ascii_where_the_terminal_is_not_utf8(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the app starts: --help names ŷ (the --loss help), an error quotes a long
    value with …; under LANG=C both come out in ASCII, under UTF-8 as they are."""
    _locale(monkeypatch, "C")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert out.isascii() and "(y_hat - y)^2" in out
    assert cli.main(["--lr", "1" * 40 + "x"]) == 2
    err = capsys.readouterr().err
    assert err.isascii() and "..." in err

    _locale(monkeypatch, "en_US.UTF-8")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "(ŷ − y)²" in capsys.readouterr().out


def test_the_trace_is_data_and_keeps_its_characters(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``bptui trace`` under LANG=C writes the lesson's ŷ as it is: it is a file's content."""
    _locale(monkeypatch, "C")
    assert cli.main(["trace", "--format", "md", "--epochs", "1"]) == 0
    assert "ŷ" in capsys.readouterr().out


# ------------------------------------------------------------- the app's screens

#: Keys that bring up every kind of screen: each phase, the help, both plots, the
#: enlarged plot and graph, the edit form, go-to-step, the chain's next parameter,
#: grad_fn names, the training modes, a refusal (u before b), undo.
WALK = (
    "F", "B", "u", "z", "question_mark", "escape", "g", "v", "v", "E", "escape",
    "colon", "escape", "o", "escape", "c", "y", "Z", "m", "l", "space", "s", "u", "left", "p", "p",
)  # fmt: skip


def _screen(app: BptuiApp) -> str:
    """The whole screen as the driver would be given it (escape sequences and all)."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return update.render_segments(app.console)  # type: ignore[union-attr]


async def _walk(pilot: Pilot, net: SafetyNet) -> list[str]:
    """Press the walk's keys, then make the window too small; every screen's characters
    go through ``net``. Returns the keys after which it replaced something."""
    app = pilot.app
    assert isinstance(app, BptuiApp)
    seen = []
    await wait_for(pilot, lambda: drawn(app))
    for key in WALK:
        await pilot.press(key)
        await pilot.pause()
        if app.screen is app.screen_stack[0]:
            # The frame, then the plot (drawn after the frame).
            await wait_for(pilot, lambda: drawn(app) and not app.frames.plot_due)
        before = net.replaced
        net.clean(_screen(app))
        if net.replaced != before:
            seen.append(key)
    await pilot.resize_terminal(50, 15)  # the "enlarge the terminal" screen
    await pilot.pause(0.1)
    before = net.replaced
    net.clean(_screen(app))
    if net.replaced != before:
        seen.append("50x15")
    return seen


@pytest.mark.parametrize("name", builtin_names())
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_the_safety_net_never_acts_on_a_lesson(name: str, size: tuple[int, int]) -> None:
    """Every screen of every lesson is spelled in ASCII where it is made: the driver's
    last-resort replacement finds nothing to replace."""
    lesson = load_lesson(name)
    app = BptuiApp(lesson, Stepper(lesson), Settings(ascii_only=True))
    net = SafetyNet()
    async with app.run_test(size=size) as pilot:
        keys = await _walk(pilot, net)
    assert net.replaced == 0, f"{sorted(net.seen)} reached the driver after keys {keys}"


async def test_the_check_finds_what_a_normal_screen_writes() -> None:
    """The same walk without ASCII mode: the check above would see ∂, ŷ and the boxes."""
    net = SafetyNet()
    async with make_app().run_test(size=(80, 24)) as pilot:
        await _walk(pilot, net)
    assert {"∂", "ŷ", "─", "╭"} <= net.seen


def test_the_safety_net_keeps_the_layout() -> None:
    net = SafetyNet()
    assert net.clean("\x1b[1ma─b\x1b[0m") == "\x1b[1ma-b\x1b[0m"
    assert net.clean("中x") == "??x"  # two cells stay two cells
    assert net.clean("…") == "?"  # not "...": the rest of the line would move
    assert net.replaced == 3 and net.seen == {"─", "中", "…"}


async def test_ascii_mode_speaks_english_and_says_so() -> None:
    """Chinese asked for (--lang zh, or a zh locale) and ASCII: English, with a note."""
    i18n.set_language("zh")
    lesson = load_lesson("linear")
    app = BptuiApp(lesson, Stepper(lesson), Settings(ascii_only=True, language="zh"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        assert app.query_one(MessageBar).text == ENGLISH_ONLY
        text = i18n._(
            "Enlarge the terminal to at least {min_width}×{min_height} "
            "(it is {width}×{height}).\n\nq quits."
        )
        assert text.startswith("Enlarge the terminal to at least {min_width}x{min_height}")
    glyphs.set_ascii(False)
    assert i18n._("Enlarge the terminal to at least {min_width}×{min_height} "
                  "(it is {width}×{height}).\n\nq quits.").startswith("请")  # fmt: skip


def test_the_app_writes_through_the_safety_net_in_ascii_mode_only() -> None:
    """The driver the app will start with passes every write through the net."""

    class Recording:
        def write(self, data: str) -> None:
            self.written = data

    net = ascii_driver(Recording)()  # type: ignore[arg-type]
    before = NET.replaced
    net.write("\x1b[1mx─y\x1b[0m")
    assert net.written == "\x1b[1mx-y\x1b[0m" and NET.replaced == before + 1  # type: ignore[attr-defined]
    assert ascii_driver(HeadlessDriver) is HeadlessDriver  # tests draw nothing to a terminal

    lesson = load_lesson("linear")
    plain = BptuiApp(lesson, Stepper(lesson), Settings(ascii_only=True))
    assert plain.driver_class.__name__.startswith("Ascii") and plain.has_class("-ascii")
    fancy = BptuiApp(lesson, Stepper(lesson), Settings())
    assert not fancy.driver_class.__name__.startswith("Ascii") and not glyphs.ascii_only()
