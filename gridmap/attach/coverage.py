"""Do the grids of each community tile it, and do communities keep to their own land?

Grids must cover their community without gaps or overlaps (无缝拼接, CJ/T 349); communities must
not overlap each other. Measured in a projected CRS (:func:`gridmap.crs.projected_crs_for`).
Slivers from digitising are ignored: a piece counts only if its area is at least
``min_area_m2`` and it is wider than ``min_width_m`` somewhere.

Report lines name the record most likely at fault, never every record touching the problem:

* overlapping grids → the fewest grids that explain every overlap (a grid drawn too big overlaps
  all its neighbours; it is named, and the neighbours are named in the detail);
* an uncovered piece of a community → the grid along most of the gap's edge (a grid drawn too
  small is bordered all round by the gap), else the community itself;
* a grid sticking out of its community → that grid;
* overlapping communities → the one whose claim the other's grids and buildings contradict;
  both when nothing tells them apart.

Communities without grids are not checked for tiling (nothing has been drawn yet).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.attach.report import Issue
from gridmap.crs import check_same_crs, projected_crs_for

__all__ = [
    "MIN_AREA_M2",
    "MIN_WIDTH_M",
    "grid_tiling_issues",
    "community_overlaps",
]

MIN_AREA_M2 = 1.0
"""Gaps and overlaps smaller than this (m²) are digitising slivers, not reported."""
MIN_WIDTH_M = 0.5
"""Gaps and overlaps nowhere wider than this (m) are digitising slivers, not reported."""
_TOUCH_M = 0.05  # a grid within this distance of a gap borders it


def grid_tiling_issues(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    min_area_m2: float = MIN_AREA_M2,
    min_width_m: float = MIN_WIDTH_M,
) -> list[Issue]:
    """Report overlapping grids, gaps between grids and grids leaving their community.

    Parameters
    ----------
    grids : GeoDataFrame
        ``grid_code``, ``community_code`` and polygons; grids of unknown communities are only
        checked for overlaps.
    communities : GeoDataFrame
        ``community_code`` and polygons, in the same CRS as ``grids``.
    min_area_m2, min_width_m : float
        Smaller or thinner pieces are ignored (see :data:`MIN_AREA_M2`, :data:`MIN_WIDTH_M`).

    Returns
    -------
    list of Issue
        Reasons ``"grids overlap"``, ``"gap between grids"``, ``"grid outside community"``.
    """
    check_same_crs(grids, communities, names=["grids", "communities"])
    if grids.empty:
        return []
    crs = projected_crs_for(communities if not communities.empty else grids)
    g = grids[["grid_code", "community_code", grids.geometry.name]].to_crs(crs)
    g = g.reset_index(drop=True)
    c = communities.to_crs(crs).drop_duplicates("community_code").set_index("community_code")
    size = (min_area_m2, min_width_m)
    issues = _grid_overlaps(g, size)
    issues += _grids_outside(g, c.geometry, size)
    for code, own in g.groupby("community_code"):
        if code in c.index:
            issues += _gaps(code, c.geometry[code], own, size)
    return issues


def community_overlaps(
    communities: gpd.GeoDataFrame,
    *,
    grids: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    min_area_m2: float = MIN_AREA_M2,
    min_width_m: float = MIN_WIDTH_M,
) -> list[Issue]:
    """Report communities overlapping each other, blaming the one the evidence contradicts.

    The evidence for community A in an overlap is the area there covered by A's grids plus the
    footprint area of buildings whose ``community_code`` is A. The community with less evidence
    is reported; with equal evidence (none at all, say) both are.
    """
    check_same_crs(communities, grids, buildings, names=["communities", "grids", "buildings"])
    if len(communities) < 2:
        return []
    crs = projected_crs_for(communities)
    c = communities[["community_code", communities.geometry.name]].to_crs(crs)
    c = c.reset_index(drop=True)
    geoms = c.geometry.to_numpy()
    a, b = c.sindex.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    overlap = shapely.intersection(geoms[a], geoms[b])
    ok = _significant(overlap, (min_area_m2, min_width_m))
    issues: list[Issue] = []
    for i, j, piece in zip(a[ok], b[ok], overlap[ok], strict=True):
        ci, cj = c["community_code"][i], c["community_code"][j]
        ei, ej = (_evidence(piece, code, grids, buildings, crs) for code in (ci, cj))
        area = float(shapely.area(piece))
        for code, other, mine, theirs in ((ci, cj, ei, ej), (cj, ci, ej, ei)):
            if mine <= theirs:
                held = float(theirs) if theirs > mine else 0.0
                issues.append(Issue.of("community", code, "communities_overlap", other=str(other),
                                       area=area, held=held))  # fmt: skip
    return issues


# --- steps -------------------------------------------------------------------------------------


def _significant(pieces: np.ndarray, size: tuple[float, float]) -> np.ndarray:
    """Pieces of at least ``size[0]`` m² that survive erosion by half of ``size[1]`` m."""
    min_area, min_width = size
    big = shapely.area(pieces) >= min_area
    wide = ~shapely.is_empty(shapely.buffer(pieces, -min_width / 2))
    return big & wide


def _grid_overlaps(g: gpd.GeoDataFrame, size: tuple[float, float]) -> list[Issue]:
    geoms = g.geometry.to_numpy()
    a, b = g.sindex.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    pieces = shapely.intersection(geoms[a], geoms[b])
    area, ok = shapely.area(pieces), _significant(pieces, size)
    edges = pd.DataFrame({"a": a[ok], "b": b[ok], "area": area[ok]})
    codes = g["grid_code"].to_numpy()
    issues = []
    while len(edges):
        both = pd.concat([edges.rename(columns={"a": "node", "b": "other"}),
                          edges.rename(columns={"b": "node", "a": "other"})])  # fmt: skip
        score = both.groupby("node").agg(n=("other", "size"), area=("area", "sum"))
        score["code"] = codes[score.index]
        node = score.sort_values(["n", "area", "code"], ascending=[False, False, True]).index[0]
        mine = both[both["node"] == node].sort_values("other")
        pairs = zip(mine["other"], mine["area"], strict=True)
        others = [(str(codes[o]), float(s)) for o, s in pairs]
        issues.append(Issue.of("grid", codes[node], "grids_overlap", others=others))
        edges = edges[(edges["a"] != node) & (edges["b"] != node)]
    return issues


def _grids_outside(
    g: gpd.GeoDataFrame, communities: gpd.GeoSeries, size: tuple[float, float]
) -> list[Issue]:
    known = g["community_code"].isin(communities.index).to_numpy()
    own = communities.reindex(g["community_code"][known]).to_numpy()
    outside = shapely.difference(g.geometry.to_numpy()[known], own)
    ok = _significant(outside, size)
    codes, comms = g["grid_code"].to_numpy()[known], g["community_code"].to_numpy()[known]
    return [
        Issue.of("grid", code, "grid_outside", area=float(shapely.area(piece)),
                 community_code=str(comm))
        for code, comm, piece in zip(codes[ok], comms[ok], outside[ok], strict=True)
    ]  # fmt: skip


def _gaps(
    community_code: str, community, own: gpd.GeoDataFrame, size: tuple[float, float]
) -> list[Issue]:
    uncovered = shapely.difference(community, shapely.union_all(own.geometry.to_numpy()))
    parts = shapely.get_parts(uncovered)
    parts = parts[_significant(parts, size)] if len(parts) else parts
    issues = []
    codes, geoms = own["grid_code"].to_numpy(), own.geometry.to_numpy()
    for part in parts:
        edge = shapely.boundary(part)
        shared = shapely.length(shapely.intersection(edge, shapely.buffer(geoms, _TOUCH_M)))
        order = np.lexsort((codes, -shared))
        touching = [int(k) for k in order if shared[k] > 0]
        gap = {"area": float(shapely.area(part)), "community_code": str(community_code)}
        if not touching:
            issues.append(Issue.of("community", community_code, "gap", **gap))
            continue
        others = [str(codes[k]) for k in touching[1:]]
        issues.append(Issue.of("grid", codes[touching[0]], "gap", others=others, **gap))
    return issues


def _evidence(piece, code: str, grids, buildings, crs) -> float:
    """Area of ``piece`` held by community ``code``'s grids plus its buildings' footprints."""
    total = 0.0
    for layer in (grids, buildings):
        if layer is None or "community_code" not in layer or layer.empty:
            continue
        own = layer.loc[layer["community_code"] == code]
        own = own.loc[own.geometry.notna() & ~own.geometry.is_empty].to_crs(crs)
        if len(own):
            total += float(shapely.area(shapely.intersection(piece, own.geometry.union_all())))
    return total
