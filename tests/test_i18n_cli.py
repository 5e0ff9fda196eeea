"""The command line, input errors and the classroom server in English and Chinese.

``--lang en|zh`` decides; without it the locale does, and a terminal that cannot
show Chinese is spoken to in English. argparse's own words are translated too.
Most cases run ``main()`` in this process; a few run the real command to see
exactly what a user sees with a given locale.
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from rich.cells import cell_len
from test_cli import BAD

from bptui import cli_lang, i18n
from bptui.cli import build_parser, main
from bptui.lesson.expr import ModelError, cells, parse_model
from bptui.lesson.files import load_lesson
from bptui.lesson.spec import LessonError
from bptui.serve import options as serve_options

CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese(text: str) -> bool:
    return bool(CJK.search(text))


@pytest.fixture(autouse=True)
def english_afterwards(monkeypatch):
    """A known locale (English, UTF-8) for each test, and English again after it."""
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    yield
    i18n.set_language("en")


@pytest.fixture(autouse=True)
def no_app(monkeypatch):
    """A stand-in for the TUI: starting it means a bad value was accepted."""
    fake = types.ModuleType("bptui.app.main")

    def run_app(lesson, settings):
        raise AssertionError(f"the app was started with {lesson!r}")

    fake.run_app = run_app
    monkeypatch.setitem(sys.modules, "bptui.app.main", fake)


def help_of(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    return capsys.readouterr().out


# ------------------------------------------------------------------ --help


@pytest.mark.parametrize("command", [[], ["trace"], ["serve"], ["lessons"]])
def test_help_in_chinese(command: list[str], capsys):
    out = help_of([*command, "--lang", "zh", "--help"], capsys)
    assert out.startswith("用法：bptui")
    assert "显示本帮助并退出" in out  # argparse's own -h line
    assert "选项:" in out and "--lang en|zh" in out
    assert "界面语言" in out  # --lang's own help
    assert "usage:" not in out and "show this help" not in out


def test_help_in_english_is_unchanged_by_the_languages(capsys):
    out = help_of(["--lang", "en", "--help"], capsys)
    assert out.startswith("usage: bptui")
    assert "Step through backpropagation live" in out
    assert "--lang en|zh" in out and "from the locale" in out
    assert not chinese(out)


def test_the_commands_and_options_are_described_in_chinese(capsys):
    out = help_of(["--lang", "zh", "--help"], capsys)
    assert "在真实的 PyTorch 张量上" in out  # the description
    assert "示例：" in out  # the examples
    assert "不开界面运行课程" in out  # trace, in the command list
    assert "学习率，大于 0" in out  # --lr
    out = help_of(["serve", "--lang", "zh", "--help"], capsys)
    assert "通过 SSH 给全班上课" in out and "全班共用的一个密码" in out
    out = help_of(["trace", "--help", "--lang", "zh"], capsys)
    assert "每个训练步写一条记录" in out


@pytest.mark.parametrize("command", [[], ["trace"], ["serve"], ["lessons"]])
def test_chinese_help_fits_80_columns_and_the_usage_lines_up(command, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    out = help_of([*command, "--lang", "zh", "--help"], capsys)
    wide = [line for line in out.splitlines() if cell_len(line) > 80]
    assert not wide, wide
    usage = out.split("\n\n")[0].splitlines()
    # Continuation lines start under the first option, after "用法：bptui … ".
    start = cell_len(usage[0].split(" [")[0]) + 1
    for line in usage[1:]:
        assert cell_len(line) - cell_len(line.lstrip(" ")) == start, usage


def test_wrapping_breaks_chinese_between_characters_and_never_before_a_comma():
    text = "你自己的模型，由 x 和参数组成，例如 sigmoid(x*w + b)；函数：sigmoid, tanh"
    for width in range(12, 40):  # the longest word, sigmoid(x*w, is 11 cells
        lines = cli_lang.wrap(text, width)
        assert all(cell_len(line) <= width for line in lines), (width, lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert not any(line[0] in "，；：。" for line in lines), lines


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(("argv", "needle"), BAD)
def test_every_bad_value_is_one_chinese_line_and_exit_2(argv, needle, capsys):
    assert main(["--lang", "zh", "trace", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    first, *rest = err.splitlines()
    assert first.startswith("bptui trace：错误：") and chinese(first.split("错误：", 1)[1])
    if needle.startswith("'"):
        assert needle in first  # the value itself is quoted as given
    assert rest == ["运行 'bptui trace --help' 查看所有选项。"]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--lesson", "nope"], "没有叫 'nope' 的课程"),
        (["--lesson", " "], "课程名为空"),
        (["trace", "linear", "--lesson", "affine"], "课程只能给一次"),
        (["--model", "x*q", "--loss", "bce"], "二元交叉熵（bce）需要 0 到 1 之间的预测值"),
        (["--model", "a.b"], "不允许属性（a.b）"),
        (["--model", "x * y"], "模型不能用 y"),
        (["--model", "foo(x) * w"], "foo 不能调用"),
        (["--epochs", "99999999999999"], "太大"),
        (["--lr", "1e-50"], "太小"),
    ],
)
def test_lesson_and_expression_errors_in_chinese(argv, says, capsys):
    assert main([*argv, "--lang", "zh"]) == 2
    err = capsys.readouterr().err
    assert re.match(r"bptui( trace)?：错误：", err) and says in err, err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["trace", "--format", "xml"], "参数 --format：无效的选择：'xml'"),
        (["--bogus"], "无法识别的参数：--bogus"),
        (["--lr"], "参数 --lr：需要一个值"),
        (["nope-command.toml", "trace"], None),  # not argparse's: a lesson file, refused below
    ],
)
def test_argparse_errors_in_chinese(argv, says, capsys):
    if says is None:
        assert main([*argv, "--lang", "zh"]) == 2
        assert "没有这个课程文件" in capsys.readouterr().err
        return
    with pytest.raises(SystemExit) as exit_:
        main(["--lang", "zh", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("用法：bptui"), err
    assert "：错误：" in err and says in err, err


def test_the_stepper_without_a_terminal_says_so_in_chinese(capsys):
    assert main(["--lang", "zh"]) == 2  # standard input and output are not a terminal here
    err = capsys.readouterr().err
    assert err.startswith("bptui：错误：单步演示需要终端") and "'bptui trace'" in err


def test_a_port_in_use_is_refused_in_chinese(tmp_path, capsys):
    import socket

    import asyncssh

    key = tmp_path / "key"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(key))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["serve", "--lang", "zh", "--port", str(port), "--host-key", str(key)]
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (f"bptui serve：错误：127.0.0.1 上的端口 {port} 已被占用；请用 --port 换一个\n")


def test_trace_write_errors_in_chinese(tmp_path, capsys):
    target = tmp_path / "missing" / "out.md"
    assert main(["trace", "--lang", "zh", "--epochs", "1", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bptui trace：错误：无法写入 {target}：")
    assert main(["trace", "--lang", "zh", "-o", " "]) == 2
    assert "-o 需要文件名" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--lang", "fr"], ["--lang=klingon"], ["trace", "--la", "de"]])
def test_an_unknown_language_is_one_line_and_exit_2(argv, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bptui: error: --lang: ")
    assert "choose one of en, zh" in lines[0]


def test_an_unknown_language_is_refused_in_the_locales_language(monkeypatch, capsys):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert main(["--lang", "fr"]) == 2
    err = capsys.readouterr().err
    assert err == "bptui：错误：--lang：bptui 不会说 'fr' 这种语言；请从 en, zh 中选一个\n"


def test_the_language_code_is_read_in_any_case(capsys):
    assert main(["lessons", "--lang", "ZH"]) == 0
    assert "运行其中一个" in capsys.readouterr().out


# ------------------------------------------------------------------ the locale


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_TW.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh"),
    ],
)
def test_the_locale_is_the_default(environ, expected, monkeypatch, capsys):
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    out = help_of(["--help"], capsys)
    assert out.startswith("用法：" if expected == "zh" else "usage:")


def test_lang_overrides_the_locale(monkeypatch, capsys):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert help_of(["--lang", "en", "--help"], capsys).startswith("usage: bptui")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert help_of(["--help", "--lang=zh"], capsys).startswith("用法：bptui")


@pytest.mark.parametrize("encoding", ["ascii", "iso-8859-1", "cp1252"])
def test_a_terminal_that_cannot_show_chinese_gets_english(encoding, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    stream = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    assert cli_lang.choose(None, stream=stream) == ("en", None)
    spoken, note = cli_lang.choose("zh", stream=stream)
    assert spoken == "en" and note is not None and encoding in note
    utf8 = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert cli_lang.choose(None, stream=utf8) == ("zh", None)
    gbk = io.TextIOWrapper(io.BytesIO(), encoding="gb18030")
    assert cli_lang.choose("zh", stream=gbk) == ("zh", None)


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONIO"))}
    return subprocess.run(
        [sys.executable, "-m", "bptui", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
        check=False,
        env={**clean, **env},
    )


def test_lang_c_speaks_english_in_a_real_process():
    proc = run("--help", LANG="C")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: bptui") and proc.stderr == ""
    proc = run("--help", LANG="zh_CN.UTF-8", LC_ALL="C")
    assert proc.stdout.startswith("usage: bptui")


def test_a_chinese_locale_on_an_ascii_terminal_speaks_english_in_a_real_process():
    proc = run("--help", LANG="zh_CN.UTF-8", PYTHONIOENCODING="ascii")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: bptui")
    assert proc.stderr == ""  # nobody asked for Chinese: no note


def test_an_explicit_lang_zh_on_an_ascii_terminal_gets_english_and_a_note():
    proc = run("lessons", "--lang", "zh", LANG="C.UTF-8", PYTHONIOENCODING="ascii")
    assert proc.returncode == 0 and "Run one with 'bptui --lesson NAME'" in proc.stdout
    note = proc.stderr.splitlines()
    assert len(note) == 1 and "cannot show Chinese" in note[0] and "LANG=zh_CN.UTF-8" in note[0]


def test_a_chinese_locale_speaks_chinese_in_a_real_process():
    proc = run("--x", "1,a", LANG="zh_CN.UTF-8")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("bptui：错误：--x：'a'（第 2 项）不是数")


def test_a_trace_on_an_ascii_terminal_reports_in_english(tmp_path):
    """An explicit --lang zh writes the trace's data in Chinese (it is UTF-8 whatever the
    terminal); what is said on the terminal stays readable, and no note is needed."""
    target = tmp_path / "t.md"
    proc = run(
        "trace", "--lang", "zh", "--epochs", "1", "-o", str(target), PYTHONIOENCODING="ascii"
    )
    assert proc.returncode == 0, proc.stderr
    assert target.exists()
    assert proc.stderr.startswith(f"bptui trace: 3 steps written to {target}; final w = ")


def test_a_trace_is_written_in_the_language_asked(monkeypatch, tmp_path, capsys):
    import bptui.trace

    seen = []

    def fake_run_trace(lesson, out, fmt):
        seen.append(i18n.language())
        raise LessonError(i18n._("the lesson has no operations"))

    monkeypatch.setattr(bptui.trace, "run_trace", fake_run_trace)
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    assert main(["trace", "--lang", "zh", "-o", str(tmp_path / "t.md")]) == 2
    assert seen == ["zh"]  # the data's words: Chinese
    assert i18n.language() == "en"  # the terminal's: English again
    # The run's own error is said in the run's language; this terminal is ASCII, so
    # it comes out transliterated (one '?' a character), never as a traceback.
    err = capsys.readouterr().err
    assert err.startswith("bptui trace: error: ") and err.isascii() and err.count("\n") == 1


# ------------------------------------------------------------------ bptui lessons


def test_lessons_listing_in_chinese(capsys):
    assert main(["lessons", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "  linear" in out and "  two-layer" in out
    assert "用 'bptui --lesson NAME' 运行其中一个。它们是" in out
    assert "复制一个（cp " in out and "修改后运行 'bptui my-lesson.toml'。" in out


def test_lessons_listing_takes_lang_before_the_command_too(capsys):
    assert main(["--lang", "zh", "lessons"]) == 0
    assert "运行其中一个" in capsys.readouterr().out
    assert main(["lessons"]) == 0
    assert "Run one with 'bptui --lesson NAME'" in capsys.readouterr().out


# ------------------------------------------------------------------ lesson files, carets


def test_a_lesson_file_error_keeps_file_and_line_in_chinese(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('model = "x * w"\nx = [1]\ny = [2]\nlr = 0.1\nepochs = 3\ncolour = 1\n')
    i18n.set_language("zh")
    with pytest.raises(LessonError) as caught:
        load_lesson(str(path))
    assert str(caught.value).startswith(f"{path}:6: 未知的键 'colour'（已知的键：")


def caret_under(message: str) -> tuple[str, int, int]:
    """The expression line, and the cells the caret line's ^ run starts at and spans."""
    _why, text, caret = message.split("\n")
    return text, len(caret) - len(caret.lstrip(" ")), caret.count("^")


@pytest.mark.parametrize(
    ("model", "pointed"),
    [
        ("x * 重量", "重量"),  # a Chinese name: 2 cells per character
        ("(w + x) * 权重", "权重"),  # after ASCII, in UTF-8 bytes to the parser
        ("x＊w", "＊"),  # a full-width star from a Chinese input method
        ("(重 + x) $ w", "$"),  # a syntax error after a wide character
    ],
)
def test_carets_stay_under_the_part_after_wide_characters(model, pointed):
    i18n.set_language("zh")
    with pytest.raises(ModelError) as caught:
        parse_model(model)
    text, start, length = caret_under(str(caught.value))
    assert text == f"    {model}"
    before = text[: text.index(pointed)]
    assert start == cell_len(before)
    assert length in (1, cell_len(pointed))
    assert chinese(str(caught.value).split("\n")[0])


@pytest.mark.parametrize(
    ("model", "char", "plain"), [("x＊w", "＊", "*"), ("sigmoid（x*w)", "（", "(")]
)
def test_a_full_width_character_is_named_with_what_to_type(model, char, plain):
    for language, says in (
        ("en", f"{char} is a full-width character: type {plain} instead"),
        ("zh", f"{char} 是全角字符：请输入半角的 {plain}"),
    ):
        i18n.set_language(language)
        with pytest.raises(ModelError) as caught:
            parse_model(model)
        assert says in str(caught.value).split("\n")[0]


def test_cells_counts_wide_and_combining_characters():
    assert cells("abc") == 3 and cells("重量") == 4 and cells("ŷ") == 1 and cells("＊") == 2
    for text in ("x * 重量 + b", "（ŷ − y）²", "ｗ"):
        assert cells(text) == cell_len(text)


# ------------------------------------------------------------------ serve


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--port", "abc"], "--port：'abc' 不是整数；例如用 --port 1"),
        (["--idle-timeout", "0"], "--idle-timeout：请给出大于 0 的分钟数"),
        (["--password", ""], "--password：密码为空"),
        (["--password", "a", "--teacher-password", "a"], "学生就能以老师身份登录"),
    ],
)
def test_serve_refuses_bad_options_in_chinese(argv, says, capsys):
    assert main(["serve", "--lang", "zh", *argv]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0].startswith("bptui serve：错误：") and says in lines[0], err
    assert lines[1:] == ["运行 'bptui serve --help' 查看所有选项。"]


def test_serve_options_messages_are_english_by_default():
    with pytest.raises(serve_options.ServeError, match=r"is not a whole number; use e\.g\."):
        serve_options.parse_options({"port": "abc"})


def test_the_serve_banner_in_chinese():
    from bptui.serve import _banner

    options = serve_options.parse_options({"teacher_password": "s3cret"})
    lesson = load_lesson("linear")
    i18n.set_language("zh")
    banner = _banner(options, lesson, 2222, "SHA256:abc", "新生成")
    assert "  正在 127.0.0.1:2222 上监听，最多 100 名学生" in banner
    assert "  学生输入：  ssh -p 2222 127.0.0.1" in banner
    assert "  老师输入：  ssh -p 2222 teacher@127.0.0.1  （老师密码）" in banner
    assert banner.endswith("  Ctrl+C 结束课堂。")
    assert all(cell_len(line) <= 80 for line in banner.splitlines())


# ------------------------------------------------------------------ argparse's catalogue


def argparse_messages() -> list[tuple[str, ...]]:
    """Every message argparse (this Python's) passes to ``_`` (one text) or
    ``ngettext`` (singular and plural)."""
    tree = ast.parse(Path(argparse.__file__).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            count = {"_": 1, "ngettext": 2}.get(node.func.id, 0)
            texts = tuple(a.value for a in node.args[:count] if isinstance(a, ast.Constant))
            if count and len(texts) == count:
                found.append(texts)
    return found


def test_argparse_speaks_chinese_for_each_of_its_messages():
    messages = argparse_messages()
    assert ("usage: ",) in messages and ("show this help message and exit",) in messages
    i18n.set_language("zh")
    placeholder = re.compile(r"%(?:\(\w+\))?[sr]")
    for message in messages:
        said = i18n._(message[0]) if len(message) == 1 else i18n.ngettext(*message, 2)
        assert chinese(said), f"argparse's {message!r} has no Chinese"
        assert sorted(placeholder.findall(said)) == sorted(placeholder.findall(message[0])), said


def test_build_parser_routes_argparse_through_the_catalogue():
    i18n.set_language("zh")
    text = build_parser().format_usage()
    assert text.startswith("用法：bptui ")
    i18n.set_language("en")
    assert build_parser().format_usage().startswith("usage: bptui ")


# ------------------------------------------------------------------ each student's language


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "default"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_CN.utf8"}, "zh"),
        ({"LANG": "zh_CN"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}, "zh"),
        ({"LANG": "zh_CN.GBK"}, "en"),  # the app writes UTF-8: a GBK terminal would garble it
        ({"LC_ALL": "", "LANG": ""}, "default"),
        ({"TERM": "xterm"}, "default"),
    ],
)
def test_a_students_language_is_their_ssh_locale(env, expected):
    from bptui.serve.speech import client_language

    for default in ("en", "zh"):
        assert client_language(env, default) == (default if expected == "default" else expected)


class FakeChannel:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.written = b""
        self.code: int | None = None

    def get_environment(self) -> dict[str, str]:
        return self.env

    command: str | None = None

    def get_command(self) -> str | None:
        return self.command

    def get_subsystem(self) -> str | None:
        return None

    def get_extra_info(self, name: str) -> object:
        return ("10.0.0.1", 2222) if name == "sockname" else None

    def write(self, data: bytes) -> None:
        self.written += data

    def write_stderr(self, data: bytes) -> None:
        self.written += data

    def exit(self, code: int) -> None:
        self.code = code


class Seat:
    """A session already in the class."""

    role = "student"


class FakeServer:
    """What a session asks of the server; ``spawn`` keeps the header and fails."""

    def __init__(self, settings, max_sessions: int = 100) -> None:
        from collections import Counter
        from dataclasses import replace

        base = serve_options.parse_options({"max_sessions": str(max_sessions)})
        self.options = replace(base, settings=settings)
        self.sessions: set = set()
        self.per_address: Counter = Counter()
        self.classroom = None
        self.groups = None
        self.headers: list[dict] = []
        self._closing = False

    def admit(self, session):
        from bptui.serve.server import ClassServer

        return ClassServer.admit(self, session)  # type: ignore[arg-type]

    def seat(self, session):
        from bptui.serve.server import ClassServer

        ClassServer.seat(self, session)  # type: ignore[arg-type]

    def unseat(self, session):
        from bptui.serve.server import ClassServer

        return ClassServer.unseat(self, session)  # type: ignore[arg-type]

    async def spawn(self, header, fds):
        self.headers.append(header)
        raise OSError("no zygote in this test")


def session_for(server, env):
    from bptui.serve.session import Session

    connection = types.SimpleNamespace(
        address="10.0.0.7", username="ann", teacher=False, began=lambda: None, ended=lambda: None
    )
    session = Session(server, connection)  # type: ignore[arg-type]
    chan = FakeChannel(env)
    session.connection_made(chan)  # type: ignore[arg-type]
    return session, chan


async def test_a_students_app_gets_their_language_in_its_settings():
    from bptui.app.settings import Settings

    server = FakeServer(Settings(language="en"))
    session, chan = session_for(server, {"LANG": "zh_CN.UTF-8"})
    session.pty_requested("xterm", (80, 24, 0, 0), {})
    session.session_started()
    await session._starting
    assert server.headers[0]["settings"]["language"] == "zh"
    assert Settings.from_header(server.headers[0]["settings"]).language == "zh"
    assert chan.written.decode() == "服务器无法开始课程。请告诉老师。\r\n" and chan.code == 1
    assert i18n.language() == "en"  # the server itself speaks as before


async def test_a_student_without_a_locale_gets_the_servers_language():
    from bptui.app.settings import Settings

    server = FakeServer(Settings(language="zh"))
    session, chan = session_for(server, {})
    session.pty_requested("xterm", (80, 24, 0, 0), {})
    session.session_started()
    await session._starting
    assert server.headers[0]["settings"]["language"] == "zh"
    english, chan = session_for(server, {"LANG": "en_US.UTF-8"})
    english.pty_requested("xterm", (80, 24, 0, 0), {})
    english.session_started()
    await english._starting
    assert server.headers[1]["settings"]["language"] == "en"
    assert chan.written.startswith(b"The server could not start a lesson.")


def test_refusals_and_hints_are_in_the_students_language():
    from bptui.app.settings import Settings

    server = FakeServer(Settings(language="en"), max_sessions=1)
    server.sessions = {Seat()}
    session, chan = session_for(server, {"LC_ALL": "zh_CN.UTF-8"})
    session.pty_requested("xterm", (80, 24, 0, 0), {})
    session.session_started()
    assert chan.written.decode() == "课堂已满（1 名学生）。请稍后再试，或问问老师。\r\n"
    assert chan.code == 1
    no_pty, chan = session_for(server, {"LANG": "zh_CN.UTF-8"})
    no_pty.session_started()  # ssh -T: no terminal asked for
    assert chan.written.decode() == (
        "bptui 需要终端，而这个 ssh 没有请求终端：请用  ssh -t -p 2222 10.0.0.1  连接\r\n"
    )
    command, chan = session_for(server, {"LANG": "zh_CN.UTF-8"})
    chan.command = "ls"
    assert command.exec_requested("ls")  # taken, to be refused with the reason
    command.session_started()
    assert chan.code == 1
    assert chan.written.decode() == (
        "bptui 只提供课程，不运行命令：请用  ssh -p 2222 10.0.0.1  连接\r\n"
    )


@pytest.mark.skipif(sys.platform != "linux", reason="needs Linux pidfds and ptys")
async def test_a_real_class_in_two_languages(tmp_path):
    """A real server: a client sending LANG=zh_CN.UTF-8 (as OpenSSH does with SendEnv)
    is refused in Chinese when the class is full and told in Chinese when it ends."""
    import asyncio
    import signal

    from serve_client import Server, Student, connect

    async def join(port: int, env: dict[str, str]) -> Student:
        conn = await connect(port)
        process = await conn.create_process(
            term_type="xterm-256color", term_size=(80, 24), encoding=None, env=env
        )
        return Student(conn, process, 80, 24)

    srv = Server(tmp_path, "--max-sessions", "1")
    try:
        first = await join(srv.port, {"LANG": "zh_CN.UTF-8"})
        await first.wait_for(lambda t: "Epoch 1/100" in t or "轮" in t, timeout=60)
        second = await join(srv.port, {"LANG": "zh_CN.UTF-8"})
        assert await second.wait_closed() == 1
        assert "课堂已满（1 名学生）。请稍后再试，或问问老师。" in second.text()
        third = await join(srv.port, {"LANG": "en_US.UTF-8"})
        assert await third.wait_closed() == 1
        assert "The class is full (1 student)." in third.text()
        code, log = await asyncio.get_running_loop().run_in_executor(None, srv.stop)
        assert code == 0
        await first.wait_closed()
        assert "课堂已结束。感谢参加！".encode() in first.raw
        assert "refused 127.0.0.1 student: the class is full (--max-sessions 1)" in log  # English
    finally:
        if srv.proc.poll() is None:
            srv.stop(signal.SIGKILL)
        for pid in srv.pids():
            os.kill(pid, signal.SIGKILL)
