"""Every screen tells the truth (issue 23, the last of it): the help names every layout
`v` goes through, keys kept while a screen opens keep their order, and the program
listing marks the lines it cannot show."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bptui import i18n


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    i18n.set_language("en")


# ------------------------------------------------------------------ the help on v


@pytest.mark.parametrize(
    ("language", "layouts"),
    [
        ("en", ("the plot", "then the graph", "then the chain rule and tensor panels")),
        ("zh", ("放大图表", "放大计算图", "放大链式法则和张量面板")),
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
