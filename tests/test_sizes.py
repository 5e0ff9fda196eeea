"""Size guard: every module, class and object stays small enough to read in one sitting.

When one grows past these limits it is usually doing two jobs; split it by
role rather than raise the limit (see ARCHITECTURE.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bptui"
MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 450
MAX_INSTANCE_ATTRIBUTES = 20

MODULES = sorted(PACKAGE.rglob("*.py"))


def _classes(tree: ast.AST) -> list[ast.ClassDef]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]


def instance_attributes(cls: ast.ClassDef) -> set[str]:
    """Names assigned as ``self.<name>`` anywhere in the class's methods, and its slots."""
    names: set[str] = set()
    for node in ast.walk(cls):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if (
                    isinstance(sub, ast.Attribute)
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id == "self"
                ):
                    names.add(sub.attr)
    return names


def test_modules_found():
    """The guard looks at the real package (so a pass below means something)."""
    assert PACKAGE / "lesson" / "engine.py" in MODULES


def test_instance_attributes_counts_assignments():
    """The attribute counter sees plain, annotated, augmented and tuple assignments."""
    tree = ast.parse(
        "class C:\n"
        "    def __init__(self):\n"
        "        self.a = 1\n"
        "        self.b: int = 2\n"
        "        self.a += 1\n"
        "        self.c, self.d = 3, 4\n"
    )
    assert instance_attributes(_classes(tree)[0]) == {"a", "b", "c", "d"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_is_small(path: Path):
    """No module over MAX_MODULE_LINES lines, no class over MAX_CLASS_LINES, and no
    class with more than MAX_INSTANCE_ATTRIBUTES instance attributes."""
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES
    for cls in _classes(ast.parse(text)):
        length = (cls.end_lineno or cls.lineno) - cls.lineno + 1
        assert length <= MAX_CLASS_LINES, f"class {cls.name}: {length} lines"
        attributes = instance_attributes(cls)
        assert len(attributes) <= MAX_INSTANCE_ATTRIBUTES, (
            f"class {cls.name}: {len(attributes)} instance attributes: {sorted(attributes)}"
        )
