"""What the text says matches the lesson and the mode actually running.

The code panel shows the program each training mode runs (and that program, run
as Python, gives the engine's numbers), with the line the last step ran; the
lesson file's narration is shown once a phase, as it comes; a custom model has its own
title in the help and in ``trace --format md``; the chain panel names this
sample's gradient and ``w.grad`` apart; the status line keeps x and y at 80
columns whatever mode is on.
"""

from __future__ import annotations

import io
import itertools
import re

import pytest
import torch
from test_app import make_app, press, shown, wait_for

from bptui.app.panels.chain import check_lines
from bptui.app.panels.code import CodePanel
from bptui.app.panels.message import MessageBar
from bptui.app.panels.status import StatusBar, status_text
from bptui.app.screens.help import HELP, HelpPage, HelpScreen, lesson_help
from bptui.lesson.actions import Action
from bptui.lesson.engine import Stepper
from bptui.lesson.files import builtin_names, load_lesson
from bptui.lesson.program import build_program, code_lines
from bptui.lesson.snapshot import Kind, Modes, Phase
from bptui.trace import run_trace

TOGGLES = ("toggle_skip_zero", "toggle_batch", "toggle_sum_loss")
ALL_MODES = [Modes(*combo) for combo in itertools.product((False, True), repeat=3)]


def stepper_in(lesson_name: str | None, modes: Modes, **overrides: object) -> Stepper:
    stepper = Stepper(load_lesson(lesson_name, overrides or None))
    for on, toggle in zip((modes.skip_zero, modes.batch, modes.sum_loss), TOGGLES, strict=True):
        if on:
            getattr(stepper, toggle)()
    return stepper


# ------------------------------------------------------------ 7: the code panel


@pytest.mark.parametrize("name", ["linear", "affine", "matrix", "neuron"])
@pytest.mark.parametrize("modes", ALL_MODES, ids=str)
def test_the_program_shown_in_each_mode_is_the_one_the_engine_runs(name: str, modes: Modes) -> None:
    """Run as Python, the program shown gives bit for bit the parameters (and the
    summed loss) of the engine's run in the same modes."""
    lesson = load_lesson(name).with_values(epochs=3)
    program = build_program(lesson, modes)
    scope: dict[str, object] = {}
    exec(compile("\n".join(program.lines), "program", "exec"), scope)
    stepper = Stepper(lesson)
    for on, toggle in zip((modes.skip_zero, modes.batch, modes.sum_loss), TOGGLES, strict=True):
        if on:
            getattr(stepper, toggle)()
    stepper.run_to_end()
    for param in lesson.param_names:
        assert torch.equal(scope[param], stepper.params[param]), param  # type: ignore[arg-type]
    if modes.sum_loss:
        assert scope["sum"].item() == stepper.snapshot().loss_sum  # type: ignore[attr-defined]
    else:
        assert "sum" not in scope


@pytest.mark.parametrize("name", builtin_names())
def test_each_mode_changes_the_lines_it_says(name: str) -> None:
    """Z comments out every zero_(), m moves the update and zeroing out of the loop
    over samples, l adds ``sum = 0`` and ``sum += l``; with no mode, none of that."""
    lesson = load_lesson(name)
    plain = build_program(lesson)
    assert not any(line.lstrip().startswith(("#", "sum")) for line in plain.lines[-8:])
    assert all(plain.lines[i].startswith("        ") for i in plain.update + plain.zero)
    for modes in ALL_MODES:
        program = build_program(lesson, modes)
        zero = [program.lines[i] for i in program.zero]
        update = [program.lines[i] for i in program.update]
        assert all(line.lstrip().startswith("# ") == modes.skip_zero for line in zero), modes
        assert all(".grad.data.zero_()" in line for line in zero)
        indent = "    " if modes.batch else "        "
        for line in update + zero:
            assert line.startswith(indent) and not line.startswith(indent + " "), (modes, line)
        sums = [line.strip() for line in program.lines if line.strip().startswith("sum ")]
        if modes.sum_loss:
            assert sums[0] == "sum = 0" and sums[1].startswith("sum += l")
            assert program.sum_loss == (program.forward[0] + 1,)
            assert program.backward[0] == program.forward[0] + 2
        else:
            assert sums == [] and program.sum_loss == ()


@pytest.mark.parametrize("name", ["linear", "affine", "two-layer", "matrix"])
@pytest.mark.parametrize("modes", ALL_MODES, ids=str)
def test_the_marked_lines_are_the_ones_each_step_runs(name: str, modes: Modes) -> None:
    """Over two epochs of natural steps in each mode: a forward step marks the
    ``l = loss`` line (and ``sum += l`` when it computed the loss in the sum-loss
    pitfall), a backward step ``l.backward()``, an update the update lines, a
    zeroing the zero lines; going on to the next sample ran nothing, and the
    line marked next is the one the next step runs."""
    stepper = stepper_in(name, modes, epochs=2)
    expected_next: tuple[int, ...] | None = None
    while not stepper.snapshot().finished:
        before = stepper.snapshot()
        stepper.next()
        snap = stepper.snapshot()
        program = stepper.program
        assert snap.code == program.lines
        last = stepper._machine.last  # the micro-step the engine just took
        line = {
            Action.FORWARD: program.forward,
            Action.BACKWARD: program.backward,
            Action.UPDATE: program.update,
            Action.ZERO: program.zero,
            Action.NEXT_SAMPLE: (),
        }[last]
        if last is Action.FORWARD and snap.phase is Phase.BACKWARD and modes.sum_loss:
            line += program.sum_loss
        assert snap.code_ran == line, (last, snap.code_ran)
        if expected_next is not None and last is not Action.NEXT_SAMPLE:
            assert set(snap.code_ran) == set(expected_next), (before.code_next, last)
        expected_next = snap.code_next
        ran_text = [snap.code[i] for i in snap.code_ran]
        if last is Action.ZERO:
            assert all("zero_()" in text for text in ran_text)
        if last is Action.UPDATE:
            assert all(".data - a *" in text for text in ran_text)


def test_code_lines_marks_sum_with_the_forward_step_that_computes_the_loss() -> None:
    program = build_program(load_lesson("linear"), Modes(sum_loss=True))
    ran, upcoming = code_lines(program, Action.FORWARD, Action.FORWARD, computes_loss=True)
    assert ran == program.forward and upcoming == program.forward + program.sum_loss
    ran, upcoming = code_lines(program, Action.FORWARD, Action.BACKWARD, loss_computed=True)
    assert ran == program.forward + program.sum_loss and upcoming == program.backward


async def test_the_code_panel_follows_each_mode_at_80_by_24() -> None:
    """On screen: Z shows zero_() commented out and the update as the line that ran;
    m marks the next sample's forward after a backward (no update inside the
    loop); l marks ``sum += l`` with the forward step that computed the loss."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "Z", "F", "B", "u")
        code = shown(app, CodePanel)
        assert "▶ w.data = w.data - a * w.grad.data" in code
        assert "# w.grad.data.zero_()" in code and "  w.grad.data.zero_()" not in code
        assert "› l = loss(x_val, w, y_val)" in code
        await press(pilot, "r", "m", "F", "B")
        code = shown(app, CodePanel)
        assert re.search(r"▶ +l\.backward\(\)", code) and re.search(r"› +l = loss\(", code)
        backward = next(line for line in code.splitlines() if "l.backward()" in line)
        update = next(line for line in code.splitlines() if "w.data = w.data" in line)
        # The update is outside the loop over samples: less indented than backward().
        assert update.index("w.data") < backward.index("l.backward()")
        assert "# w.grad" not in code
        await press(pilot, "r", "l", "F")
        code = shown(app, CodePanel)
        assert "▶ l = loss(x_val, w, y_val)" in code and "▶ sum += l" in code
        assert "› l.backward()" in code


async def test_the_code_panel_keeps_the_line_that_ran_in_view_when_it_is_short() -> None:
    """affine in skip-zero and batch mode with ``sum += l``: after an update by hand mid-epoch the
    marks span five lines (the next sample's forward, then sum, backward and the
    two updates that ran), more than the code panel has at 80×24: the lines
    that ran stay in view."""
    app = make_app(load_lesson("affine"))
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "Z", "m", "l", "F", "B", "u")
        snap = app.snapshot
        assert snap is not None and max(snap.code_ran) - min(snap.code_next) + 1 == 5
        assert app.query_one(CodePanel).content_size.height < 5  # both cannot fit
        code = shown(app, CodePanel)
        assert re.search(r"▶ +w\.data = w\.data", code), code
        assert re.search(r"▶ +b\.data = b\.data", code), code


# --------------------------------------------------------------- 4: narration


def test_the_snapshot_carries_the_lesson_narration_of_each_phase() -> None:
    """linear narrates all four phases, each once, as it comes: before the first step,
    and with the micro-step that ends the phase before it; affine only backward; a
    lesson without narration has none."""
    said = dict(load_lesson("linear").narration)
    s = Stepper(load_lesson("linear"))
    assert s.snapshot().narration == said["forward"]  # before the first step: what comes
    for action, phase in [
        ("forward", None),
        ("finish_forward", "backward"),
        ("backward", None),
        ("finish_backward", "update"),
        ("update", "zero"),
        ("zero", "forward"),
        ("forward", None),
    ]:
        getattr(s, action)()
        assert s.snapshot().narration == (said[phase] if phase else None), action
    a = Stepper(load_lesson("affine"))
    a.forward()
    assert a.snapshot().narration is None
    a.finish_forward()
    assert a.snapshot().narration == dict(load_lesson("affine").narration)["backward"]
    assert Stepper(load_lesson("two-layer")).snapshot().narration is None


async def test_the_message_line_shows_the_narration_after_a_plain_step_only() -> None:
    """After the forward pass the bar shows the engine's message and then the
    lesson's backward narration; a teaching moment is shown alone."""
    said = dict(load_lesson("linear").narration)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "F")
        bar = " ".join(shown(app, MessageBar).split())
        assert "press b for the backward pass" in bar and said["backward"] in bar
        await press(pilot, "B", "u")
        bar = " ".join(shown(app, MessageBar).split())
        assert "Updated: w = 1.02" in bar and said["zero"] in bar
        await press(pilot, "u")  # refused: already updated
        assert app.snapshot is not None and app.snapshot.message.kind is Kind.REFUSED
        bar = " ".join(shown(app, MessageBar).split())
        assert "already updated" in bar and said["zero"] not in bar


def test_trace_md_lists_the_narration_in_phase_order() -> None:
    out = io.StringIO()
    run_trace(load_lesson("linear").with_values(epochs=1), out, "md")
    said = dict(load_lesson("linear").narration)
    text = out.getvalue()
    lines = [f"- **{phase}**: {said[phase]}" for phase in ("forward", "backward", "update", "zero")]
    at = [text.index(line) for line in lines]
    assert at == sorted(at) and at[-1] < text.index("| step |")
    out = io.StringIO()
    run_trace(load_lesson("two-layer").with_values(epochs=1), out, "md")
    assert "- **" not in out.getvalue()


# ----------------------------------------------------- 5: a custom model's title


def test_a_custom_model_has_its_own_title_and_no_borrowed_text() -> None:
    lesson = load_lesson(None, {"model": "x*w+b"})
    assert lesson.title == "Your model: ŷ = x * w + b, squared loss"
    assert lesson.description == "" and lesson.narration == ()
    changed = load_lesson(None, {"loss": "abs"})
    assert changed.title == "ŷ = x * w, abs loss (the linear lesson's model)"
    assert changed.description == "" and changed.narration == load_lesson("linear").narration
    assert load_lesson("neuron", {"loss": "bce"}).title.startswith("ŷ = sigmoid(x * w + b), bce")
    # The same loss as the file's is the file's lesson.
    assert load_lesson(None, {"loss": "squared"}).title == load_lesson("linear").title


def test_trace_md_titles_a_custom_model_as_itself() -> None:
    out = io.StringIO()
    run_trace(load_lesson(None, {"model": "x*w+b", "epochs": 1}), out, "md")
    head = out.getvalue().splitlines()[0]
    assert head == "# Your model: ŷ = x * w + b, squared loss"
    assert "note's lesson" not in out.getvalue()


def test_help_describes_the_running_lessons_graph_and_chain_rule() -> None:
    """The seed lesson's help is the note's; a custom model's names its own nodes and
    chain, never the seed's 2r · 1 · x."""
    assert lesson_help(Stepper(load_lesson("linear")).snapshot()) == HELP
    text = lesson_help(Stepper(load_lesson(None, {"model": "x*w+b"})).snapshot())
    assert "x, w, b, y → × → z1 → + → ŷ → − → r → ² → loss" in text
    assert "∂loss/∂w = ∂loss/∂r · ∂r/∂ŷ · ∂ŷ/∂z1 · ∂z1/∂w = 2r · 1 · 1 · x" in text
    assert "2r · 1 · x:" not in text and "writes out the next parameter's (b)" in text
    node = lesson_help(Stepper(load_lesson("node")).snapshot())
    assert "∂L/∂w = ∂L/∂z · ∂z/∂w = 5 · x" in node


async def test_the_help_screen_of_a_custom_model() -> None:
    app = make_app(load_lesson(None, {"model": "x*w+b"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        source = app.screen.query_one(HelpPage).source
        assert "## This lesson: Your model: ŷ = x * w + b, squared loss" in source
        assert "note's lesson" not in source and "2r · 1 · x:" not in source
        assert "∂ŷ/∂z1 · ∂z1/∂w" in source


# ---------------------------------------------------- 8: accumulation's labels


def test_accumulation_names_this_samples_gradient_and_w_grad_apart() -> None:
    """F B u, then the next sample without zeroing: this sample's ∂loss/∂w is -7.84,
    w.grad (torch's, as the tensor panel shows it) -9.84; no line calls -7.84 w.grad."""
    s = Stepper(load_lesson("linear"))
    s.finish_forward()
    s.finish_backward()
    plain = " / ".join(line.plain for line in check_lines(s.snapshot().chains[0], 60))
    assert plain.startswith("w.grad -2 · finite diff -2") and "∂loss" not in plain
    s.update()
    s.finish_forward()
    s.finish_backward()
    chain = s.snapshot().chains[0]
    lines = [line.plain for line in check_lines(chain, 46)]
    assert lines[0].startswith("∂loss/∂w -7.84 · finite diff -7.84 · ✓")
    assert lines[-1] == "w.grad -9.84 = earlier grads + this sample's"
    assert s.snapshot().param("w").grad == chain.param_grad
    assert not any("w.grad -7.84" in line for line in lines)


# ---------------------------------------------- 7: the status line at 80 columns


@pytest.mark.parametrize("name", ["linear", "affine", "neuron", "two-layer", "collapse", "matrix"])
@pytest.mark.parametrize("toggle", TOGGLES)
def test_the_status_line_keeps_x_and_y_with_any_one_mode_on(name: str, toggle: str) -> None:
    """At the status bar's width at 80 columns (78 cells), through every phase of
    two training steps, with one mode on: x and y and the mode's badge stay."""
    s = Stepper(load_lesson(name))
    getattr(s, toggle)()
    word = {"toggle_skip_zero": "no zero", "toggle_batch": "batch", "toggle_sum_loss": "sum"}
    for _ in range(40):
        s.next()
        text = status_text(s.snapshot(), width=78).plain
        assert len(text) <= 78 and " x=" in text and " y=" in text, text
        assert word[toggle] in text


async def test_the_status_bar_at_80_columns_shows_x_and_y_with_each_mode() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("Z", "m", "l"):
            await press(pilot, "r", key)
            for step in ("f", "F", "b", "B", "u", "space", "space"):
                await press(pilot, step)
                status = shown(app, StatusBar)
                assert "x=" in status and "y=" in status, (key, step, status)
        await press(pilot, "r", "Z", "m", "l", "F")  # all three at once, too
        status = shown(app, StatusBar)
        assert "x=1 y=2" in status and "no zero·batch·sum+=l" in status
