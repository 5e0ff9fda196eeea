"""A lesson's graph read statically: which values need a gradient, the order of the
backward pass, and every chain-rule path from the loss to a parameter. No torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .spec import Lesson, Node

#: At most this many paths are listed per parameter in the chain-rule view.
MAX_PATHS = 16

T = TypeVar("T")


class LessonGraph:
    """The structure of a lesson's graph, fixed for the life of a stepper
    (an edit changes values, never the graph)."""

    def __init__(self, lesson: Lesson) -> None:
        self.nodes: tuple[Node, ...] = lesson.nodes
        self.index = {node.name: i for i, node in enumerate(self.nodes)}
        self.loss = self.nodes[-1].name
        needs = set(lesson.param_names) | ({"x"} if lesson.input_grad else set())
        for node in self.nodes:
            if any(isinstance(a, str) and a in needs for a in node.args):
                needs.add(node.name)
        # Values the loss depends on; others (shown beside the model) get no backward.
        feeds = {self.loss}
        for node in reversed(self.nodes):
            if node.name in feeds:
                feeds.update(a for a in node.args if isinstance(a, str))
        #: Values torch differentiates the loss with respect to.
        self.needs_grad = needs & feeds
        #: The backward pass: one micro-step per operation, last to first.
        self.backward_steps = tuple(
            node for node in reversed(self.nodes) if node.name in self.needs_grad
        )
        #: Local derivatives' names, ``d<out>/d<wrt>``, by (node, input position).
        self.factor_keys = {
            (node.name, i): f"d{node.name}/d{arg}"
            for node in self.nodes
            for i, arg in enumerate(node.args)
            if isinstance(arg, str)
        }
        seen: list[str] = []
        for node in self.nodes:
            for arg in node.args:
                if isinstance(arg, str) and arg not in self.index and arg not in seen:
                    seen.append(arg)
        #: The graph's inputs (data and parameters) in the order they are first used.
        self.leaves = tuple(seen)
        #: The values the chain-rule view writes out: each parameter, and x where
        #: x stands for the output of a layer before.
        self.chain_targets = lesson.param_names + (("x",) if lesson.input_grad else ())

    def node(self, name: str) -> Node:
        return self.nodes[self.index[name]]

    def paths(self, at: str, target: str, edge: Callable[[str, str], T]) -> list[tuple[T, ...]]:
        """Every path of edges from ``at`` down to ``target`` (at most MAX_PATHS);
        ``edge(out, wrt)`` gives what a path holds for each step."""
        paths: list[tuple[T, ...]] = []

        def walk(name: str, trail: tuple[T, ...]) -> None:
            if len(paths) >= MAX_PATHS:
                return
            if name == target:
                paths.append(trail)
                return
            if name not in self.index:
                return
            node = self.nodes[self.index[name]]
            for arg in node.args:
                if isinstance(arg, str) and arg in self.needs_grad:
                    walk(arg, (*trail, edge(node.name, arg)))

        walk(at, ())
        return paths
