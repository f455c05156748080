"""Street blocks and the groups of blocks that are planned together.

Streets are a hard rule: a grid that stays inside one street block never straddles a street.
:func:`street_blocks` finds the blocks on the cell graph (cells joined by edges that do not run
along a street). :func:`group_blocks` plans which blocks must share grids: a block whose
households no number of grids can hold (fewer than the minimum, or an awkward total such as
550 for 300–500) joins the smallest neighbouring group that makes it plannable, across the
shortest street frontage. Every merge is recorded, so each street a grid crosses can be
explained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gridmap.constraints import grid_count_range
from gridmap.geometry.adjacency import CellGraph, connected_pieces

__all__ = ["street_blocks", "block_frontage", "group_blocks", "Merge", "STREET_SHARE"]

STREET_SHARE = 0.5
"""An edge whose shared boundary lies at least this much on a street separates two blocks."""

MERGE_SMALL = "small"
MERGE_AWKWARD = "awkward"
MERGE_EMPTY = "empty"
MERGE_COMPOUND = "compound"


@dataclass(frozen=True)
class Merge:
    """Two groups of blocks planned together, and why.

    Attributes
    ----------
    left, right : frozenset of int
        The blocks on either side; ``left`` is the group that needed the merge.
    kind : str
        ``small`` (fewer households than the minimum), ``awkward`` (no number of grids fits
        the total), ``empty`` (no households), ``compound`` (a compound spans the street) or
        ``unbalanced`` (its buildings could not be combined into balanced grids).
    households : int
        Households of ``left`` (the non-tower households).
    """

    left: frozenset[int]
    right: frozenset[int]
    kind: str
    households: int

    def separates(self, a: int, b: int) -> bool:
        """Whether blocks ``a`` and ``b`` were joined by this merge."""
        return (a in self.left and b in self.right) or (b in self.left and a in self.right)


def _is_street(graph: CellGraph) -> np.ndarray:
    return graph.street_length >= STREET_SHARE * np.maximum(graph.length, 1e-12)


def street_blocks(graph: CellGraph) -> np.ndarray:
    """Block index of every cell: connected pieces of the graph without street edges.

    Examples
    --------
    >>> g = CellGraph(3, np.array([[0, 1], [1, 2]]), np.ones(2), np.array([0.0, 1.0]),
    ...               np.zeros(2), np.ones(2), np.array([5, 6, 7]))
    >>> street_blocks(g).tolist()
    [0, 0, 1]
    """
    keep = ~_is_street(graph)
    # numbered in the order of each block's lowest cell
    return connected_pieces(graph.n, graph.edges[keep, 0], graph.edges[keep, 1])[1]


def block_frontage(graph: CellGraph, cell_block: np.ndarray) -> dict[tuple[int, int], float]:
    """Street length shared by each pair of adjacent blocks ``(a, b)``, ``a < b``."""
    ba, bb = cell_block[graph.edges[:, 0]], cell_block[graph.edges[:, 1]]
    out: dict[tuple[int, int], float] = {}
    for a, b, ln in zip(ba.tolist(), bb.tolist(), graph.length.tolist(), strict=True):
        if a != b:
            key = (min(a, b), max(a, b))
            out[key] = out.get(key, 0.0) + ln
    return out


def _needs_merge(total: float, lo: int, hi: int, free: bool) -> bool:
    if free:  # only towers (and cells without households next to them): fine alone
        return False
    return len(grid_count_range(total, lo, hi)) == 0


def _distance(total: float, lo: int, hi: int) -> float:
    """Households to add (or remove) before some number of grids holds ``total``."""
    k = int(total // hi)
    over = total - k * hi if k >= 1 else np.inf
    return float(min(over, (k + 1) * lo - total))


def group_blocks(
    totals: np.ndarray,
    frontage: dict[tuple[int, int], float],
    lo: int,
    hi: int,
    *,
    tower_only: np.ndarray | None = None,
    joined: Sequence[tuple[int, int]] = (),
) -> tuple[list[list[int]], list[Merge]]:
    """Group blocks so that each group's households can be split into grids of ``lo``–``hi``.

    Parameters
    ----------
    totals : np.ndarray
        Households of each block, not counting towers above ``hi`` (they are grids alone).
    frontage : dict
        Street length between adjacent blocks (:func:`block_frontage`).
    lo, hi : int
        Household bounds.
    tower_only : np.ndarray of bool, optional
        Blocks holding a tower and no other households: they need no partner.
    joined : list of (int, int)
        Blocks that must be planned together (a compound spanning a street).

    Returns
    -------
    groups : list of list of int
        Blocks of each group.
    merges : list of Merge
        Why blocks were grouped, in merge order.

    Examples
    --------
    >>> groups, merges = group_blocks(np.array([400, 200, 150]), {(0, 1): 80.0, (1, 2): 40.0},
    ...                               300, 500)
    >>> sorted(map(sorted, groups)), merges[0].kind, merges[0].households
    ([[0], [1, 2]], 'small', 150)
    """
    n = len(totals)
    free = np.zeros(n, dtype=bool) if tower_only is None else np.asarray(tower_only, dtype=bool)
    members = {b: {b} for b in range(n)}
    total = {b: float(totals[b]) for b in range(n)}
    tower = {b: bool(free[b]) for b in range(n)}
    front: dict[int, dict[int, float]] = {b: {} for b in range(n)}
    for (a, b), ln in frontage.items():
        front[a][b] = front[a].get(b, 0.0) + ln
        front[b][a] = front[b].get(a, 0.0) + ln
    merges: list[Merge] = []

    def merge(g: int, h: int, kind: str) -> int:
        merges.append(Merge(frozenset(members[g]), frozenset(members[h]), kind, int(total[g])))
        keep, gone = min(g, h), max(g, h)
        members[keep] |= members.pop(gone)
        total[keep] += total.pop(gone)
        tower[keep] = tower[keep] and tower.pop(gone)
        for x, ln in front.pop(gone).items():
            front[x].pop(gone, None)
            if x != keep:
                front[keep][x] = front[keep].get(x, 0.0) + ln
                front[x][keep] = front[x].get(keep, 0.0) + ln
        front[keep].pop(keep, None)
        return keep

    group_of = {b: b for b in range(n)}
    for a, b in joined:
        ga, gb = _root(group_of, a), _root(group_of, b)
        if ga != gb:
            keep = merge(ga, gb, MERGE_COMPOUND)
            group_of[ga] = group_of[gb] = keep
    while True:
        needy = [
            g
            for g in members
            if front[g] and _needs_merge(total[g], lo, hi, tower[g] and total[g] == 0)
        ]
        if not needy:
            break
        g = min(needy, key=lambda x: (total[x], x))
        kind = MERGE_EMPTY if total[g] == 0 else MERGE_SMALL if total[g] < lo else MERGE_AWKWARD
        h = min(front[g], key=lambda x: _merge_key(total[g], total[x], front[g][x], lo, hi, x))
        keep = merge(g, h, kind)
        group_of[g] = group_of[h] = keep
    return [sorted(m) for _, m in sorted(members.items())], merges


def _root(group_of: dict[int, int], b: int) -> int:
    while group_of[b] != b:
        b = group_of[b]
    return b


def _merge_key(tg: float, th: float, frontage: float, lo: int, hi: int, h: int) -> tuple:
    both = tg + th
    fits = len(grid_count_range(both, lo, hi)) > 0
    if tg == 0:  # nothing to balance: cross where the street is shortest
        return (not fits, frontage, h)
    return (not fits, both if fits else _distance(both, lo, hi), frontage, h)
