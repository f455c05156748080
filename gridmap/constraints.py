"""Constraints on grids: household bounds and contiguity, as small composable callables."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from gridmap.planerrors import plan_error

__all__ = [
    "Bounds",
    "relaxed_bounds",
    "household_bounds",
    "grid_count_range",
    "contiguous",
    "STATUS_OK",
    "STATUS_UNDER_MIN",
    "STATUS_OVER_MAX",
]

STATUS_OK = "ok"
STATUS_UNDER_MIN = "under_min"
STATUS_OVER_MAX = "over_max"


@dataclass(frozen=True)
class Bounds:
    """Households per grid must lie in ``[lo, hi]`` (the search may widen them, see
    :func:`relaxed_bounds`).

    Examples
    --------
    >>> b = household_bounds(300, 500)
    >>> b(420), b(510), b.status(120), b.violation(520), b.distance(550)
    (True, False, 'under_min', 20, 50)
    """

    lo: int
    hi: int

    def __call__(self, households: float) -> bool:
        """Whether ``households`` lies within the bounds."""
        return self.lo <= households <= self.hi

    def status(self, households: float) -> str:
        """``"ok"``, ``"under_min"`` or ``"over_max"``."""
        if households < self.lo:
            return STATUS_UNDER_MIN
        return STATUS_OVER_MAX if households > self.hi else STATUS_OK

    def violation(self, households: float) -> float:
        """Households below ``lo`` or above ``hi`` (0 inside the bounds)."""
        # if-chains rather than max(): the local search calls this in its inner loop
        if households < self.lo:
            return self.lo - households
        if households > self.hi:
            return households - self.hi
        return 0.0

    def distance(self, households: float) -> float:
        """Households to add or remove before some number of grids (>= 1) can hold them."""
        w, lo, hi = households, self.lo, self.hi
        # Same as grid_count_range(w, lo, hi) being non-empty, without building the range.
        if w > 0 and math.ceil(w / hi) * lo <= w:
            return 0.0
        k = max(1, math.floor(w / hi))
        return min(abs(w - k * hi), abs((k + 1) * lo - w))


def household_bounds(lo: int, hi: int) -> Bounds:
    """Return the constraint ``lo <= households <= hi``.

    Raises
    ------
    gridmap.errors.InputError
        (a ValueError) If ``lo`` is negative or larger than ``hi``, or ``hi`` is 0; in English
        and Chinese (:data:`gridmap.planerrors.PLAN_ERRORS`, ``bad_bounds``).
    """
    if lo < 0 or hi < lo or hi <= 0:
        raise plan_error("bad_bounds", lo=lo, hi=hi)
    return Bounds(int(lo), int(hi))


def grid_count_range(total: float, lo: int, hi: int) -> range:
    """Numbers of grids ``k`` with ``k * lo <= total <= k * hi`` (empty if there is none).

    Examples
    --------
    >>> list(grid_count_range(1200, 300, 500)), list(grid_count_range(550, 300, 500))
    ([3, 4], [])
    """
    if total <= 0:
        return range(0)
    kmin = max(1, math.ceil(total / hi))
    kmax = math.floor(total / lo) if lo > 0 else kmin
    return range(kmin, kmax + 1)


def contiguous(neighbours: Sequence[Iterable[int]], nodes: Iterable[int]) -> bool:
    """Whether ``nodes`` form one connected piece of the graph given by ``neighbours``.

    Examples
    --------
    >>> nbrs = [[1], [0, 2], [1], []]
    >>> contiguous(nbrs, [0, 1, 2]), contiguous(nbrs, [0, 2])
    (True, False)
    """
    members = {int(v) for v in nodes}
    if not members:
        return True
    start = next(iter(members))
    seen = {start}
    stack = [start]
    while stack:
        v = stack.pop()
        for u in np.asarray(neighbours[v]).tolist():
            if u in members and u not in seen:
                seen.add(u)
                stack.append(u)
    return len(seen) == len(members)


def relaxed_bounds(total: float, lo: int, hi: int) -> Bounds:
    """``[lo, hi]``, or the narrowest widening of it that some number of grids can meet.

    Examples
    --------
    >>> relaxed_bounds(1200, 300, 500), relaxed_bounds(550, 300, 500)
    (Bounds(lo=300, hi=500), Bounds(lo=275, hi=500))

    A piece without households is one grid of none:

    >>> relaxed_bounds(0, 300, 500)
    Bounds(lo=0, hi=500)
    """
    if len(grid_count_range(total, lo, hi)):
        return Bounds(lo, hi)
    k_low, k_high = max(1, math.floor(total / hi)), max(1, math.ceil(total / hi))
    best = min({k_low, k_high}, key=lambda k: max(lo - total / k, total / k - hi))
    share = total / best
    return Bounds(min(lo, math.floor(share)), max(hi, math.ceil(share)))
