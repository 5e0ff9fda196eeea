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


#: Imports left out of the cycle check, each with its reason (none today: the
#: SSH front end's sessions see the server through serve/host.py's protocols).
CYCLE_EXCEPTIONS: set[tuple[str, str]] = set()


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every bptui module and the bptui modules it imports anywhere in its text: at
    the top, inside functions, and under TYPE_CHECKING."""
    import ast

    paths = {module_of(p): p for p in (ROOT / "bptui").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    # `from . import palette`: the module palette, not its package.
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in paths else target)
        graph[name] = {m for m in found if m in paths and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while True:
                other = stack.pop()
                part.append(other)
                if other == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_reader_sees_every_kind_of_import() -> None:
    """Function-level imports and TYPE_CHECKING ones count (so a pass means something)."""
    graph = imports()
    assert "bptui.lesson.engine" in graph["bptui.app.session"]  # inside a method
    assert "bptui.app.classlink" in graph["bptui.app.main"]  # under TYPE_CHECKING
    assert "bptui.app.palette" in graph["bptui.app.main"]  # from . import palette
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_anywhere() -> None:
    """No two modules of bptui import each other, even through others, even inside a
    function: every module can be read, and tested, after the ones it stands on."""
    graph = imports()
    for importer, imported in CYCLE_EXCEPTIONS:
        assert imported in graph[importer], f"{importer} -> {imported} is gone: drop it here"
        graph[importer].discard(imported)
    assert not cycles(graph)
