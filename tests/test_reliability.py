"""Regression tests for what a hostile pass found: bursts, odd files, no terminal, signals.

Each runs the real ``bptui`` where the fault lived in the real world (a pty, a
pipe, a signal), since that is where it showed.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest
from patience import Deadline, patience
from test_pty import bptui_command, launch  # noqa: F401  (launch is a fixture)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def test_two_enters_in_one_burst_submit_the_edit_form_once(launch) -> None:  # noqa: F811
    """E, then Enter Enter in one write (a paste): the form closes once, no traceback."""
    term = launch()
    term.wait_for(lambda t: "w.grad None" in t)
    term.send(b"E")
    term.wait_for(lambda t: "enter applies" in t)
    term.send(b"\r\r")
    term.wait_for(lambda t: "enter applies" not in t)
    term.send(b" ")
    screen = term.wait_for(lambda t: "ŷ=1" in t)
    assert "Traceback" not in screen and term.proc.poll() is None
    term.send(b"q")
    assert term.wait_exit(10) == 0


@pytest.mark.parametrize("stdin", ["devnull", "pipe"])
def test_without_a_terminal_the_stepper_says_so_and_points_at_trace(stdin: str) -> None:
    done = subprocess.run(
        bptui_command(),
        input=b"" if stdin == "pipe" else None,
        stdin=subprocess.DEVNULL if stdin == "devnull" else None,
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert b"needs a terminal" in done.stderr and b"bptui trace" in done.stderr
    assert b"\x1b[" not in done.stdout  # no escape codes written into the pipe


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_restore_the_terminal(launch, sig: int) -> None:  # noqa: F811
    term = launch()
    term.wait_for(lambda t: "w.grad None" in t)
    raw = bytearray()
    original = term.stream.feed

    def keep(data: bytes) -> None:
        raw.extend(data)
        original(data)

    term.stream.feed = keep  # type: ignore[method-assign]
    term.proc.send_signal(sig)
    assert term.wait_exit(10) == 128 + sig
    # Left the alternate screen and showed the cursor again, as q does.
    assert b"\x1b[?1049l" in raw and b"\x1b[?25h" in raw


def bptui(*args: str, **kwargs) -> subprocess.CompletedProcess[bytes]:  # type: ignore[no-untyped-def]
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([*bptui_command(), *args], stderr=subprocess.PIPE, timeout=60, **kwargs)


def one_line_error(done: subprocess.CompletedProcess[bytes], says: str) -> None:
    err = done.stderr.decode()
    assert "Traceback" not in err and says in err, err
    assert len([line for line in err.splitlines() if "error" in line]) == 1


@pytest.mark.parametrize("name", ["/dev/zero", "fifo", "big"])
def test_lesson_files_must_be_small_regular_files(name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    path = name
    if name == "fifo":
        path = str(tmp_path / "lesson.toml")
        os.mkfifo(path)  # reading it would block forever
    elif name == "big":
        path = str(tmp_path / "big.toml")
        with open(path, "wb") as f:
            f.write(b"#" * (2 * 1024 * 1024))
    done = bptui("trace", "--lesson", path)
    assert done.returncode == 2
    one_line_error(done, "larger than" if name == "big" else "not a regular file")


def test_an_empty_lesson_name_is_an_error_not_the_default() -> None:
    done = bptui("trace", "--lesson", "")
    assert done.returncode == 2 and done.stdout == b""
    one_line_error(done, "the lesson name is empty")


def test_trace_output_errors_are_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with open("/dev/full", "w") as full:
        done = bptui("trace", "--epochs", "2", stdout=full)
    assert done.returncode == 1
    one_line_error(done, "cannot write to standard output: No space left on device")
    done = bptui("trace", "--epochs", "2", "-o", "/dev/full")
    assert done.returncode == 1
    one_line_error(done, "cannot write /dev/full: No space left on device")
    with open("/dev/full", "w") as full:
        done = bptui("lessons", stdout=full)
    assert done.returncode == 1
    one_line_error(done, "bptui lessons: error: cannot write to standard output")
    done = subprocess.run(
        " ".join([*bptui_command(), "trace", "--epochs", "1", ">&-"]),
        shell=True,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    one_line_error(done, "standard output is closed")


def test_trace_replaces_a_file_only_after_a_whole_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "trace.jsonl"
    out.write_text("keep me\n")
    out.chmod(0o640)
    done = bptui("trace", "--epochs", "1", "-o", str(out))
    assert done.returncode == 0 and b"replacing the file that was there" in done.stderr
    assert out.read_text().count("\n") == 3 and oct(out.stat().st_mode & 0o777) == "0o640"
    # -o - is standard output.
    done = bptui("trace", "--epochs", "1", "-o", "-")
    assert done.stdout.count(b"\n") == 3


def test_trace_refuses_to_write_over_its_own_lesson_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bptui.lesson.files import builtin_path

    lesson = tmp_path / "mine.toml"
    lesson.write_text(builtin_path("affine").read_text())
    before = lesson.read_text()
    done = bptui("trace", str(lesson), "-o", str(lesson))
    assert done.returncode == 2 and lesson.read_text() == before
    one_line_error(done, "is the lesson file itself")


def test_narration_is_never_written_into_the_lesson_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`bptui LESSON.toml --narrate LESSON.toml` appended the narration to the lesson;
    `trace -o` already refused its own lesson file, and so does --narrate now."""
    from bptui.lesson.files import builtin_path

    lesson = tmp_path / "mine.toml"
    lesson.write_text(builtin_path("affine").read_text())
    before = lesson.read_text()
    done = bptui(str(lesson), "--narrate", str(lesson))
    assert done.returncode == 2 and lesson.read_text() == before
    one_line_error(done, "--narrate: " + str(lesson) + " is the lesson file itself")
    builtin = builtin_path("affine")
    done = bptui("--lesson", "affine", "--narrate", str(builtin))  # a built-in lesson's file
    assert done.returncode == 2
    one_line_error(done, "is the lesson file itself")


def test_ctrl_c_during_trace_is_one_line_130_and_keeps_the_old_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import time

    out = tmp_path / "long.jsonl"
    out.write_text("keep me\n")
    proc = subprocess.Popen(
        [*bptui_command(), "trace", "--epochs", "100000", "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Ctrl+C as a terminal sends it, even when the suite itself was started in the
        # background by a shell (which ignores SIGINT for it, and Python then keeps
        # it ignored: the run went on for a minute to the end and exited 0).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Torch loaded and the run under way: records reach the temporary file.
    deadline = Deadline(60)
    while not any(p.suffix == ".part" and p.stat().st_size for p in tmp_path.iterdir()):
        assert not deadline.passed() and proc.poll() is None, "the run never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=patience(60))
    assert proc.returncode == 130
    assert b"Traceback" not in err and b"interrupted" in err
    # The run was interrupted: the file that was there is untouched, no temporary left.
    assert out.read_text() == "keep me\n" and list(tmp_path.iterdir()) == [out]


def test_a_non_utf8_terminal_gets_replacement_characters_not_a_traceback() -> None:
    import os

    env = dict(os.environ, PYTHONIOENCODING="ascii")
    for args in (["lessons"], ["--help"], ["trace", "--help"]):
        done = bptui(*args, env=env)
        assert done.returncode == 0 and b"Traceback" not in done.stderr, args
    done = bptui("trace", "--epochs", "1", "--format", "md", env=env)
    assert done.returncode == 0 and "ŷ".encode() in done.stdout  # data is always UTF-8


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--lr", "1e-46"], "--lr: 1e-46 is too small for float32"),
        (["--lr", "1e39"], "--lr: 1e+39 is too large for float32"),
        (["--x", "1e39,1,2"], "--x: 1e+39 is too large for float32"),
        (["--init", "w=1e-50"], "--init: 1e-50 is too small for float32"),
        (["--epochs", "9" * 5000], "is too large"),
        (["--lr", "x" * 300], "'xxxxxxxxxxxxxxxxxxxxxxxx…' is not a number"),
    ],
)
def test_values_are_checked_in_float32_and_never_echoed_at_length(args, says, capsys) -> None:  # type: ignore[no-untyped-def]
    from bptui.cli import main

    assert main(["trace", *args]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err) < 300


@pytest.mark.parametrize(
    "model",
    ["x*w\x1b]0;PWN\x07", "x*w\u202e+b", "x\u200b*w", "x*w\u2028+b", "\ufeffx*w", "x*w\x1b[2J"],
)
def test_a_model_with_escapes_or_invisible_characters_is_not_echoed_raw(model, capsys) -> None:  # type: ignore[no-untyped-def]
    """`bptui trace --model $'x*w\\e]0;PWN\\a'` wrote the ESC and BEL back in its error:
    a terminal took them as a command (here: set the window title)."""
    from bptui.cli import main

    assert main(["trace", "--model", model]) == 2
    err = capsys.readouterr().err
    assert "the model is not a valid expression" in err and "Traceback" not in err
    assert all(c.isprintable() or c == "\n" for c in err), repr(err)
    lines = err.splitlines()
    shown, caret = lines[1], lines[2]
    assert caret.strip() == "^" and shown[caret.index("^")] == "?"  # under the character


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--model", "w@x"], "@ multiplies a matrix by a vector"),
        (["--model", "x@w"], "@ multiplies a matrix by a vector"),
        (
            ["--lesson", "matrix", "--x", "1,2", "--y", "1,2"],
            "each x value must be a list of numbers",
        ),
        (["--model", "x*w", "--loss", "bce"], "needs a prediction between 0 and 1"),
        (["--loss", "bce"], "end the model in sigmoid"),
        (["--lesson", "neuron", "--loss", "bce", "--y", "0,1,2,1"], "y value #3 is 2"),
        # The --y given, not the built-in lesson's y = 2, 4, 6, is what is checked.
        (["--model", "sigmoid(x*w)", "--loss", "bce", "--y", "0,1,2"], "y value #3 is 2"),
        (["--lesson", "matrix", "--loss", "abs"], "--loss abs: this lesson's x and y are vectors"),
        (["--model", "r * x"], "r is a reserved name: the graph names its own values yhat, r"),
        (["--model", "x * w + z1"], "z1 is a reserved name"),
        (["--model", "loss"], "loss is a reserved name"),
        (["--model", ""], "--model: the model is empty"),
    ],
)
def test_models_torch_would_refuse_are_refused_up_front(args, says, capsys) -> None:  # type: ignore[no-untyped-def]
    """A shape or loss torch raises on mid-run is one line before anything runs; a
    model from the command line is not blamed on the built-in lesson's file."""
    from bptui.cli import main

    assert main(["trace", *args]) == 2
    captured = capsys.readouterr()
    assert says in captured.err and "Traceback" not in captured.err
    assert "lessons/" not in captured.err.splitlines()[0]
    assert captured.out == ""


def test_bce_targets_are_checked_when_edited_too() -> None:
    from bptui.lesson import LessonError
    from bptui.lesson.files import load_lesson

    lesson = load_lesson("neuron", {"loss": "bce"})
    with pytest.raises(LessonError, match="targets between 0 and 1"):
        lesson.with_values(y=(0.0, 1.0, 2.0, 1.0))


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('title = "Evil \\u001b]0;pwned\\u0007"', "title"),
        ('description = "blink \\u001b[5m"', "description"),
        ('prediction = "y\\u009b"', "prediction"),
        ('[narration]\nforward = "x\\u007f"', "narration"),
    ],
)
def test_control_characters_in_lesson_text_are_refused(toml: str, key: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """ESC and friends in a lesson's text would reach every student's terminal raw."""
    from bptui.lesson import LessonError
    from bptui.lesson.files import load_lesson

    base = 'model = "x * w"\nx = [1.0]\ny = [2.0]\nlr = 0.01\nepochs = 1\n'
    path = tmp_path / "lesson.toml"
    path.write_text(base + toml + "\n")
    with pytest.raises(LessonError, match=f"{key} contains the control character"):
        load_lesson(str(path))
    path.write_text(base + 'description = "two lines\\nand\\ttabs are fine"\n')
    assert "two lines" in load_lesson(str(path)).description


@pytest.mark.parametrize(
    ("char", "key"),
    [
        ("\\u202e", "title"),
        ("\\u200b", "description"),
        ("\\u2028", "prediction"),
        ("\\ufeff", "title"),
    ],
)
def test_invisible_and_bidirectional_characters_in_lesson_text_are_refused(
    char: str, key: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """U+202E turns a line around, U+200B and U+FEFF hide in a word, U+2028 breaks a
    line where the lesson's layout has none: each is refused as control characters are."""
    from bptui.lesson import LessonError
    from bptui.lesson.files import load_lesson

    base = 'model = "x * w"\nx = [1.0]\ny = [2.0]\nlr = 0.01\nepochs = 1\n'
    path = tmp_path / "lesson.toml"
    path.write_text(base + f'{key} = "a{char}b"\n')
    code = "U+" + char[2:].upper()
    with pytest.raises(
        LessonError, match=re.escape(f"{key} contains the invisible character {code}")
    ):
        load_lesson(str(path))


async def test_c_with_one_parameter_says_so() -> None:
    from test_app import make_app, shown

    from bptui.app.panels.message import MessageBar

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert "one parameter" in " ".join(shown(app, MessageBar).split())


async def test_e_after_the_lesson_ends_says_what_to_do() -> None:
    from test_app import shown

    from bptui.app.main import BptuiApp
    from bptui.app.panels.message import MessageBar
    from bptui.lesson import seed_lesson
    from bptui.lesson.engine import Stepper

    lesson = seed_lesson().with_values(epochs=1)
    stepper = Stepper(lesson)
    stepper.run_to_end()
    app = BptuiApp(lesson, stepper=stepper)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("E")
        await pilot.pause()
        bar = " ".join(shown(app, MessageBar).split())
        assert "The lesson is finished" in bar and "r starts it again" in bar
        assert app.screen.__class__.__name__ != "EditScreen"


@pytest.mark.parametrize(
    ("lesson_name", "field", "typed", "says"),
    [
        ("two-layer", "#edit-y", "0.1, 0.2", "x has 5 values but y has 2: give one y for every x"),
        ("two-layer", "#edit-lr", "-1", "the learning rate must be greater than 0, got -1"),
        ("two-layer", "#edit-lr", "1e39", "learning rate: 1e+39 is too large for float32"),
        ("two-layer", "#edit-lr", " ", "learning rate is empty: type a number"),
        ("two-layer", "#edit-param-w2", "", "w2 is empty: type a number"),
        ("two-layer", "#edit-param-w2", "1e39", "w2: 1e+39 is too large for float32"),
        ("two-layer", "#edit-x", "1, two", "x values: 'two' (item 2) is not a number"),
        ("neuron", "#edit-y", "0, 1, 2, 1", "needs targets between 0 and 1, but y value #3 is 2"),
    ],
)
async def test_the_edit_form_keeps_what_was_typed_and_says_why_where_it_is_seen(
    lesson_name: str, field: str, typed: str, says: str
) -> None:
    """A bad value in the form of the largest lesson at 80×24: the form stays open with
    everything typed, the reason is on screen (not below the form), it names the form's
    field or the learning rate and never a command-line option; fixing it applies."""
    from test_app import make_app, screen_text

    from bptui.app.screens.edit import EditScreen
    from bptui.lesson.files import load_lesson

    lesson = load_lesson(lesson_name, {"loss": "bce"} if lesson_name == "neuron" else None)
    app = make_app(lesson)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("E")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, EditScreen)
        before = form.query_one(field).value  # type: ignore[attr-defined]
        form.query_one(field).value = typed  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        assert form.query_one(field).value == typed  # type: ignore[attr-defined]
        error = str(form.query_one("#edit-error").render())
        assert says in error and "--" not in error
        if field != "#edit-y":  # a value wrong by itself: its field gets the cursor
            assert app.focused is form.query_one(field)
        widget = form.find_widget(form.query_one("#edit-error"))
        assert widget.visible_region == widget.region and widget.region.bottom <= 24
        on_screen = " ".join(screen_text(app, form.query_one("#edit-error")).split())
        assert " ".join(says.split()) in on_screen
        form.query_one(field).value = before  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, EditScreen)
        assert app.stepper is not None and app.stepper.lesson.x == lesson.x


async def test_a_burst_of_down_keys_scrolls_the_help_all_the_way() -> None:
    """Keys that arrive together (one read from the terminal) each move the help by a line:
    Textual computed every deferred scroll's target from the same row, so a burst of 200 ↓
    moved it one line. PageDown and ↑ bursts count whole too."""
    from test_app import make_app
    from textual import events

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause(0.3)
        body = app.screen.query_one("#help-body")
        assert body.max_scroll_y > 20

        async def burst(key: str, times: int) -> None:
            for _ in range(times):
                app.post_message(events.Key(key, None))
            for _ in range(50):
                await pilot.pause(0.02)

        await burst("down", 200)
        assert body.scroll_y == body.max_scroll_y
        await burst("up", 5)
        assert body.scroll_y == body.max_scroll_y - 5
        await burst("pageup", 20)
        assert body.scroll_y == 0
        await burst("pagedown", 20)
        assert body.scroll_y == body.max_scroll_y
