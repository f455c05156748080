"""Synthetic Tongren-style high-rise communities for benchmarks (no real data, no personal data).

A community is an irregular quadrilateral of about 1.2 km × 0.9 km near Bijiang, Tongren
(CGCS2000 / 3-degree GK CM 108°E, EPSG:4545), cut by a jittered net of streets. Buildings are
5–33-floor slabs and point towers of 20–300 households on a jittered lattice set back from the
streets, grouped into walled compounds (小区) of 3–12 buildings; a few schools and markets have
0 households. ``tower=True`` adds one 640-household tower (above a 500 maximum).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

__all__ = ["tongren_community", "CRS"]

CRS = "EPSG:4545"
_ORIGIN = Transformer.from_crs(4326, 4545, always_xy=True).transform(109.19, 27.72)


def tongren_community(
    seed: int = 0,
    *,
    n_buildings: int = 550,
    width: float = 1200.0,
    height: float = 900.0,
    streets: int = 3,
    tower: bool = False,
    code: str = "520602001001",
):
    """Return ``(communities, buildings, streets, compounds)`` GeoDataFrames in EPSG:4545."""
    rng = np.random.default_rng(seed)
    x0, y0 = _ORIGIN
    j = 0.04 * min(width, height)
    corners = [(0, 0), (width, 0), (width, height), (0, height)]
    ring = [(x0 + x + rng.uniform(-j, j), y0 + y + rng.uniform(-j, j)) for x, y in corners]
    community = shapely.Polygon(ring)
    lines = _streets(rng, x0, y0, width, height, streets)
    # Node the whole streets with the boundary (clipped ends would be dangles to polygonize).
    blocks = shapely.get_parts(
        shapely.polygonize(shapely.get_parts(shapely.union_all([community.boundary, *lines])))
    )
    blocks = blocks[shapely.contains(community, shapely.point_on_surface(blocks))]
    buildable = shapely.buffer(blocks, -9.0)
    buildable = buildable[~shapely.is_empty(buildable)]
    pts = _lattice(rng, buildable, n_buildings)
    foot, hh, kind = _buildings(rng, pts, tower)
    bld = gpd.GeoDataFrame(
        {"building_id": [f"B{i:04d}" for i in range(len(foot))], "households": hh, "kind": kind},
        geometry=foot,
        crs=CRS,
    )
    cmp, comp_of = _compounds(rng, bld, buildable)
    bld["compound_id"] = comp_of
    comm = gpd.GeoDataFrame({"community_code": [code]}, geometry=[community], crs=CRS)
    st = gpd.GeoDataFrame(
        {"street_id": [f"S{i}" for i in range(len(lines))]}, geometry=lines, crs=CRS
    )
    return comm, bld, st, cmp


def _streets(rng, x0, y0, w, h, n):
    lines = []
    for i in range(1, n + 1):
        x = x0 + w * i / (n + 1) + rng.uniform(-0.05, 0.05) * w
        lines.append(
            shapely.LineString(
                [(x + rng.uniform(-20, 20), y0 - 80), (x + rng.uniform(-20, 20), y0 + h + 80)]
            )
        )
    for i in range(1, n):
        y = y0 + h * i / n + rng.uniform(-0.05, 0.05) * h
        lines.append(
            shapely.LineString(
                [(x0 - 80, y + rng.uniform(-20, 20)), (x0 + w + 80, y + rng.uniform(-20, 20))]
            )
        )
    return lines


def _lattice(rng, buildable, n):
    area = shapely.area(buildable).sum()
    step = np.sqrt(area / n)
    minx, miny, maxx, maxy = shapely.total_bounds(buildable)
    xs, ys = np.meshgrid(np.arange(minx, maxx, step), np.arange(miny, maxy, step))
    xy = np.column_stack([xs.ravel(), ys.ravel()]) + rng.uniform(-0.2, 0.2, (xs.size, 2)) * step
    union = shapely.union_all(buildable)
    shapely.prepare(union)
    xy = xy[shapely.contains_xy(union, xy[:, 0], xy[:, 1])]
    if len(xy) > n:
        xy = xy[np.sort(rng.choice(len(xy), n, replace=False))]
    return xy, step


def _buildings(rng, pts_step, tower):
    xy, step = pts_step
    n = len(xy)
    kind = rng.choice(["slab", "tower", "low"], n, p=[0.5, 0.2, 0.3])
    floors = np.where(
        kind == "low",
        rng.integers(5, 8, n),
        np.where(kind == "tower", rng.integers(18, 34, n), rng.integers(8, 26, n)),
    )
    per_floor = np.where(kind == "tower", rng.integers(4, 9, n), rng.integers(2, 7, n))
    hh = np.clip(floors * per_floor * rng.uniform(0.6, 1.0, n), 20, 300).astype(int)
    hh = np.where(kind == "low", np.clip(hh // 2, 20, 60), hh)
    public = rng.choice(n, max(2, n // 80), replace=False)
    hh[public] = 0
    kind = kind.astype(object)
    kind[public] = "public"
    if tower:
        hh[n // 2] = 640
        kind[n // 2] = "tower"
    size = np.minimum(step * 0.55, 40.0)
    w = np.where(kind == "tower", size * 0.6, size)
    d = np.where(kind == "tower", size * 0.6, size * 0.35)
    angle = rng.uniform(-0.3, 0.3, n)
    foot = []
    for (x, y), a, b, t in zip(xy, w, d, angle, strict=True):
        box = shapely.box(x - a / 2, y - b / 2, x + a / 2, y + b / 2)
        c, s = np.cos(t), np.sin(t)
        foot.append(
            shapely.affinity.affine_transform(
                box, [c, -s, s, c, x - c * x + s * y, y - s * x - c * y]
            )
        )
    return foot, hh, kind.tolist()


def _compounds(rng, bld, buildable):
    """Walled compounds: a buffer around clusters of 3-12 neighbouring buildings in one block."""
    pts = shapely.centroid(np.asarray(bld.geometry.values))
    tree = shapely.STRtree(buildable)
    block_of = tree.query(pts, predicate="within")
    blk = np.full(len(pts), -1)
    blk[block_of[0]] = block_of[1]
    comp_of = np.array([None] * len(pts), dtype=object)
    polys, ids = [], []
    order = rng.permutation(len(pts))
    for seed_i in order:
        if comp_of[seed_i] is not None or rng.random() > 0.25 or blk[seed_i] < 0:
            continue
        size = int(rng.integers(3, 13))
        same = np.flatnonzero((blk == blk[seed_i]) & np.array([c is None for c in comp_of]))
        d = shapely.distance(pts[seed_i], pts[same])
        members = same[np.argsort(d)[:size]]
        hull = shapely.convex_hull(shapely.union_all(bld.geometry.values[members])).buffer(6.0)
        hull = shapely.intersection(hull, buildable[blk[seed_i]].buffer(8.0))
        if polys:  # walls do not overlap: cut out the compounds drawn before
            hull = shapely.difference(hull, shapely.union_all(polys))
        hull = max(shapely.get_parts(hull), key=shapely.area, default=hull)
        # Only buildings wholly inside the wall belong to the compound.
        inside = np.flatnonzero(shapely.contains(hull, np.asarray(bld.geometry.values)))
        inside = [i for i in inside if comp_of[i] is None]
        if len(inside) < 2:
            continue
        cid = f"C{len(ids):03d}"
        comp_of[inside] = cid
        polys.append(hull)
        ids.append(cid)
    cmp = gpd.GeoDataFrame({"compound_id": ids, "name": ids}, geometry=polys, crs=CRS)
    return cmp, comp_of
