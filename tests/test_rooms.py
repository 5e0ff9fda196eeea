"""Every room: the themes (--theme, T), no colour (NO_COLOR), and --narrate FILE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.color import ColorSystem
from rich.segment import Segment
from screen_rows import screen_strips
from test_app import make_app, press, shown, wait_for
from textual.pilot import Pilot

from bptui import cli
from bptui.app.main import BptuiApp
from bptui.app.narrate import command_lines, step_line
from bptui.app.panels.graph import GraphPanel
from bptui.app.panels.lines import LinePanel
from bptui.app.panels.message import MessageBar
from bptui.app.panels.tensor import TensorPanel
from bptui.app.screens.help import HelpPage, HelpScreen
from bptui.app.settings import Settings
from bptui.i18n import set_language
from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper
from bptui.lesson.files import describe_builtins, load_lesson

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def _english_in_full_colour(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """English, and the colours of a modern terminal whatever this one's TERM says
    (the tests of no colour and of 16 colours say so themselves)."""
    from textual import constants

    set_language("en")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(constants, "COLOR_SYSTEM", "truecolor")
    yield
    set_language("en")  # a test that speaks Chinese leaves English for the next


def segments(app: BptuiApp, widget: type[LinePanel]) -> list[Segment]:
    """The styled pieces of text the screen shows for one widget (after its theme)."""
    region = app.query_one(widget).content_region  # inside its border
    strips = screen_strips(app)
    found = []
    for y in range(region.y, region.bottom):
        for segment in strips[y].crop(region.x, region.right):
            if segment.text.strip():
                found.append(segment)
    return found


def styled(app: BptuiApp, text: str) -> Segment:
    """The graph's first piece of text that contains ``text``."""
    return next(s for s in segments(app, GraphPanel) if text in s.text)


async def help_text(pilot: Pilot) -> str:
    """The help's text (opened with ? if it is not open)."""
    if not isinstance(pilot.app.screen, HelpScreen):
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
    return pilot.app.screen.query_one(HelpPage).source


# ------------------------------------------------------------------ themes


async def test_T_cycles_the_themes_and_the_rendered_styles_follow() -> None:
    """T: dark → light → projector → dark. The message line names the theme, the
    screen's background changes with it, and so does the style of the numbers the
    panels draw: a gradient is magenta in dark, bold pink on the projector's black,
    and nothing in the projector's graph is dim."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "F", "b")  # ∂ -2 reaches r
        assert app.themes.name == "dark" and app.theme == "textual-dark"
        dark_grad = styled(app, "∂ -2").style
        dark_back = styled(app, "ŷ=1").style
        assert dark_grad is not None and dark_grad.bold and dark_grad.color is not None
        # Magenta, as Textual's dark ANSI palette paints it.
        assert dark_grad.color.triplet == app.ansi_theme.ansi_colors[5]

        await pilot.press("T")
        await wait_for(pilot, lambda: "light" in shown(app, MessageBar))
        assert app.themes.name == "light" and app.theme == "bptui-light"
        assert "Theme: light" in shown(app, MessageBar)
        light_back = styled(app, "ŷ=1").style
        assert light_back is not None and dark_back is not None
        assert light_back.bgcolor != dark_back.bgcolor

        await pilot.press("T")
        await wait_for(pilot, lambda: "projector" in shown(app, MessageBar))
        assert app.themes.name == "projector" and app.theme == "bptui-projector"
        grad = styled(app, "∂ -2").style
        assert grad is not None and grad.bold and grad.color is not None
        assert grad.color.triplet is not None and grad.color.triplet.hex == "#ff87ff"
        assert not any(s.style is not None and s.style.dim for s in segments(app, GraphPanel))
        # Every panel's text is bold, for the back of the room: w.data's number too.
        for panel in (MessageBar, TensorPanel):
            assert all(s.style is not None and s.style.bold for s in segments(app, panel))

        await pilot.press("T")
        await wait_for(pilot, lambda: "dark" in shown(app, MessageBar))
        assert app.themes.name == "dark"
        assert styled(app, "∂ -2").style == dark_grad


async def test_theme_setting_is_on_from_the_first_frame() -> None:
    """--theme projector (Settings.theme) starts the app in that theme."""
    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(theme="light"))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "n")
        assert app.theme == "bptui-light" and app.themes.name == "light"


def test_theme_option_is_read_for_the_app_and_for_serve() -> None:
    parser = cli.build_parser()
    assert cli.settings_from_args(parser.parse_args(["--theme", "light"])).theme == "light"
    args = parser.parse_args(["serve", "--theme", "projector"])
    assert cli.settings_from_args(args).theme == "projector"
    assert cli.settings_from_args(parser.parse_args([])).theme == "dark"


@pytest.mark.parametrize(
    "argv", [["--theme", "purple"], ["--theme", ""], ["serve", "--theme", "x"]]
)
def test_a_bad_theme_is_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert (
        err[0].startswith("bptui")
        and "is not a theme; choose one of dark, light, projector" in err[0]
    )
    assert "Traceback" not in "\n".join(err)


# ------------------------------------------------------------------ no colour


async def test_without_colour_gradients_and_the_current_node_carry_marks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """NO_COLOR: a gradient is underlined (bold alone would read as a forward value), the
    node of the last micro-step is reversed, forward values are bold and not underlined;
    the help says so in words, naming no colour."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.themes.colourless
        await press(pilot, "F", "b")
        grad = styled(app, "∂ -2").style
        assert grad is not None and grad.bold and grad.underline
        current = styled(app, "loss=1").style  # backward went through the loss
        assert current is not None and current.reverse
        value = styled(app, "ŷ=1").style
        assert value is not None and value.bold and not value.underline and not value.reverse
        assert "underlined" in await help_text(pilot) and "magenta" not in await help_text(pilot)


async def test_with_colour_the_help_names_the_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert not app.themes.colourless
        await press(pilot, "n")
        text = await help_text(pilot)
        assert "gradients (∂) are bold magenta" in text and "underlined" not in text


def help_segment(app: BptuiApp, text: str) -> Segment:
    """The help page's first piece of text that contains ``text``, as drawn."""
    region = app.screen.query_one(HelpPage).content_region
    strips = screen_strips(app)
    return next(
        segment
        for y in range(region.y, region.bottom)
        for segment in strips[y].crop(region.x, region.right)
        if text in segment.text
    )


@pytest.mark.parametrize("theme", ["dark", "light", "projector"])
async def test_the_helps_code_takes_the_themes_style(theme: str) -> None:
    """Rich's own style puts inline code on black: on the light theme's white page,
    black bars. Each theme gives it a colour on the page's own background."""
    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(theme=theme))
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "n")
        await help_text(pilot)
        await wait_for(pilot, lambda: "zero_()" in "".join(s.text for s in screen_strips(app)))
        code = help_segment(app, "zero_()").style
        prose = help_segment(app, "zero the gradient").style
        assert code is not None and prose is not None
        assert code.bold and code.color != prose.color
        assert code.bgcolor == prose.bgcolor  # no bar behind the code


async def test_without_colour_the_helps_code_is_bold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.themes.colourless
        await press(pilot, "n")
        await help_text(pilot)
        await wait_for(pilot, lambda: "zero_()" in "".join(s.text for s in screen_strips(app)))
        code = help_segment(app, "zero_()").style
        assert code is not None and code.bold and code.color is None


# ------------------------------------------------------------------ narration


def _lines(stepper: Stepper, action: str, count: int = 1) -> list[str]:
    lines: list[str] = []
    for _ in range(count):
        before = stepper.snapshot()
        getattr(stepper, action)()
        lines += command_lines(action, before, stepper.snapshot())
    return lines


def test_narration_of_the_seed_lesson_word_for_word() -> None:
    """The note's first training step, one line a micro-step, then an undo."""
    stepper = Stepper(seed_lesson())
    assert step_line(stepper.snapshot()) is None  # nothing done yet
    assert _lines(stepper, "next", 8) == [
        "forward: ŷ = x·w = 1",
        "forward: r = ŷ − y = -1",
        "forward: loss = r² = 1",
        "backward: ∂loss/∂r = 2r = -2",
        "backward: ∂loss/∂ŷ = ∂loss/∂r · ∂r/∂ŷ = -2 · 1 = -2",
        "backward: ∂loss/∂w = ∂loss/∂ŷ · ∂ŷ/∂w = -2 · 1 = -2",
        "update: w = 1.02 (lr 0.01)",
        "zero: w.grad = 0",
    ]
    assert _lines(stepper, "next") == ["forward: ŷ = x·w = 2.04"]
    assert _lines(stepper, "undo") == ["undone: forward: ŷ = x·w = 2.04"]


def test_a_jump_gets_one_line_where_it_landed() -> None:
    stepper = Stepper(seed_lesson())
    before = stepper.snapshot()
    stepper.jump_to(2)
    assert command_lines("jump", before, stepper.snapshot()) == [
        "jump (16 micro-steps): now epoch 1/100, sample 3/3, forward; w = 1.0984"
    ]


def test_a_refused_key_is_narrated_with_the_reason() -> None:
    stepper = Stepper(seed_lesson())
    (line,) = _lines(stepper, "backward")
    assert line.startswith("backward: There is no loss to differentiate yet")


@pytest.mark.parametrize("name", [name for name, _, _ in describe_builtins()])
def test_every_lesson_narrates_each_micro_step_in_one_line(name: str) -> None:
    """Two training steps of every built-in lesson: a line for each micro-step, and each
    says which part of the step it was."""
    stepper = Stepper(load_lesson(name, {}))
    kinds = set()
    for _ in range(40):
        before = stepper.snapshot()
        if before.finished:
            break
        stepper.next()
        lines = command_lines("next", before, stepper.snapshot())
        assert len(lines) == 1 and "\n" not in lines[0]
        kinds.add(lines[0].split(":")[0])
    assert kinds >= {"forward", "backward", "update", "zero"}


async def test_the_app_appends_a_line_per_key_to_the_narration_file(tmp_path: Path) -> None:
    path = tmp_path / "lesson.txt"
    path.write_text("earlier\n", encoding="utf-8")
    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(narrate=str(path)))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "n", "n", "left")
        # Flushed as written: readable while the app runs (tail -f).
        assert path.read_text(encoding="utf-8").splitlines() == [
            "earlier",
            "forward: ŷ = x·w = 1",
            "forward: r = ŷ − y = -1",
            "undone: forward: r = ŷ − y = -1",
        ]


async def test_keys_of_many_micro_steps_get_a_line_for_each(tmp_path: Path) -> None:
    """F, B and s say every micro-step they take, as the single steps would; a jump
    (End) says where it landed."""
    path = tmp_path / "lesson.txt"
    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(narrate=str(path)))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "F", "B", "s")
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[:6] == [
            "forward: ŷ = x·w = 1",
            "forward: r = ŷ − y = -1",
            "forward: loss = r² = 1",
            "backward: ∂loss/∂r = 2r = -2",
            "backward: ∂loss/∂ŷ = ∂loss/∂r · ∂r/∂ŷ = -2 · 1 = -2",
            "backward: ∂loss/∂w = ∂loss/∂ŷ · ∂ŷ/∂w = -2 · 1 = -2",
        ]
        assert lines[6:] == ["update: w = 1.02 (lr 0.01)", "zero: w.grad = 0"]
        await press(pilot, "s")
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 8 + 8 and lines[8] == "forward: ŷ = x·w = 2.04"
        await press(pilot, "end")
        last = path.read_text(encoding="utf-8").splitlines()[-1]
        assert last.startswith("jump to the end of the epoch (")
        assert len(path.read_text(encoding="utf-8").splitlines()) == 17


async def test_autoplay_is_narrated_a_line_a_micro_step(tmp_path: Path) -> None:
    """p: every micro-step autoplay takes gets its line, and an undo afterwards names
    the last one."""
    path = tmp_path / "lesson.txt"
    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(narrate=str(path)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await wait_for(pilot, lambda: app.stepper is not None and app.stepper.micro_steps >= 12)
        await pilot.press("p")
        await pilot.pause(0.2)
        assert app.stepper is not None
        taken = app.stepper.micro_steps
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == taken
        assert lines[:3] == [
            "forward: ŷ = x·w = 1",
            "forward: r = ŷ − y = -1",
            "forward: loss = r² = 1",
        ]
        await press(pilot, "left")
        undone = path.read_text(encoding="utf-8").splitlines()[-1]
        assert undone == f"undone: {lines[-1]}"


async def test_modes_edits_and_jumps_are_said_once(tmp_path: Path) -> None:
    """A mode is said in the engine's words, a jump by where it landed: one line each,
    never the micro-steps they replay."""
    path = tmp_path / "lesson.txt"
    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(narrate=str(path)))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "n", "n", "Z", "end", "U")
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 5
        assert lines[2].startswith("no-zero mode: Skip-zero mode on:")
        assert lines[3].startswith("jump to the end of the epoch (")
        assert lines[4].startswith("back to a training step's start (")


async def test_a_narration_file_that_fails_stops_narrating_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "gone" / "lesson.txt"  # the directory is not there
    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(narrate=str(path)))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "n")
        assert "Narration stopped: cannot write" in shown(app, MessageBar)
        await press(pilot, "n")
        assert "Forward: r" in shown(app, MessageBar)  # the lesson goes on


def test_narrate_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that cannot be written, or --narrate for a classroom server: one line, exit 2,
    before anything starts."""
    parser = cli.build_parser()
    path = str(tmp_path / "n.txt")
    assert cli.settings_from_args(parser.parse_args(["--narrate", path])).narrate == path
    assert cli.main(["--narrate", str(tmp_path / "no" / "n.txt")]) == 2
    err = capsys.readouterr().err.splitlines()[0]
    assert err == (
        f"bptui: error: cannot write the narration to {tmp_path / 'no' / 'n.txt'}: "
        "No such file or directory"
    )
    assert cli.main(["serve", "--narrate", path]) == 2
    err = capsys.readouterr().err.splitlines()[0]
    assert err.startswith("bptui serve: error: --narrate is for bptui on your own machine")


async def test_with_16_colours_gradients_stay_magenta(monkeypatch: pytest.MonkeyPatch) -> None:
    """An old lab terminal (16 colours): the roles are the terminal's own ANSI colours,
    so a gradient is magenta, forward values stay uncoloured and bold, and the node
    of the last micro-step is reversed."""
    from textual import constants

    monkeypatch.setattr(constants, "COLOR_SYSTEM", "standard")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.console.color_system == "standard" and not app.themes.colourless
        await press(pilot, "F", "b")
        grad = styled(app, "∂ -2").style
        assert grad is not None and grad.bold and grad.color is not None
        assert grad.color.downgrade(ColorSystem.STANDARD).number == 5  # magenta
        value = styled(app, "ŷ=1").style
        assert value is not None and value.bold and value.color != grad.color
        current = styled(app, "loss=1").style
        assert current is not None and current.reverse


async def test_the_theme_is_named_in_the_language_spoken() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "n")
        set_language("zh")
        await pilot.press("T")
        await wait_for(pilot, lambda: "主题" in shown(app, MessageBar))
        assert "主题：浅色" in shown(app, MessageBar)
