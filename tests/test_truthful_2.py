"""Every screen tells the truth (issue 23, the rest): a follower is told what the teacher
does, not which key to press; no word said twice; no wait without a word."""

from __future__ import annotations

from pathlib import Path

import pytest
from screen_rows import screen_strips
from test_app import screen_text, shown, wait_for
from test_app_classroom import following_app

# ------------------------------------------------------------------ a follower's keys


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_follower_is_shown_the_keys_that_work_and_told_what_the_teacher_does(
    language: str, size: tuple[int, int]
) -> None:
    """A following student's footer lists what a follower can do (t, the view keys,
    ?, q), not the stepping keys, and the messages say what the teacher's next step
    does, never "Press u to update."; a stepping key says why it does nothing. Once
    exploring (t), the stepping keys and "Press u" are back."""
    from bptui.app.panels.message import MessageBar
    from bptui.i18n import _, set_language

    app, server = following_app(language)
    follower_keys = ("Explore", "Plot", "Enlarge", "Language", "Theme", "Help", "Quit")
    stepping_keys = ("Next", "Undo", "Fwd", "Bwd", "Update", "Zero", "Play")
    try:
        async with app.run_test(size=size) as pilot:
            server.send({"t": "class", "teacher": True, "students": 1})
            await wait_for(pilot, lambda: _("following") in screen_text(app).splitlines()[0])

            def footer() -> str:
                return screen_text(app).splitlines()[-1]

            await wait_for(pilot, lambda: _("Explore") in footer())
            for word in follower_keys:
                assert f" {_(word)} " in f"{footer()} ", footer()
            for word in stepping_keys:
                assert f" {_(word)} " not in f"{footer()} ", footer()

            server.send({"t": "cmd", "c": {"a": "finish_forward"}})
            server.send({"t": "cmd", "c": {"a": "finish_backward"}})
            updates = (
                "The teacher's next step updates w." if language == "en" else "老师的下一步更新 w。"
            )
            await wait_for(pilot, lambda: updates in " ".join(shown(app, MessageBar).split()))
            said = " ".join(shown(app, MessageBar).split())
            assert "Press u" not in said and "按 u" not in said, said

            assert app.stepper is not None
            before = app.stepper.micro_steps
            await pilot.press("u")
            await wait_for(pilot, lambda: "t" in shown(app, MessageBar))
            assert app.stepper.micro_steps == before
            assert server.received() == []
            said = " ".join(shown(app, MessageBar).split())
            assert ("Press t to explore" if language == "en" else "按 t") in said, said

            await pilot.press("t")
            await wait_for(pilot, lambda: _("Next") in footer())
            assert f" {_('Update')} " in f"{footer()} ", footer()
            assert not app.stepper.watching
    finally:
        set_language("en")


# ------------------------------------------------------------------ said once


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_message_never_repeats_the_phase_it_is_in(
    language: str, size: tuple[int, int]
) -> None:
    """Through a training step, the lesson's narration of a phase never follows a
    sentence of that same phase ("…press b for the backward pass.  Forward: torch
    computes…"): it comes once, with the sentence that says what comes next."""
    from test_app import press

    from bptui.app.main import BptuiApp
    from bptui.app.panels.message import MessageBar
    from bptui.app.settings import Settings
    from bptui.i18n import set_language
    from bptui.lesson import words
    from bptui.lesson.engine import Stepper
    from bptui.lesson.files import seed_lesson

    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(language=language))
    try:
        async with app.run_test(size=size) as pilot:
            said = {
                p: words.narration(lesson, p) for p in ("forward", "backward", "update", "zero")
            }
            assert all(said.values())
            seen = set()
            for key, phase in (
                [("f", "forward")] * 3
                + [("b", "backward")] * 3
                + [
                    ("u", "update"),
                    ("z", "zero"),
                ]
            ):
                await press(pilot, key)
                bar = "".join(shown(app, MessageBar).split())
                assert "".join(str(said[phase]).split()) not in bar, (key, bar)
                seen |= {p for p, text in said.items() if "".join(str(text).split()) in bar}
            assert seen == set(said), seen  # each phase's words once, as it comes
    finally:
        set_language("en")


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_handout_before_any_training_step_says_there_is_no_table_yet(
    language: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """x before a training step is finished: no table of only headings, but a sentence
    saying why there is none and what makes one; where the session is, as always."""
    from test_app import press

    from bptui.app.main import BptuiApp
    from bptui.app.panels.message import MessageBar
    from bptui.app.settings import Settings
    from bptui.i18n import set_language
    from bptui.lesson.engine import Stepper
    from bptui.lesson.files import seed_lesson

    monkeypatch.chdir(tmp_path)
    lesson = seed_lesson()
    app = BptuiApp(lesson, stepper=Stepper(lesson), settings=Settings(language=language))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await press(pilot, "f")
            await pilot.press("x")
            await wait_for(pilot, lambda: any(tmp_path.iterdir()))
            await wait_for(pilot, lambda: ".md" in shown(app, MessageBar))
            (file,) = tmp_path.iterdir()
            text = file.read_text(encoding="utf-8")
            assert "|" not in text, text
            said = (
                "No training step is finished yet, so there is no table of steps"
                if language == "en"
                else "还没有完成任何训练步"
            )
            assert said in text, text
            assert ("0 training steps done" if language == "en" else "0") in text, text
    finally:
        set_language("en")


# ------------------------------------------------------------------ no key lost, no help shut


@pytest.mark.parametrize("typed", ["jump", "help"])
async def test_keys_typed_while_pytorch_loads_are_kept_and_help_waits_for_the_lesson(
    monkeypatch: pytest.MonkeyPatch, typed: str
) -> None:
    """While the engine is still loading (held here until the keys are in), `:299`
    enter is kept and the jump made once the lesson is drawn; `?` (and an F1 after
    it) opens the help over the drawn lesson, not over an empty screen, and it stays."""
    import threading

    from patience import patience
    from textual import events

    import bptui.lesson.engine as engine
    from bptui.app.main import BptuiApp
    from bptui.app.screens import help as help_module
    from bptui.lesson.files import seed_lesson

    gate = threading.Event()

    class HeldStepper(engine.Stepper):
        def __init__(self, *args: object, **kwargs: object) -> None:
            gate.wait(patience(60))
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "Stepper", HeldStepper)
    drawn_under_help: list[bool] = []
    compose = help_module.HelpScreen.compose

    def noting_compose(self: help_module.HelpScreen):  # type: ignore[no-untyped-def]
        drawn_under_help.append(self.app.snapshot is not None)  # type: ignore[attr-defined]
        return compose(self)

    monkeypatch.setattr(help_module.HelpScreen, "compose", noting_compose)
    app = BptuiApp(seed_lesson())
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.stepper is None
        keys = (
            [("colon", ":"), ("2", "2"), ("9", "9"), ("9", "9"), ("enter", "\r")]
            if typed == "jump"
            else [("question_mark", "?"), ("f1", None)]
        )
        for key, char in keys:
            app.post_message(events.Key(key, char))
        await pilot.pause()
        gate.set()
        if typed == "jump":
            await wait_for(pilot, lambda: app.stepper is not None and app.stepper.steps_done == 299)
            return

        def help_shown() -> bool:
            screen = app.screen
            return isinstance(screen, help_module.HelpScreen) and getattr(
                screen, "_shown_at", 0.0
            ) < float("inf")

        await wait_for(pilot, help_shown, 30)
        await pilot.pause()
        assert drawn_under_help == [True]
        assert isinstance(app.screen, help_module.HelpScreen)


async def test_a_second_help_key_while_the_help_opens_does_not_close_it() -> None:
    """`?` then F1 pressed before the help is on screen: the help stays open; F1
    once it is shown closes it."""
    from test_app import make_app
    from textual import events

    from bptui.app.screens.help import HelpScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        app.post_message(events.Key("question_mark", "?"))
        app.post_message(events.Key("f1", None))

        def shown_help() -> bool:
            screen = app.screen
            return isinstance(screen, HelpScreen) and getattr(screen, "_shown_at", 0) < float("inf")

        await wait_for(pilot, shown_help)
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


# ------------------------------------------------------------------ nothing cut without a mark


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@pytest.mark.parametrize(
    ("lesson_name", "keys", "whole"),
    [
        ("two-layer", ("F", "B"), "finite diff"),
        ("layer", ("F", "b"), "b1"),
    ],
)
async def test_rows_cut_off_are_marked_and_v_shows_them(
    language: str, size: tuple[int, int], lesson_name: str, keys: tuple[str, ...], whole: str
) -> None:
    """At 80×24 two-layer's chain rule and layer's tensor panel have more rows than their
    row of panels: the last row shown says how many more and that v shows them (not a
    silent cut at `· ∂z1/∂w1`, or W1 without b1); v (after the plot and the graph)
    shows them whole. At 120×40 nothing is cut and nothing says so."""
    from test_app import make_app, press

    from bptui.app.panels.chain import ChainPanel
    from bptui.app.panels.tensor import TensorPanel
    from bptui.i18n import _, set_language
    from bptui.lesson.files import load_lesson

    app = make_app(load_lesson(lesson_name))
    panel_class = ChainPanel if lesson_name == "two-layer" else TensorPanel
    more = _(" {n} more rows: v shows them").split("{n}")[-1] if language == "en" else "按 v 显示"
    try:
        set_language(language)
        async with app.run_test(size=size) as pilot:
            await press(pilot, *keys)
            panel = app.query_one(panel_class)
            if whole == "finite diff" and language == "zh":
                whole = "有限差分"
            text = screen_text(app, panel)
            if size == (120, 40):
                assert whole in text, text
                # Room enough for these rows; a panel cut still says so on its last row.
                for line in screen_text(app).splitlines():
                    assert more not in line or line.count(more) == 1, line
                return
            assert whole not in text, text
            assert more in text.splitlines()[-1], text
            for _time in range(3):
                await pilot.press("v")
            await wait_for(pilot, lambda: whole in screen_text(app, panel))
            assert more not in screen_text(app, panel)
    finally:
        set_language("en")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_graph_value_cut_at_the_box_edge_ends_with_a_mark(size: tuple[int, int]) -> None:
    """two-layer's graph is wider than its box: a value or name the right edge cuts in two
    (`∂ 0.0384` of 0.038406) ends with `…`, and after `]` so does one the left edge cuts."""
    from test_app import make_app, press

    from bptui.app.panels.graph import GraphBox, GraphPanel
    from bptui.lesson.files import load_lesson

    wires = set(" ─│┬┴┐┘├┤┌└┼")
    app = make_app(load_lesson("two-layer"))
    async with app.run_test(size=size) as pilot:
        await press(pilot, "F", "B")
        box, panel = app.query_one(GraphBox), app.query_one(GraphPanel)
        full = [line.plain for line in panel._lines]

        def check() -> int:
            region = box.scrollable_content_region
            strips = screen_strips(app)
            left, cut = round(box.scroll_x), 0
            for y in range(region.height):
                row = strips[region.y + y].crop(region.x, region.right).text
                line = full[y + round(box.scroll_y)]
                edge = left + len(row)
                if edge < len(line) and row[-1] not in wires and line[edge] not in wires:
                    assert row[-1] == "…", (row, line)
                    cut += 1
                if left and line[left - 1] not in wires and line[left] not in wires:
                    assert row[0] == "…", (row, line)
            return cut

        cut = check()
        if size == (80, 24):
            assert cut, "the graph is cut at the right edge at 80×24"
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: box.scroll_x > 0 or box.max_scroll_x == 0)
        await pilot.pause()
        check()


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_message_longer_than_its_rows_is_marked_and_v_shows_it_whole(
    language: str, size: tuple[int, int]
) -> None:
    """A message longer than the message line's four rows ends with how many rows
    more and v; in the enlarged layouts (v) it is shown whole."""
    from test_app import make_app

    from bptui.app.panels.message import MessageBar
    from bptui.i18n import _, set_language
    from bptui.lesson.snapshot import Kind, Message

    app = make_app()
    words = " ".join(f"word{i}" for i in range(100)) + " THE-END."
    try:
        set_language(language)
        more = _(" {n} more rows: v shows them").split("{n}")[-1]
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda: app.snapshot is not None)
            bar = app.query_one(MessageBar)
            bar.show(Message(Kind.TEACH, words))
            await wait_for(pilot, lambda: more in shown(app, MessageBar))
            assert "THE-END." not in shown(app, MessageBar)
            assert more in shown(app, MessageBar).splitlines()[-1]
            await pilot.press("v")
            await wait_for(pilot, lambda: "THE-END." in shown(app, MessageBar))
            assert more not in shown(app, MessageBar)
    finally:
        set_language("en")


# ------------------------------------------------------------------ every digit


async def test_p_shows_every_digit_torch_holds_at_the_end_of_the_lesson() -> None:
    """The note's program ends on w = 1.9999996; five digits read 2. P shows the graph's
    values in every digit of the float32 (as print shows it), and P again five."""
    from test_app import make_app

    from bptui.app.panels.graph import GraphPanel
    from bptui.lesson.values import format_float32

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for key in ("colon", "2", "9", "9", "enter", "s"):
            await pilot.press(key)
        await wait_for(pilot, lambda: app.stepper is not None and app.stepper.steps_done == 300)
        await wait_for(pilot, lambda: "w=2 " in shown(app, GraphPanel))
        w = app.snapshot.params[0].data if app.snapshot else None  # type: ignore[union-attr]
        assert format_float32(w) == "1.9999996"  # type: ignore[arg-type]
        await pilot.press("P")
        await wait_for(pilot, lambda: "w=1.9999996" in shown(app, GraphPanel))
        assert "every digit" in screen_text(app).lower()
        await pilot.press("P")
        await wait_for(pilot, lambda: "w=2 " in shown(app, GraphPanel))
