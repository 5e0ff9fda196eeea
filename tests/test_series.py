"""The plot's reduction of long histories: the same points as reducing from scratch,
the extremes kept, and only the steps added since reduced again."""

from __future__ import annotations

import math
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from bptui.app.panels.series import Reduction, Steps, reduce_blocks
from bptui.lesson.snapshot import History

values = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)


class Counted(Sequence[float]):
    """A history that counts the values read from it."""

    def __init__(self, items: list[float]) -> None:
        self.items = items
        self.reads = 0

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        self.reads += 1
        return self.items[index]


@given(
    st.lists(st.tuples(values, values), max_size=300),
    st.lists(st.integers(0, 40), min_size=1, max_size=12),
    st.integers(1, 20),
)
def test_a_growing_history_reduces_as_if_from_scratch(
    points: list[tuple[float, float]], growth: list[int], buckets: int
) -> None:
    xs: list[float] = []
    ys: list[float] = []
    reduction = Reduction(buckets)
    pending = list(points)
    for more in growth:
        for x, y in pending[:more]:
            xs.append(x)
            ys.append(y)
        del pending[:more]
        n = len(ys)
        rx, ry = reduction.points(History(xs, n), History(ys, n))
        assert (rx, ry) == reduce_blocks(xs, ys, 0, n, reduction.block)
        # At most twice the blocks asked for, at most four points a block.
        assert len(rx) <= 4 * 2 * buckets
        finite = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(x + y)]
        kept = list(zip(rx, ry, strict=True))
        assert all(math.isfinite(x + y) for x, y in kept)
        if finite:
            assert kept[0] == finite[0] and kept[-1] == finite[-1]
            assert min(y for _, y in kept) == min(y for _, y in finite)
            assert max(y for _, y in kept) == max(y for _, y in finite)
        else:
            assert kept == []


def test_a_short_history_is_shown_whole() -> None:
    ys = [float(i % 7) for i in range(40)]
    xs = [float(i) for i in range(40)]
    assert Reduction(50).points(xs, ys) == (xs, ys)


def test_only_the_steps_added_since_are_read_again() -> None:
    items_x = [math.sin(i) for i in range(30_000)]
    items_y = [math.cos(i / 7) for i in range(30_000)]
    xs, ys = Counted(items_x), Counted(items_y)
    reduction = Reduction(60)
    reduction.points(History(xs), History(ys))
    assert ys.reads >= 30_000
    items_x.append(0.5)
    items_y.append(0.25)
    ys.reads = 0
    rx, ry = reduction.points(History(xs), History(ys))
    assert ys.reads <= 3 * reduction.block  # the last, unfinished block only
    assert (rx[-1], ry[-1]) == (0.5, 0.25)
    assert (rx, ry) == reduce_blocks(items_x, items_y, 0, 30_001, reduction.block)


def test_an_undo_starts_the_reduction_again() -> None:
    """Going back gives a history of a new list: its values, not the old ones."""
    old_y = [float(i) for i in range(500)]
    steps = Steps(500)
    reduction = Reduction(10)
    before = reduction.points(steps, History(old_y))
    new_y = [-v for v in old_y]  # the same length, other values
    after = reduction.points(Steps(500), History(new_y))
    assert after != before
    assert after == reduce_blocks(Steps(500), new_y, 0, 500, reduction.block)


def test_the_history_outgrows_its_blocks() -> None:
    """Past twice the blocks asked for, the blocks get longer: the points stay few."""
    ys: list[float] = []
    reduction = Reduction(8)
    for i in range(5_000):
        ys.append(math.sin(i / 50))
        rx, _ = reduction.points(Steps(len(ys)), History(ys))
        assert len(rx) <= 4 * 2 * 8
    assert reduction.block > 5_000 // 16


def test_step_numbers() -> None:
    steps = Steps(4)
    assert list(steps) == [1.0, 2.0, 3.0, 4.0]
    assert steps[-1] == 4.0 and steps[1:3] == [2.0, 3.0]
