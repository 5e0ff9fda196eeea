"""One keymap: the app's bindings, the help, docs/using.md and the engine's sentences agree."""

from __future__ import annotations

import re
from pathlib import Path

from bptui.app.keymap import (
    BY_ACTION,
    ENGINE_ACTIONS,
    ENGINE_LABELS,
    KEYS,
    STEPPING,
    help_keys,
)
from bptui.app.main import BptuiApp
from bptui.app.screens.help import HELP
from bptui.lesson import Stepper, seed_lesson
from bptui.lesson.teaching import LABELS

USING = Path(__file__).resolve().parent.parent / "docs" / "using.md"


def _readme_key_table() -> set[str]:
    """Every key named in the first column of docs/using.md's ``| key | action |`` table."""
    text = USING.read_text(encoding="utf-8")
    table = text.split("| key | action |", 1)[1].split("\n\n", 1)[0]
    keys: set[str] = set()
    for row in table.splitlines()[2:]:
        keys.update(re.findall(r"`([^`]+)`", row.split("|")[1]))
    return keys


def test_readme_key_table_matches_the_keymap():
    """docs/using.md's key table names exactly the keys the app binds."""
    bound = {label for key in KEYS for label in key.labels}
    assert _readme_key_table() == bound


def test_bindings_come_from_the_keymap():
    """The app binds every key of the table to its action, and nothing else."""
    bindings = {(b.key, b.action) for b in BptuiApp.BINDINGS}
    assert bindings == {(key.keys, key.action) for key in KEYS}


def test_engine_actions_are_stepper_methods():
    """Each engine action names a public Stepper method."""
    assert ENGINE_ACTIONS["skip_zero_mode"] == "toggle_skip_zero"
    for method in ENGINE_ACTIONS.values():
        assert callable(getattr(Stepper, method)), method
    assert "undo" not in STEPPING and "next" in STEPPING


def test_help_lists_every_key():
    """The help's key list is built from the table and names every key."""
    keys = help_keys()
    assert keys in HELP
    for key in KEYS:
        for label in key.labels:
            assert f"`{label}`" in keys, label


def test_engine_sentences_name_the_apps_keys():
    """The app hands the engine its keys: the labels its messages use come from the keymap
    (and equal the engine's defaults, so a Stepper made without them says the same)."""
    for action, label in LABELS.items():
        assert ENGINE_LABELS[action] == label, action
    assert ENGINE_LABELS["backward"] == BY_ACTION["backward"].labels[0] == "b"
    assert ENGINE_LABELS["next_alt"] == "→"


def test_labels_reach_the_engines_messages():
    """Labels given to the Stepper are the ones its refusals and narration name."""
    stepper = Stepper(seed_lesson(), labels={"backward": "⟨bwd⟩", "next": "⟨next⟩"})
    assert "Press ⟨next⟩ (or →)" in stepper.snapshot().message.text
    stepper.finish_forward()
    assert not stepper.forward()
    assert "Press ⟨bwd⟩ to start the backward pass" in stepper.message.text
    default = Stepper(seed_lesson())
    default.finish_forward()
    default.forward()
    assert "Press b to start the backward pass" in default.message.text
