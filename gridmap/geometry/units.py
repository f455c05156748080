"""Units: the cells the search moves together (a tower, a compound that fits in one grid).

A building with more households than the maximum becomes a *tower* unit that forms a grid on
its own. The cells of a compound with at most the maximum households are contracted into one
unit per connected piece, so the compound is never split. Every other cell is a unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridmap.geometry.adjacency import CellGraph

__all__ = [
    "Units",
    "contract",
    "open_ground_units",
    "OPEN_GROUND",
    "label_totals",
    "label_adjacency",
]

OPEN_GROUND = "~open:"
"""Prefix of the pseudo compound id given to the pieces of one stretch of open ground."""


@dataclass
class Units:
    """Contracted graph of units.

    Attributes
    ----------
    unit_of_cell : np.ndarray
        Unit index of each cell.
    weights : list[float]
        Households per unit.
    nbrs, costs : list[list]
        Adjacency lists and summed cut costs between units.
    tower : np.ndarray
        Whether a unit is a single building above the maximum.
    """

    unit_of_cell: np.ndarray
    weights: list[float]
    nbrs: list[list[int]]
    costs: list[list[float]]
    tower: np.ndarray

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.weights)


def contract(graph: CellGraph, cell_compound: np.ndarray, max_households: int) -> Units:
    """Contract towers and whole-fitting compounds of a cell graph into units.

    Parameters
    ----------
    graph : CellGraph
    cell_compound : np.ndarray
        Compound id of each cell (``""`` for none).
    max_households : int

    Returns
    -------
    Units
    """
    w = graph.weights
    tower_cell = w > max_households
    uf = np.arange(graph.n)
    comp = np.asarray(cell_compound, dtype=object)
    totals: dict[str, int] = {}
    for c, h in zip(comp.tolist(), w.tolist(), strict=True):
        if c:
            totals[c] = totals.get(c, 0) + h
    for a, b in graph.edges.tolist():
        ca = comp[a]
        if ca and ca == comp[b] and totals[ca] <= max_households:
            ra, rb = _find(uf, a), _find(uf, b)
            if ra != rb:
                uf[max(ra, rb)] = min(ra, rb)
    roots = np.array([_find(uf, i) for i in range(graph.n)], dtype=np.int64)
    _, unit_of_cell = np.unique(roots, return_inverse=True)
    unit_of_cell = unit_of_cell.ravel()
    n_units = int(unit_of_cell.max()) + 1 if graph.n else 0
    weights = np.bincount(unit_of_cell, w, minlength=n_units).tolist()
    tower = np.zeros(n_units, dtype=bool)
    tower[unit_of_cell[tower_cell]] = True
    nbrs, costs = _unit_adjacency(graph, unit_of_cell, n_units)
    return Units(unit_of_cell, weights, nbrs, costs, tower)


def _find(uf: np.ndarray, x: int) -> int:
    while uf[x] != x:
        uf[x] = uf[uf[x]]
        x = int(uf[x])
    return x


def _unit_adjacency(graph: CellGraph, unit_of_cell: np.ndarray, n: int):
    nbrs: list[list[int]] = [[] for _ in range(n)]
    costs: list[list[float]] = [[] for _ in range(n)]
    if len(graph.edges) == 0:
        return nbrs, costs
    ua, ub = unit_of_cell[graph.edges[:, 0]], unit_of_cell[graph.edges[:, 1]]
    keep = ua != ub
    pairs = np.stack([np.minimum(ua, ub), np.maximum(ua, ub)], axis=1)[keep]
    if len(pairs) == 0:
        return nbrs, costs
    uniq, inv = np.unique(pairs, axis=0, return_inverse=True)
    summed = np.bincount(inv.ravel(), graph.cost[keep], minlength=len(uniq))
    for (a, b), c in zip(uniq.tolist(), summed.tolist(), strict=True):
        nbrs[a].append(b)
        costs[a].append(c)
        nbrs[b].append(a)
        costs[b].append(c)
    return nbrs, costs


def open_ground_units(tess) -> np.ndarray:
    """Compound id per cell, with the pieces of each stretch of open ground as one pseudo compound.

    :mod:`gridmap.geometry.cells` splits open ground (a block without buildings, e.g. between
    compound walls) between the buildings around it. Planned as one unit first, it goes whole to one
    grid (compact grids, as before the split); the planner frees it like a compound only where
    the grids around it cannot be balanced otherwise.

    Parameters
    ----------
    tess : gridmap.geometry.cells.Tessellation

    Returns
    -------
    np.ndarray
        Object array: the compound id, ``OPEN_GROUND + block`` for open-ground cells, or ``""``.
    """
    out = np.asarray(tess.cell_compound, dtype=object).copy()
    empty = np.array([len(b) == 0 for b in tess.cell_buildings], dtype=bool)
    for c in np.flatnonzero(empty & (out == "")).tolist():
        out[c] = f"{OPEN_GROUND}{int(tess.cell_block[c])}"
    return out


def label_totals(labels, weights) -> dict[int, float]:
    """Households per grid label."""
    out: dict[int, float] = {}
    for v, g in enumerate(labels):
        out[g] = out.get(g, 0.0) + weights[v]
    return out


def label_adjacency(labels, nbrs) -> dict[int, set[int]]:
    """For each grid label, the labels of the grids it touches."""
    out: dict[int, set[int]] = {}
    for v, near in enumerate(nbrs):
        for u in near:
            if labels[u] != labels[v]:
                out.setdefault(labels[v], set()).add(labels[u])
    return out
