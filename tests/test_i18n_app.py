"""The app in Chinese: ``L`` switches every panel, the footer and the status bar live,
``Settings.language`` chooses the language at start, and at 80×24 and 120×40 the Chinese
screen of every built-in lesson has no English prose left and no broken line or border.

The language is global (``bptui.i18n``): a fixture puts it back to English after each test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from rich.cells import cell_len
from screen_rows import screen_strips
from test_app import make_app, message_bar, press, screen_text, shown, wait_for
from test_app_classroom import classroom_app
from test_lesson_picker import choose
from textual.widget import Widget
from textual.widgets import Footer

from bptui import i18n
from bptui.app.keymap import HELP_ROWS
from bptui.app.main import BptuiApp
from bptui.app.panels.chain import ChainPanel
from bptui.app.panels.code import CodePanel
from bptui.app.panels.graph import GraphBox
from bptui.app.panels.message import MessageBar
from bptui.app.panels.plot import LossPlot
from bptui.app.panels.status import StatusBar
from bptui.app.panels.tensor import TensorPanel
from bptui.app.screens.help import help_text
from bptui.app.settings import Settings
from bptui.lesson.engine import Stepper
from bptui.lesson.files import builtin_names, load_lesson, seed_lesson

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """The language is process-wide: every test starts and ends in English."""
    i18n.set_language("en")
    yield
    i18n.set_language("en")


def chinese_app(lesson_name: str | None = None) -> BptuiApp:
    lesson = load_lesson(lesson_name) if lesson_name else seed_lesson()
    return BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(language="zh"))


def titles(app: BptuiApp) -> list[str]:
    """The border titles of the boxes, as their widgets hold them."""
    return [
        str(app.query_one(cls).border_title)
        for cls in (GraphBox, ChainPanel, TensorPanel, CodePanel, LossPlot)
    ]


def footer(app: BptuiApp) -> str:
    return shown(app, Footer)


# ------------------------------------------------------------------ catalogues


def test_the_apps_words_mean_one_thing_in_every_catalogue() -> None:
    """All areas' catalogues are chained: a msgid the app uses that another area's
    catalogue translates differently would show the other area's Chinese in the app
    (a footer word, an axis title). Each msgid has one translation across them all."""
    from babel.messages.pofile import read_po

    folder = i18n.LOCALE_DIR / "zh" / "LC_MESSAGES"
    seen: dict[tuple[str | None, str], tuple[str, str]] = {}
    clashes = []
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as file:
            for message in read_po(file):
                if not message.id or isinstance(message.id, tuple):
                    continue
                text = message.string if isinstance(message.string, str) else message.string[0]
                key = (message.context, message.id)
                if key in seen and seen[key][1] != text:
                    clashes.append(f"{key!r}: {seen[key]} vs ({po.name}, {text!r})")
                seen.setdefault(key, (po.name, text))
    assert not clashes, "one English text, two Chinese ones:\n" + "\n".join(clashes)


# ------------------------------------------------------------------ L, live


async def test_L_switches_every_panel_footer_and_status_and_back() -> None:
    """After F and B in English, L redraws the status bar, the box titles, the chain and
    tensor panels, the plot's title and the footer in Chinese, says so in Chinese, and
    takes no step; L again brings back every English word."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "F", "B")
        assert app.stepper is not None
        steps = app.stepper.micro_steps
        assert "Epoch 1/100 · Sample 1/3" in shown(app, StatusBar)
        assert titles(app) == ["Graph", "Chain rule", "Tensor", "PyTorch", "Loss vs w · v enlarges"]
        assert "finite diff -2 · ✓ all agree" in shown(app, ChainPanel)
        assert "Next" in footer(app) and "Quit" in footer(app)

        await pilot.press("L")
        await wait_for(pilot, lambda: "下一步" in footer(app))
        assert i18n.language() == "zh"
        status = shown(app, StatusBar)
        assert "轮次 1/100 · 样本 1/3" in status and "学习率 0.01" in status, status
        assert "Epoch" not in status
        assert titles(app) == [
            "计算图",
            "链式法则",
            "张量",
            "PyTorch 程序",
            "损失随 w 变化 · v 放大",
        ]
        screen = screen_text(app)
        assert "计算图" in screen and "链式法则" in screen and "张量" in screen
        chain = shown(app, ChainPanel)
        assert "有限差分 -2 · ✓ 全部一致" in chain and "finite diff" not in chain, chain
        assert "已释放" in shown(app, TensorPanel)
        assert "退出" in footer(app) and "Quit" not in footer(app)
        assert message_bar(app).text == "语言：中文"
        assert app.stepper.micro_steps == steps  # L takes no step

        await pilot.press("L")
        await wait_for(pilot, lambda: "Next" in footer(app))
        assert i18n.language() == "en"
        assert "Epoch 1/100 · Sample 1/3" in shown(app, StatusBar)
        assert titles(app) == ["Graph", "Chain rule", "Tensor", "PyTorch", "Loss vs w · v enlarges"]
        assert "finite diff -2 · ✓ all agree" in shown(app, ChainPanel)
        assert "下一步" not in footer(app)
        assert message_bar(app).text == "Language: English"
        assert not re.search(r"[\u4e00-\u9fff]", screen_text(app))  # not one Chinese character


async def test_after_L_the_next_steps_are_drawn_in_chinese() -> None:
    """The language stays switched: the phases of later steps and the plot's step view are
    Chinese too, and a step replaces the 'Language' note with the engine's message."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "L")
        await press(pilot, "f", "f", "g")
        await wait_for(pilot, lambda: "损失随步数变化" in str(app.query_one(LossPlot).border_title))
        status = shown(app, StatusBar)
        assert "[前向 2/3] ▸ 反向 ▸ 更新 ▸ 清零" in status, status
        assert message_bar(app).text != "语言：中文"
        assert "步数" in shown(app, LossPlot)  # the x axis's title


async def test_the_language_of_the_settings_is_the_language_at_start() -> None:
    app = chinese_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "下一步" in footer(app))
        assert "轮次 1/100" in shown(app, StatusBar)
        assert titles(app)[:3] == ["计算图", "链式法则", "张量"]
        assert "反向传播到达时，各因子依次出现" in shown(app, ChainPanel)


async def test_the_help_and_the_edit_form_open_in_the_language_spoken() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "L", "question_mark")
        await wait_for(pilot, lambda: "反向传播，一步一步来" in screen_text(app))
        assert "下一个微步" in screen_text(app)
        await pilot.press("L")  # over the help too: the help is written again
        await wait_for(pilot, lambda: "backpropagation, one step at a time" in screen_text(app))
        assert i18n.language() == "en"
        await pilot.press("escape")  # and the panels under it were switched as well
        await wait_for(pilot, lambda: "Epoch 1/100" in shown(app, StatusBar))
        assert "Next" in footer(app) and str(app.query_one(ChainPanel).border_title) == "Chain rule"
        await press(pilot, "L")
        await pilot.press("E")
        await wait_for(pilot, lambda: "回车应用" in screen_text(app))
        text = screen_text(app)
        assert "学习率" in text and "应用" in text and "取消" in text
        app.screen.query_one("#edit-lr").value = "abc"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: "未应用：学习率：'abc' 不是数字" in screen_text(app))


async def test_L_is_personal_in_a_class() -> None:
    """A following student may press L (it is not refused), and nothing is sent to the class;
    the classroom words (badge, notes) are Chinese from then on."""
    app, server = classroom_app("student")
    async with app.run_test(size=(80, 24)) as pilot:
        server.send({"t": "class", "teacher": True, "students": 1})
        await pilot.pause(0.1)
        assert " following " in shown(app, StatusBar)
        await pilot.press("L")
        await wait_for(pilot, lambda: " 跟随教师 " in shown(app, StatusBar))
        assert message_bar(app).text == "语言：中文"  # not the refusal of a follower's key
        # A follower's footer: t, the view keys, help and quit, and it fits 80 columns.
        assert footer(app).rstrip() == "g 图表 v 放大 t 探索 L 语言 T 主题 ? 帮助 q 退出", footer(
            app
        )
        assert server.received() == []
        await pilot.press("space")  # a stepping key is still refused, in Chinese
        await wait_for(pilot, lambda: "你正在跟随教师" in shown(app, MessageBar))
    teacher, server = classroom_app("teacher")
    async with teacher.run_test(size=(80, 24)) as pilot:
        server.send({"t": "class", "teacher": True, "students": 2})
        await pilot.press("L")
        await wait_for(pilot, lambda: "教师 · 2 名学生" in shown(teacher, StatusBar))
        assert server.received() == []  # the teacher's L is the teacher's alone


def test_the_help_in_chinese_has_the_lesson_before_the_panels() -> None:
    """The help's sections in Chinese: keys, this lesson, panels, with the running lesson's
    own chain rule and every key's line translated."""
    lesson = load_lesson("two-layer")
    stepper = Stepper(lesson)
    stepper.finish_forward()
    stepper.finish_backward()
    i18n.set_language("zh")
    text = help_text(lesson, stepper.snapshot())
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[0] == "# bptui — 反向传播，一步一步来", headings
    assert headings[1:3] == [
        "## 按键",
        "## 本课：两层网络 ŷ = w2·σ(w1·x + b1) + b2",
    ]  # its title.zh
    assert headings[3] == "## 面板"
    assert "- **链式法则** — ∂loss/∂w1 = " in text
    assert "按 `c` 展开下一个参数（b1, w2, b2）的链式法则。" in text
    assert "`L` — 切换语言" in text
    keys = [line for line in text.splitlines() if line.startswith("- `")]
    assert len(keys) == len(HELP_ROWS)
    assert not [line for line in keys if english_prose(line, {"English"})], keys


# ------------------------------------------------------- every lesson, both sizes

#: An English word of three letters or more (punctuation around it allowed).
WORD = re.compile(r"^[(\[\"'“]*([A-Za-z]{3,})[)\].,:;!?\"'”…]*$")
#: English words that are names, not prose: torch's and the program's, the keys'.
NAMES = {"PyTorch", "torch", "AccumulateGrad", "SGD", "English", "loss", "None", "space"}


def english_prose(text: str, allowed: set[str], least: int = 2) -> list[str]:
    """Runs of ``least`` or more English words (not identifiers, not ``allowed`` names)."""
    found = []
    for line in text.splitlines():
        run: list[str] = []
        for token in line.split():
            match = WORD.match(token)
            # A name cut at the edge of a scrolled box (``mulateGrad``) is still a name.
            if match and not any(match.group(1) in name for name in allowed):
                run.append(token)
                continue
            if len(run) >= least:
                found.append(" ".join(run))
            run = []
        if len(run) >= least:
            found.append(" ".join(run))
    return found


def text_outside(app: BptuiApp, *widgets: Widget) -> str:
    """The screen's text with the regions of ``widgets`` blanked."""
    strips = screen_strips(app)
    width = app.size.width
    rows = [strip.text for strip in strips]
    for widget in widgets:
        region = app.screen.find_widget(widget).region
        for y in range(region.y, min(region.bottom, len(rows))):
            strip = strips[y]  # cut by cells: a CJK character takes two
            left, right = strip.crop(0, region.x).text, strip.crop(region.right, width).text
            rows[y] = left + " " * region.width + right
    return "\n".join(rows)


#: Words the engine (bptui/lesson) writes into the panels: the engine's catalogue
#: translates them (checked by the test after this one once that catalogue is there).
ENGINE_PHRASES = (": an outer product",)


def without_engine_phrases(text: str) -> str:
    for phrase in ENGINE_PHRASES:
        text = text.replace(phrase, "")
    return text


BORDER_RIGHT = set("│╮╯┤┐┘┃╗╝║")


def broken_borders(app: BptuiApp) -> list[str]:
    """Rows where a box's right border is not where the box ends."""
    strips = screen_strips(app)
    width = app.size.width
    wrong = []
    for y, strip in enumerate(strips):
        if strip.cell_length != width:
            wrong.append(f"row {y} is {strip.cell_length} cells wide")
    for widget in app.screen.query(Widget):
        if not widget.display or widget.styles.border_right[0] in ("", "none", "hidden"):
            continue
        region = app.screen.find_widget(widget).region
        right = region.right - 1
        for y in range(region.y + 1, region.bottom - 1):
            cell = strips[y].crop(right, right + 1).text
            if cell not in BORDER_RIGHT:
                wrong.append(f"{type(widget).__name__} row {y}: {cell!r} at column {right}")
    return wrong


def lesson_names(app: BptuiApp) -> set[str]:
    """The lesson's own names (node labels, parameters): identifiers, not prose."""
    snap = app.snapshot
    assert snap is not None
    names = {node.label for node in snap.nodes} | {p.name for p in snap.params}
    names |= {node.grad_fn for node in snap.nodes if node.grad_fn}
    return {n for n in names if n} | NAMES


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", builtin_names())
async def test_every_lesson_in_chinese_has_no_english_prose_and_fits(
    name: str, size: tuple[int, int]
) -> None:
    """Every built-in lesson in Chinese, at the start and after several steps (forward pass,
    backward pass, update, zero, a whole step, a mode on): outside the program and the
    engine's message line, no run of English words; every row exactly the terminal's width;
    every box's right border where the box ends."""
    app = chinese_app(name)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None and "下一步" in footer(app))
        for keys in ((), ("F",), ("B",), ("u",), ("z",), ("s",), ("Z", "f")):
            if keys:
                await press(pilot, *keys)
            await pilot.pause(0.1)  # the plot is drawn a frame after the numbers
            text = text_outside(app, app.query_one(CodePanel), app.query_one(MessageBar))
            prose = english_prose(without_engine_phrases(text), lesson_names(app))
            assert not prose, f"{name} after {keys}: English left: {prose}\n{text}"
            # Stricter: not even one English word outside the names of the lesson and torch.
            words = english_prose(without_engine_phrases(text), lesson_names(app), least=1)
            assert not words, f"{name} after {keys}: English words left: {words}\n{text}"
            assert not broken_borders(app), (keys, broken_borders(app), screen_text(app))
            for line in text.splitlines():
                assert cell_len(line) <= size[0], line


ENGINE_CATALOGUE = i18n.LOCALE_DIR / "zh" / "LC_MESSAGES" / "engine.mo"


@pytest.mark.skipif(
    not ENGINE_CATALOGUE.exists(), reason="the engine's sentences are translated in engine.po"
)
@pytest.mark.parametrize("name", builtin_names())
async def test_the_message_line_is_chinese_too(name: str) -> None:
    """Once the engine's catalogue is there: what the message line says after each step,
    and the engine's words in the panels (ENGINE_PHRASES)."""
    app = chinese_app(name)
    async with app.run_test(size=(120, 40)) as pilot:
        for keys in (("space",), ("F",), ("B",), ("u",), ("z",)):
            await press(pilot, *keys)
            text = text_outside(app, app.query_one(CodePanel))
            prose = english_prose(text, lesson_names(app))
            assert not prose, f"{name} after {keys}: {prose}\n{text}"


def test_the_prose_detector_finds_english_and_spares_identifiers() -> None:
    """The check above would fail on an untranslated sentence, not on code or math."""
    assert english_prose("轮次 1/100 · finished training", set()) == ["finished training"]
    assert english_prose("w.grad -2 · 有限差分 -2 · ✓ 全部一致", set()) == []
    assert english_prose("l.grad_fn <PowBackward0> 已释放  requires_grad ✓", set()) == []
    assert english_prose("AccumulateGrad   AccumulateGrad", {"AccumulateGrad"}) == []
    assert english_prose("(c: next element)", set()) == ["next element)"]


@pytest.mark.parametrize("size", SIZES)
async def test_the_picker_speaks_chinese(size: tuple[int, int]) -> None:
    app = chinese_app()
    async with app.run_test(size=size) as pilot:
        await press(pilot)
        await pilot.press("o")
        await wait_for(pilot, lambda: "仿射模型" in screen_text(app))
        text = screen_text(app)
        assert "线性模型" in text and "Affine model" not in text and "enter" in text
        await choose(pilot, "affine")
        await wait_for(pilot, lambda: "仿射模型" in shown(app, MessageBar))
