"""ARCHITECTURE.md names every module under ``bptui/``, and nothing that is gone.

The document is the map a new developer reads first: a module missing from it
is a module nobody knows the job of, and a module it names that no longer exists
sends them looking for nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "ARCHITECTURE.md"


def modules() -> set[str]:
    return {p.relative_to(ROOT).as_posix() for p in (ROOT / "bptui").rglob("*.py")}


def named() -> set[str]:
    return set(re.findall(r"`(bptui/[\w/]+\.py)`", DOC.read_text(encoding="utf-8")))


def test_every_module_has_its_line() -> None:
    missing = sorted(modules() - named())
    assert not missing, f"ARCHITECTURE.md does not name {missing}: give each its one job"


def test_every_module_named_exists() -> None:
    gone = sorted(named() - modules())
    assert not gone, f"ARCHITECTURE.md names modules that do not exist: {gone}"


#: The most bptui classes one class may inherit from, directly or not: a feature is
#: an object a class holds, not one more parent (the app was once a chain of eleven).
MAX_BPTUI_BASES = 2


def bptui_classes() -> list[type]:
    """Every class defined at the top of a module under ``bptui/``, imported."""
    import importlib
    import inspect
    import pkgutil

    import bptui

    found = []
    for info in pkgutil.walk_packages(bptui.__path__, "bptui."):
        if info.name.endswith("__main__"):  # runs the command line
            continue
        module = importlib.import_module(info.name)
        found += [
            cls
            for _name, cls in inspect.getmembers(module, inspect.isclass)
            if cls.__module__ == info.name
        ]
    return found


def test_no_class_has_more_than_two_bptui_bases() -> None:
    """Composition, not a chain of parents: each class inherits from at most two of
    bptui's own classes, counting its parents' parents."""
    classes = bptui_classes()
    assert len(classes) > 50  # the walk found the package
    chains = {
        f"{cls.__module__}.{cls.__qualname__}": [c.__qualname__ for c in bases]
        for cls in classes
        if len(bases := [c for c in cls.__mro__[1:] if c.__module__.startswith("bptui")])
        > MAX_BPTUI_BASES
    }
    assert not chains, f"classes with more than {MAX_BPTUI_BASES} bptui bases: {chains}"
