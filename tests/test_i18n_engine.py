"""The engine in Chinese: every sentence it says, the lessons' own words and the trace.

With ``i18n.set_language("zh")`` each message of whole runs of every built-in lesson
is Chinese (no English sentence left, no ``{field}`` left unfilled); a lesson file's
``title.zh``, ``[narration.zh]`` and ``[notes.zh]`` are spoken in Chinese and its
English elsewhere; ``bptui trace --format md`` has Chinese headings. English output
is pinned elsewhere (tests/test_messages.py, tests/test_characterization.py).
"""

from __future__ import annotations

import inspect
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest

from bptui import i18n
from bptui.lesson import LessonError, Stepper, seed_lesson
from bptui.lesson.files import builtin_names, describe_builtins, load_lesson
from bptui.lesson.snapshot import Message, Phase
from bptui.lesson.teaching import Teacher
from bptui.trace import run_trace

CJK = re.compile(r"[\u3400-\u9fff]")
FIELD = re.compile(r"{\w*[^{}]*}")
#: Quoted code and torch's or Python's own words are not the engine's sentences.
QUOTED = re.compile(
    r"`[^`]*`|'NoneType' object has no attribute '\w+'|'[^']*'|RuntimeError：[^。]*"
)
#: Splits a text into runs with no Chinese character or Chinese punctuation in them.
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
WORD = re.compile(r"[A-Za-z]+[,.;:]?")


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    i18n.set_language("en")


def english_left(text: str) -> list[str]:
    """Runs of three or more plain English words (identifiers such as w.grad, grad_fn,
    backward() or keys are not plain words)."""
    runs = []
    for part in CHINESE.split(QUOTED.sub(" ", text)):
        words: list[str] = []
        for token in [*part.split(), ""]:
            if token and WORD.fullmatch(token):
                words.append(token)
                continue
            if len(words) >= 3:
                runs.append(" ".join(words))
            words = []
    return runs


def assert_chinese(text: str, where: str = "") -> None:
    assert CJK.search(text), f"no Chinese in {text!r} ({where})"
    assert not FIELD.search(text), f"a field left unfilled in {text!r} ({where})"
    assert not english_left(text), f"English left in {text!r} ({where}): {english_left(text)}"


def test_the_checker_finds_english_and_lets_identifiers_through():
    """The check itself: an untranslated sentence fails it, code and keys do not."""
    assert english_left("The forward pass is complete: press b.")
    assert english_left("前向传播完成：press b for the backward pass。")
    assert not english_left("backward() 完成：AccumulateGrad 写入了 w.grad = -2。按 space。")
    assert not english_left(
        "在 torch 里 `w.grad.data` 会报错：'NoneType' object has no attribute 'data'"
    )
    assert english_left("在 torch 里会报错：'NoneType' object has no such attribute 'data'")
    assert not english_left("又改回 sum += l.item()：释放了。")


def _act(stepper: Stepper, action: str) -> None:
    if action == "edit":
        first = stepper.lesson.param_names[0]
        scalar = stepper.params[first].numel() == 1
        stepper.edit(lr=stepper.lesson.lr * 2, params={first: 0.25} if scalar else None)
    elif action.startswith("jump_to "):
        stepper.jump_to(int(action.split()[1]))
    else:
        getattr(stepper, action)()


#: Refusals, teaching moments, every mode, an edit, jumps and undo, and the end.
SCRIPT = [
    "undo",
    "update",
    "zero",
    "backward",
    "forward",
    "backward",
    "finish_forward",
    "forward",
    "backward",
    "finish_backward",
    "backward",
    "update",
    "update",
    "next",
    "zero",
    "next",
    "toggle_skip_zero",
    "train_step",
    "train_step",
    "toggle_skip_zero",
    "toggle_batch",
    "next",
    "finish_backward",
    "train_step",
    "train_step",
    "toggle_batch",
    "toggle_sum_loss",
    "train_step",
    "toggle_sum_loss",
    "train_step",
    "edit",
    "next",
    "edit",
    "reset",
    "undo",
    "undo_step",
    "undo_step",
    "jump_to_start",
    "undo",
    "jump_to_epoch_end",
]


def said_over_a_run(stepper: Stepper) -> list[tuple[str, str]]:
    """What the engine says (and the lesson's narration, the chain rule's one-line form
    and the torch line) over a session: each micro-step of the first training step,
    then the script, jumps, and the run to the end."""
    texts: list[tuple[str, str]] = []

    def look(action: str) -> None:
        snap = stepper.snapshot()
        if snap.message is not None:
            texts.append((action, snap.message.text))
        if snap.narration:
            texts.append((action + " (narration)", snap.narration))
        texts.extend((action + " (chain)", c.form) for c in snap.chains if c.form)
        if snap.last_source and "→" in snap.last_source:
            texts.append((action + " (torch line)", snap.last_source))

    look("start")
    for action in ("undo", "update", "zero", "backward"):  # refused at the start
        _act(stepper, action)
        look(action)
    while stepper.steps_done < 1:
        stepper.next()
        look("next")
    for action in [*SCRIPT, "jump_to 3", "undo", "jump_to 1000000000", "run_to_end", "next"]:
        _act(stepper, action)
        look(action)
    return texts


@pytest.mark.parametrize("name", builtin_names())
def test_every_message_of_a_whole_run_is_chinese(name: str):
    i18n.set_language("zh")
    stepper = Stepper(load_lesson(name), labels={"edit": "E"})
    texts = said_over_a_run(stepper)
    assert len(texts) > 40
    for action, text in texts:
        assert_chinese(text, f"{name}, after {action}")
    assert stepper.snapshot().finished
    said = " ".join(text for _action, text in texts)
    reached = ["没有可撤销的", ".grad 是 None", "不清零模式开启", "批量模式开启", "课程已结束"]
    if name != "node":  # one training step in all: no edit, no jump back
        reached += ["笔记里的陷阱", "已修改", "已跳转", "撤销了跳转"]
    for sentence in reached:
        assert sentence in said, f"the run no longer reaches {sentence!r}"


def test_divergence_and_values_out_of_range_are_chinese():
    i18n.set_language("zh")
    said: list[str] = []
    s = Stepper(seed_lesson().with_values(lr=1.0), labels={"edit": "E"})
    s.run_to_end()
    said.append(s.snapshot().message.text)  # type: ignore[union-attr]
    assert "学习率 1 对这组数据太大了" in said[-1] and "按 E" in said[-1]
    lesson = load_lesson(None, overrides={"model": "log(x * w)"}).with_values(init={"w": -1.0})
    s = Stepper(lesson, labels={"edit": "E"})
    for _ in range(3):
        s.train_step()
        said.append(s.snapshot().message.text)  # type: ignore[union-attr]
    assert "对数只对正数有定义" in said[-3]
    s = Stepper(load_lesson(None, overrides={"model": "w ** 0.5"}).with_values(init={"w": 0.0}))
    s.train_step()
    said.append(s.snapshot().message.text)  # type: ignore[union-attr]
    assert said[-1].startswith("损失是有限数，梯度却不是（w.grad = -inf）")
    for text in said:
        assert_chinese(text)


#: Sample arguments for every sentence of the Teacher (a new one must be added here).
SAMPLES: dict[str, tuple[object, ...]] = {
    "finished": (100,),
    "forward_during_backward": (True,),
    "backward_before_loss": (),
    "update_before_backward": ([("w", 0.0)],),
    "update_twice": (),
    "zero_without_grad": ("w",),
    "edit_mid_step": (),
    "next_sample_too_early": (),
    "nothing_to_undo": (),
    "update_without_grad": ("w",),
    "backward_twice": ("Trying to backward through the graph a second time. Specify it.",),
    "accumulated": (["w", "W"], {"w": -2.0, "W": [1.0]}, {"w": -4.0, "W": [2.0]}),
    "zeroed_already": (),
    "zeroed_early": (True,),
    "skipped": (Phase.UPDATE, [("w", -2.0)]),
    "batch_waits": ([("w", -2.0)],),
    "edit_text": ((0.01, 0.02), [("w", 1.0, 2.0)], True),
    "edited": ("已修改：数据。",),
    "skip_zero_mode": (True,),
    "batch_mode": (True,),
    "sum_loss_mode": (False, 12345),
    "out_of_range": ("ŷ", "log", float("nan"), [-1.0]),
    "diverged": (float("inf"), [("w", 1e20)], 1.0),
    "updated_with_nan": ([("w", float("nan"))],),
    "gradient_not_finite": ([("w", float("-inf"))], [("w", float("inf"))]),
    "still_not_finite": ([("w", float("nan"))],),
    "reset_done": (),
    "undone": ("sum_loss_mode",),
    "jumped": (3, False, True),
    "jump_undone": (0, False),
    "jump_stopped": (300, 1000),
    "no_such_step": (5, 3),
    "already_at_step": (300, True),
    "at_first_step": (True,),
    "ready": (),
    "forward_done": ("ŷ = x_val * w", 1.0, True, lambda: "一个说明。"),
    "backward_through": ("r", [("∂loss/∂ŷ", -2.0)]),
    "backward_finished": ([("w", -2.0)], True),
    "updated_params": ([("w", 1.02)], True),
    "zeroed": (),
    "lesson_done": (100, "w = 1.9999996"),
}


#: The other branch of each two-way sentence.
OTHER_BRANCHES: list[tuple[str, tuple[object, ...]]] = [
    ("forward_during_backward", (False,)),
    ("zeroed_early", (False,)),
    ("skipped", (Phase.ZERO, [("w", -2.0)])),
    ("skip_zero_mode", (False,)),
    ("batch_mode", (False,)),
    ("sum_loss_mode", (True, 0)),
    ("jumped", (0, False)),
    ("jump_undone", (7, True)),
    ("no_such_step", (-1,)),
    ("at_first_step", (False,)),
    ("forward_done", ("r = ŷ - y_val", -1.0, False)),
    ("backward_finished", ([("w", -2.0)],)),
    ("updated_params", ([("w", 1.02)],)),
    ("accumulated", (["w"], {"w": -2.0}, {"w": -4.0}, True)),
]


def test_every_sentence_of_the_teacher_is_chinese_with_its_fields_filled():
    teacher = Teacher({"edit": "E"})
    speakers = (teacher, teacher.narrator)  # the teaching moments, and the narration
    methods = {
        name
        for speaker in speakers
        for name, _member in inspect.getmembers(speaker, inspect.ismethod)
        if not name.startswith("_")
    }
    assert methods == set(SAMPLES), "give every sentence sample arguments here"

    def say(name: str) -> Any:
        return getattr(teacher if hasattr(teacher, name) else teacher.narrator, name)

    i18n.set_language("zh")
    for name, args in SAMPLES.items():
        result = say(name)(*args)
        text = result.text if isinstance(result, Message) else result()
        assert_chinese(text, name)
    for name, args in OTHER_BRANCHES:  # the other branch of each two-way sentence, too
        assert_chinese(say(name)(*args).text, name)
    assert_chinese(teacher.edit_text(None, [], False)(), "edit_text, nothing")


def test_a_message_on_the_screen_follows_a_change_of_language():
    """A message is worked out when it is read: switching the language (the app's L)
    changes a message already given, with the same values."""
    stepper = Stepper(seed_lesson())
    stepper.finish_forward()
    stepper.finish_backward()
    message = stepper.snapshot().message
    assert message is not None
    english = message.text
    assert english == "backward() finished: AccumulateGrad wrote w.grad = -2. Press u to update."
    i18n.set_language("zh")
    assert message.text == "backward() 完成：AccumulateGrad 写入了 w.grad = -2。按 u 更新参数。"
    i18n.set_language("en")
    assert message.text == english


def test_the_builtin_lessons_speak_chinese():
    """Every built-in lesson has a Chinese title and description, and Chinese narration
    and notes wherever it has English ones."""
    for name in builtin_names():
        lesson = load_lesson(name)
        said = {key for lang, key, _text in lesson.words if lang == "zh"}
        english = {f"narration.{p}" for p, _ in lesson.narration}
        english |= {f"notes.{label}" for label, _ in lesson.notes}
        assert {"title", "description", *english} == said, name
        for lang, key, text in lesson.words:
            assert lang == "zh"
            assert_chinese(text, f"{name}: {key}")
    i18n.set_language("zh")
    titles = {name: title for name, title, _path in describe_builtins()}
    assert titles["linear"] == "线性模型 ŷ = x·w，平方损失（笔记里的例子）"
    from bptui.lesson import words

    assert words.description(load_lesson("linear")).startswith("笔记中的例子：ŷ = x·w")
    i18n.set_language("en")
    titles = {name: title for name, title, _path in describe_builtins()}
    assert titles["linear"] == "Linear model ŷ = x·w, squared loss (the note's lesson)"


LESSON = """\
title.en = "Doubling"
title.zh = "翻倍"
description = "Only in English."
model = "x * w"
x = [1.0]
y = [2.0]
lr = 0.1
epochs = 1

[narration]
forward = "Forward, in English."
backward = "Backward, in English."

[narration.zh]
forward = "前向，中文。"

[notes]
"ŷ" = "The prediction."

[notes.zh]
"ŷ" = "这是预测值。"
"""


def test_a_lesson_files_chinese_words_are_used_in_chinese_and_english_otherwise(tmp_path):
    path = tmp_path / "doubling.toml"
    path.write_text(LESSON, encoding="utf-8")
    lesson = load_lesson(str(path))
    assert lesson.title == "Doubling"
    stepper = Stepper(lesson)
    assert stepper.snapshot().narration == "Forward, in English."  # before the first step
    stepper.forward()
    snap = stepper.snapshot()
    assert snap.title == "Doubling"
    assert snap.message is not None
    assert snap.message.text == "Forward: ŷ = x_val * w = 1. The prediction."
    i18n.set_language("zh")
    snap = stepper.snapshot()
    assert snap.title == "翻倍"
    assert Stepper(lesson).snapshot().narration == "前向，中文。"
    assert snap.message is not None
    assert snap.message.text == "前向：ŷ = x_val * w = 1。这是预测值。"
    from bptui.lesson import words

    assert words.description(lesson) == "Only in English."  # no description.zh: English
    stepper.finish_forward()  # the forward pass is done: what comes is backward
    assert stepper.snapshot().narration == "Backward, in English."  # no backward in zh
    # A lesson that gives no Chinese speaks English words inside Chinese sentences.
    plain = Stepper(load_lesson(str(path)).with_values(lr=0.2))
    assert plain.lesson.words == lesson.words  # kept through a changed value
    other = load_lesson(None, overrides={"model": "x * w + b"})
    assert other.words == ()  # another model: the linear lesson's words would be wrong


@pytest.mark.parametrize(
    ("changes", "line", "words"),
    [
        ([('title.zh = "翻倍"', 'title.fr = "Doubler"')], 2, ["title.fr", "en, zh"]),
        ([('title.zh = "翻倍"', "title.zh = 3")], 2, ["title.zh must be a string"]),
        (
            [('forward = "前向，中文。"', 'forwards = "前向"')],
            15,
            ["narration.zh.forwards", "zero"],
        ),
        ([('"ŷ" = "这是预测值。"', '"y2" = "这是预测值。"')], 21, ["notes.zh.y2", "'y2'"]),
        (
            [
                ('[narration.zh]\nforward = "前向，中文。"\n', ""),
                ("[narration]\n", "[narration]\nzh = 1\n"),
            ],
            11,
            ["narration.zh must be a table"],
        ),
        ([('"ŷ" = "这是预测值。"', '"ŷ" = "预测\\u001b]0;x\\u0007"')], 21, ["U+001B"]),
        ([('title.zh = "翻倍"', 'title.zh = "翻\\u009b倍"')], 2, ["title.zh", "U+009B"]),
    ],
)
def test_a_wrong_chinese_key_is_an_error_naming_its_line(tmp_path, changes, line, words):
    text = LESSON
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LessonError) as error:
        load_lesson(str(path))
    message = str(error.value)
    assert message.startswith(f"{path}:{line}: "), message
    for word in words:
        assert word in message


def test_the_markdown_trace_has_chinese_headings():
    lesson = seed_lesson().with_values(epochs=1)
    i18n.set_language("zh")
    out = io.StringIO()
    run_trace(lesson, out, "md")
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0] == "# 线性模型 ŷ = x·w，平方损失（笔记里的例子）"
    assert lines[2] == "学习率 lr = 0.01，1 轮，每轮 3 个样本；损失 loss = (x * w - y) ** 2"
    assert lines[4].startswith("- **前向传播**: 前向：torch 一次计算一个节点")
    header = next(line for line in lines if line.startswith("| "))
    assert header == "| 步 | 轮 | 样本 | x | y | w | ŷ | r | 损失 | w.grad | 更新后 w |"
    for heading in (lines[0], lines[2], header):
        assert CJK.search(heading)
    i18n.set_language("en")
    out = io.StringIO()
    run_trace(lesson, out, "md")
    assert out.getvalue().splitlines()[2] == (
        "lr = 0.01, 1 epoch, 3 samples per epoch; loss = (x * w - y) ** 2"
    )


def test_the_json_and_csv_traces_keep_english_keys():
    lesson = seed_lesson().with_values(epochs=1)
    english = {}
    for language in ("en", "zh"):
        i18n.set_language(language)
        for fmt in ("jsonl", "csv"):
            out = io.StringIO()
            run_trace(lesson, out, fmt)
            english.setdefault(fmt, out.getvalue())
            assert out.getvalue() == english[fmt]
            assert not CJK.search(out.getvalue())


def test_the_programs_comments_follow_the_language():
    """The code panel's program has Chinese comments in Chinese, as the note's has, and is
    written again when the language changes."""
    stepper = Stepper(load_lesson("node"))
    stepper.toggle_sum_loss()
    english = stepper.program.lines
    assert "a = 0.01  # learning rate" in english
    i18n.set_language("zh")
    chinese = stepper.program.lines
    assert "a = 0.01  # 学习率" in chinese
    assert "def loss(x_val, w):  # L 代表上面的各层" in chinese
    assert "        sum += l  # l 的计算图一直不释放" in chinese
    assert any(line.endswith("# 要求 ∂L/∂x") for line in chinese)
    assert [line.split("  #")[0] for line in chinese] == [line.split("  #")[0] for line in english]
    assert stepper.snapshot().code == chinese
    stepper.toggle_sum_loss()
    stepper.toggle_batch()
    stepper.toggle_skip_zero()
    comments = [line for line in stepper.program.lines if "#" in line]
    assert any(line.endswith("# 每轮一次") for line in comments)
    assert any(line.endswith("# 跳过了") for line in comments)


def test_bptui_traces_own_messages_are_chinese(tmp_path, capsys):
    from bptui.trace_io import write_trace

    lesson = seed_lesson().with_values(epochs=1)
    i18n.set_language("zh")
    assert write_trace(lesson, "csv", " ", None) == 2
    assert capsys.readouterr().err == "bptui trace：错误：-o 需要文件名（或用 - 表示标准输出）\n"
    out = tmp_path / "run.csv"
    assert write_trace(lesson, "csv", str(out), None) == 0
    assert capsys.readouterr().err.startswith(f"bptui trace：已把 3 步写入 {out}；最终 w = ")
    assert write_trace(lesson, "csv", str(out), None) == 0
    assert "（替换了原有文件）" in capsys.readouterr().err
    assert write_trace(lesson, "csv", str(tmp_path / "no" / "such" / "dir.csv"), None) == 2
    assert "无法写入 " in capsys.readouterr().err
