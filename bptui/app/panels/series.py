"""A long history, reduced for the plot once and then extended as it grows.

Plotting 30,000 steps whole would take most of a second a frame, so the plot
keeps, of each block of consecutive steps, the first, the lowest, the highest
and the last point: the trajectory's shape and its extremes in a few hundred
points. Reducing the whole history again each time a step ends took ~10 ms at
30,000 steps (the plot's frame after such a key waited for it). The engine only
ever appends to a history (:class:`bptui.lesson.snapshot.History`), so the
blocks already reduced stay as they are: :class:`Reduction` keeps them and
reduces only the steps added since, until the history is another one (an undo,
a jump, a new lesson) or has grown to twice as many blocks as the plot wants,
when it starts again with longer blocks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import overload

from ...lesson.snapshot import History

Points = tuple[list[float], list[float]]


def reduce_blocks(
    xs: Sequence[float], ys: Sequence[float], start: int, stop: int, block: int
) -> Points:
    """The finite points of ``xs[start:stop]``/``ys[start:stop]``, reduced to the first,
    lowest, highest and last of each ``block`` consecutive indices (``start`` is a
    multiple of ``block``), in order."""
    out_x: list[float] = []
    out_y: list[float] = []
    isfinite = math.isfinite
    for lo in range(start, stop, block):
        seg = [i for i in range(lo, min(lo + block, stop)) if isfinite(xs[i]) and isfinite(ys[i])]
        if not seg:
            continue
        i_min = min(seg, key=ys.__getitem__)
        i_max = max(seg, key=ys.__getitem__)
        for i in sorted({seg[0], i_min, i_max, seg[-1]}):
            out_x.append(xs[i])
            out_y.append(ys[i])
    return out_x, out_y


class Reduction:
    """One plotted history (``ys``, against ``xs``), reduced to about ``buckets`` blocks.

    The block length is fixed when the reduction starts (the history's length over
    ``buckets``, at least 1: a short history is shown whole); it starts again once
    the history holds twice ``buckets`` blocks, so the plot has between ``buckets``
    and twice as many blocks, at most four points each.
    """

    def __init__(self, buckets: int) -> None:
        self.buckets = buckets
        #: The history last reduced, and what it was plotted against (None: nothing yet).
        self._ys: Sequence[float] | None = None
        self._xs: Sequence[float] | None = None
        self._block = 1
        #: Indices below this are in ``_done``: whole blocks, which never change.
        self._through = 0
        self._done: Points = ([], [])

    @property
    def block(self) -> int:
        """Consecutive steps each kept point stands for (at most four points a block)."""
        return self._block

    def points(self, xs: Sequence[float], ys: Sequence[float]) -> Points:
        """The reduced points of the history ``ys`` against ``xs`` (as long as ``ys``)."""
        n = len(ys)
        last_x, last_y = self._xs, self._ys
        grown = (
            last_x is not None
            and last_y is not None
            and _extends(ys, last_y)
            and _extends(xs, last_x)
        )
        if not grown or n > 2 * self.buckets * self._block:
            self._block = max(1, -(-n // self.buckets))
            self._through = 0
            self._done = ([], [])
        self._xs, self._ys = xs, ys
        whole = n - n % self._block
        if whole > self._through:
            more_x, more_y = reduce_blocks(xs, ys, self._through, whole, self._block)
            self._done[0].extend(more_x)
            self._done[1].extend(more_y)
            self._through = whole
        tail_x, tail_y = reduce_blocks(xs, ys, whole, n, self._block)
        return self._done[0] + tail_x, self._done[1] + tail_y


def _extends(new: Sequence[float], old: Sequence[float]) -> bool:
    """Whether ``new`` is ``old`` with values added at the end (or none)."""
    if isinstance(new, History) and isinstance(old, History):
        return new.extends(old)
    if isinstance(new, Steps) and isinstance(old, Steps):
        return len(new) >= len(old)  # 1, 2, …: the same numbers, more of them
    return new is old or new == old


class Steps(Sequence[float]):
    """1.0, 2.0, …, n: the step numbers of a history, without making the list."""

    def __init__(self, n: int) -> None:
        self._n = n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> list[float]: ...
    def __getitem__(self, index: int | slice) -> float | list[float]:
        if isinstance(index, slice):
            return [float(i + 1) for i in range(*index.indices(self._n))]
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError(index)
        return float(index + 1)
