"""Measures of a plan: compactness, internal boundary, boundary off streets, compounds split."""

from __future__ import annotations

import numpy as np
import shapely

from gridmap.geometry.adjacency import CellGraph

__all__ = [
    "polsby_popper",
    "internal_boundary",
    "off_street_boundary",
    "compounds_split",
    "street_straddle",
]


def polsby_popper(geoms: np.ndarray) -> np.ndarray:
    """``4πA / P²`` of each polygon: 1 for a disc, near 0 for a thin sliver (projected CRS).

    Examples
    --------
    >>> round(float(polsby_popper(np.array([shapely.box(0, 0, 1, 1)]))[0]), 4)
    0.7854
    """
    area = shapely.area(geoms)
    perimeter = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * np.pi * area / perimeter**2, 0.0)


def internal_boundary(graph: CellGraph, cell_labels: np.ndarray) -> float:
    """Total length (m) of boundary between different grids."""
    return graph.boundary_length(np.asarray(cell_labels), kind="all")


def off_street_boundary(graph: CellGraph, cell_labels: np.ndarray) -> float:
    """Length (m) of boundary between grids that does not run along a street."""
    return graph.boundary_length(np.asarray(cell_labels), kind="off_street")


def compounds_split(
    cell_compound: np.ndarray,
    cell_households: np.ndarray,
    cell_labels: np.ndarray,
    max_households: int,
) -> tuple[int, int]:
    """Compounds spread over more than one grid.

    Returns
    -------
    tuple of int
        ``(fitting_split, fitting_total)``: compounds with at most ``max_households`` that are
        split, and the number of such compounds.
    """
    comp = np.asarray(cell_compound, dtype=object)
    labels = np.asarray(cell_labels)
    split = total = 0
    for c in set(comp.tolist()) - {""}:
        mask = comp == c
        if cell_households[mask].sum() > max_households:
            continue
        total += 1
        split += len(np.unique(labels[mask])) > 1
    return split, total


def street_straddle(
    grid_geoms: np.ndarray, street_geoms: np.ndarray, *, tolerance: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Street length inside grid interiors (a grid straddling a street), per grid and street.

    A street running along a grid boundary (within ``tolerance`` metres) does not count.

    Parameters
    ----------
    grid_geoms, street_geoms : np.ndarray
        Grid polygons and street lines in one projected CRS.
    tolerance : float
        Metres around grid boundaries that are not interior.

    Returns
    -------
    grid, street : np.ndarray
        Indices of the (grid, street) pairs with street length inside the grid.
    length : np.ndarray
        That length in metres (pairs shorter than ``tolerance`` are left out).

    Examples
    --------
    >>> grids = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    >>> streets = np.array([shapely.LineString([(10, -1), (10, 11)]),
    ...                     shapely.LineString([(-1, 5), (21, 5)])])
    >>> g, s, ln = street_straddle(grids, streets)
    >>> g.tolist(), s.tolist(), ln.round(3).tolist()
    ([0, 1], [1, 1], [9.0, 9.0])
    """
    grid_geoms, street_geoms = np.asarray(grid_geoms), np.asarray(street_geoms)
    empty = np.array([], dtype=np.int64)
    if len(grid_geoms) == 0 or len(street_geoms) == 0:
        return empty, empty, np.array([], dtype=float)
    tree = shapely.STRtree(street_geoms)
    gi, si = tree.query(grid_geoms, predicate="intersects")
    inside = shapely.intersection(street_geoms[si], grid_geoms[gi])
    edge = shapely.buffer(shapely.boundary(grid_geoms[gi]), tolerance)
    length = shapely.length(shapely.difference(inside, edge))
    keep = length > tolerance
    return gi[keep], si[keep], length[keep]
