"""Cells that tile a community: street blocks split into building Voronoi cells.

The community is cut along street centrelines and compound walls into *blocks*
(``shapely.polygonize``); each block is split into one *cell* per building (the Voronoi
region of the building's footprint vertices and representative point, clipped to the block).
A block without buildings (open ground, e.g. between compound walls) is split between the
buildings of the blocks around it, into empty cells
(:func:`gridmap.geometry.units.open_ground_units` plans them as one unit until balance needs them
apart). The cells of one block share their edges exactly; across block edges each cell gets the
vertices of the cells on the other side, so the *faces* share exact vertices and grids dissolved
from them tile the community without gaps or overlaps (where that does not give a clean
coverage, all cell boundaries are noded together and polygonised again).

Everything here works in a projected CRS (metres).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

__all__ = ["Tessellation", "tessellate", "representative_points"]

_NO_COMPOUND = ""
# Footprint vertices closer than this to another kept vertex are dropped (metres).
_VERTEX_SPACING = 0.5
# Outline seeds of the footprint Voronoi diagrams are this far apart at most (metres).
_SEED_STEP = 5.0
# Open ground: boundary samples this far apart bound the reach of the nearest buildings (m).
_REACH_STEP = 5.0
# Open ground next to at most this many seeds is split without bounding their reach.
_REACH_KEEP = 64
# Open ground: grid points this far apart (m) bound the reach of each seed more finely.
_SAMPLE_STEP = 12.0
# Cells without a building and smaller than this (m²) are noding slivers: they hold no face.
_SLIVER_AREA = 1e-4
# A footprint vertex this much nearer another building's point than its own (metres) lies
# outside its point cell whatever the rounding.
_CLEARLY = 1e-3
# Block-edge vertices of neighbouring cells closer than this are one node (metres).
_NODE_TOLERANCE = 1e-6


@dataclass
class Tessellation:
    """Cells and exactly-noded faces of one community (projected CRS).

    Attributes
    ----------
    community : BaseGeometry
        The community boundary (Polygon or MultiPolygon).
    blocks : np.ndarray
        Street/compound blocks (Polygons) tiling the community.
    cells : np.ndarray
        Cell polygons (for display and measures; dissolve ``faces`` for exact unions).
    cell_block : np.ndarray
        Block index of each cell.
    cell_households : np.ndarray
        Households of each cell (sum over its buildings).
    cell_compound : np.ndarray
        Compound id of each cell (``""`` outside compounds).
    building_cell : np.ndarray
        Cell of each building row, ``-1`` for buildings outside the community
        (:attr:`cell_building_counts` and :attr:`cell_buildings` are read from it).
    faces : np.ndarray
        Exactly noded polygons; every face lies in one cell.
    face_cell : np.ndarray
        Cell index of each face.
    streets : BaseGeometry | None
        Street centrelines clipped to the community.
    walls : BaseGeometry | None
        Compound boundaries clipped to the community.
    """

    community: BaseGeometry
    blocks: np.ndarray
    cells: np.ndarray
    cell_block: np.ndarray
    cell_households: np.ndarray
    cell_compound: np.ndarray
    building_cell: np.ndarray
    faces: np.ndarray
    face_cell: np.ndarray
    streets: BaseGeometry | None
    walls: BaseGeometry | None

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return len(self.cells)

    @cached_property
    def cell_building_counts(self) -> np.ndarray:
        """Number of buildings of each cell."""
        return np.bincount(self.building_cell[self.building_cell >= 0], minlength=self.n_cells)

    @cached_property
    def cell_buildings(self) -> list[np.ndarray]:
        """Row positions (into the buildings frame) of the buildings of each cell."""
        return _invert(self.building_cell, self.n_cells)

    def totals(self, labels: np.ndarray, keys: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Households and buildings of the cells carrying each label of ``keys`` (``labels``:
        one integer label per cell, as for :meth:`dissolve`)."""
        at = np.asarray(keys, dtype=np.int64)
        size = int(at.max()) + 1 if len(at) else 0
        households = np.bincount(labels, self.cell_households, minlength=size)[at]
        buildings = np.bincount(labels, self.cell_building_counts, minlength=size)[at]
        return households.astype(np.int64), buildings.astype(np.int64)

    def dissolve(self, labels: np.ndarray) -> dict[int, BaseGeometry]:
        """Union the faces of the cells carrying each label (``labels`` is per cell).

        Parameters
        ----------
        labels : np.ndarray
            One integer label per cell.

        Returns
        -------
        dict[int, BaseGeometry]
            Label to its dissolved (Multi)Polygon.
        """
        face_labels = np.asarray(labels)[self.face_cell]
        out: dict[int, BaseGeometry] = {}
        for label in np.unique(face_labels):
            parts = self.faces[face_labels == label]
            out[int(label)] = shapely.coverage_union_all(parts)
        return out


def representative_points(geoms: np.ndarray) -> np.ndarray:
    """Points as they are, a point on the surface of anything else."""
    geoms = np.asarray(geoms)
    is_point = shapely.get_type_id(geoms) == 0
    out = geoms.copy()
    if (~is_point).any():
        out[~is_point] = shapely.point_on_surface(geoms[~is_point])
    return out


def tessellate(
    community: BaseGeometry,
    building_geoms: np.ndarray,
    households: np.ndarray,
    *,
    compound_ids: np.ndarray | None = None,
    streets: np.ndarray | None = None,
    compounds: np.ndarray | None = None,
    compound_polygon_ids: np.ndarray | None = None,
) -> Tessellation:
    """Split a community into blocks and building cells.

    Parameters
    ----------
    community : BaseGeometry
        Community boundary (Polygon or MultiPolygon), projected CRS.
    building_geoms : np.ndarray
        Building footprints or points, same CRS.
    households : np.ndarray
        Household count of each building.
    compound_ids : np.ndarray, optional
        Compound id per building (``""``/None for none); filled from ``compounds`` where missing.
    streets : np.ndarray, optional
        Street centrelines (lines).
    compounds : np.ndarray, optional
        Compound polygons; their boundaries cut blocks like streets do.
    compound_polygon_ids : np.ndarray, optional
        Compound id of each polygon in ``compounds``.

    Returns
    -------
    Tessellation

    Examples
    --------
    >>> import numpy as np, shapely
    >>> street = shapely.LineString([(50, -5), (50, 105)])
    >>> pts = np.array(shapely.points([[20, 50], [80, 50]]))
    >>> t = tessellate(shapely.box(0, 0, 100, 100), pts, np.array([10, 20]),
    ...                streets=np.array([street]))
    >>> t.n_cells, len(t.blocks), round(sum(shapely.area(t.faces)))
    (2, 2, 10000)
    >>> [a.tolist() for a in t.totals(np.array([0, 0]), [0])]  # households, buildings
    [[30], [2]]
    """
    community = shapely.make_valid(community) if not shapely.is_valid(community) else community
    street_lines = _clip_lines(streets, community)
    if compounds is not None and len(compounds):
        street_blocks = _blocks(community, _raw_lines(streets, street_lines), None)
        compounds = _walls_round_buildings(np.asarray(compounds), building_geoms, street_blocks)
    wall_lines = _clip_lines(
        shapely.boundary(compounds) if compounds is not None and len(compounds) else None, community
    )
    # Node the unclipped lines with the boundary: a clipped end is not exactly on the boundary,
    # and polygonize would drop that piece of street as a dangle.
    raw_walls = shapely.boundary(compounds) if compounds is not None and len(compounds) else None
    blocks = _blocks(
        community,
        _raw_lines(streets, street_lines),
        _raw_lines(raw_walls, wall_lines),
    )
    points = representative_points(building_geoms)
    block_of = _locate(points, blocks)
    households = np.asarray(households, dtype=np.int64)

    cells, cell_block, owners = _cells(blocks, building_geoms, points, block_of)
    building_cell = _building_cells(points, block_of, owners, len(building_geoms))
    cell_households = np.zeros(len(cells), dtype=np.int64)
    placed = building_cell >= 0
    np.add.at(cell_households, building_cell[placed], households[placed])
    faces, face_cell = _faces(cells, community)
    cell_compound = _cell_compounds(
        cells, building_cell, compound_ids, compounds, compound_polygon_ids
    )
    return Tessellation(
        community=community,
        blocks=blocks,
        cells=cells,
        cell_block=cell_block,
        cell_households=cell_households,
        cell_compound=cell_compound,
        building_cell=building_cell,
        faces=faces,
        face_cell=face_cell,
        streets=street_lines,
        walls=wall_lines,
    )


def _walls_round_buildings(
    compounds: np.ndarray, building_geoms: np.ndarray, street_blocks: np.ndarray
) -> np.ndarray:
    """Compound outlines moved round the footprints they cross.

    A compound drawn across a building takes in the footprint (up to the streets around it)
    of a building whose representative point it holds and leaves out the footprint of any
    other, so a wall never cuts a building (a street still may).
    """
    geoms = np.asarray(building_geoms)
    polys = np.flatnonzero(shapely.get_type_id(geoms) != 0)
    if len(polys) == 0:
        return compounds
    fps = geoms[polys]
    ci, bi = shapely.STRtree(fps).query(shapely.boundary(compounds), predicate="crosses")
    if len(ci) == 0:
        return compounds
    out = compounds.copy()
    points = representative_points(fps[bi])
    inside = shapely.contains(compounds[ci], points)
    where = _locate(points, street_blocks)
    within = np.array(fps[bi], dtype=object)
    found = where >= 0
    within[found] = shapely.intersection(within[found], street_blocks[where[found]])
    for c in np.unique(ci).tolist():
        mine = ci == c
        add = within[mine & inside]
        cut = fps[bi[mine & ~inside]]
        geom = out[c]
        if len(add):
            geom = shapely.union(geom, shapely.union_all(add))
        if len(cut):
            geom = shapely.difference(geom, shapely.union_all(cut))
        parts = shapely.get_parts(geom)
        parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        if len(parts):
            out[c] = parts[0] if len(parts) == 1 else shapely.multipolygons(parts)
    return out


def _clip_lines(lines: np.ndarray | None, community: BaseGeometry) -> BaseGeometry | None:
    if lines is None or len(lines) == 0:
        return None
    lines = np.asarray(lines)
    lines = lines[~shapely.is_empty(lines) & ~shapely.is_missing(lines)]
    clipped = shapely.intersection(shapely.union_all(lines), community)
    parts = shapely.get_parts(clipped)
    parts = parts[np.isin(shapely.get_type_id(parts), (1, 2))]
    return shapely.multilinestrings(parts.tolist()) if len(parts) else None


def _raw_lines(lines: np.ndarray | None, clipped: BaseGeometry | None) -> BaseGeometry | None:
    """The input lines that reach into the community (unclipped), or None."""
    if clipped is None or lines is None:
        return None
    lines = np.asarray(lines)
    lines = lines[~shapely.is_empty(lines) & ~shapely.is_missing(lines)]
    lines = lines[shapely.intersects(lines, clipped)]
    return shapely.union_all(lines) if len(lines) else None


def _blocks(
    community: BaseGeometry, streets: BaseGeometry | None, walls: BaseGeometry | None
) -> np.ndarray:
    lines = [shapely.boundary(community)]
    lines += [g for g in (streets, walls) if g is not None]
    noded = shapely.union_all(lines)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inside = shapely.contains_properly(community, shapely.point_on_surface(faces))
    return faces[inside & (shapely.area(faces) > 0)]


def _locate(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the polygon holding each point (first one on shared edges), -1 if none."""
    out = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0 or len(polygons) == 0:
        return out
    tree = shapely.STRtree(polygons)
    pi, gi = tree.query(points, predicate="intersects")
    order = np.lexsort((gi, pi))
    pi, gi = pi[order], gi[order]
    first = np.unique(pi, return_index=True)[1]
    out[pi[first]] = gi[first]
    return out


def _seed_points(
    geoms: np.ndarray, points: np.ndarray, idx: np.ndarray, step: float | None = _SEED_STEP
) -> tuple:
    """Coordinates (with owner building) seeding the Voronoi cells of buildings ``idx``.

    The points, and the outlines of footprints segmentized every ``step`` m (their corners
    only for ``None``).
    """
    rep = shapely.get_coordinates(points[idx])
    owner = [idx]
    coords = [rep]
    is_rep = [np.ones(len(idx), dtype=bool)]
    polys = shapely.get_type_id(geoms[idx]) != 0
    if polys.any():
        outline = shapely.get_exterior_ring(_largest(geoms[idx][polys]))
        rings = outline if step is None else shapely.segmentize(outline, step)
        ring_xy, ring_i = shapely.get_coordinates(rings, return_index=True)
        coords.append(ring_xy)
        owner.append(idx[polys][ring_i])
        is_rep.append(np.zeros(len(ring_xy), dtype=bool))
    xy = np.concatenate(coords)
    own = np.concatenate(owner)
    rep_flag = np.concatenate(is_rep)
    # Exact duplicates (shared walls, stacked points) go to the first building listing them.
    _, first = np.unique(_grid_keys(xy), return_index=True)
    first.sort()
    return xy[first], own[first], rep_flag[first]


def _grid_keys(xy: np.ndarray) -> np.ndarray:
    """One integer per ``_VERTEX_SPACING`` grid square of each point (equal for equal squares)."""
    cell = np.round(xy / _VERTEX_SPACING).astype(np.int64)
    if len(cell) == 0:
        return np.zeros(0, dtype=np.int64)
    cell -= cell.min(axis=0)
    return cell[:, 0] * (int(cell[:, 1].max()) + 1) + cell[:, 1]


def _largest(geoms: np.ndarray) -> np.ndarray:
    out = geoms.copy()
    multi = shapely.get_type_id(geoms) == 6
    for i in np.flatnonzero(multi):
        parts = shapely.get_parts(geoms[i])
        out[i] = parts[np.argmax(shapely.area(parts))]
    return out


def _cells(
    blocks: np.ndarray, geoms: np.ndarray, points: np.ndarray, block_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell polygons, their block, and the owning building row (-1 for empty blocks)."""
    by_block = _invert(block_of, len(blocks))
    tree = shapely.STRtree(blocks)
    per_block: list[tuple[list, list[int]]] = []
    for b, block in enumerate(blocks):
        idx = by_block[b]
        if len(idx):
            per_block.append(_block_cells(block, geoms, points, idx))
            continue
        near = tree.query(block, predicate="intersects")
        idx = np.concatenate([by_block[n] for n in near.tolist() if n != b] or [np.array([], int)])
        pieces = _empty_pieces(block, np.unique(idx.astype(np.int64)), geoms, points)
        per_block.append((pieces, [-1] * len(pieces)))
    cells = [c for cs, _ in per_block for c in cs]
    owners = [o for _, os_ in per_block for o in os_]
    cell_block = [b for b, (cs, _) in enumerate(per_block) for _ in cs]
    cells_arr = np.array(cells, dtype=object)
    keep = ~shapely.is_empty(cells_arr) & (shapely.area(cells_arr) > 0)
    return _explode(cells_arr[keep], np.array(cell_block)[keep], np.array(owners)[keep], points)


def _block_cells(block, geoms: np.ndarray, points: np.ndarray, idx: np.ndarray):
    """Cells of one block holding the buildings ``idx``, and the owning building of each."""
    quick = _point_cells(block, geoms[idx], points[idx])
    if quick is not None:
        return list(quick), idx.tolist()
    xy, own, rep = _seed_points(geoms, points, idx)
    keep = rep | shapely.contains_xy(block, xy[:, 0], xy[:, 1])
    xy, own = xy[keep], own[keep]
    uniq = np.unique(own)
    if len(uniq) == 1:
        return [block], [int(uniq[0])]
    vor = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=block, ordered=True)
    )
    regions, owner_arr = _union_by_owner(vor, own)
    regions = _clip(regions, block)
    cells = _claim_footprints(regions, geoms[owner_arr], points[owner_arr], block)
    return cells, owner_arr.tolist()


def _clip(regions: np.ndarray, block) -> np.ndarray:
    """The regions clipped to the block; those well inside it as they are (no overlay)."""
    shapely.prepare(block)
    out = np.array(regions, dtype=object)
    cut = ~shapely.contains_properly(block, out)
    out[cut] = shapely.intersection(out[cut], block)
    return out


def _union_by_owner(parts: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The coverage union of the ``parts`` of each owner (in owner order), and the owners.

    One call for all owners of several parts; an owner's only part is kept as it is.
    """
    order = np.argsort(owner, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(owner[order]) != 0])
    sizes = np.diff(np.r_[starts, len(order)])
    out = np.array(parts[order[starts]], dtype=object)
    several = np.flatnonzero(sizes > 1)
    if len(several):
        group = np.repeat(np.arange(len(starts)), sizes)
        rank = np.full(len(starts), -1)
        rank[several] = np.arange(len(several))
        pick = rank[group] >= 0
        bundles = shapely.multipolygons(parts[order[pick]], indices=rank[group[pick]])
        out[several] = shapely.coverage_union_all(np.asarray(bundles)[:, None], axis=1)
    return out, owner[order[starts]]


def _point_cells(block, footprints: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """Voronoi cells of the buildings' points clipped to the block, if each holds its footprint.

    In most blocks of detached houses the point diagram already gives every building a cell
    round its whole footprint; then the diagram of the footprint outlines (many more seeds,
    one union per building, a footprint claim) would only move cell edges about in the open
    ground between them. None when two points coincide or any footprint crosses a cell edge
    or the block outline (a terrace, a tower beside small houses, a building across a street):
    those blocks get the outline diagram. A footprint corner nearer another building's point
    (:func:`_nearer_to_another`) says so before the diagram is built: on the scale-1 district
    that is every one of the 387 blocks (of 653) whose point diagram would be thrown away.
    """
    if len(points) < 2:
        return None
    xy = shapely.get_coordinates(points)
    key = _grid_keys(xy)
    if len(np.unique(key)) < len(key):
        return None
    polys = shapely.get_type_id(footprints) != 0
    if polys.any() and _nearer_to_another(xy, footprints[polys], np.flatnonzero(polys)):
        return None
    vor = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=block, ordered=True)
    )
    if len(vor) != len(xy):
        return None
    regions = _clip(vor, block)
    if polys.any() and not shapely.covers(regions[polys], footprints[polys]).all():
        return None
    return np.asarray(regions, dtype=object)


def _nearer_to_another(xy: np.ndarray, footprints: np.ndarray, owner: np.ndarray) -> bool:
    """Whether a vertex of a footprint is clearly nearer another point than its building's own.

    Such a vertex lies outside the point Voronoi region of its building by more than
    ``_CLEARLY / 2``, far beyond the diagram's rounding: the region cannot cover the footprint,
    so the diagram need not be built to find that out.
    """
    vxy, which = shapely.get_coordinates(footprints, return_index=True)
    near, _ = cKDTree(xy).query(vxy)
    own = np.hypot(*(vxy - xy[owner[which]]).T)
    return bool((near < own - _CLEARLY).any())


def _claim_footprints(
    regions: np.ndarray, footprints: np.ndarray, points: np.ndarray, block
) -> list:
    """Give each building's cell its whole footprint (within the block).

    Voronoi regions of footprint vertices split the ground between buildings, but where
    buildings touch (terraces, perimeter blocks) a region boundary can run through a
    footprint. Each cell becomes its region minus every footprint, plus its own footprint,
    so a grid line between cells never cuts a building that no street crosses. Where
    footprints overlap, the overlap goes to the building whose point lies in it; a footprint
    holding another building's point is left to the Voronoi split, so every building's point
    stays in its own cell.
    """
    polys = np.flatnonzero(shapely.get_type_id(footprints) != 0)
    if len(polys) == 0:
        return list(regions)
    own = shapely.intersection(footprints[polys], block)
    tree = shapely.STRtree(own)
    a, b = tree.query(own, predicate="intersects")
    pair = a < b
    a, b = a[pair], b[pair]
    inter = shapely.intersection(own[a], own[b])
    for i, j, piece in zip(a.tolist(), b.tolist(), inter, strict=True):
        if shapely.area(piece) > 0:  # overlapping footprints: the one whose point it holds
            loser = i if shapely.intersects(piece, points[polys[j]]) else j
            own[loser] = shapely.difference(own[loser], piece)
    clash = np.zeros(len(polys), dtype=bool)
    pi, oi = tree.query(points, predicate="intersects")
    clash[oi[polys[oi] != pi]] = True
    polys, own = polys[~clash], own[~clash]
    if len(polys) == 0:
        return list(regions)
    out = np.asarray(regions, dtype=object).copy()
    hit, covers, alone = _covers(out, own, polys)
    # A region that reaches only its own footprint and covers it stays as it is (minus the
    # footprint plus the footprint): most regions of the outline diagram, two overlays each.
    same = np.zeros(len(out), dtype=bool)
    same[hit[alone]] = shapely.covers(out[hit[alone]], covers[alone])
    change = ~same[hit]
    out[hit[change]] = shapely.difference(out[hit[change]], covers[change])
    change = ~same[polys]
    out[polys[change]] = shapely.union(out[polys[change]], own[change])
    return list(out)


def _covers(
    regions: np.ndarray, own: np.ndarray, owner: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regions overlapping a footprint, the union of the footprints each overlaps, and
    whether that is only the footprint of the region's own building (``owner``: the region of
    each footprint).

    Only the few footprints a region reaches are joined (one union of every footprint of
    the block made this step quadratic in a block of hundreds of houses).
    """
    ri, fi = shapely.STRtree(own).query(regions, predicate="intersects")
    inside = ~shapely.touches(regions[ri], own[fi])
    ri, fi = ri[inside], fi[inside]
    order = np.argsort(ri, kind="stable")
    ri, fi = ri[order], fi[order]
    starts = np.flatnonzero(np.r_[True, np.diff(ri) > 0]) if len(ri) else np.array([], int)
    groups = np.split(fi, starts[1:])
    covers = np.array(
        [own[g[0]] if len(g) == 1 else shapely.union_all(own[g]) for g in groups], dtype=object
    )
    alone = np.array([len(g) == 1 for g in groups], dtype=bool)
    if len(groups):
        alone &= owner[fi[starts]] == ri[starts]
    return ri[starts], covers, alone


def _empty_pieces(block, idx: np.ndarray, geoms, points) -> list:
    """A block without buildings split by the nearest of the buildings ``idx`` around it.

    The open ground between compounds (the part of a street block outside every compound
    wall) is one polygon without buildings. As one cell it would be a hub that only one grid
    can hold, so the compounds it separates could only reach each other (or the street)
    through that single grid. Split by the nearest neighbouring building, each compound
    building gets its own strip of open ground, and grids can meet anywhere along it.
    ``idx`` are the buildings of the blocks around it, seeded by their points and outline
    corners; only the seeds that can be the nearest to some point of the block enter the
    diagram (:func:`_within_reach` and :func:`_near_samples`: next to a village block of 300
    houses, all their segmentized outlines made this step cost more than the cells of all
    buildings).
    """
    if len(idx) < 2:
        return [block]
    xy, own, _rep = _seed_points(geoms, points, idx, step=None)
    near = _within_reach(block, xy)
    xy, own = xy[near], own[near]
    if len(np.unique(own)) < 2:
        return [block]
    vor = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=block, ordered=True)
    )
    # Node the block outline with the Voronoi edges once (no per-piece overlay): pieces then
    # share exact vertices with each other and with the block, and no near-duplicate vertex
    # makes a grid ring self-intersect after reprojection.
    hit = shapely.intersects(vor, block)
    vor, own = vor[hit], own[hit]
    vor, own = _union_by_owner(vor, own)
    # The region edges run on past the block outline (clipped to its bounds grown by 1 m): cut
    # at the outline, their ends would not lie exactly on it, and polygonize would drop each
    # such edge as a dangle, merging the regions either side.
    x0, y0, x1, y1 = shapely.bounds(block)
    edges = shapely.clip_by_rect(
        shapely.union_all(shapely.boundary(vor)), x0 - 1.0, y0 - 1.0, x1 + 1.0, y1 + 1.0
    )
    noded = shapely.union_all([shapely.boundary(block), edges])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.area(faces) > _SLIVER_AREA]
    probe = shapely.point_on_surface(faces)
    faces = faces[shapely.contains_properly(block, probe)]
    if len(faces) < 2:
        return [block]
    where = _locate(shapely.point_on_surface(faces), vor)
    owner = np.where(where >= 0, own[np.maximum(where, 0)], -1)
    return list(_union_by_owner(faces, owner)[0])


def _within_reach(block, xy: np.ndarray) -> np.ndarray:
    """Which seeds ``xy`` can be the nearest seed to some point of ``block``.

    Every point of the block lies within ``r`` (a bound on the largest inscribed circle) of
    the boundary, so within ``r + _REACH_STEP / 2`` of a boundary sample; the nearest seed of
    a sample is at most ``R`` away (the largest such distance). A seed farther than
    ``R + r + _REACH_STEP / 2`` from the block is nobody's nearest: leaving it out changes no
    piece.
    """
    if len(xy) <= _REACH_KEEP:
        return np.ones(len(xy), dtype=bool)
    ring = shapely.segmentize(shapely.boundary(block), _REACH_STEP)
    dist, _ = cKDTree(xy).query(shapely.get_coordinates(ring))
    x0, y0, x1, y1 = shapely.bounds(block)
    inradius = min(np.sqrt(shapely.area(block) / np.pi), (x1 - x0) / 2, (y1 - y0) / 2)
    reach = float(np.max(dist)) + inradius + _REACH_STEP / 2 + _VERTEX_SPACING
    # Only seeds within the block's bounds grown by the reach can be that close to it.
    box = (xy[:, 0] >= x0 - reach) & (xy[:, 0] <= x1 + reach)
    box &= (xy[:, 1] >= y0 - reach) & (xy[:, 1] <= y1 + reach)
    out = np.zeros(len(xy), dtype=bool)
    shapely.prepare(block)
    out[box] = shapely.dwithin(shapely.points(xy[box]), block, reach)
    kept = np.flatnonzero(out)
    out[kept[~_near_samples(block, xy[kept])]] = False
    return out


def _near_samples(block, xy: np.ndarray) -> np.ndarray:
    """Which seeds ``xy`` can be the nearest seed to some point of ``block``: a finer test.

    Every point ``x`` of the block lies within ``ρ = _SAMPLE_STEP / √2`` of a point ``g`` of
    a square grid, and its nearest seed is at most ``d(g) + ρ`` from it (``d(g)``: the
    distance from ``g`` to its nearest seed), so at most ``d(g) + 2ρ`` from ``g``. A seed
    farther than that from every grid point near the block is nobody's nearest. Next to
    large open ground the bound of :func:`_within_reach` (one radius for the whole block)
    kept ten times the seeds this one keeps.
    """
    if len(xy) <= _REACH_KEEP:
        return np.ones(len(xy), dtype=bool)
    h = _SAMPLE_STEP
    rho = h / np.sqrt(2)
    x0, y0, x1, y1 = shapely.bounds(block)
    gx, gy = np.meshgrid(np.arange(x0 - h / 2, x1 + h, h), np.arange(y0 - h / 2, y1 + h, h))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    # quad_segs=2: the chords stay within 0.08 of the radius 2ρ, so all within ρ are in
    near = shapely.buffer(block, 2 * rho, quad_segs=2)
    shapely.prepare(near)
    grid = grid[shapely.contains_xy(near, grid[:, 0], grid[:, 1])]
    if len(grid) == 0:
        return np.ones(len(xy), dtype=bool)
    tree = cKDTree(xy)
    dist, _ = tree.query(grid)
    found = tree.query_ball_point(grid, np.asarray(dist) + 2 * rho + _VERTEX_SPACING)
    keep = np.zeros(len(xy), dtype=bool)
    keep[np.concatenate(found).astype(np.int64)] = True
    return keep


def _explode(cells, cell_block, owners, points):
    """Split multi-part cells: the part holding the building keeps it, the rest are empty cells."""
    parts, idx = shapely.get_parts(cells, return_index=True)
    area = shapely.area(parts)
    keep = area > _SLIVER_AREA
    lost = np.setdiff1d(np.flatnonzero(owners >= 0), idx[keep])  # a building's only cell
    for c in lost.tolist():
        rows = np.flatnonzero(idx == c)
        keep[rows[np.argmax(area[rows])]] = area[rows].max() > 0
    parts, idx = parts[keep], idx[keep]
    if not (np.bincount(idx, minlength=len(cells)) > 1).any():
        return parts, cell_block[idx], owners[idx]
    own = owners[idx].copy()
    multi = np.bincount(idx, minlength=len(cells))[idx] > 1
    for c in np.unique(idx[multi]).tolist():
        rows = np.flatnonzero(idx == c)
        if owners[c] < 0:
            continue
        hit = shapely.intersects(parts[rows], points[owners[c]])
        main = rows[np.argmax(hit)] if hit.any() else rows[np.argmax(shapely.area(parts[rows]))]
        own[rows[rows != main]] = -1
    return parts, cell_block[idx], own


def _building_cells(
    points: np.ndarray, block_of: np.ndarray, owners: np.ndarray, n: int
) -> np.ndarray:
    out = np.full(n, -1, dtype=np.int64)
    owned = owners >= 0
    out[owners[owned]] = np.flatnonzero(owned)
    # Buildings that own no cell (same point as another building): the cell holding their point.
    orphans = np.flatnonzero((out < 0) & (block_of >= 0))
    return out if len(orphans) == 0 else _adopt(out, orphans, points, owners)


def _adopt(
    out: np.ndarray, orphans: np.ndarray, points: np.ndarray, owners: np.ndarray
) -> np.ndarray:
    owner_rows = owners[owners >= 0]
    tree = shapely.STRtree(points[owner_rows])
    nearest = tree.query_nearest(points[orphans], return_distance=False)
    out[orphans[nearest[0]]] = out[owner_rows[nearest[1]]]
    return out


def _invert(assign: np.ndarray, n: int) -> list[np.ndarray]:
    """Rows per group for an assignment array (negative = unassigned)."""
    rows = np.flatnonzero(assign >= 0)
    order = rows[np.argsort(assign[rows], kind="stable")]
    bounds = np.searchsorted(assign[order], np.arange(n + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(n)]


def _faces(cells: np.ndarray, community: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Exactly noded faces of the cells and the cell of each face.

    The cells of one block already share their edges vertex for vertex; across a street or a
    wall the cells either side only lack each other's vertices on the shared block edge.
    :func:`_matched_faces` adds those (one face per cell); where that does not give a clean
    coverage (a gap left by a dropped sliver, an overlap), :func:`_noded_faces` nodes every
    cell boundary together.
    """
    matched = _matched_faces(cells, community)
    return matched if matched is not None else _noded_faces(cells, community)


def _matched_faces(
    cells: np.ndarray, community: BaseGeometry
) -> tuple[np.ndarray, np.ndarray] | None:
    """The cells themselves with the vertices of the cells across each block edge added.

    Ring segments that no other cell shares lie on block edges (or the community boundary).
    Their end points closer than ``_NODE_TOLERANCE`` are merged into one, then every such end
    point lying on another such segment is inserted into it, so the cells either side of a
    street share each segment exactly. None unless the result is a coverage whose unshared
    segments all lie on the community boundary and whose faces are valid.
    """
    if len(cells) == 0 or (shapely.get_type_id(cells) != 3).any():
        return None
    _, xy, (ring_off, poly_off) = shapely.to_ragged_array(cells)
    si, count = _ring_segments(xy, ring_off)
    once = si[count == 1]
    if len(once):
        xy, ring_off = _snap_ends(xy, ring_off, _unique_xy(xy, once))
        if (np.diff(ring_off) < 4).any():
            return None
        si, count = _ring_segments(xy, ring_off)
        once = si[count == 1]
        xy, ring_off = _insert_ends(xy, ring_off, once, _unique_xy(xy, once))
        si, count = _ring_segments(xy, ring_off)
    if (count > 2).any():
        return None
    loose = si[count == 1]
    if len(loose):
        mid = shapely.points((xy[loose] + xy[loose + 1]) / 2)
        edge = shapely.boundary(community)
        shapely.prepare(edge)
        if not shapely.dwithin(edge, mid, _NODE_TOLERANCE).all():
            return None
    faces = shapely.from_ragged_array(shapely.GeometryType.POLYGON, xy, (ring_off, poly_off))
    if not shapely.is_valid(faces).all():
        return None
    return faces, np.arange(len(cells))


def _ring_segments(xy: np.ndarray, ring_off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First coordinate of each ring segment, and how many ring segments equal it."""
    start = np.ones(len(xy), dtype=bool)
    start[ring_off[1:] - 1] = False
    si = np.flatnonzero(start)
    _, vid = np.unique(xy[:, 0] + 1j * xy[:, 1], return_inverse=True)
    va, vb = vid[si], vid[si + 1]
    key = np.minimum(va, vb) * (len(xy) + 1) + np.maximum(va, vb)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return si, counts[inverse.ravel()]


def _unique_xy(xy: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Distinct end points of the segments starting at ``seg``."""
    z = np.unique(np.concatenate([xy[seg], xy[seg + 1]]) @ np.array([1, 1j]))
    return np.stack([z.real, z.imag], axis=1)


def _row_keys(xy: np.ndarray) -> np.ndarray:
    xy = np.ascontiguousarray(xy, dtype=np.float64)
    return xy.view(np.dtype((np.void, 16))).ravel()


def _snap_ends(
    xy: np.ndarray, ring_off: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Merge ``ends`` closer than ``_NODE_TOLERANCE`` (everywhere they occur); drop repeats."""
    pts = np.asarray(shapely.points(ends), dtype=object)
    i, j = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=_NODE_TOLERANCE)
    pair = i < j
    i, j = i[pair], j[pair]
    if len(i) == 0:
        return xy, ring_off
    # each end to the lowest end of its cluster (clusters are numbered in that order)
    n = len(ends)
    adj = coo_array((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    cluster = connected_components(adj, directed=False)[1]
    rep = np.unique(cluster, return_index=True)[1][cluster]
    moved = np.flatnonzero(rep != np.arange(len(ends)))
    src = _row_keys(ends[moved])
    order = np.argsort(src)
    src = src[order]
    keys = _row_keys(xy)
    pos = np.minimum(np.searchsorted(src, keys), len(src) - 1)
    hit = src[pos] == keys
    xy = xy.copy()
    xy[hit] = ends[rep[moved[order[pos[hit]]]]]
    repeat = np.zeros(len(xy), dtype=bool)
    repeat[1:] = (xy[1:] == xy[:-1]).all(axis=1)
    repeat[ring_off[:-1]] = False
    if repeat.any():
        ring_of = np.searchsorted(ring_off, np.flatnonzero(repeat), side="right") - 1
        dropped = np.bincount(ring_of, minlength=len(ring_off) - 1)
        ring_off = ring_off - np.concatenate([[0], np.cumsum(dropped)])
        xy = xy[~repeat]
    return xy, ring_off


def _insert_ends(
    xy: np.ndarray, ring_off: np.ndarray, seg: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Insert into each segment starting at ``seg`` the ``ends`` lying on it, in order."""
    a, b = xy[seg], xy[seg + 1]
    lines = np.asarray(shapely.linestrings(np.stack([a, b], axis=1)), dtype=object)
    pi, li = shapely.STRtree(lines).query(
        shapely.points(ends), predicate="dwithin", distance=_NODE_TOLERANCE
    )
    p, pa, pb = ends[pi], a[li], b[li]
    d = pb - pa
    t = ((p - pa) * d).sum(axis=1) / (d * d).sum(axis=1)
    inner = (t > 0) & (t < 1) & ~(p == pa).all(axis=1) & ~(p == pb).all(axis=1)
    pi, li, t = pi[inner], li[inner], t[inner]
    if len(li) == 0:
        return xy, ring_off
    order = np.lexsort((t, li))
    at = seg[li[order]] + 1
    xy = np.insert(xy, at, ends[pi[order]], axis=0)
    ring_of = np.searchsorted(ring_off, at, side="right") - 1
    added = np.bincount(ring_of, minlength=len(ring_off) - 1)
    return xy, ring_off + np.concatenate([[0], np.cumsum(added)])


def _noded_faces(cells: np.ndarray, community: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Node all cell boundaries together and map each resulting face to its cell.

    A face enclosed by cells but outside the community (a hole in it, such as another
    community's enclave) is dropped.
    """
    noded = shapely.union_all(shapely.boundary(cells))
    # The noded lines go to polygonize as one geometry: splitting them into single lines first
    # made a Python object per line (same faces, in the same order).
    faces = shapely.get_parts(shapely.polygonize([noded]))
    faces = faces[shapely.area(faces) > 0]
    probe = shapely.point_on_surface(faces)
    face_cell = _locate(probe, cells)
    hole = (face_cell < 0) & ~shapely.intersects(community, probe)
    faces, probe, face_cell = faces[~hole], probe[~hole], face_cell[~hole]
    missing = face_cell < 0
    if missing.any():  # slivers from noding: nearest cell
        tree = shapely.STRtree(cells)
        near = tree.query_nearest(probe[missing], return_distance=False)
        face_cell[np.flatnonzero(missing)[near[0]]] = near[1]
    return faces, face_cell


def _cell_compounds(
    cells: np.ndarray,
    building_cell: np.ndarray,
    compound_ids: np.ndarray | None,
    compounds: np.ndarray | None,
    compound_polygon_ids: np.ndarray | None,
) -> np.ndarray:
    out = np.full(len(cells), _NO_COMPOUND, dtype=object)
    if compounds is not None and len(compounds):
        where = _locate(shapely.point_on_surface(cells), np.asarray(compounds))
        ids = np.asarray(compound_polygon_ids, dtype=object)
        out[where >= 0] = ids[where[where >= 0]]
    if compound_ids is not None:  # the compound id of a cell's first building that has one
        ids = np.asarray(compound_ids, dtype=object)
        named = np.array([isinstance(v, str) and v != "" for v in ids.tolist()], dtype=bool)
        rows = np.flatnonzero(named & (building_cell >= 0))
        cell, first = np.unique(building_cell[rows], return_index=True)
        out[cell] = ids[rows[first]]
    return out
