"""Pilot tests of the app: every key, every teaching moment, resizing, the torch worker.

Each test drives :class:`~bptui.app.main.BptuiApp` headless and checks two things:
the engine's state (``app.stepper`` / ``app.snapshot``) and what the panels show on
screen. Apps get a ready :class:`Stepper` (deterministic, no worker thread), except
the test of the loading path.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from patience import Deadline
from screen_rows import screen_strips
from textual.pilot import Pilot
from textual.widget import Widget

from bptui import glyphs
from bptui.app.main import BptuiApp
from bptui.app.panels.chain import ChainPanel
from bptui.app.panels.code import CodePanel
from bptui.app.panels.graph import GraphPanel
from bptui.app.panels.message import MessageBar
from bptui.app.panels.plot import LossPlot
from bptui.app.panels.status import StatusBar
from bptui.app.panels.tensor import TensorPanel
from bptui.app.screens.help import HelpScreen
from bptui.app.sizes import MIN_HEIGHT, MIN_WIDTH
from bptui.lesson import Phase, seed_lesson
from bptui.lesson.engine import Stepper
from bptui.lesson.spec import Lesson
from bptui.lesson.values import full

SIZE = (80, 24)


# --------------------------------------------------------------------- helpers


def make_app(lesson: Lesson | None = None) -> BptuiApp:
    """The app on ``lesson`` (default: the note's) with an engine that is ready at once."""
    lesson = lesson or seed_lesson()
    return BptuiApp(lesson, stepper=Stepper(lesson))


def screen_text(app: BptuiApp, widget: Widget | None = None) -> str:
    """What the terminal shows (of ``widget`` alone if given), as plain text lines."""
    strips = screen_strips(app)
    if widget is None:
        return "\n".join(strip.text for strip in strips)
    region = app.screen.find_widget(widget).visible_region
    return "\n".join(
        strip.crop(region.x, region.right).text for strip in strips[region.y : region.bottom]
    )


def shown(app: BptuiApp, cls: type[Widget]) -> str:
    """The on-screen text of the one widget of type ``cls``."""
    return screen_text(app, app.query_one(cls))


def drawn(app: BptuiApp) -> bool:
    """The last frame shows the engine's current state (drawing is throttled)."""
    if app.stepper is None or app.snapshot is None:
        return False
    now = glyphs.plain(app.stepper.snapshot())  # as drawn: in ASCII mode, in ASCII
    return app.snapshot.micro_steps == now.micro_steps and app.snapshot.message == now.message


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Pause until ``condition()`` holds, then let the screen catch up; fail after ``timeout``."""
    deadline = Deadline(timeout)
    while not condition():
        if deadline.passed():
            raise AssertionError(f"timed out after {timeout} s waiting for {condition}")
        await pilot.pause(0.02)
    await pilot.pause()


async def press(pilot: Pilot, *keys: str) -> None:
    """Press ``keys`` and wait until the throttled frame shows their effect."""
    await pilot.press(*keys)
    await wait_for(pilot, lambda: drawn(pilot.app))  # type: ignore[arg-type]


def message_bar(app: BptuiApp) -> MessageBar:
    return app.query_one(MessageBar)


def message(app: BptuiApp) -> str:
    """The text of the engine's message in the last frame drawn."""
    assert app.snapshot is not None and app.snapshot.message is not None
    return app.snapshot.message.text


# ----------------------------------------------------------------- the start


async def test_start_screen_shows_the_lesson_before_any_step() -> None:
    """At the start: w = 1 and w.grad None in the tensor panel, inputs in the graph, no loss."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        snap = app.snapshot
        assert snap is not None
        assert (snap.phase, snap.micro_steps, snap.epoch, snap.sample) == (Phase.FORWARD, 0, 1, 1)
        tensor = shown(app, TensorPanel)
        assert "w.data 1 " in tensor and "w.grad None" in tensor and "loss ?" in tensor
        graph = shown(app, GraphPanel)
        assert "x=1" in graph and "w=1" in graph and "y=2" in graph
        assert "loss=" not in graph and "ŷ=" not in graph
        assert "Epoch 1/100 · Sample 1/3" in shown(app, StatusBar)
        assert "Ready" in shown(app, MessageBar)
        assert "› " in shown(app, CodePanel)  # the next line to run is marked
        # Nothing to undo yet: the key is disabled.
        assert app.check_action("undo", ()) is None
        await pilot.press("left")
        await pilot.pause(0.1)
        assert app.stepper is not None and app.stepper.micro_steps == 0


# ---------------------------------------------------------------- the keys


@pytest.mark.parametrize("key", ["space", "right", "n"])
async def test_next_keys_take_one_micro_step(key: str) -> None:
    """space, → and n each compute one node: ŷ = x·w = 1 appears; three give the loss."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, key)
        assert app.snapshot is not None and app.snapshot.micro_steps == 1
        graph = shown(app, GraphPanel)
        assert "ŷ=1" in graph and "loss=" not in graph
        assert "FWD 1/3" in shown(app, StatusBar)
        assert "▶" in shown(app, CodePanel)
        await press(pilot, key, key)
        assert app.snapshot.micro_steps == 3 and app.snapshot.phase is Phase.BACKWARD
        assert "loss=1" in shown(app, GraphPanel)


@pytest.mark.parametrize("key", ["left", "backspace"])
async def test_undo_keys_take_back_one_micro_step(key: str) -> None:
    """← and backspace undo one micro-step each, down to the start, and the graph follows."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "F")
        assert "loss=1" in shown(app, GraphPanel)
        await press(pilot, key)
        assert app.snapshot is not None and app.snapshot.micro_steps == 2
        graph = shown(app, GraphPanel)
        assert "r=-1" in graph and "loss=1" not in graph
        assert "Undid one micro-step (forward)" in shown(app, MessageBar)
        await press(pilot, key, key)
        assert app.snapshot.micro_steps == 0 and not app.snapshot.can_undo
        assert "ŷ=" not in shown(app, GraphPanel)
        assert app.check_action("undo", ()) is None


async def test_f_steps_forward_and_F_finishes_the_forward_pass() -> None:
    """f computes one node; F finishes the pass: the loss shows 1 in graph and tensor panel."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "f")
        assert app.snapshot is not None and app.snapshot.phase_step == 1
        assert "ŷ=1" in shown(app, GraphPanel)
        await press(pilot, "F")
        snap = app.snapshot
        assert snap.phase is Phase.BACKWARD and snap.loss == 1.0 and snap.micro_steps == 3
        graph = shown(app, GraphPanel)
        assert "loss=1" in graph and "r=-1" in graph and "PowBackward0" in graph
        tensor = shown(app, TensorPanel)
        assert "loss 1 " in tensor and "r -1" in tensor and "<PowBackward0>" in tensor
        assert "w.grad None" in tensor  # no backward yet
        assert "BWD 0/3" in shown(app, StatusBar)


async def test_b_steps_backward_and_B_finishes_the_backward_pass() -> None:
    """b runs one backward function (∂loss/∂r = -2 appears); B ends: w.grad = -2, all agree."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "F", "b")
        snap = app.snapshot
        assert snap is not None and snap.phase is Phase.BACKWARD and snap.phase_step == 1
        assert "∂ -2" in shown(app, GraphPanel)
        assert "2r" in shown(app, ChainPanel)
        assert "w.grad None" in shown(app, TensorPanel)  # loss.backward() has not run yet
        await press(pilot, "B")
        snap = app.snapshot
        assert snap.phase is Phase.UPDATE and snap.param("w").grad == -2.0
        assert "w.grad -2" in shown(app, TensorPanel)
        chain = shown(app, ChainPanel)
        assert "= -2" in chain and "✓ all agree" in chain
        assert "AccumulateGrad wrote w.grad = -2" in shown(app, MessageBar)


async def test_u_updates_and_z_zeroes_the_gradient() -> None:
    """u: w.data = 1 - 0.01·(-2) = 1.02 with w.grad still -2; z: w.grad 0 and the next sample."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "F", "B", "u")
        snap = app.snapshot
        assert snap is not None and snap.phase is Phase.ZERO
        tensor = shown(app, TensorPanel)
        assert "w.data 1.02" in tensor and "w.grad -2" in tensor
        assert "w=1.02" in shown(app, GraphPanel)
        await press(pilot, "z")
        snap = app.snapshot
        assert snap.phase is Phase.FORWARD and snap.sample == 2 and snap.param("w").grad == 0.0
        tensor = shown(app, TensorPanel)
        assert "w.data 1.02" in tensor and "w.grad 0" in tensor
        assert "Sample 2/3 x=2 y=4" in shown(app, StatusBar)


async def test_s_runs_one_whole_training_step() -> None:
    """s from the start: forward, backward, update, zero; the tensor shows w.data 1.02, w.grad 0."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s")
        snap = app.snapshot
        assert snap is not None and snap.steps_done == 1 and snap.sample == 2
        assert snap.param("w").data == pytest.approx(1.02)
        tensor = shown(app, TensorPanel)
        assert "w.data 1.02" in tensor
        assert "w.grad 0" in tensor and "w.grad -" not in tensor
        assert "Sample 2/3" in shown(app, StatusBar)


async def test_e_finishes_the_epoch() -> None:
    """e from the start runs the three samples: epoch 2, and w is the engine's own epoch result."""
    oracle = Stepper(seed_lesson())
    oracle.finish_epoch()
    expected = oracle.snapshot().param("w").data
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "e")
        snap = app.snapshot
        assert snap is not None and (snap.epoch, snap.sample, snap.steps_done) == (2, 1, 3)
        assert snap.param("w").data == expected
        assert f"w.data {full(expected)}" in shown(app, TensorPanel)
        assert "Epoch 2/100 · Sample 1/3" in shown(app, StatusBar)


async def test_p_autoplays_and_plus_minus_change_the_speed() -> None:
    """p starts autoplay (▶ 8/s in the status bar, steps advance), + / - change it, p stops."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.stepper is not None
        # Speed keys do nothing while autoplay is off.
        assert app.check_action("faster", ()) is None
        await pilot.press("plus")
        await press(pilot, "p")
        assert "▶ 8/s" in shown(app, StatusBar)
        await wait_for(pilot, lambda: app.stepper.micro_steps >= 3)  # type: ignore[union-attr]
        await pilot.press("plus")
        await wait_for(pilot, lambda: "▶ 16/s" in shown(app, StatusBar))
        await pilot.press("minus", "minus")
        await wait_for(pilot, lambda: "▶ 4/s" in shown(app, StatusBar))
        await pilot.press("p")
        await wait_for(pilot, lambda: "▶" not in shown(app, StatusBar))
        stopped_at = app.stepper.micro_steps
        await pilot.pause(0.4)
        assert app.stepper.micro_steps == stopped_at
        assert app.snapshot is not None and app.snapshot.micro_steps == stopped_at


async def test_autoplay_stops_by_itself_at_the_end_of_the_lesson() -> None:
    """A one-epoch lesson autoplayed fast ends: status says finished, stepping keys are disabled."""
    app = make_app(seed_lesson().with_values(epochs=1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        for _ in range(6):  # 512/s; key presses are slow in Pilot while a timer runs
            await app.run_action("faster")
        await wait_for(pilot, lambda: app.snapshot is not None and app.snapshot.finished, 10)
        await wait_for(pilot, lambda: "▶" not in shown(app, StatusBar))
        assert "finished" in shown(app, StatusBar)
        assert app.stepper is not None and app.stepper.steps_done == 3
        assert app.check_action("next", ()) is None and app.check_action("autoplay", ()) is None
        await pilot.press("r")
        await wait_for(pilot, lambda: app.snapshot is not None and not app.snapshot.finished)
        assert "Epoch 1/1 · Sample 1/3" in shown(app, StatusBar)


async def test_r_resets_and_undo_brings_the_state_back() -> None:
    """r returns to w = 1 with no history; ← undoes the reset: w.data 1.02 again."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s", "s")
        assert app.snapshot is not None and app.snapshot.steps_done == 2
        after_two = app.snapshot.param("w").data
        await press(pilot, "r")
        snap = app.snapshot
        assert snap.steps_done == 0 and snap.param("w").data == 1.0 and snap.param("w").grad is None
        assert "w.data 1 " in shown(app, TensorPanel)
        assert "Back to the start" in shown(app, MessageBar)
        await press(pilot, "left")
        snap = app.snapshot
        assert snap.steps_done == 2 and snap.param("w").data == after_two
        assert f"w.data {full(after_two)}" in shown(app, TensorPanel)


async def test_g_cycles_the_plot_view() -> None:
    """g switches the plot to loss vs step and back to loss vs w; the panel title says which."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s")
        plot = app.query_one(LossPlot)
        assert plot.view == 0 and "Loss vs w" in screen_text(app)
        await pilot.press("g")
        await pilot.pause(0.1)
        assert plot.view == 1 and "Loss vs step" in screen_text(app)
        await pilot.press("g")
        await pilot.pause(0.1)
        assert plot.view == 0 and "Loss vs w" in screen_text(app)


@pytest.mark.parametrize("opener", ["question_mark", "f1"])
async def test_help_opens_and_escape_closes_it(opener: str) -> None:
    """? and F1 open the help over the panels; stepping keys do nothing there; esc closes it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, opener)
        assert isinstance(app.screen, HelpScreen)
        # The help's Markdown is laid out asynchronously.
        await wait_for(pilot, lambda: "backpropagation, one step at a time" in screen_text(app))
        assert "One training step on one sample" in screen_text(app)
        await pilot.press("space")
        await pilot.pause(0.1)
        assert app.stepper is not None and app.stepper.micro_steps == 0
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "One training step on one sample" not in text and "Graph" in text


async def test_q_quits_with_exit_code_0() -> None:
    """q ends the app with return code 0 (and q inside the help only closes the help)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "question_mark", "q")
        assert app.is_running and not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await pilot.pause(0.1)
        assert not app.is_running
    assert app.return_code == 0


# ------------------------------------------------------- teaching moments


async def test_update_before_backward_teaches_that_w_grad_is_None() -> None:
    """u at the start: the message (styled -teach) says w.grad is None; nothing changes."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "u")
        assert app.snapshot is not None and app.snapshot.micro_steps == 0
        assert app.snapshot.param("w").data == 1.0
        bar = message_bar(app)
        assert bar.has_class("-teach") and not bar.has_class("-step")
        assert "w.grad is None" in shown(app, MessageBar)
        assert "w.data 1 " in shown(app, TensorPanel)
        # The next ordinary step clears the teaching style.
        await press(pilot, "space")
        assert not bar.has_class("-teach") and bar.has_class("-step")


async def test_second_backward_meets_torchs_freed_graph_error() -> None:
    """b after the backward pass: torch's 'backward through the graph a second time' error."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "F", "b", "b", "b")
        assert app.snapshot is not None and app.snapshot.phase is Phase.UPDATE
        assert app.snapshot.graph_freed and "freed" in shown(app, TensorPanel)
        await press(pilot, "b")
        assert message_bar(app).has_class("-teach")
        assert "backward through the graph a second time" in message(app)
        text = " ".join(shown(app, MessageBar).split())
        assert "RuntimeError: Trying to backward through the graph a second" in text
        assert app.snapshot.param("w").grad == -2.0  # the failed call added nothing
        assert "w.grad -2" in shown(app, TensorPanel)


async def test_skipping_zero_shows_torchs_accumulation() -> None:
    """F B u then f skips zeroing (teaching message); the next backward adds: -2 + -7.84 = -9.84."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "F", "B", "u", "f")
        bar = message_bar(app)
        assert bar.has_class("-teach")
        bar_text = " ".join(shown(app, MessageBar).split())
        assert "Skipped zeroing the gradient" in bar_text and "accumulation" in bar_text
        assert "w.grad -2" in shown(app, TensorPanel)  # kept, not zeroed
        assert app.snapshot is not None and app.snapshot.sample == 2
        await press(pilot, "F", "B")
        assert app.snapshot.param("w").grad == pytest.approx(-9.84)
        assert bar.has_class("-teach")
        assert "w.grad = -2 (old) + -7.84 (this backward) = -9.84" in message(app)
        assert "w.grad -9.84" in shown(app, TensorPanel)
        # This sample's gradient and w.grad as torch holds it, each by its own name.
        chain = " ".join(shown(app, ChainPanel).split())
        assert "∂loss/∂w -7.84" in chain and "w.grad -9.84 = earlier grads" in chain
        assert "w.grad -7.84" not in chain


async def test_too_large_learning_rate_diverges_without_crashing() -> None:
    """--lr 1 stepped with e: the message turns -diverged (inf); keys keep working on NaN."""
    app = make_app(seed_lesson().with_values(lr=1.0))
    async with app.run_test(size=SIZE) as pilot:
        bar = message_bar(app)
        for _ in range(20):
            await press(pilot, "e")
            if bar.has_class("-diverged"):
                break
        assert bar.has_class("-diverged") and not bar.has_class("-teach")
        assert "inf" in shown(app, MessageBar)
        assert re.search(r"\de\d", shown(app, TensorPanel))  # w.data has grown past 1e19
        assert "lr 1" in shown(app, StatusBar)
        # Carry on into NaN: every panel keeps drawing.
        for key in ("e", "s", "space", "F", "B", "g", "g", "left", "e"):
            await press(pilot, key)
        assert "nan" in screen_text(app) or "inf" in screen_text(app)
        assert "Graph" in screen_text(app)


async def test_autoplay_stops_when_the_loss_diverges() -> None:
    """Autoplay with --lr 10 stops by itself at the divergence, showing the -diverged message."""
    app = make_app(seed_lesson().with_values(lr=10.0))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        for _ in range(6):  # 512/s; key presses are slow in Pilot while a timer runs
            await app.run_action("faster")
        bar = message_bar(app)
        await wait_for(pilot, lambda: bar.has_class("-diverged"), timeout=15)
        await wait_for(pilot, lambda: "▶" not in shown(app, StatusBar))
        steps = app.stepper.micro_steps  # type: ignore[union-attr]
        await pilot.pause(0.3)
        assert app.stepper.micro_steps == steps  # type: ignore[union-attr]
        assert "inf" in shown(app, MessageBar)


async def test_divergence_message_blames_the_learning_rate() -> None:
    """The diverged message of a too-large learning rate says it is the cause and points at
    the app's E to change it, not at a command-line option."""
    from bptui.app.keymap import ENGINE_LABELS

    lesson = seed_lesson().with_values(lr=1.0)
    app = BptuiApp(lesson, stepper=Stepper(lesson, labels=ENGINE_LABELS))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(20):
            await press(pilot, "e")
            if message_bar(app).has_class("-diverged"):
                break
        text = message(app)
        assert "The learning rate 1 is too large for this data; try a smaller one (E " in text
        assert "--" not in text, text


# --------------------------------------------------------- loading torch


class _GatedStepper(Stepper):
    """A Stepper whose construction (the torch import, in the app) waits for a signal."""

    gate = threading.Event()

    def __init__(self, lesson: Lesson, **options: Any) -> None:
        assert self.gate.wait(20), "the test never opened the gate"
        super().__init__(lesson, **options)


async def test_keys_pressed_while_torch_loads_are_applied_when_ready(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a stepper the app loads it in a worker; s, F and b pressed meanwhile all apply."""
    gate = threading.Event()
    monkeypatch.setattr(_GatedStepper, "gate", gate)
    monkeypatch.setattr("bptui.lesson.engine.Stepper", _GatedStepper)
    app = BptuiApp(seed_lesson())
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.1)
            assert app.stepper is None
            assert "Loading PyTorch" in screen_text(app)
            await pilot.press("s", "F", "b")
            await pilot.pause(0.1)
            assert app.stepper is None and app.snapshot is None
            gate.set()
            await wait_for(pilot, lambda: app.stepper is not None, timeout=20)
            await wait_for(pilot, lambda: drawn(app))
            snap = app.snapshot
            assert snap is not None
            assert (snap.steps_done, snap.sample, snap.phase) == (1, 2, Phase.BACKWARD)
            # s = 3 forward + 3 backward + update + zero; F = 3 forward; b = 1 backward.
            assert snap.phase_step == 1 and snap.micro_steps == 8 + 3 + 1
            assert "w.data 1.02" in shown(app, TensorPanel)
            assert "loss=" in shown(app, GraphPanel)
            assert "Loading PyTorch" not in screen_text(app)
    finally:
        gate.set()


# ---------------------------------------------------------------- resizing


async def test_resize_asks_for_a_bigger_terminal_and_recovers() -> None:
    """50×15 shows 'Enlarge the terminal'; back at 80×24 the panels return with their numbers."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "F")
        await pilot.resize_terminal(50, 15)
        await pilot.pause(0.1)
        text = screen_text(app)
        wanted = f"Enlarge the terminal to at least {MIN_WIDTH}×{MIN_HEIGHT} (it is 50×15)"
        assert wanted in " ".join(text.split())
        assert "Graph" not in text
        await pilot.resize_terminal(*SIZE)
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "Enlarge" not in text
        assert "loss=1" in shown(app, GraphPanel) and "w.data 1" in shown(app, TensorPanel)
        # Keys still work after the round trip.
        await press(pilot, "B")
        assert "w.grad -2" in shown(app, TensorPanel)


async def test_resize_to_odd_sizes_never_raises() -> None:
    """Mid-lesson, sizes from 1×1 to 200×60 draw without error; usable ones show the graph."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s", "F", "b")
        for width, height in [
            (73, 22),
            (200, 60),
            (30, 5),
            (72, 22),
            (71, 22),
            (72, 21),
            (120, 40),
            (81, 29),
            (81, 30),
            (1, 1),
            (140, 24),
            (80, 24),
        ]:
            await pilot.resize_terminal(width, height)
            await pilot.pause(0.05)
            if width == 200:
                await press(pilot, "space")  # a step drawn at this size, too
            text = screen_text(app)
            usable = width >= MIN_WIDTH and height >= MIN_HEIGHT
            assert ("Graph" in text) is usable, (width, height)
            if usable:
                assert "w.data" in shown(app, TensorPanel), (width, height)
        await press(pilot, "B")
        assert app.snapshot is not None and app.snapshot.phase is Phase.UPDATE
        assert "w.grad" in shown(app, TensorPanel)


async def test_layout_follows_the_size_boxes_long_status_and_plot_labels() -> None:
    """At 80×24 panels have title rules and the status abbreviates; at 120×40 boxes, full
    phase names and the plot's legend appear, also right after a resize, before any key."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        text = screen_text(app)
        assert "╭─ Graph" not in text and "─Graph─" in text
        assert "[FWD 0/3] ▸ bwd" in shown(app, StatusBar)
        assert "this sample's loss" not in shown(app, LossPlot)
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.2)
        assert "╭─ Graph" in screen_text(app)
        assert "[FORWARD 0/3] ▸ backward ▸ update ▸ zero" in shown(app, StatusBar)
        assert "this sample's loss" in shown(app, LossPlot)


async def test_large_terminal_shows_the_full_layout_from_the_first_frame() -> None:
    """Started at 120×40 with no key pressed: full phase names and the plot's legend and labels."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: drawn(app))
        await pilot.pause(0.1)
        assert "[FORWARD 0/3] ▸ backward" in shown(app, StatusBar)
        rows = shown(app, LossPlot).splitlines()
        # The legend, under the y axis's title; the x axis ends with its title.
        assert rows[1].startswith("│loss  ⠒⠒ this sample's loss")
        assert re.search(r"└[─0-9.]+ w│$", rows[-2])


async def test_brackets_scroll_a_wide_graph() -> None:
    """[ and ] scroll the two-layer lesson's graph, wider than 80 columns, sideways."""
    from bptui.app.panels.graph import GraphBox
    from bptui.lesson.files import load_lesson

    app = make_app(load_lesson("two-layer"))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "f")
        box = app.query_one(GraphBox)
        assert box.max_scroll_x > 0 and box.scroll_x == 0  # the first node is on the left
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: box.scroll_x > 0)
        assert "w1=" not in shown(app, GraphBox)
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: box.scroll_x == 0)
        assert "w1=" in shown(app, GraphBox)
