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
