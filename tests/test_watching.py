"""A follower is told what the teacher's key did, never which key to press.

A following student's stepping keys do nothing, so no sentence of the engine a
follower can see (the narration, the refusals, the teaching moments: every one a
teacher's key can cause is applied to the follower's own lesson too) names a key,
in English or in Chinese. A lone student's sentences still do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_app_classroom import following_app
from test_i18n_engine import OTHER_BRANCHES, SAMPLES

from bptui import i18n
from bptui.lesson.snapshot import Message
from bptui.lesson.teaching import LABELS, Teacher

#: Every key the sentences can name, spelled so that any of them is seen in a text.
MARKED = {action: f"<{action}>" for action in [*LABELS, "edit", "toggle_follow"]}

#: Sentences that tell a follower the one key that works for them: t, explore alone.
EXPLORE = {"finished", "lesson_done"}


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    i18n.set_language("en")


def sentences(teacher: Teacher) -> Iterator[tuple[str, str]]:
    """(name, text) of every sentence the engine says, both branches of the two-way ones."""

    def say(name: str) -> Any:
        return getattr(teacher if hasattr(teacher, name) else teacher.narrator, name)

    for name, args in [*SAMPLES.items(), *OTHER_BRANCHES]:
        result = say(name)(*args)
        yield name, result.text if isinstance(result, Message) else result()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_no_sentence_a_follower_sees_names_a_key(language: str) -> None:
    i18n.set_language(language)
    teacher = Teacher(MARKED)
    teacher.narrator.watching = True
    for name, text in sentences(teacher):
        keys = {key for key in MARKED.values() if key in text}
        assert keys <= ({"<toggle_follow>"} if name in EXPLORE else set()), (name, text)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_lone_students_refusals_still_name_the_keys(language: str) -> None:
    """The watching forms are a follower's only: alone, a refusal says what to press."""
    i18n.set_language(language)
    teacher = Teacher(MARKED)
    said = dict(sentences(teacher))
    for name in ("finished", "backward_before_loss", "update_twice", "update_without_grad"):
        assert "<" in said[name], (name, said[name])
    assert "<edit>" in teacher.diverged(float("inf"), [("w", 1e20)], 1.0).text


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_follower_sees_the_teachers_refused_key_without_a_key_to_press(
    language: str, size: tuple[int, int]
) -> None:
    """The teacher presses b before the forward pass, then u before any backward: the
    follower's lesson takes the same commands and says why nothing happened, in words
    that name no key."""
    from test_app import screen_text, shown, wait_for

    from bptui.app.panels.message import MessageBar
    from bptui.i18n import _

    app, server = following_app(language)
    async with app.run_test(size=size) as pilot:
        server.send({"t": "class", "teacher": True, "students": 1})
        await wait_for(pilot, lambda: _("following") in screen_text(app).splitlines()[0])
        for action, words in (
            ("backward", ("no loss to differentiate", "没有可以求导的损失")),
            ("update", ("w.grad is None", "w.grad 是 None")),
        ):
            server.send({"t": "cmd", "c": {"a": action}})
            said = words[language == "zh"]
            await wait_for(
                pilot, lambda said=said: said in " ".join(shown(app, MessageBar).split())
            )
            text = " ".join(shown(app, MessageBar).split())
            assert "(f" not in text and "（f" not in text and "Press" not in text, text
            assert " b)" not in text and "b）" not in text, text
