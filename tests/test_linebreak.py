"""Line breaking that knows Chinese (bptui/linebreak.py): breaks between Chinese
characters, never before closing or after opening punctuation, and exactly Rich's
breaks for text without Chinese."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st
from rich._wrap import divide_line
from rich.cells import cell_len
from test_app import drawn, press, screen_text, wait_for

from bptui import i18n, linebreak
from bptui.app.main import BptuiApp
from bptui.app.panels.message import MessageBar
from bptui.app.screens.help import HelpScreen
from bptui.app.settings import Settings
from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper


def lines(text: str, width: int) -> list[str]:
    return linebreak.lines(text, width, cell_len)


def test_a_chinese_sentence_fills_its_lines() -> None:
    """No spaces: Rich would fold it only where a line is full; here it breaks
    between characters, every line full."""
    assert lines("一二三四五六七八九十", 6) == ["一二三", "四五六", "七八九", "十"]


def test_chinese_after_a_word_starts_on_the_same_line() -> None:
    """Rich moved the whole Chinese run to the next line, leaving 'Z —' alone."""
    assert lines("Z — 不清零模式：从不把梯度清零", 20) == ["Z — 不清零模式：从不", "把梯度清零"]


def test_closing_punctuation_never_starts_a_line() -> None:
    for width in range(4, 14):
        for line in lines(
            "前向传播（一次一个节点）→ 反向传播，然后更新。每个数都由 PyTorch 计算。", width
        ):
            assert line[:1] not in "，。）、；：！？", (width, line)


def test_opening_punctuation_never_ends_a_line() -> None:
    for width in range(4, 14):
        for line in lines("完成本轮（epoch）与“测验”以及（可选的）讲义", width):
            assert line[-1:] not in "（“", (width, line)


def test_a_word_longer_than_the_line_is_folded() -> None:
    assert lines("abcdefghij", 4) == ["abcd", "efgh", "ij"]


_TEXT = st.text(
    alphabet=st.sampled_from(list("ab cd-ef.gh,  ") + list("中文，。（）“”前向传播梯度")),
    max_size=80,
)


@given(text=st.text(alphabet=st.sampled_from(list("abc de-f.g,   xyz")), max_size=80),
       width=st.integers(1, 30))  # fmt: skip
def test_text_without_chinese_breaks_where_rich_does(text: str, width: int) -> None:
    assert linebreak.break_offsets(text, width, cell_len) == divide_line(text, width, fold=True)


@given(text=_TEXT, width=st.integers(4, 30))
def test_every_line_fits_and_nothing_but_spaces_is_lost(text: str, width: int) -> None:
    wrapped = lines(text, width)
    assert all(cell_len(line) <= width for line in wrapped)
    assert "".join(wrapped).replace(" ", "") == text.replace(" ", "")


async def test_the_chinese_help_breaks_between_characters() -> None:
    """At 80x24 the help's key list keeps 'Z —' on the line of its words."""
    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(language="zh"))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await press(pilot, "question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.press(*["down"] * 30)
            await wait_for(pilot, lambda: "Z —" in screen_text(app))
            line = next(row for row in screen_text(app).splitlines() if "Z —" in row)
            assert "不清零" in line, line
    finally:
        i18n.set_language("en")


async def test_the_chinese_message_line_fills_a_row_before_chinese_text() -> None:
    """The message line at 80 columns: a row followed by a row that starts with a
    Chinese character has no room left for it (Rich left half a row empty)."""
    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(language="zh"))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: drawn(app))
            bar = app.query_one(MessageBar)
            for keys in ([], ["u"], ["F", "b", "B", "b"]):  # the start; a refusal; an error
                await pilot.press(*keys)
                await wait_for(pilot, lambda: drawn(app))
                width = bar.content_region.width
                rows = [line.plain.rstrip() for line in bar.build(width)]
                rows = [row for row in rows if row]
                assert len(rows) > 1, rows
                for row, after in itertools.pairwise(rows):
                    if cell_len(after[:1]) == 2:
                        assert cell_len(row) >= width - 4, (row, after)
    finally:
        i18n.set_language("en")
