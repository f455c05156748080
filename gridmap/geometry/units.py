"""Units: the cells the search moves together (a tower, a compound that fits in one grid).

A building with more households than the maximum becomes a *tower* unit that forms a grid on
its own. The cells of a compound with at most the maximum households are contracted into one
unit per connected piece, so the compound is never split. Every other cell is a unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridmap.geometry.adjacency import CellGraph, connected_pieces

__all__ = [
    "Units",
    "contract",
    "fitting_compounds",
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
    # compounds whose households fit in one grid hold together
    code, fits = fitting_compounds(cell_compound, w, max_households)
    a, b = graph.edges[:, 0], graph.edges[:, 1]
    inside = (code[a] == code[b]) & fits[code[a]]
    # units numbered in the order of their lowest cell
    n_units, unit_of_cell = connected_pieces(graph.n, a[inside], b[inside])
    weights = np.bincount(unit_of_cell, w, minlength=n_units).tolist()
    tower = np.zeros(n_units, dtype=bool)
    tower[unit_of_cell[tower_cell]] = True
    nbrs, costs = _unit_adjacency(graph, unit_of_cell, n_units)
    return Units(unit_of_cell, weights, nbrs, costs, tower)


def fitting_compounds(
    cell_compound: np.ndarray, weights: np.ndarray, max_households: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's compound as an integer, and which compounds fit in one grid: those with an
    id whose cells hold at most ``max_households`` (the search keeps them whole).

    >>> code, fits = fitting_compounds(np.array(["a", "", "a", "b"], dtype=object),
    ...                                np.array([100, 50, 100, 600]), 500)
    >>> code.tolist(), fits[code].tolist()
    ([1, 0, 1, 2], [True, False, True, False])
    """
    comp = np.asarray(cell_compound, dtype=object)
    names, code = np.unique(
        np.array(["" if not c else str(c) for c in comp.tolist()]), return_inverse=True
    )
    code = code.ravel()
    fits = (names != "") & (np.bincount(code, weights, minlength=len(names)) <= max_households)
    return code, fits


def _unit_adjacency(graph: CellGraph, unit_of_cell: np.ndarray, n: int):
    """Neighbour units of each unit in ascending order, with the summed cost of the cut."""
    if len(graph.edges) == 0:
        return [[] for _ in range(n)], [[] for _ in range(n)]
    ua, ub = unit_of_cell[graph.edges[:, 0]], unit_of_cell[graph.edges[:, 1]]
    keep = ua != ub
    lo, hi = np.minimum(ua, ub)[keep], np.maximum(ua, ub)[keep]
    if len(lo) == 0:
        return [[] for _ in range(n)], [[] for _ in range(n)]
    # (lo, hi) as one integer: the pairs in row order without a sort of rows
    _, first, inv = np.unique(lo * (n + 1) + hi, return_index=True, return_inverse=True)
    summed = np.bincount(inv.ravel(), graph.cost[keep], minlength=len(first))
    lo, hi = lo[first], hi[first]
    node = np.concatenate([lo, hi])
    near = np.concatenate([hi, lo])
    cost = np.concatenate([summed, summed])
    order = np.lexsort((near, node))
    bounds = np.searchsorted(node[order], np.arange(n + 1)).tolist()
    flat_near, flat_cost = near[order].tolist(), cost[order].tolist()
    nbrs = [flat_near[bounds[i] : bounds[i + 1]] for i in range(n)]
    costs = [flat_cost[bounds[i] : bounds[i + 1]] for i in range(n)]
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
    empty = tess.cell_building_counts == 0
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
