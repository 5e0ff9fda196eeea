"""Snapshot tests of key screens in Chinese at 80×24 (see test_snapshots.py for how to
re-record). What the engine says (the message line) is in the engine's catalogue: where
it has no translation yet, the message line of these pictures is English."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_snapshots import _help_laid_out, after

from bptui import i18n
from bptui.app.main import BptuiApp
from bptui.app.settings import Settings
from bptui.lesson import seed_lesson
from bptui.lesson.engine import Stepper

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def _colour_and_english_after(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pictures in colour whatever NO_COLOR says; the language back to English after each."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield
    i18n.set_language("en")


def chinese_app() -> BptuiApp:
    """The note's lesson in Chinese, with an engine ready from the first frame."""
    lesson = seed_lesson()
    return BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(language="zh"))


def test_start_in_chinese(snap_compare) -> None:
    """The first screen in Chinese: status 轮次 1/100 · 样本 1/3 … 前向 0/3 ▸ 反向 ▸ 更新 ▸ 清零
    · 学习率 0.01, the boxes 计算图, 链式法则, 张量, PyTorch 程序 and 损失随 w 变化 · v 放大,
    the chain's '反向传播到达时，各因子依次出现', and the footer's 下一步 撤销 … 帮助 退出."""
    assert snap_compare(chinese_app(), terminal_size=SIZE, run_before=after())


def test_forward_pass_in_chinese(snap_compare) -> None:
    """After F: ŷ=1, r=-1, loss=1 in the graph, status 前向 ▸ 反向 0/3 with the backward
    phase current, the tensor panel's loss 1 r -1, the plot's point on the curve."""
    assert snap_compare(chinese_app(), terminal_size=SIZE, run_before=after("F"))


def test_help_in_chinese(snap_compare) -> None:
    """The help (?) in Chinese: 'bptui — 反向传播，一步一步来', the one-step summary and the
    first keys (下一个微步, 撤销一个微步…), lines wrapped inside the box."""
    assert snap_compare(
        chinese_app(), terminal_size=SIZE, run_before=after("question_mark", until=_help_laid_out)
    )


def test_switched_with_L_after_a_step(snap_compare) -> None:
    """English at start, f, then L: the same screen as in Chinese from the start after f,
    with '语言：中文' in the message line (every panel redrawn, not only new ones)."""
    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson))
    assert snap_compare(app, terminal_size=SIZE, run_before=after("f", "L"))
