"""Generate a synthetic Bijiang-scale district, or a province-like set of them, deterministically.

A district is a lattice of about 40 communities (社区) in several sub-districts (街道), drawn
in metres in CGCS2000 / 3-degree Gauss–Krüger CM 108°E (EPSG:4545) near Bijiang, Tongren.
Arterial streets run along most community edges (some edges are walls or streams, no street);
local streets cut each community into street blocks; each block is filled with urban-village
houses (自建房), walk-up slabs, mid-rise slabs or high-rise towers, in walled compounds (小区)
that neither overlap nor cross a street, with open ground, schools and markets. At full size a
district has ~35,000 buildings, ~400,000 households and ~1,000,000 persons; a few towers hold
more than 500 households and a few small communities fewer than 300. **Nothing in it is real**.

``python -m geodata.make_district --out DIR [--districts N] [--seed S] [--scale F]`` writes one
folder per district (``<district code>/district.gpkg`` in EPSG:4490 plus ``households.csv``,
``persons.csv`` and ``staff.csv`` with the sample's Chinese headers). The output depends only on
the arguments.
"""

from __future__ import annotations

import argparse
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geodata.make_sample import (
    HOUSEHOLD_HEADERS,
    PERSON_HEADERS,
    STAFF_HEADERS,
    BuildingType,
)
from geodata.population import (
    PersonStream,
    floating_areas,
    make_households,
    make_staff,
)

__all__ = [
    "SEED",
    "DISTRICT_CRS",
    "FILE_CRS",
    "LAYERS",
    "District",
    "district_codes",
    "make_district",
    "make_districts",
    "write_district",
    "main",
]

logger = logging.getLogger(__name__)

SEED = 520602
DISTRICT_CRS = "EPSG:4545"
FILE_CRS = "EPSG:4490"
LAYERS = ("communities", "compounds", "streets", "buildings")
CODE_YEAR = 2023
ORIGIN = (613500.0, 3063000.0)  # south-west corner of the first district (EPSG:4545, ~109.17°E)
ROTATION_DEG = 8.0
COLUMNS, ROWS = 8, 5  # community lattice of a full district
CELL = (920.0, 800.0)  # mean community size (m) at scale 1
SUBDISTRICT_COLUMNS = 2  # lattice columns per sub-district (街道)
SMALL_COMMUNITIES = 3  # corner communities under 300 households
SMALL_SIDE = 170.0  # side of a small corner community (m)
STREETLESS_EDGE_SHARE = 0.2  # community edges along a wall or a stream instead of a street
LOCAL_STREET_SPACING = 330.0  # m between local streets inside a community
SETBACK = 10.0  # building or compound wall to street centre line, m
STRIP_GAP = 8.0  # lane between two compounds of one block, m
COMPOUND_MARGIN = 3.0  # compound wall outside its buildings, m
BIG_TOWERS = 9  # towers over 500 households per full district
MIXED_SHARE = 0.08  # residential slabs with shops on the ground floor
PREFECTURES = {"5206": "铜仁市", "5201": "贵阳市", "5202": "六盘水市", "5203": "遵义市",
               "5204": "安顺市", "5205": "毕节市", "5223": "黔西南州", "5226": "黔东南州",
               "5227": "黔南州"}  # fmt: skip


@dataclass(frozen=True)
class Style(BuildingType):
    """How a block piece is built: the building type, and how pieces are cut and used."""

    strip: float  # length of one compound along the block, m
    compound_p: float  # chance a piece is a walled compound
    open_p: float  # chance a piece is left open (park, hillside, sports ground)


STYLES = {
    "village": Style((2, 5), (1, 1), (1, 2), 11.0, 10.0, 5.5, 5.0, 130.0, 0.0, 0.12),
    "old": Style((5, 7), (2, 4), (2,), 13.0, 11.0, 14.0, 8.0, 110.0, 0.8, 0.3),
    "mid": Style((9, 18), (1, 3), (2, 3, 4), 17.0, 14.0, 24.0, 12.0, 150.0, 0.9, 0.35),
    "high": Style((24, 33), (1, 2), (4,), 22.0, 20.0, 36.0, 20.0, 180.0, 1.0, 0.45),
}
STYLE_MIX = {"village": 0.43, "old": 0.27, "mid": 0.16, "high": 0.14}
PUBLIC_P = 0.07  # pieces holding a school, market or service centre

_SUBDISTRICTS = ("市中", "环北", "河西", "灯塔", "川硐", "桐木坪", "寨桂", "白岩", "金滩", "滑石")
_STEMS_A = tuple("东西南北中新金银锦桃龙凤玉清")
_STEMS_B = ("门", "关", "湖", "山", "园", "江", "坪", "坝", "岩", "滩", "桥", "塘", "岭", "湾")
_STREET_STEMS = ("环城", "东太平", "南长城", "人民", "中南门", "清水塘", "中山", "民主", "解放",
                 "新华", "锦江", "梵净山", "滨江", "金滩", "灯塔", "川硐", "河西", "桐木坪",
                 "寨桂", "北关", "西门", "东关", "龙井", "茶店", "白岩", "桃源", "凤凰", "铜岩",
                 "谢桥", "正光", "马岩", "坪茶", "漾头", "瓦屋", "玉屏", "石竹", "官庄",
                 "黄腊")  # fmt: skip
_STREET_KINDS = ("路", "街", "大道", "巷")
_COMPOUND_SUFFIX = ("花园", "小区", "宿舍", "苑", "新村", "家园", "公寓")
_PUBLIC = (("小学", "public", 4), ("幼儿园", "public", 3), ("农贸市场", "commercial", 2),
           ("社区服务中心", "public", 3), ("卫生院", "public", 5))  # fmt: skip


@dataclass
class District:
    """A generated district: layers in EPSG:4545 (canonical columns) and its rosters.

    ``buildings`` keeps ``per_floor`` (dwellings per floor and unit) for the households; it is
    not written. ``persons()`` streams the persons in batches (see
    :class:`geodata.population.PersonStream`).
    """

    code: str
    name: str
    communities: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    households: pd.DataFrame
    staff: pd.DataFrame
    person_stream: PersonStream = field(repr=False)

    def persons(self) -> Iterator[pd.DataFrame]:
        """Persons, household by household, in batches."""
        return iter(self.person_stream)

    def layers(self, crs: str = FILE_CRS) -> dict[str, gpd.GeoDataFrame]:
        """The four map layers in ``crs`` (buildings without ``per_floor``)."""
        frames = {"communities": self.communities, "compounds": self.compounds,
                  "streets": self.streets,
                  "buildings": self.buildings.drop(columns="per_floor")}  # fmt: skip
        return {k: v.to_crs(crs) for k, v in frames.items()}

    def summary(self) -> dict[str, int]:
        """Counts of communities, sub-districts, streets, compounds, buildings, households…"""
        return {
            "communities": len(self.communities),
            "subdistricts": int(self.communities["subdistrict"].nunique()),
            "streets": len(self.streets),
            "compounds": len(self.compounds),
            "buildings": len(self.buildings),
            "households": len(self.households),
            "persons": len(self.person_stream),
        }


# --------------------------------------------------------------------------- codes


def district_codes(n: int) -> list[str]:
    """``n`` distinct 6-digit county codes, Bijiang (520602) first, then illustrative ones."""
    codes = [f"{p}{c:02d}" for p in PREFECTURES for c in range(2, 100)]
    if n > len(codes):
        raise ValueError(f"At most {len(codes)} districts can be generated, not {n}.")
    return codes[:n]


def _district_name(code: str) -> str:
    county = "碧江区" if code == "520602" else f"第{code[4:]}区"
    return PREFECTURES[code[:4]] + county


# --------------------------------------------------------------------------- lattice


def _lattice(
    rng: np.random.Generator, columns: int, rows: int, scale: float
) -> tuple[np.ndarray, list[shapely.LineString], list[tuple[str, int, int]]]:
    """Jittered lattice nodes and the bent edges between them (``(axis, i, j)`` keys)."""
    w = CELL[0] * scale * rng.uniform(0.75, 1.3, columns)
    h = CELL[1] * scale * rng.uniform(0.75, 1.3, rows)
    xs, ys = np.r_[0, np.cumsum(w)], np.r_[0, np.cumsum(h)]
    jit = 0.06 * min(CELL) * scale
    nodes = np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1)
    nodes = nodes + rng.uniform(-jit, jit, nodes.shape)
    edges, keys = [], []
    for axis, (di, dj) in (("h", (1, 0)), ("v", (0, 1))):
        for i in range(columns + 1 - di):
            for j in range(rows + 1 - dj):
                a, b = nodes[i, j], nodes[i + di, j + dj]
                t = np.array([1 / 3, 2 / 3])[:, None]
                normal = np.array([a[1] - b[1], b[0] - a[0]]) / np.hypot(*(b - a))
                mid = a + t * (b - a) + rng.uniform(-0.4, 0.4, (2, 1)) * jit * normal
                edges.append(shapely.LineString([a, *mid, b]))
                keys.append((axis, i, j))
    return nodes, edges, keys


def _communities(
    rng: np.random.Generator, edges: list, columns: int, rows: int, small: int
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Community polygons (lattice cells; ``small`` cells give up a corner) and their cells.

    The corner cuts are noded with the lattice edges and everything is polygonized at once, so
    neighbours share their vertices exactly (no slivers, no overlaps).
    """
    cells = shapely.get_parts(shapely.polygonize(edges))
    centre = shapely.centroid(cells)
    cells = cells[np.lexsort((shapely.get_x(centre), -shapely.get_y(centre)))]
    pos = [(int(k % columns), int(rows - 1 - k // columns)) for k in range(len(cells))]
    chosen = rng.choice(len(cells), min(small, len(cells)), replace=False)
    cuts = []
    for k in chosen:
        ring = shapely.get_coordinates(cells[k].exterior)
        corner = ring[np.argmin(ring.sum(axis=1))]  # the south-west corner
        square = shapely.box(*(corner - 1e3), *(corner + SMALL_SIDE))
        cuts.append(shapely.intersection(square.boundary, cells[k].buffer(0.5)))
    noded = shapely.union_all([*edges, *cuts])
    polygons = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    cell_of = shapely.STRtree(cells).query(shapely.point_on_surface(polygons), predicate="within")
    home = np.empty(len(polygons), int)
    home[cell_of[0]] = cell_of[1]
    parent = np.full(len(polygons), -1)
    for k in chosen:  # the smaller polygon of a cut cell is the small community
        mine = np.flatnonzero(home == k)
        parent[mine[np.argmin(shapely.area(polygons[mine]))]] = k
    order = np.lexsort((home, parent >= 0))  # lattice order, the small ones last
    return polygons[order], parent[order], [pos[home[k]] for k in order]


def _arterials(rng: np.random.Generator, edges: list, keys: list) -> list[shapely.Geometry]:
    """Arterial streets: runs of kept lattice edges along each lattice line, merged."""
    keep = rng.random(len(edges)) >= STREETLESS_EDGE_SHARE
    lines: list[shapely.Geometry] = []
    by_line: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for k, (axis, i, j) in enumerate(keys):
        by_line.setdefault((axis, j if axis == "h" else i), []).append((i if axis == "h" else j, k))
    for _, members in sorted(by_line.items()):
        run: list[shapely.LineString] = []
        for _, k in sorted(members) + [(None, -1)]:
            if k >= 0 and keep[k]:
                run.append(edges[k])
                continue
            if run:
                lines.append(shapely.line_merge(shapely.union_all(run)))
            run = []
    return lines


def _local_streets(rng: np.random.Generator, community: shapely.Polygon) -> list:
    """Local streets from boundary to boundary across a community, about 330 m apart."""
    x0, y0, x1, y1 = community.bounds
    out = []
    for axis, (a0, a1, b0, b1) in (("x", (x0, x1, y0, y1)), ("y", (y0, y1, x0, x1))):
        n = max(0, round((a1 - a0) / LOCAL_STREET_SPACING) - 1)
        for k in range(1, n + 1):
            at = a0 + (a1 - a0) * k / (n + 1) + rng.uniform(-25, 25)
            ends = np.array(
                [[at + rng.uniform(-15, 15), b0 - 50], [at + rng.uniform(-15, 15), b1 + 50]]
            )
            line = shapely.LineString(ends if axis == "x" else ends[:, ::-1])
            # Half a metre past the boundary, so the street nodes with it despite rounding.
            piece = shapely.intersection(line, community.buffer(0.5))
            out += [p for p in shapely.get_parts(piece) if p.length > 50]
    return out


# --------------------------------------------------------------------------- buildings


@dataclass
class _Piece:
    """A part of a street block given one use: buildings of a style, public, or open."""

    polygon: shapely.Polygon
    use: str  # a style name, "public" or "open"
    compound: bool
    community: int
    street: str


def _pieces(
    rng: np.random.Generator, block: shapely.Polygon, style: str, community: int, street: str
) -> list[_Piece]:
    """Cut a block's buildable area into a grid of pieces (compounds, open ground, public)."""
    inner = block.buffer(-SETBACK)
    if inner.is_empty or inner.area < 400:
        return []
    spec = STYLES[style]
    x0, y0, x1, y1 = inner.bounds
    nx = max(1, round((x1 - x0) / spec.strip))
    ny = max(1, round((y1 - y0) / spec.strip))
    xs, ys = np.linspace(x0, x1, nx + 1), np.linspace(y0, y1, ny + 1)
    half = STRIP_GAP / 2
    out = []
    for i in range(nx):
        for j in range(ny):
            cut = shapely.box(xs[i] + (half if i else -1), ys[j] + (half if j else -1),
                              xs[i + 1] - (half if i < nx - 1 else -1),
                              ys[j + 1] - (half if j < ny - 1 else -1))  # fmt: skip
            poly = shapely.intersection(inner, cut)
            poly = max(shapely.get_parts(poly), key=shapely.area, default=None)
            if poly is None or poly.area < 200:
                continue
            draw = rng.random()
            use = (
                "open"
                if draw < spec.open_p
                else "public"
                if draw < spec.open_p + PUBLIC_P
                else style
            )
            compound = use == style and rng.random() < spec.compound_p
            out.append(_Piece(poly, use, compound, community, street))
    return out


def _fill(rng: np.random.Generator, piece: _Piece) -> dict[str, np.ndarray]:
    """Footprints of one piece row by row (north to south), kept where wholly inside it."""
    spec = STYLES[piece.use]
    area = piece.polygon.buffer(-COMPOUND_MARGIN) if piece.compound else piece.polygon
    if area.is_empty:
        return {}
    x0, y0, x1, y1 = area.bounds
    rows = []
    y_top = y1 - rng.uniform(0, spec.row_gap / 2)
    while y_top - spec.depth >= y0:
        x = x0 + rng.uniform(0, spec.col_gap)
        while True:
            units = int(rng.integers(spec.units[0], spec.units[1] + 1))
            length = units * spec.unit_width * rng.uniform(0.9, 1.1)
            if x + length > x1:
                break
            rows.append((x, y_top - spec.depth, x + length, y_top, units))
            x += length + spec.col_gap * rng.uniform(0.8, 1.4)
        y_top -= spec.depth + spec.row_gap * rng.uniform(0.9, 1.2)
    if not rows:
        return {}
    b = np.asarray(rows)
    boxes = shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3])
    shapely.prepare(area)
    inside = shapely.contains(area, boxes)
    n = int(inside.sum())
    return {
        "geometry": boxes[inside],
        "units": b[inside, 4].astype(int),
        "floors": rng.integers(spec.floors[0], spec.floors[1] + 1, n),
        "per_floor": rng.choice(spec.per_floor, n),
        "kind": np.where(
            (piece.use != "village") & (rng.random(n) < MIXED_SHARE), "mixed", "residential"
        ),
    }


def _public(rng: np.random.Generator, piece: _Piece) -> dict[str, np.ndarray]:
    """One to three schools, markets or service centres (no dwellings) in a piece."""
    x0, y0, x1, y1 = piece.polygon.bounds
    picks = rng.choice(len(_PUBLIC), int(rng.integers(1, 4)), replace=False)
    boxes, rows = [], []
    x = x0 + 4
    for p in picks:
        w, d = rng.uniform(30, 70), rng.uniform(18, 36)
        boxes.append(shapely.box(x, y1 - 4 - d, x + w, y1 - 4))
        rows.append(p)
        x += w + 10
    box_array = np.asarray(boxes)
    inside = shapely.contains(piece.polygon, box_array)
    picked = np.asarray(rows)[inside]
    return {
        "geometry": box_array[inside],
        "units": np.ones(len(picked), int),
        "floors": np.asarray([_PUBLIC[p][2] for p in picked], int),
        "per_floor": np.zeros(len(picked), int),
        "kind": np.asarray([_PUBLIC[p][1] for p in picked], object),
        "name_suffix": np.asarray([_PUBLIC[p][0] for p in picked], object),
    }


# --------------------------------------------------------------------------- assembly


def make_district(
    seed: int = SEED,
    *,
    index: int = 0,
    code: str | None = None,
    columns: int = COLUMNS,
    rows: int = ROWS,
    scale: float = 1.0,
    small: int = SMALL_COMMUNITIES,
    offset: tuple[float, float] = (0.0, 0.0),
    exclude_codes: frozenset[str] = frozenset(),
) -> District:
    """Generate one district (layers in EPSG:4545; persons streamed on demand).

    Parameters
    ----------
    seed, index : int
        The district's generator is seeded with ``(seed, index)``.
    code : str, optional
        6-digit county code (default: ``district_codes(index + 1)[-1]``).
    columns, rows : int
        Community lattice (8 × 5 = 40 communities, plus ``small`` corner communities).
    scale : float
        Side length of a community relative to full size (0.3 gives ~1/10 of the buildings).
    small : int
        Lattice cells that give up a corner to a community of fewer than 300 households.
    offset : (float, float)
        Metres east and north of :data:`ORIGIN` for the district's south-west corner.
    exclude_codes : frozenset of str
        District codes of the set, kept out of the floating people's home areas.
    """
    code = code or district_codes(index + 1)[-1]
    rng = np.random.default_rng([seed, index])
    nodes, edges, keys = _lattice(rng, columns, rows, scale)
    polygons, parent, where = _communities(rng, edges, columns, rows, small)
    communities = _community_frame(rng, code, polygons, where)
    streets = _street_frame(rng, code, _arterials(rng, edges, keys), polygons)
    buildings, compounds = _buildings(rng, code, communities, streets, parent)
    frames = [communities, compounds, streets, buildings]
    origin = (ORIGIN[0] + offset[0], ORIGIN[1] + offset[1])
    communities, compounds, streets, buildings = (_place(f, origin) for f in frames)
    households = make_households(buildings, code, rng)
    per_community = buildings.groupby("community_code")["households"].sum()
    staff = make_staff(per_community, code, rng)
    people = PersonStream(households, code, floating_areas(index, set(exclude_codes) | {code}),
                          seed)  # fmt: skip
    return District(code, _district_name(code), communities, compounds, streets, buildings,
                    households, staff, people)  # fmt: skip


def _place(frame: gpd.GeoDataFrame, origin: tuple[float, float]) -> gpd.GeoDataFrame:
    """Rotate by :data:`ROTATION_DEG` about the lattice origin, then move to ``origin``."""
    a = math.radians(ROTATION_DEG)
    turn = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    moved = shapely.transform(
        np.asarray(frame.geometry.values), lambda xy: xy @ turn + np.asarray(origin)
    )
    # Millimetres, shared vertices stay shared; rounded, not set_precision, which would attach
    # a precision model that later overlays snap to (and pickling drops).
    moved = shapely.transform(moved, lambda xy: np.round(xy, 3))
    return frame.set_geometry(gpd.GeoSeries(moved, index=frame.index, crs=DISTRICT_CRS))


def _names(rng: np.random.Generator, stems_a, stems_b, n: int, suffix: str) -> list[str]:
    pool = [f"{a}{b}{suffix}" for a in stems_a for b in stems_b]
    picks = rng.choice(len(pool), n, replace=n > len(pool))
    return [pool[p] for p in picks]


def _community_frame(
    rng: np.random.Generator, code: str, polygons: np.ndarray, where: list[tuple[int, int]]
) -> gpd.GeoDataFrame:
    """Codes: district + sub-district (001-099, by lattice columns) + community (001-199)."""
    sub = np.asarray([w[0] // SUBDISTRICT_COLUMNS for w in where])
    seq = np.zeros(len(polygons), int)
    for s in np.unique(sub):
        members = np.flatnonzero(sub == s)
        seq[members] = np.arange(1, len(members) + 1)
    n_sub = int(sub.max()) + 1
    sub_names = [f"{_SUBDISTRICTS[k % len(_SUBDISTRICTS)]}街道" for k in range(n_sub)]
    return gpd.GeoDataFrame(
        {
            "community_code": [f"{code}{s + 1:03d}{q:03d}" for s, q in zip(sub, seq, strict=True)],
            "name": _names(rng, _STEMS_A, _STEMS_B, len(polygons), "社区"),
            "subdistrict": [sub_names[s] for s in sub],
            "code_year": CODE_YEAR,
        },
        geometry=list(polygons),
        crs=DISTRICT_CRS,
    )


def _street_frame(
    rng: np.random.Generator, code: str, arterials: list, polygons: np.ndarray
) -> gpd.GeoDataFrame:
    """Arterials and every community's local streets, named, ids ``DL`` + code + 4 digits."""
    local = [s for poly in polygons for s in _local_streets(rng, poly)]
    lines = arterials + local
    kinds = [
        "大道" if k < len(arterials) and rng.random() < 0.3 else "路" for k in range(len(lines))
    ]
    names = _names(rng, _STREET_STEMS, [""], len(lines), "")
    seen: dict[str, int] = {}
    out = []
    for name, kind in zip(names, kinds, strict=True):
        kind = kind if name + kind not in seen else _STREET_KINDS[seen[name + kind] % 4]
        label = name + kind
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}{seen[label]}号支路")
    return gpd.GeoDataFrame(
        {"street_id": [f"DL{code}{k:04d}" for k in range(1, len(lines) + 1)], "name": out},
        geometry=lines,
        crs=DISTRICT_CRS,
    )


def _buildings(
    rng: np.random.Generator,
    code: str,
    communities: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    parent: np.ndarray,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Buildings and compounds of every community (blocks, pieces, fills, names, codes)."""
    tree = shapely.STRtree(streets.geometry.values)
    names = streets["name"].to_numpy()
    parts: list[dict[str, Any]] = []
    compound_rows: list[tuple[shapely.Polygon, int, str]] = []
    base = np.asarray(list(STYLE_MIX.values()))
    for c, poly in enumerate(communities.geometry.values):
        if parent[c] >= 0:  # small corner community: a few old walk-ups
            pieces = [_Piece(poly.buffer(-SETBACK), "old", False, c, _nearest(tree, names, poly))]
            parts += _small(rng, pieces[0])
            continue
        mix = dict(zip(STYLE_MIX, rng.dirichlet(base * 30), strict=True))
        lines = streets.geometry.values[tree.query(poly, predicate="intersects")]
        blocks = shapely.get_parts(
            shapely.polygonize(shapely.get_parts(shapely.union_all([poly.boundary, *lines])))
        )
        blocks = blocks[shapely.contains_properly(poly.buffer(1e-6), blocks)]
        for block, style in zip(blocks, _styles(rng, mix, len(blocks)), strict=True):
            street = _nearest(tree, names, block)
            for piece in _pieces(rng, block, style, c, street):
                part = _public(rng, piece) if piece.use == "public" else (
                    {} if piece.use == "open" else _fill(rng, piece))  # fmt: skip
                if not part or not len(part["geometry"]):
                    continue
                part["compound"] = np.full(
                    len(part["geometry"]), len(compound_rows) if piece.compound else -1
                )
                part["community"] = np.full(len(part["geometry"]), c)
                part["street"] = np.full(len(part["geometry"]), piece.street, object)
                parts.append(part)
                if piece.compound:
                    compound_rows.append((piece.polygon, c, piece.street))
    frame = _building_frame(rng, parts)
    return _name_buildings(rng, code, frame, compound_rows, communities)


def _styles(rng: np.random.Generator, mix: dict[str, float], n: int) -> list[str]:
    """Styles of ``n`` blocks in proportion to ``mix`` (largest remainders), shuffled."""
    share = np.asarray(list(mix.values())) * n
    count = np.floor(share).astype(int)
    count[np.argsort(count - share)[: n - count.sum()]] += 1
    return [str(s) for s in rng.permutation(np.repeat(list(mix), count))]


def _small(rng: np.random.Generator, piece: _Piece) -> list[dict]:
    """Two to four walk-ups with 150-290 households in all (an infeasible community)."""
    out = _fill(rng, piece) if not piece.polygon.is_empty else {}
    if not out or not len(out["geometry"]):
        return []
    target = int(rng.integers(150, 290))
    n = min(len(out["geometry"]), int(rng.integers(2, 5)))
    out = {k: v[:n] for k, v in out.items()}
    out["floors"] = np.full(n, 6)
    out["per_floor"] = np.full(n, 2)
    out["units"] = np.maximum(1, np.full(n, target // (n * 12)))
    out["kind"] = np.full(n, "residential", dtype=object)
    out["compound"] = np.full(n, -1)
    out["community"] = np.full(n, piece.community)
    out["street"] = np.full(n, piece.street, object)
    return [out]


def _nearest(tree: shapely.STRtree, names: np.ndarray, geom) -> str:
    return str(names[tree.nearest(shapely.point_on_surface(geom))])


def _building_frame(rng: np.random.Generator, parts: list[dict]) -> pd.DataFrame:
    """One row per building; households from storeys, stairwells and flats; the big towers."""
    cols = ("geometry", "units", "floors", "per_floor", "kind", "compound", "community", "street")
    frame = pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in cols})
    frame["name_suffix"] = np.concatenate(
        [p.get("name_suffix", np.full(len(p["geometry"]), None, object)) for p in parts]
    )
    first = np.where(frame["kind"] == "mixed", 1, 0)
    frame["households"] = frame["units"] * frame["per_floor"] * (frame["floors"] - first)
    # The big towers: high-rise slabs re-specified as 33 storeys of 8-10 flats per stairwell.
    towers = np.flatnonzero((frame["floors"] >= 24) & (frame["kind"] == "residential"))
    big = max(1, round(BIG_TOWERS * len(frame) / 35_000)) if len(towers) else 0
    pick: np.ndarray | list[int] = (
        rng.choice(towers, min(big, len(towers)), replace=False) if big else []
    )
    frame.loc[pick, ["floors", "units"]] = (33, 2)
    frame.loc[pick, "per_floor"] = rng.integers(8, 11, len(pick))
    frame.loc[pick, "households"] = 66 * frame.loc[pick, "per_floor"]
    return frame


def _name_buildings(
    rng: np.random.Generator,
    code: str,
    frame: pd.DataFrame,
    compound_rows: list,
    communities: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Ids, codes, names and addresses; compounds with their ids, names and companies."""
    from geodata.make_sample import PROPERTY_COMPANIES

    prefix = _district_name(code).replace("第", "")
    comm_codes = communities["community_code"].to_numpy()
    n_comp = len(compound_rows)
    comp_names = _names(rng, _STREET_STEMS, _COMPOUND_SUFFIX, n_comp, "")
    comp_ids = [f"XQ{code}{k:04d}" for k in range(1, n_comp + 1)]
    numbers: dict[str, int] = {}
    street_no = []
    for street in [s for _, _, s in compound_rows]:
        numbers[street] = numbers.get(street, -1) + 2
        street_no.append(numbers[street])
    frame = frame.sort_values(["community", "compound"], kind="stable").reset_index(drop=True)
    frame["building_id"] = [f"B{code}{k:06d}" for k in range(1, len(frame) + 1)]
    seq = frame.groupby("community").cumcount() + 1
    frame["community_code"] = comm_codes[frame["community"]]
    frame["code"] = frame["community_code"] + seq.map("{:04d}".format)
    in_comp = frame["compound"].to_numpy() >= 0
    k_in = frame.groupby("compound").cumcount() + 1
    names, addresses = [], []
    for i, (comp, street, suffix) in enumerate(
        zip(frame["compound"], frame["street"], frame["name_suffix"], strict=True)
    ):
        if comp >= 0:
            names.append(f"{comp_names[comp]}{k_in[i]}栋")
            addresses.append(f"{prefix}{street}{street_no[comp]}号{names[-1]}")
            continue
        numbers[street] = numbers.get(street, -1) + 2
        addresses.append(f"{prefix}{street}{numbers[street]}号")
        names.append(f"{street}{suffix}" if suffix else f"{street}{numbers[street]}号")
    frame["name"], frame["address"] = names, addresses
    frame["compound_id"] = np.where(
        in_comp, np.asarray(comp_ids + [None], object)[frame["compound"]], None
    )
    columns = ["building_id", "code", "name", "address", "kind", "floors", "units", "per_floor",
               "households", "compound_id", "community_code", "geometry"]  # fmt: skip
    buildings = gpd.GeoDataFrame(frame[columns], geometry="geometry", crs=DISTRICT_CRS)
    compounds = gpd.GeoDataFrame(
        {
            "compound_id": comp_ids,
            "name": comp_names,
            "community_code": [comm_codes[c] for _, c, _ in compound_rows],
            "property_company": [PROPERTY_COMPANIES[int(k)] for k in rng.integers(0, 5, n_comp)],
            "address": [
                f"{prefix}{s}{street_no[k]}号" for k, (_, _, s) in enumerate(compound_rows)
            ],
        },
        geometry=[p for p, _, _ in compound_rows],
        crs=DISTRICT_CRS,
    )
    return buildings, compounds


# --------------------------------------------------------------------------- sets and files


def make_districts(n: int, seed: int = SEED, **kwargs: object) -> Iterator[District]:
    """``n`` districts with distinct codes, side by side in rows (one generated at a time)."""
    codes = district_codes(n)
    per_row = math.ceil(math.sqrt(n))
    scale = float(kwargs.get("scale", 1.0))  # type: ignore[arg-type]
    columns, rows = int(kwargs.get("columns", COLUMNS)), int(kwargs.get("rows", ROWS))  # type: ignore[call-overload]
    pitch = (columns * CELL[0] * 1.45 * scale + 600, rows * CELL[1] * 1.45 * scale + 600)
    for k, code in enumerate(codes):
        offset = ((k % per_row) * pitch[0], -(k // per_row) * pitch[1])
        yield make_district(seed, index=k, code=code, offset=offset,
                            exclude_codes=frozenset(codes), **kwargs)  # type: ignore[arg-type]  # fmt: skip


def write_district(district: District, directory: Path, *, persons: bool = True) -> list[Path]:
    """Write ``district.gpkg`` (EPSG:4490) and the rosters (UTF-8 with BOM, Chinese headers)."""
    directory.mkdir(parents=True, exist_ok=True)
    gpkg = directory / "district.gpkg"
    gpkg.unlink(missing_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2024-06-30T00:00:00.000Z"})
    for layer, frame in district.layers().items():
        pyogrio.write_dataframe(frame, gpkg, layer=layer, driver="GPKG")
    households = district.households[list(HOUSEHOLD_HEADERS.keys() - {"lon", "lat"})]
    households = households[[c for c in HOUSEHOLD_HEADERS if c in households]]
    paths = [gpkg, directory / "households.csv", directory / "staff.csv"]
    households.rename(columns=HOUSEHOLD_HEADERS).to_csv(paths[1], index=False, encoding="utf-8-sig")
    district.staff.rename(columns=STAFF_HEADERS).to_csv(paths[2], index=False, encoding="utf-8-sig")
    if persons:
        paths.append(directory / "persons.csv")
        with paths[-1].open("w", encoding="utf-8-sig", newline="") as out:
            for k, batch in enumerate(district.persons()):
                batch.rename(columns=PERSON_HEADERS).to_csv(out, index=False, header=k == 0)
    return paths


def main(argv: list[str] | None = None) -> None:
    """Write ``--districts`` generated districts under ``--out``, one folder per district code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--districts", type=int, default=1)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--scale", type=float, default=1.0, help="community side, 1 = full size")
    parser.add_argument(
        "--lattice", default=f"{COLUMNS}x{ROWS}", help="communities, columns x rows"
    )
    parser.add_argument("--no-persons", action="store_true", help="skip persons.csv")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    columns, rows = (int(v) for v in args.lattice.lower().split("x"))
    kwargs = {"scale": args.scale, "columns": columns, "rows": rows}
    for district in make_districts(args.districts, args.seed, **kwargs):
        folder = args.out / district.code
        write_district(district, folder, persons=not args.no_persons)
        counts = ", ".join(f"{v:,} {k}" for k, v in district.summary().items())
        logger.info("%s %s → %s: %s", district.code, district.name, folder, counts)


if __name__ == "__main__":
    main()
