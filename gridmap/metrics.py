"""Measures of a plan: compactness, internal boundary, boundary off streets, compounds split."""

from __future__ import annotations

import numpy as np
import shapely

from gridmap.adjacency import CellGraph

__all__ = ["polsby_popper", "internal_boundary", "off_street_boundary", "compounds_split"]


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
