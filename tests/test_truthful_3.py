"""Every screen tells the truth (issue 23, the last of it): the help names every layout
`v` goes through, keys kept while a screen opens keep their order, and the program
listing marks the lines it cannot show."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bptui import i18n
from bptui.lesson.files import builtin_names


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    i18n.set_language("en")


# ------------------------------------------------------------------ the help on v


@pytest.mark.parametrize(
    ("language", "layouts"),
    [
        ("en", ("the plot", "then the graph", "then the chain rule and tensor panels", "program")),
        ("zh", ("放大图表", "放大计算图", "放大链式法则和张量面板", "放大程序")),
    ],
)
def test_the_help_on_v_names_every_layout_it_goes_through(
    language: str, layouts: tuple[str, ...]
) -> None:
    """`v` enlarges the plot, the graph, then the chain rule and tensor panels: wherever
    the help speaks of `v` (its key list and its panels section), it names all three."""
    from bptui.app.screens.help import note_help
    from bptui.app.zoom import ZOOMS

    assert len(ZOOMS) == 1 + len(layouts)  # the usual layout and the enlarged ones
    i18n.set_language(language)
    text = " ".join(note_help().split())
    places = [i for i in range(len(text)) if text.startswith("`v`", i)]
    assert len(places) >= 2, text
    for place in places:
        sentence = text[place : place + 120]
        for words in layouts:
            assert words in sentence, (words, sentence)


# ------------------------------------------------------------------ the program's window

#: A mark of lines cut off: on a row of its own (``↑ 3 more lines``, ``↑ 还有 3 行``), or
#: on the panel's title (``PyTorch ↑3 ↓9``).
ROW_MARK = re.compile(r"^([↑↓]) \D*(\d+)")
TITLE_MARK = re.compile(r"([↑↓])(\d+)")


def program_window(text: str) -> tuple[int, list[str], int]:
    """The code panel as the screen shows it: the lines marked cut off above, the rows
    of the program shown (markers and indentation left out), the lines cut off below."""
    lines = text.splitlines()
    cut = {arrow: int(n) for arrow, n in TITLE_MARK.findall(lines[0])}
    body = lines[1:-1] if lines[-1].lstrip().startswith("╰") else lines[1:]
    rows = []
    for line in body:
        row = line.strip().strip("│").strip()
        mark = ROW_MARK.match(row)
        if mark:
            assert mark.group(1) not in cut, text  # each side marked once
            cut[mark.group(1)] = int(mark.group(2))
            continue
        rows.append(row.removeprefix("▶").removeprefix("›").strip())
    return cut.get("↑", 0), rows, cut.get("↓", 0)


@pytest.mark.parametrize(
    ("lesson_name", "language"),
    [(name, "en") for name in builtin_names()] + [("collapse", "zh"), ("two-layer", "zh")],
)
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_program_cut_off_above_or_below_its_window_is_marked(
    lesson_name: str, language: str, size: tuple[int, int]
) -> None:
    """Through a training step, every line of the lesson's program is either in the
    code panel's window, in order, or counted by a mark above or below it (collapse
    and two-layer, 29 lines, are the longest: at 80×24 their marks go on the title,
    at 120×40 on rows of their own)."""
    from test_app import make_app, press, screen_text

    from bptui.app.panels.code import CodePanel
    from bptui.lesson.files import load_lesson

    app = make_app(load_lesson(lesson_name))
    i18n.set_language(language)
    async with app.run_test(size=size) as pilot:
        for key in ("", "f", "F", "b", "B", "u", "z"):
            if key:
                await press(pilot, key)
            else:
                await pilot.pause()
            assert app.snapshot is not None
            program = [line.strip() for line in app.snapshot.code]
            text = screen_text(app, app.query_one(CodePanel))
            above, rows, below = program_window(text)
            while rows and not rows[-1] and above + len(rows) + below > len(program):
                rows.pop()  # the room below a program shorter than the panel
            assert above + len(rows) + below == len(program), (key, text)
            for row, line in zip(rows, program[above:], strict=False):
                assert line.startswith(row.removesuffix("…")), (key, row, line, text)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_v_enlarges_the_program_and_shows_what_the_usual_layout_cuts(
    size: tuple[int, int],
) -> None:
    """`v` four times: the program takes the screen. At 120×40 every built-in lesson's
    program is shown whole; at 80×24 the longest (two-layer, 29 lines) shows more than
    four times the usual layout's rows, and what still does not fit is counted."""
    from test_app import make_app, press, screen_text

    from bptui.app.panels.code import CodePanel
    from bptui.lesson.files import load_lesson

    for name in builtin_names() if size == (120, 40) else ["two-layer"]:
        app = make_app(load_lesson(name))
        async with app.run_test(size=size) as pilot:
            await press(pilot, "f")
            usual = program_window(screen_text(app, app.query_one(CodePanel)))[1]
            await press(pilot, "v", "v", "v", "v")
            assert app.screen.has_class("-code-big")
            await press(pilot, "f")  # the panel drawn again at its new size
            assert app.snapshot is not None
            program = [line.strip() for line in app.snapshot.code]
            above, rows, below = program_window(screen_text(app, app.query_one(CodePanel)))
            if size == (120, 40):
                assert (above, below) == (0, 0) and len(rows) >= len(program), name
                for row, line in zip(rows, program, strict=False):  # a long line ends in …
                    assert line.startswith(row.removesuffix("…")), (name, row, line)
            else:
                assert len(rows) > 4 * len(usual) and above + len(rows) + below == len(program)
            await press(pilot, "v")  # and back to the usual layout
            assert not any(app.screen.has_class(zoom) for zoom in ("-code-big", "-plot-big"))


# ------------------------------------------------------------------ kept keys, in order

#: `:299`, enter, then `?`: typed in one burst, faster than a screen opens.
BURST = [
    ("colon", ":"),
    ("2", "2"),
    ("9", "9"),
    ("9", "9"),
    ("enter", "\r"),
    ("question_mark", "?"),
]


@pytest.mark.parametrize("when", ["before the first frame", "while the prompt opens"])
async def test_a_burst_through_the_step_prompt_keeps_its_order(
    monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """`:299` enter `?` typed in one burst, while PyTorch loads or all at once on a drawn
    lesson: the digits go into the step prompt, enter jumps to step 299, and the `?`
    typed after enter opens the help; it never lands in the prompt (`299?`)."""
    import threading

    from patience import patience
    from test_app import wait_for
    from textual import events

    import bptui.lesson.engine as engine
    from bptui.app.main import BptuiApp
    from bptui.app.screens.help import HelpScreen
    from bptui.app.screens.jump import JumpScreen
    from bptui.lesson.files import seed_lesson

    gate = threading.Event()
    if when == "while the prompt opens":
        gate.set()

    class HeldStepper(engine.Stepper):
        def __init__(self, *args: object, **kwargs: object) -> None:
            gate.wait(patience(60))
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "Stepper", HeldStepper)
    app = BptuiApp(seed_lesson())
    async with app.run_test(size=(80, 24)) as pilot:
        if gate.is_set():
            await wait_for(pilot, lambda: app.snapshot is not None, 30)
        else:
            assert app.stepper is None
        for key, char in BURST:
            app.post_message(events.Key(key, char))
        await pilot.pause()
        gate.set()
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), 30)
        assert app.stepper is not None and app.stepper.steps_done == 299
        assert not any(isinstance(screen, JumpScreen) for screen in app.screen_stack)


# ------------------------------------------------------------------ keys at the end


@pytest.mark.parametrize("key", ["space", "s", "f"])
async def test_a_stepping_key_at_the_end_says_the_lesson_is_finished(key: str) -> None:
    """Once the lesson is done its stepping keys are greyed in the footer; pressed anyway,
    one says why nothing happens and how to go on, instead of doing nothing at all."""
    from test_app import make_app, press, shown, wait_for

    from bptui.app.panels.message import MessageBar
    from bptui.lesson import seed_lesson

    app = make_app(seed_lesson().with_values(epochs=1, x=[1.0], y=[2.0]))
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "s")
        await wait_for(pilot, lambda: app.snapshot is not None and app.snapshot.finished)
        assert "The lesson is done: 1 epoch trained" in shown(app, MessageBar)
        steps = app.stepper.micro_steps if app.stepper else None
        await press(pilot, key)
        await wait_for(pilot, lambda: "The lesson is finished (1 epoch)" in shown(app, MessageBar))
        assert "Press r to start again" in shown(app, MessageBar)
        assert app.stepper is not None and app.stepper.micro_steps == steps
