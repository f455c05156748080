"""The current plan's line work, for :func:`gridmap.plans.redistrict.redistrict`.

The plan's grid boundaries become cutting lines of the tessellation (without their rounded
copies of the boundary, streets and walls), every cell is placed in its current grid, sliver
cells are merged into their hosts, and changed grids are put back on the coordinate grid of
the file the plan came from.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import shapely

from gridmap.geometry.adjacency import CellGraph
from gridmap.plans.jobs import CommunityJob

__all__ = [
    "file_precision",
    "on_file_grid",
    "street_lines",
    "absorb_slivers",
    "keep_edges",
    "plan_lines",
    "cells_in_grids",
]

_SLIVER_WIDTH_M = 0.1  # an empty cell thinner than this on average (m) is a sliver
_SNAP_M = 0.05  # the plan's lines this close to the boundary, a street or a wall are dropped
_FILE_GRID_DEG = 1e-7  # coordinates of an RFC 7946 file (GDAL writes 7 decimals)
_NECK_M = 0.05  # cells sharing less boundary than this (m) are not neighbours


def file_precision(geoms: np.ndarray) -> float:
    """The coordinate grid of a plan read from an RFC 7946 file (7 decimals), else 0.

    Changed grids are put on the same grid: they share their vertices with the kept grids, and
    writing them to GeoJSON (which rounds to 7 decimals) moves no vertex, so no thin part
    collapses into a pinch or a stray line.
    """
    xy = shapely.get_coordinates(geoms) / _FILE_GRID_DEG
    if len(xy) == 0 or np.abs(xy - np.round(xy)).max() > 1e-3:
        return 0.0
    return _FILE_GRID_DEG


def on_file_grid(geom, grid_size: float):
    """``geom`` with its coordinates on ``grid_size``, still one valid polygon if it was one."""
    for mode in ("valid_output", "pointwise"):
        try:
            out = shapely.set_precision(geom, grid_size, mode=mode)
        except shapely.errors.GEOSException:
            continue
        if shapely.is_valid(out) and shapely.get_type_id(out) == shapely.get_type_id(geom):
            return out
    return geom


def street_lines(streets: np.ndarray | None):
    if streets is None or len(streets) == 0:
        return None
    streets = np.asarray(streets)
    streets = streets[~shapely.is_empty(streets) & ~shapely.is_missing(streets)]
    return shapely.union_all(streets) if len(streets) else None


def absorb_slivers(tess, graph: CellGraph) -> tuple[np.ndarray, np.ndarray, CellGraph]:
    """Merge sliver cells into their host and drop pinch-thin adjacencies.

    A plan read from a file is rounded (GeoJSON: 7 decimals of a degree, about 1 cm), so its
    lines run a few millimetres beside the community boundary and the streets and cut thin
    empty cells off them. Such a cell (no building, mean width under
    :data:`_SLIVER_WIDTH_M`) is joined to the neighbour it shares the most boundary with, so it
    never becomes a grid's only link (a pinch). Edges shorter than :data:`_NECK_M` do not make
    two cells neighbours. The tessellation itself is left as it is: grids still dissolve from
    all of its faces, so they tile the community exactly.

    Returns
    -------
    solid_of : np.ndarray
        Solid (merged cell) of each cell.
    rep : np.ndarray
        The representative (non-sliver) cell of each solid.
    graph : CellGraph
        The graph of solids.
    """
    n = graph.n
    area, perim = shapely.area(tess.cells), shapely.length(tess.cells)
    empty = tess.cell_building_counts == 0
    sliver = empty & (2 * area < _SLIVER_WIDTH_M * np.maximum(perim, 1e-12))
    host = np.arange(n)
    best = np.zeros(n)
    for (a, b), ln in zip(graph.edges.tolist(), graph.length.tolist(), strict=True):
        for x, y in ((a, b), (b, a)):
            if sliver[x] and (ln, not sliver[y]) > (best[x], not sliver[host[x]]):
                host[x], best[x] = y, ln
    for _ in range(8):  # a sliver next to a sliver: follow to a solid cell
        host = host[host]
    rep, solid_of = np.unique(host, return_inverse=True)
    solid_of = solid_of.ravel()
    ea, eb = solid_of[graph.edges[:, 0]], solid_of[graph.edges[:, 1]]
    inner = ea != eb
    pairs = np.stack([np.minimum(ea, eb), np.maximum(ea, eb)], axis=1)[inner]
    edges, inv = np.unique(pairs.reshape(-1, 2), axis=0, return_inverse=True)
    inv = inv.ravel()

    def summed(values: np.ndarray) -> np.ndarray:
        return np.bincount(inv, values[inner], minlength=len(edges))

    solid = CellGraph(
        n=len(rep),
        edges=edges.reshape(-1, 2).astype(np.int64),
        length=summed(graph.length),
        street_length=summed(graph.street_length),
        wall_length=summed(graph.wall_length),
        cost=summed(graph.cost),
        weights=np.bincount(solid_of, graph.weights, minlength=len(rep)).astype(np.int64),
    )
    return solid_of, rep, keep_edges(solid, solid.length >= _NECK_M)


def keep_edges(graph: CellGraph, keep: np.ndarray) -> CellGraph:
    return dataclasses.replace(
        graph,
        edges=graph.edges[keep].reshape(-1, 2),
        length=graph.length[keep],
        street_length=graph.street_length[keep],
        wall_length=graph.wall_length[keep],
        cost=graph.cost[keep],
    )


def plan_lines(grids: np.ndarray, job: CommunityJob) -> np.ndarray:
    """The plan's grid boundaries as cutting lines, without their copies of existing lines.

    A plan read from a file is rounded (GeoJSON: 7 decimals of a degree, about 1 cm), so its
    outer edges run a few millimetres beside the community boundary, and its edges along
    streets and compound walls beside those lines. Cutting along both would leave long thin
    slivers spanning several grids. Those parts of the plan's lines (within
    :data:`_SNAP_M` of the boundary, a street or a wall) are left out, and each line end near
    one is joined to it, a little past it, so the lines still node with it.
    """
    if len(grids) == 0:
        return np.array([], dtype=object)
    refs = [shapely.boundary(job.boundary)]
    if job.streets is not None:
        refs += list(np.asarray(job.streets))
    if job.compounds is not None and len(job.compounds):
        refs += list(shapely.boundary(np.asarray(job.compounds)))
    ref = shapely.union_all(refs)
    shapely.prepare(ref)
    lines = shapely.union_all(shapely.boundary(grids))
    inner = shapely.get_parts(shapely.difference(lines, shapely.buffer(ref, _SNAP_M)))
    inner = inner[shapely.get_type_id(inner) == 1]
    if len(inner) == 0:
        return inner
    ends = np.concatenate([shapely.get_point(inner, 0), shapely.get_point(inner, -1)])
    ends = ends[shapely.dwithin(ref, ends, 2 * _SNAP_M)]
    links = []
    for end in ends:
        (x0, y0), (x1, y1) = shapely.get_coordinates(shapely.shortest_line(end, ref))
        d = math.hypot(x1 - x0, y1 - y0)
        if d > 0:
            over = _SNAP_M / 2 / d
            links.append(shapely.LineString([(x0, y0), (x1 + (x1 - x0) * over,
                                                        y1 + (y1 - y0) * over)]))  # fmt: skip
    return np.concatenate([inner, np.array(links, dtype=object)])


def cells_in_grids(cells: np.ndarray, grids: np.ndarray, graph) -> np.ndarray:
    """Current grid of each cell; cells outside every grid join a neighbouring grid."""
    out = np.full(len(cells), -1, dtype=np.int64)
    if len(grids) == 0:
        return np.zeros(len(cells), dtype=np.int64)
    probe = shapely.point_on_surface(cells)
    pi, gi = shapely.STRtree(grids).query(probe, predicate="intersects")
    order = np.lexsort((gi, pi))
    first = np.unique(pi[order], return_index=True)[1]
    out[pi[order][first]] = gi[order][first]
    nbrs, _ = graph.neighbours()
    for _ in range(len(cells)):
        missing = np.flatnonzero(out < 0)
        if len(missing) == 0:
            break
        for c in missing.tolist():
            near = [int(out[u]) for u in nbrs[c] if out[u] >= 0]
            if near:
                out[c] = max(set(near), key=near.count)
        if (out[missing] < 0).all():
            out[missing] = 0  # an island with no grid around: the first grid
    return out
