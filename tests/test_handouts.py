"""Handouts: x writes the session so far as Markdown, X an SVG screenshot, into the
current directory as ``bptui-<lesson>-<YYYYmmdd-HHMMSS>.md`` / ``.svg``; never over an
existing file; an unwritable directory gets one clear line and the app goes on."""

from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path

import pytest
from test_app import drawn, make_app, press, shown, wait_for

from bptui.app import handout
from bptui.app.panels.message import MessageBar
from bptui.lesson.engine import Stepper
from bptui.lesson.files import load_lesson
from bptui.lesson.snapshot import Kind

SIZE = (80, 24)
#: 2026-11-30 12:34:56 in local time: every file of a test gets this stamp.
CLOCK = time.mktime((2026, 11, 30, 12, 34, 56, 0, 0, -1))


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(handout, "now", lambda: CLOCK)
    return tmp_path


def test_file_names_are_the_lessons_and_the_time():
    assert handout.file_stem("linear", CLOCK) == "bptui-linear-20261130-123456"
    assert handout.file_stem("my lesson/../x", CLOCK) == "bptui-my-lesson-..-x-20261130-123456"
    assert re.fullmatch(r"bptui-linear-\d{8}-\d{6}", handout.file_stem("linear", time.time()))


async def test_x_writes_the_session_so_far_as_markdown(here: Path):
    """Two training steps and part of a third: their numbers (the trace's table) and the
    chain-rule factors of each, the quiz-free session's place, the file named on screen."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s", "s", "F")
        await pilot.press("x")
        await wait_for(pilot, lambda: "Handout written" in shown(app, MessageBar))
        files = sorted(p.name for p in here.iterdir())
        assert files == ["bptui-linear-20261130-123456.md"]
        assert "bptui-linear-20261130-123456.md" in shown(app, MessageBar)
        text = (here / files[0]).read_text(encoding="utf-8")
        # The trace's Markdown: the lesson, then one row per step with its numbers.
        assert text.startswith("# Linear model ŷ = x·w")
        assert "| step | epoch | sample | x | y | w | ŷ | r | loss | w.grad | w after |" in text
        assert "| 1 | 1 | 1 | 1 | 2 | 1 | 1 | -1 | 1 | -2 | 1.02 |" in text
        assert "| 2 | 1 | 2 | 2 | 4 | 1.02 | 2.04 | -1.96 | 3.8416 | -7.84 | 1.0984 |" in text
        assert "| 3 |" not in text  # the third step is not finished
        # Each step's chain-rule factors, and the chain they make.
        assert "- ∂loss/∂w = ∂loss/∂r · ∂r/∂ŷ · ∂ŷ/∂w" in text
        assert "| step | ∂loss/∂r | ∂r/∂ŷ | ∂ŷ/∂w |" in text
        assert "| 1 | -2 | 1 | 1 |" in text and "| 2 | -3.92 | 1 | 2 |" in text
        assert "2 training steps done; now epoch 1, sample 3, backward" in text
        assert "Quiz" not in text


async def test_x_never_overwrites_and_X_saves_an_svg(here: Path):
    existing = here / "bptui-linear-20261130-123456.md"
    existing.write_text("the teacher's notes\n", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s")
        await pilot.press("x")
        await wait_for(pilot, lambda: "Handout written" in shown(app, MessageBar))
        assert "bptui-linear-20261130-123456-2.md" in shown(app, MessageBar)
        assert existing.read_text(encoding="utf-8") == "the teacher's notes\n"
        assert "| 1 | 1 | 1 | 1 | 2 | 1 |" in (
            here / "bptui-linear-20261130-123456-2.md"
        ).read_text(encoding="utf-8")
        await pilot.press("X")
        await wait_for(pilot, lambda: "Screenshot saved" in shown(app, MessageBar))
        svg = here / "bptui-linear-20261130-123456.svg"
        assert svg.name in shown(app, MessageBar)
        content = svg.read_text(encoding="utf-8")
        assert content.lstrip().startswith("<svg") and "Epoch" in content


async def test_the_quiz_score_goes_in_the_handout(here: Path):
    from test_quiz import answer, ask, quiz_app

    app = quiz_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        await ask(pilot, app)
        await answer(pilot, app, "1")  # ŷ = 1: right
        await ask(pilot, app)
        await answer(pilot, app, "5")  # r = -1: wrong
        await pilot.press("x")
        await wait_for(pilot, lambda: "Handout written" in shown(app, MessageBar))
        (written,) = here.iterdir()
        # Right and asked differ, so the two cannot be swapped unnoticed.
        assert "Quiz: 1 right of 2 asked." in written.read_text(encoding="utf-8")


async def test_a_directory_that_cannot_be_written_is_said_and_the_app_goes_on(here: Path):
    gone = here / "gone"
    gone.mkdir()
    os.chdir(gone)
    gone.rmdir()  # the current directory no longer exists: nothing can be written in it
    app = make_app(load_lesson("two-layer"))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s")
        await pilot.press("x")
        await wait_for(pilot, lambda: "Cannot write" in shown(app, MessageBar))
        line = " ".join(shown(app, MessageBar).split())
        assert "Cannot write bptui-two-layer-20261130-123456.md" in line
        assert "No such file or directory" in line and "Nothing was saved" in line
        await pilot.press("X")
        await wait_for(pilot, lambda: ".svg" in shown(app, MessageBar))
        assert "Cannot write" in shown(app, MessageBar)
        assert app.stepper is not None
        steps = app.stepper.micro_steps
        await press(pilot, "space")  # the lesson goes on
        assert app.stepper.micro_steps == steps + 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
async def test_a_read_only_directory_is_said(here: Path):
    here.chmod(0o500)
    try:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await press(pilot, "space")
            await pilot.press("x")
            await wait_for(pilot, lambda: "Cannot write" in shown(app, MessageBar))
            assert "Permission denied" in " ".join(shown(app, MessageBar).split())
    finally:
        here.chmod(0o700)


async def test_in_bptui_serve_x_and_X_say_the_file_would_be_the_servers(here: Path):
    app = make_app()
    app.served = True
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s")
        for key in ("x", "X"):
            app.query_one(MessageBar).show(None)
            await pilot.press(key)
            await wait_for(pilot, lambda: "classroom server" in shown(app, MessageBar))
        assert list(here.iterdir()) == []


async def test_the_handout_names_the_phase_in_the_language_spoken(here: Path):
    """A handout written in Chinese says where the session is in Chinese, the phase word
    included (the status bar's, translated): it once said 'backward' there."""
    from bptui import i18n
    from bptui.app.main import BptuiApp
    from bptui.app.settings import Settings
    from bptui.lesson import seed_lesson
    from bptui.lesson.engine import Stepper

    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(language="zh"))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await press(pilot, "s", "s", "F")
            await pilot.press("x")
            await wait_for(pilot, lambda: ".md" in shown(app, MessageBar))
            (written,) = here.iterdir()
            text = written.read_text(encoding="utf-8")
    finally:
        i18n.set_language("en")
    where = text[text.index("已完成") :]
    assert where.startswith("已完成 2 个训练步；现在是第 1 轮、第 3 个样本、反向（")
    assert "backward" not in where


# ------------------------------------------------------------- the files themselves, in process

#: iTerm2's file sequence, as a browser student's page reads it (see handout.py).
FILE_SEQUENCE = re.compile(
    r"\x1b\]1337;File=name=([A-Za-z0-9+/=]+);size=(\d+);inline=0:([A-Za-z0-9+/=]*)\x07"
)


def _handed_over(sent: list[str]) -> tuple[str, bytes]:
    """The one file a session handed to its page: its name and its bytes."""
    (sequence,) = sent
    found = FILE_SEQUENCE.fullmatch(sequence)
    assert found is not None, repr(sequence[:80])
    content = base64.b64decode(found[3])
    assert int(found[2]) == len(content)
    return base64.b64decode(found[1]).decode("utf-8"), content


def test_X_says_the_file_it_saved(here: Path) -> None:
    message = handout.write_screenshot("linear", lambda: "<svg>ŷ</svg>", served=False)
    assert message.kind is Kind.STEP
    assert message.text == "Screenshot saved: bptui-linear-20261130-123456.svg"
    saved = here / "bptui-linear-20261130-123456.svg"
    assert saved.read_text(encoding="utf-8") == "<svg>ŷ</svg>"


def test_a_served_session_writes_nothing_and_says_why(here: Path) -> None:
    stepper = Stepper(load_lesson("linear"))
    said = (
        "This lesson runs on the classroom server: a file written now would be the server's, "
        "not yours. For a handout, run bptui on your own computer (bptui trace --format md "
        "writes the table too)."
    )
    for message in (
        handout.write_screenshot("linear", lambda: "<svg/>", served=True),
        handout.write_handout(stepper, stepper.snapshot(), None, served=True),
    ):
        assert message.kind is Kind.REFUSED and message.text == said
    assert list(here.iterdir()) == []


def test_a_browser_session_gets_x_and_X_as_downloads(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`bptui serve --web`: the file goes to the page in-band, named and whole; nothing is
    written on the server."""
    from types import SimpleNamespace

    sent: list[str] = []
    monkeypatch.setattr(handout, "_deliver", None)  # put back after the test
    page = SimpleNamespace(_driver=SimpleNamespace(write=sent.append))
    handout.to_browser(page)  # type: ignore[arg-type]  # what the page's session does
    message = handout.write_screenshot("linear", lambda: "<svg>ŷ</svg>", served=True)
    name, content = _handed_over(sent)
    assert name == "bptui-linear-20261130-123456.svg"
    assert content == "<svg>ŷ</svg>".encode()
    assert message.kind is Kind.STEP
    assert message.text == "Sent to your browser's downloads: bptui-linear-20261130-123456.svg"

    sent.clear()
    stepper = Stepper(load_lesson("linear"))
    assert stepper.train_step()
    message = handout.write_handout(stepper, stepper.snapshot(), (1, 2), served=True)
    name, content = _handed_over(sent)
    assert name == "bptui-linear-20261130-123456.md"
    assert content.decode("utf-8") == handout.handout_markdown(stepper, stepper.snapshot(), (1, 2))
    assert "| 1 | 1 | 1 | 1 | 2 | 1 |" in content.decode("utf-8")
    assert message.text == "Sent to your browser's downloads: bptui-linear-20261130-123456.md"
    assert list(here.iterdir()) == []

    sent.clear()
    page._driver = None  # the app is closing: nothing to write to, and no error
    handout.write_screenshot("linear", lambda: "<svg/>", served=True)
    assert sent == [] and list(here.iterdir()) == []


def test_after_999_files_of_one_second_the_next_is_refused_and_said(here: Path) -> None:
    """write_new tries the name and -2 … -999, then gives up with a reason the message
    bar can show; it never writes a thousandth."""
    stem = "bptui-linear-20261130-123456"
    (here / f"{stem}.svg").write_text("first", encoding="utf-8")
    for n in range(2, 1000):
        (here / f"{stem}-{n}.svg").write_text("", encoding="utf-8")
    message = handout.write_screenshot("linear", lambda: "<svg/>", served=False)
    assert message.kind is Kind.REFUSED
    assert message.text == (
        f"Cannot write {stem}.svg in {here}: {stem}.svg and 999 others exist. Nothing was saved."
    )
    assert len(list(here.iterdir())) == 999
    assert (here / f"{stem}.svg").read_text(encoding="utf-8") == "first"


#: The note's lesson as every handout of it opens (the lesson, its settings, its phases).
OPENING = """\
# Linear model ŷ = x·w, squared loss (the note's lesson)

lr = 0.01, 100 epochs, 3 samples per epoch; loss = (x * w - y) ** 2

- **forward**: Forward: torch computes one node at a time and records how (grad_fn) for \
the way back.
- **backward**: Backward: each operation multiplies the gradient from above by its local \
derivative.
- **update**: Update: step w against its gradient, scaled by the learning rate.
- **zero**: Zero: torch adds gradients up, so clear w.grad before the next sample.

"""


def test_the_handout_word_for_word() -> None:
    """The whole Markdown of the note's lesson (scalar: the same digits on every CPU)
    before any step, after two steps and part of a third with a quiz score, and at the
    end: headings, tables and sentences as a student pastes them into notes."""
    stepper = Stepper(load_lesson("linear"))
    assert handout.handout_markdown(stepper, stepper.snapshot(), None) == OPENING + (
        "No training step is finished yet, so there is no table of steps: it begins when "
        "the first one ends (s does a whole training step).\n\n"
        "## Where the session is\n\n"
        "0 training steps done; now epoch 1, sample 1, forward (0 micro-steps since the "
        "start).\n"
    )
    assert stepper.train_step() and stepper.train_step()
    assert handout.handout_markdown(stepper, stepper.snapshot(), (1, 2)) == OPENING + (
        "| step | epoch | sample | x | y | w | ŷ | r | loss | w.grad | w after |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        "| 1 | 1 | 1 | 1 | 2 | 1 | 1 | -1 | 1 | -2 | 1.02 |\n"
        "| 2 | 1 | 2 | 2 | 4 | 1.02 | 2.04 | -1.96 | 3.8416 | -7.84 | 1.0984 |\n\n"
        "## Chain-rule factors of each step\n\n"
        "- ∂loss/∂w = ∂loss/∂r · ∂r/∂ŷ · ∂ŷ/∂w\n\n"
        "| step | ∂loss/∂r | ∂r/∂ŷ | ∂ŷ/∂w |\n"
        "|---:|---:|---:|---:|\n"
        "| 1 | -2 | 1 | 1 |\n"
        "| 2 | -3.92 | 1 | 2 |\n\n"
        "## Where the session is\n\n"
        "2 training steps done; now epoch 1, sample 3, forward (16 micro-steps since the "
        "start).\n\n"
        "Quiz: 1 right of 2 asked.\n"
    )
    stepper.run_to_end()
    text = handout.handout_markdown(stepper, stepper.snapshot(), None)
    assert text.startswith(OPENING + "| step | epoch |") and text.count("\n| 300 | 100 | 3 |") == 1
    assert text.endswith(
        "\n\n## Where the session is\n\nThe lesson is finished: 300 training steps.\n"
    )


def test_a_lessons_name_is_made_safe_for_a_file_name() -> None:
    assert handout.file_stem("../My lesson.", CLOCK) == "bptui-My-lesson-20261130-123456"
    assert handout.file_stem("---", CLOCK) == "bptui-lesson-20261130-123456"
    assert handout.file_stem("两层", CLOCK) == "bptui-lesson-20261130-123456"
    # Only dots and dashes are trimmed from the ends, never a letter.
    assert handout.file_stem("XOR.", CLOCK) == "bptui-XOR-20261130-123456"


def test_the_class_in_the_teachers_handout_word_for_word() -> None:
    """The class's part of the teacher's handout whole: the headings, both tables'
    columns and alignments, each question's counts and common wrong answers (a dash when
    there are none), each student's score; names and numbers as plain Markdown text."""
    from bptui.classroom.messages import Score, Tally
    from bptui.classroom.protocol import Results

    questions = (
        Tally(1, "ŷ", 5, 4, 3, ((-2.0, 1), (0.5, 2)), 2.0),
        Tally(2, "∂loss/∂w", 3, 2, 2, (), -0.25),
    )
    scores = (Score("ann", "10.0.0.7", 2, 2), Score("b_o", "::1", 0, 1))
    scores_head = "\n## Scores\n\n| student | from | right | asked |\n|---|---|---:|---:|\n"
    questions_head = (
        "\n## Class questions\n\n"
        "| # | question | torch's value | right | wrong | not answered | common wrong answers |\n"
        "|---:|---|---:|---:|---:|---:|---|\n"
    )
    assert handout.class_markdown(Results(questions, scores)) == (
        questions_head
        + "| 1 | ŷ | 2 | 3 | 1 | 1 | \\-2 ×1, 0\\.5 ×2 |\n"
        + "| 2 | ∂loss/∂w | -0.25 | 2 | 0 | 1 | – |\n"
        + scores_head
        + "| ann | 10\\.0\\.0\\.7 | 2 | 2 |\n"
        + "| b\\_o | ::1 | 0 | 1 |\n"
    )
    # No question revealed yet, a student who joined: the scores all the same.
    assert handout.class_markdown(Results((), scores[:1])) == (
        questions_head + scores_head + "| ann | 10\\.0\\.0\\.7 | 2 | 2 |\n"
    )
    assert handout.class_markdown(Results((), ())) == ""  # no class: nothing added


def test_a_name_from_the_network_is_plain_markdown_text() -> None:
    """Every character Markdown reads as formatting is escaped, control characters go."""
    typed = "a\x07\x1b\\`*_{}[]()#+-.!|<>~z"
    assert handout.markdown_text(typed) == (
        "a\\\\\\`\\*\\_\\{\\}\\[\\]\\(\\)\\#\\+\\-\\.\\!\\|\\<\\>\\~z"
    )


def test_a_handout_is_utf_8_whatever_the_locale(tmp_path: Path) -> None:
    """Under a C locale (a server's default), Python's own default would be ASCII and
    ŷ would not be written: the file is UTF-8 all the same. A fresh interpreter, since the
    locale's encoding is fixed when Python starts; it imports the same package as this
    test (under mutmut, the mutated one: MUTANT_UNDER_TEST is inherited). The file is
    written here too, so mutmut's traced run, which sees only this process, ties the test
    to write_new."""
    import subprocess
    import sys

    here = handout.write_new(tmp_path, "here", ".md", "ŷ = x·w\n")
    package = Path(handout.__file__).parents[2]
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONPATH": str(package)}
    env.pop("PYTHONIOENCODING", None)
    script = (
        "import locale, sys; from pathlib import Path; from bptui.app import handout; "
        "assert locale.getpreferredencoding(False) != 'UTF-8'; "
        "print(handout.write_new(Path(sys.argv[1]), 'h', '.md', '\\u0177 = x\\u00b7w\\n').name)"
    )  # the command line in ASCII: under the C locale it is read as ASCII too
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "h.md"
    assert (tmp_path / "h.md").read_bytes() == here.read_bytes() == "ŷ = x·w\n".encode()


def test_a_current_directory_that_is_gone_is_named_as_dot(here: Path) -> None:
    """The folder cannot be named when the current directory no longer exists: the
    message says "." for it, and why nothing was saved."""
    gone = here / "gone"
    gone.mkdir()
    os.chdir(gone)
    gone.rmdir()
    message = handout.write_screenshot("linear", lambda: "<svg/>", served=False)
    assert message.kind is Kind.REFUSED
    assert message.text == (
        "Cannot write bptui-linear-20261130-123456.svg in .: No such file or directory. "
        "Nothing was saved."
    )


def test_a_parameter_reached_two_ways_has_a_sum_of_products_in_the_handout() -> None:
    """x·w + w: the loss reaches w through the product and directly; its chain is the
    sum of the two paths' products, and each factor has its column."""
    lesson = load_lesson(None, overrides={"model": "x * w + w"}).with_values(epochs=1)
    stepper = Stepper(lesson)
    assert stepper.train_step()
    text = handout.handout_markdown(stepper, stepper.snapshot(), None)
    chain = "∂loss/∂r · ∂r/∂ŷ · ∂ŷ/∂z1 · ∂z1/∂w + ∂loss/∂r · ∂r/∂ŷ · ∂ŷ/∂w"
    assert f"\n- ∂loss/∂w = {chain}\n\n" in text
    assert "\n| step | ∂loss/∂r | ∂r/∂ŷ | ∂ŷ/∂z1 | ∂ŷ/∂w | ∂z1/∂w |\n" in text


def test_the_teachers_handout_is_the_session_then_the_class(here: Path) -> None:
    """x in the teacher's session: the handout as anyone's, the class's part after it,
    and the file named on the message bar."""
    from bptui.classroom.messages import Score, Tally
    from bptui.classroom.protocol import Results

    stepper = Stepper(load_lesson("linear"))
    assert stepper.train_step()
    results = Results((Tally(1, "ŷ", 2, 2, 1, ((3.0, 1),), 1.0),), (Score("ann", "::1", 1, 1),))
    message = handout.write_handout(stepper, stepper.snapshot(), None, False, results)
    assert message.kind is Kind.STEP
    assert message.text == "Handout written: bptui-linear-20261130-123456.md"
    written = (here / "bptui-linear-20261130-123456.md").read_text(encoding="utf-8")
    session = handout.handout_markdown(stepper, stepper.snapshot(), None)
    assert written == session + handout.class_markdown(results)
    assert "| 1 | ŷ | 1 | 1 | 1 | 0 | 3 ×1 |" in written


def test_one_training_step_is_one_step_in_words() -> None:
    """After one training step the handout said "1 training steps done"."""
    stepper = Stepper(load_lesson("linear"))
    assert stepper.train_step()
    text = handout.handout_markdown(stepper, stepper.snapshot(), None)
    assert "\n1 training step done; now epoch 1, sample 2, forward" in text
    finished = Stepper(load_lesson("linear").with_values(epochs=1, x=(1.0,), y=(2.0,)))
    assert finished.train_step() and finished.snapshot().finished
    assert "The lesson is finished: 1 training step.\n" in handout.handout_markdown(
        finished, finished.snapshot(), None
    )
