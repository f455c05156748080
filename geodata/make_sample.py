"""Generate the synthetic Bijiang (Tongren) demo sample deterministically.

Run ``python -m geodata.make_sample`` to rewrite ``geodata/sample/``. The layout is drawn in a
local metric frame (metres, x east, y north), rotated and placed in the CGCS2000 3-degree
Gauss-Krüger zone EPSG:4545 near 109.19°E 27.72°N, and written in EPSG:4490 (CGCS2000 lon/lat).

Three adjacent communities share their boundary edges (vertex for vertex), streets run along
block edges, and every building sits inside one block, at least ``SETBACK`` metres from the
street centre lines, so no building crosses a street.
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, box
from shapely.ops import unary_union

from geodata.people import (
    REFERENCE_DATE,
    age_on,
    fake_name,
    fake_phone,
    make_id_number,
)

__all__ = [
    "SEED",
    "SAMPLE_CRS",
    "LOCAL_CRS",
    "HOUSEHOLD_HEADERS",
    "PERSON_HEADERS",
    "STAFF_HEADERS",
    "build_sample",
    "write_sample",
    "main",
]

logger = logging.getLogger(__name__)

SEED = 520602
SAMPLE_CRS = "EPSG:4490"
LOCAL_CRS = "EPSG:4545"
SAMPLE_DIR = Path(__file__).parent / "sample"
# Placement of the local frame: origin (EPSG:4545 metres, ~109.190°E 27.716°N) and rotation.
ORIGIN = (617360.0, 3067536.0)
ROTATION_DEG = 14.0
SETBACK = 12.0  # building edge to street centre line, metres
COMPOUND_MARGIN = 4.0  # compound wall outside the building envelope, metres
HOUSEHOLDS_PER_LIAISON = 20  # 联户长: one per 15-30 households in practice; a setting
HOUSEHOLDS_PER_GRID = 400  # for the expected number of grids when sizing staff
CODE_YEAR = 2023
ADDRESS_PREFIX = "铜仁市碧江区"
ADDRESS_ONLY_SHARE = 0.03  # households given only by address (no building id)
COORDS_ONLY_SHARE = 0.03  # households given only by coordinates

HOUSEHOLD_HEADERS = {
    "household_id": "户号",
    "building_id": "楼栋编号",
    "unit": "单元",
    "floor": "楼层",
    "room": "房号",
    "address": "地址",
    "lon": "经度",
    "lat": "纬度",
    "head_person_id": "户主编号",
    "size": "人数",
}
PERSON_HEADERS = {
    "person_id": "人员编号",
    "household_id": "户号",
    "name": "姓名",
    "id_number": "身份证号",
    "sex": "性别",
    "birth_date": "出生日期",
    "phone": "联系电话",
    "relationship": "与户主关系",
    "population_type": "人口类型",
    "tags": "标签",
}
STAFF_HEADERS = {
    "staff_id": "编号",
    "name": "姓名",
    "role": "角色",
    "phone": "联系电话",
    "community_code": "社区代码",
    "grid_codes": "网格编码",
}

# Streets of the local frame: (name, (x0, y0), (x1, y1)). Community edges run along them.
STREETS = (
    ("环城北路", (0, 540), (1080, 540)),
    ("东太平街", (0, 360), (720, 360)),
    ("南长城路", (0, 180), (720, 180)),
    ("人民路", (720, 220), (1080, 220)),
    ("中南门路", (0, 0), (1080, 0)),
    ("清水塘路", (0, 0), (0, 540)),
    ("中山路", (240, 0), (240, 540)),
    ("民主路", (480, 0), (480, 540)),
    ("解放路", (720, 0), (720, 540)),
    ("新华路", (900, 0), (900, 540)),
    ("锦江大道", (1080, 0), (1080, 540)),
)
STREET_OVERHANG = 40.0  # streets continue this far beyond the sample's outer edge
_NODE_XS = (0, 240, 480, 720, 900, 1080)
_NODE_YS = (0, 180, 220, 360, 540)


@dataclass(frozen=True)
class BlockSpec:
    """One street block: its rectangle, fill style, household budget and compound names."""

    rect: tuple[float, float, float, float]
    style: str  # old | mid | high | tower | civic | school
    target: int
    compounds: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommunitySpec:
    """One community: code, names, rectangle in the local frame and its blocks."""

    code: str
    name: str
    subdistrict: str
    rect: tuple[float, float, float, float]
    blocks: tuple[BlockSpec, ...]


# Communities: (code, name, subdistrict, rectangle in the local frame).
_COMMUNITY_ROWS = (
    ("520602002001", "广场社区", "市中街道", (0, 0, 720, 540)),
    ("520602002002", "南门社区", "市中街道", (720, 220, 1080, 540)),
    ("520602001005", "锦江社区", "环北街道", (720, 0, 1080, 220)),
)
# Street blocks with the code of their community, in the order they are filled.
_BLOCKS = (
    ("520602002001", BlockSpec((0, 360, 240, 540), "old", 480, ("清水塘小区",))),
    ("520602002001", BlockSpec((240, 360, 480, 540), "mid", 540, ("锦绣花园",))),
    ("520602002001", BlockSpec((480, 360, 720, 540), "high", 600, ("梵净山花园",))),
    ("520602002001", BlockSpec((0, 180, 240, 360), "civic", 120)),
    ("520602002001", BlockSpec((240, 180, 480, 360), "mid", 560, ("东太平小区", "金鳌花园"))),
    ("520602002001", BlockSpec((480, 180, 720, 360), "old", 460, ("粮食局宿舍",))),
    ("520602002001", BlockSpec((0, 0, 240, 180), "high", 560, ("南长城花园",))),
    ("520602002001", BlockSpec((240, 0, 480, 180), "old", 500, ("中山小区", "供电局小区"))),
    ("520602002001", BlockSpec((480, 0, 720, 180), "mid", 480, ("民主花园",))),
    ("520602002002", BlockSpec((720, 220, 900, 540), "tower", 950, ("南门国际",))),
    ("520602002002", BlockSpec((900, 220, 1080, 540), "old", 620, ("新华小区",))),
    ("520602001005", BlockSpec((720, 0, 900, 220), "old", 170, ("锦江小区",))),
    ("520602001005", BlockSpec((900, 0, 1080, 220), "school", 40)),
)
COMMUNITIES = tuple(
    CommunitySpec(code, name, subdistrict, rect, tuple(b for c, b in _BLOCKS if c == code))
    for code, name, subdistrict, rect in _COMMUNITY_ROWS
)

PROPERTY_COMPANIES = (
    "铜仁市碧江区宏达物业管理有限公司",
    "贵州万家物业服务有限公司",
    "铜仁梵净物业管理有限公司",
    "铜仁市锦江物业服务有限公司",
    "社区代管（无物业）",
)


@dataclass(frozen=True)
class BuildingType:
    """Buildings laid out in rows: storeys, units (stairwells) and dwellings per floor and unit
    to draw from, the footprint of one unit and the gaps between rows and buildings (m).

    The sample's :class:`Template` and the district generator's ``Style`` extend it.
    """

    floors: tuple[int, int]
    units: tuple[int, int]
    per_floor: tuple[int, ...]
    unit_width: float
    depth: float
    row_gap: float
    col_gap: float


@dataclass(frozen=True)
class Template(BuildingType):
    """A building type used to fill a block row by row."""

    kind: str
    l_shape: float = 0.0  # probability of an L-shaped footprint


TEMPLATES = {
    "old": Template((5, 7), (2, 4), (2,), 14.0, 12.0, 20.0, 10.0, "residential", 0.15),
    "mid": Template((9, 18), (1, 3), (2, 3, 4), 18.0, 15.0, 28.0, 14.0, "residential", 0.25),
    "high": Template((24, 33), (1, 2), (4,), 22.0, 20.0, 36.0, 18.0, "residential"),
    "mixed": Template((5, 7), (1, 2), (2,), 16.0, 14.0, 20.0, 10.0, "mixed"),
}


@dataclass
class _Counters:
    building: int = 0
    compound: int = 0
    street_numbers: dict[str, int] = field(default_factory=dict)

    def next_number(self, street: str) -> int:
        n = self.street_numbers.get(street, -1) + 2
        self.street_numbers[street] = n
        return n


# ---------------------------------------------------------------- geometry helpers


def _rect(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """Rectangle with a vertex at every street node on its edges (so neighbours share vertices)."""
    south = [(x, y0) for x in sorted({x0, x1, *(x for x in _NODE_XS if x0 < x < x1)})]
    east = [(x1, y) for y in sorted({y0, y1, *(y for y in _NODE_YS if y0 < y < y1)})]
    north = [(x, y1) for x in sorted({x0, x1, *(x for x in _NODE_XS if x0 < x < x1)}, reverse=True)]
    west = [(x0, y) for y in sorted({y0, y1, *(y for y in _NODE_YS if y0 < y < y1)}, reverse=True)]
    ring = south + east[1:] + north[1:] + west[1:]
    return Polygon(ring)


def _to_world(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rotate and translate local-frame geometries into EPSG:4545, then transform to EPSG:4490."""
    moved = frame.geometry.map(
        lambda g: affinity.translate(
            affinity.rotate(g, ROTATION_DEG, origin=(0, 0)), ORIGIN[0], ORIGIN[1]
        )
    )
    out = frame.set_geometry(gpd.GeoSeries(moved, index=frame.index, crs=LOCAL_CRS))
    return out.to_crs(SAMPLE_CRS)


def _street_name_north_of(rect: tuple[float, float, float, float]) -> str:
    x0, _, x1, y1 = rect
    for name, (ax, ay), (bx, by) in STREETS:
        if ay == by == y1 and min(ax, bx) <= x0 and max(ax, bx) >= x1:
            return name
    raise ValueError(f"No street along the north edge of block {rect}")


def _footprint(
    x: float, y_top: float, length: float, depth: float, l_wing: float | None
) -> Polygon:
    body = box(x, y_top - depth, x + length, y_top)
    if l_wing is None:
        return body
    wing = box(x, y_top - depth - l_wing, x + depth, y_top)
    merged = unary_union([body, wing])
    assert isinstance(merged, Polygon)  # the wing overlaps the body
    return Polygon(merged.exterior.coords)


# ---------------------------------------------------------------- buildings


def _fill_rows(
    area: tuple[float, float, float, float],
    template: Template,
    budget: int,
    rng: np.random.Generator,
) -> Iterator[dict]:
    """Place ``template`` buildings row by row (north to south, west to east) up to the budget."""
    x0, y0, x1, y1 = area
    y_top, placed = y1, 0
    while placed < budget and y_top - template.depth >= y0:
        x = x0 + rng.uniform(0, template.col_gap)
        while placed < budget:
            units = int(rng.integers(template.units[0], template.units[1] + 1))
            length = units * template.unit_width
            if x + length > x1:
                break
            wing = None
            wing_room = min(template.row_gap - 8.0, y_top - template.depth - y0)
            if rng.random() < template.l_shape and wing_room >= 8.0:
                wing = float(min(rng.uniform(8.0, 14.0), wing_room))
            floors = int(rng.integers(template.floors[0], template.floors[1] + 1))
            per_floor = int(rng.choice(template.per_floor))
            kind = template.kind
            if kind == "residential" and rng.random() < 0.08:
                kind = "mixed"  # shops on the ground floor
            households = units * per_floor * (floors - 1 if kind == "mixed" else floors)
            yield {
                "geometry": _footprint(x, y_top, length, template.depth, wing),
                "kind": kind,
                "floors": floors,
                "units": units,
                "per_floor": per_floor,
                "households": households,
            }
            placed += households
            x += length + template.col_gap + rng.uniform(0, 6)
        y_top -= template.depth + template.row_gap


def _inner(
    rect: tuple[float, float, float, float], margin: float
) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = rect
    return (x0 + margin, y0 + margin, x1 - margin, y1 - margin)


def _compound_areas(block: BlockSpec) -> list[tuple[float, float, float, float]]:
    """Split a block's building envelope into one area per compound (west to east)."""
    x0, y0, x1, y1 = _inner(block.rect, SETBACK)
    n = max(len(block.compounds), 1)
    gap = 2 * COMPOUND_MARGIN + 4.0
    width = (x1 - x0 - gap * (n - 1)) / n
    return [(x0 + i * (width + gap), y0, x0 + i * (width + gap) + width, y1) for i in range(n)]


def _special_buildings(block: BlockSpec, rng: np.random.Generator) -> list[dict]:
    """Schools, markets and service centres (no dwellings) plus street-front mixed buildings."""
    x0, y0, x1, y1 = _inner(block.rect, SETBACK)
    if block.style == "civic":
        specials = [
            ("碧江区第三小学", "public", 4, box(x0, y1 - 30, x0 + 90, y1)),
            ("广场社区服务中心", "public", 3, box(x0 + 110, y1 - 24, x0 + 150, y1)),
            ("广场农贸市场", "commercial", 2, box(x0 + 160, y1 - 40, x1, y1)),
        ]
    else:
        specials = [
            ("锦江幼儿园", "public", 3, box(x0, y1 - 28, x0 + 50, y1)),
            ("锦江菜市场", "commercial", 1, box(x0 + 70, y1 - 36, x0 + 120, y1)),
        ]
    out = [
        {"geometry": g, "kind": k, "floors": f, "units": 1, "per_floor": 0, "households": 0,
         "name": name}
        for name, k, f, g in specials
    ]  # fmt: skip
    lower = (x0, y0, x1, y1 - 60)
    out.extend(_fill_rows(lower, TEMPLATES["mixed"], block.target, rng))
    return out


def _make_block(
    community: CommunitySpec, block: BlockSpec, counters: _Counters, rng: np.random.Generator
) -> tuple[list[dict], list[dict]]:
    """Buildings and compounds of one block."""
    street = _street_name_north_of(block.rect)
    buildings: list[dict] = []
    compounds: list[dict] = []
    if block.style in ("civic", "school"):
        for b in _special_buildings(block, rng):
            number = counters.next_number(street)
            b["address"] = f"{ADDRESS_PREFIX}{street}{number}号"
            b.setdefault("name", f"{street}{number}号商住楼")
            b["compound_id"] = None
            buildings.append(b)
        return buildings, compounds
    areas = _compound_areas(block)
    budget = block.target // len(areas)
    for name, area in zip(block.compounds, areas, strict=True):
        counters.compound += 1
        compound_id = f"XQ{counters.compound:03d}"
        number = counters.next_number(street)
        placed = _compound_buildings(block, area, budget, rng)
        compounds.append(
            {
                "compound_id": compound_id,
                "name": name,
                "community_code": community.code,
                "property_company": PROPERTY_COMPANIES[int(rng.integers(len(PROPERTY_COMPANIES)))]
                if block.style != "old" or rng.random() < 0.5
                else PROPERTY_COMPANIES[-1],
                "address": f"{ADDRESS_PREFIX}{street}{number}号",
                "geometry": box(*_inner(area, -COMPOUND_MARGIN)),
            }
        )
        for k, b in enumerate(placed, start=1):
            b["name"] = f"{name}{k}栋"
            b["address"] = f"{ADDRESS_PREFIX}{street}{number}号{name}{k}栋"
            b["compound_id"] = compound_id
            buildings.append(b)
    return buildings, compounds


def _compound_buildings(
    block: BlockSpec, area: tuple[float, float, float, float], budget: int, rng: np.random.Generator
) -> list[dict]:
    if block.style != "tower":
        return list(_fill_rows(area, TEMPLATES[block.style], budget, rng))
    # The over-max case: one 33-storey slab, 4 stairwells x 4 flats per floor = 528 households.
    x0, y0, x1, y1 = area
    tower = {
        "geometry": box(x0, y1 - 22, x0 + 88, y1),
        "kind": "residential",
        "floors": 33,
        "units": 4,
        "per_floor": 4,
        "households": 528,
    }
    rest = list(_fill_rows((x0, y0, x1, y1 - 22 - 36), TEMPLATES["mid"], budget - 528, rng))
    return [tower, *rest]


def make_buildings(rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Buildings and compounds of all communities, in the local frame."""
    counters = _Counters()
    rows: list[dict] = []
    compounds: list[dict] = []
    for community in COMMUNITIES:
        seq = 0
        for block in community.blocks:
            b_rows, c_rows = _make_block(community, block, counters, rng)
            compounds.extend(c_rows)
            for b in b_rows:
                counters.building += 1
                seq += 1
                b["building_id"] = f"B{counters.building:05d}"
                b["code"] = f"{community.code}{seq:04d}"
                b["community_code"] = community.code
                rows.append(b)
    columns = ["building_id", "code", "name", "address", "kind", "floors", "units", "per_floor",
               "households", "compound_id", "community_code", "geometry"]  # fmt: skip
    buildings = gpd.GeoDataFrame(pd.DataFrame(rows)[columns], geometry="geometry", crs=LOCAL_CRS)
    compound_frame = gpd.GeoDataFrame(pd.DataFrame(compounds), geometry="geometry", crs=LOCAL_CRS)
    return buildings, compound_frame


# ---------------------------------------------------------------- areas and lines


def make_communities() -> gpd.GeoDataFrame:
    """Community boundaries in the local frame, sharing edges vertex for vertex."""
    rows = [
        {"community_code": c.code, "name": c.name, "subdistrict": c.subdistrict,
         "code_year": CODE_YEAR, "geometry": _rect(*c.rect)}
        for c in COMMUNITIES
    ]  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=LOCAL_CRS)


def make_streets() -> gpd.GeoDataFrame:
    """Street centre lines with a vertex at every junction; ends on the sample edge overhang it."""
    rows = []
    for i, (name, a, b) in enumerate(STREETS, start=1):
        (ax, ay), (bx, by) = a, b
        inner = [(x, ay) for x in _NODE_XS if ay == by and ax < x < bx]
        inner += [(ax, y) for y in _NODE_YS if ax == bx and ay < y < by]
        ux = (bx - ax) / math.hypot(bx - ax, by - ay) * STREET_OVERHANG
        uy = (by - ay) / math.hypot(bx - ax, by - ay) * STREET_OVERHANG
        start = (ax - ux, ay - uy) if _on_edge(a) else a
        end = (bx + ux, by + uy) if _on_edge(b) else b
        ends = [start, a] if start != a else [a]
        ends_b = [b, end] if end != b else [b]
        line = LineString([*ends, *sorted(inner), *ends_b])
        rows.append({"street_id": f"S{i:02d}", "name": name, "geometry": line})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=LOCAL_CRS)


def _on_edge(point: tuple[float, float]) -> bool:
    x, y = point
    return x in (_NODE_XS[0], _NODE_XS[-1]) or y in (_NODE_YS[0], _NODE_YS[-1])


def make_grids_existing() -> gpd.GeoDataFrame:
    """The office's hand-drawn grids of 广场社区: one per street block, numbered W→E, N→S."""
    community = COMMUNITIES[0]
    rects = sorted((b.rect for b in community.blocks), key=lambda r: (-r[3], r[0]))
    rows = [
        {"grid_code": f"{community.code}{i:03d}", "community_code": community.code,
         "name": f"{community.name}第{i}网格", "geometry": _rect(*r)}
        for i, r in enumerate(rects, start=1)
    ]  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=LOCAL_CRS)


# ---------------------------------------------------------------- households and persons

_FLOATING_AREAS = ("431202", "500101", "522601", "433101", "520402", "522201")
_SIZE_P = (0.32, 0.31, 0.19, 0.12, 0.06)  # household sizes 1-5, mean ~2.3
_POPULATION_P = {"registered": 0.70, "resident": 0.15, "floating": 0.15}


def make_households(buildings: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per dwelling; a few given only by address or only by coordinates."""
    rows = []
    for b in buildings[buildings["households"] > 0].itertuples():
        first_floor = 2 if b.kind == "mixed" else 1
        for unit in range(1, b.units + 1):
            for floor in range(first_floor, b.floors + 1):
                for door in range(1, b.per_floor + 1):
                    room = f"{floor}{door:02d}"
                    address = f"{b.address}{unit}单元{room}室"
                    rows.append({"building_id": b.building_id, "unit": unit, "floor": floor,
                                 "room": room, "address": address})  # fmt: skip
    frame = pd.DataFrame(rows)
    frame.insert(0, "household_id", [f"H{i:06d}" for i in range(1, len(frame) + 1)])
    frame["size"] = rng.choice(np.arange(1, 6), size=len(frame), p=_SIZE_P)
    frame["population_type"] = rng.choice(
        list(_POPULATION_P), size=len(frame), p=list(_POPULATION_P.values())
    )
    draw = rng.random(len(frame))
    frame["given_by"] = np.where(
        draw < ADDRESS_ONLY_SHARE,
        "address",
        np.where(draw < ADDRESS_ONLY_SHARE + COORDS_ONLY_SHARE, "coords", "building"),
    )
    return frame


def _points_inside(
    footprints: gpd.GeoSeries, rng: np.random.Generator, margin: float = 1.5
) -> list[Point]:
    """One random point per footprint, at least ``margin`` metres inside it."""
    points = []
    for geom in footprints:
        core = geom.buffer(-margin)
        minx, miny, maxx, maxy = core.bounds
        while True:
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if core.contains(p):
                points.append(p)
                break
    return points


def _member_roles(size: int, head_age: int, rng: np.random.Generator) -> list[tuple[str, int]]:
    """(relationship, age) of the members after the head."""
    members: list[tuple[str, int]] = []
    if size >= 2 and rng.random() < 0.85:
        members.append(("配偶", int(np.clip(head_age + rng.integers(-5, 4), 20, 99))))
    while len(members) < size - 1:
        r = rng.random()
        if head_age < 50 and r < 0.25:
            members.append(("父母", min(head_age + int(rng.integers(22, 34)), 99)))
        elif head_age >= 58 and r < 0.45:
            members.append(("孙子女", max(head_age - int(rng.integers(45, 60)), 0)))
        elif head_age >= 22:
            members.append(("子女", max(head_age - int(rng.integers(22, 36)), 0)))
        else:
            members.append(("兄弟姐妹", int(head_age + rng.integers(-3, 4))))
    return members


def _birth_date(age: int, rng: np.random.Generator) -> pd.Timestamp:
    day = (
        pd.Timestamp(REFERENCE_DATE)
        - pd.DateOffset(years=age)
        - pd.Timedelta(days=int(rng.integers(0, 365)))
    )
    return day


def make_persons(households: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Members of every household, head first; ID numbers unique and well formed."""
    rows: list[dict] = []
    used_ids: set[str] = set()
    for h in households.itertuples():
        head_male = rng.random() < 0.6
        head_age = int(np.clip(rng.normal(50, 15), 20, 95))
        if h.size == 1 and rng.random() < 0.4:
            head_age = int(rng.integers(62, 95))  # many one-person households are elderly
        members = [("户主", head_age, head_male)]
        for rel, age in _member_roles(h.size, head_age, rng):
            male = (not head_male) if rel == "配偶" else bool(rng.random() < 0.5)
            members.append((rel, max(age, 0), male))
        surname = fake_name(rng, head_male)[0]
        low_income = rng.random() < 0.025
        area = "520602" if h.population_type != "floating" else str(rng.choice(_FLOATING_AREAS))
        for rel, age, male in members:
            birth = _birth_date(age, rng).date()
            while True:
                id_number = make_id_number(area, birth, int(rng.integers(0, 1000)), male)
                if id_number not in used_ids:
                    used_ids.add(id_number)
                    break
            own_surname = rel in ("户主", "子女", "孙子女", "兄弟姐妹") or (rel == "父母" and male)
            name = fake_name(rng, male, surname if own_surname else None)
            real_age = age_on(birth)
            tags = []
            if real_age >= 80 or (real_age >= 65 and h.size == 1):
                tags.append("elderly")
            if rng.random() < 0.015:
                tags.append("disabled")
            if low_income:
                tags.append("low_income")
            if male and real_age >= 40 and rng.random() < 0.01:
                tags.append("veteran")
            has_phone = real_age >= 16 and rng.random() < 0.95
            rows.append({
                "household_id": h.household_id, "name": name, "id_number": id_number,
                "sex": "男" if male else "女", "birth_date": birth.isoformat(),
                "phone": fake_phone(rng) if has_phone else None, "relationship": rel,
                "population_type": h.population_type, "tags": ";".join(tags) or None,
            })  # fmt: skip
    frame = pd.DataFrame(rows)
    frame.insert(0, "person_id", [f"P{i:06d}" for i in range(1, len(frame) + 1)])
    return frame


def make_staff(
    households: pd.DataFrame,
    buildings: gpd.GeoDataFrame,
    rng: np.random.Generator,
    *,
    households_per_liaison: int = HOUSEHOLDS_PER_LIAISON,
) -> pd.DataFrame:
    """Grid staff per community, sized by its expected number of grids; grid codes left empty."""
    per_community = (
        households.merge(buildings[["building_id", "community_code"]], on="building_id")
        .groupby("community_code")
        .size()
    )
    rows = []
    for community in COMMUNITIES:
        n_households = int(per_community.get(community.code, 0))
        grids = max(1, round(n_households / HOUSEHOLDS_PER_GRID))
        counts = {
            "grid_head": math.ceil(grids / 3),
            "grid_worker": grids,
            "party_leader": grids,
            "assistant": math.ceil(grids / 2),
            "liaison_head": max(1, round(n_households / households_per_liaison)),
        }
        for role, n in counts.items():
            for _ in range(n):
                male = bool(rng.random() < 0.45)
                rows.append({"name": fake_name(rng, male), "role": role,
                             "phone": fake_phone(rng), "community_code": community.code,
                             "grid_codes": None})  # fmt: skip
    frame = pd.DataFrame(rows)
    frame.insert(0, "staff_id", [f"S{i:04d}" for i in range(1, len(frame) + 1)])
    return frame


# ---------------------------------------------------------------- assembly and output


def build_sample(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Build every layer and roster of the sample in memory (canonical columns, EPSG:4490).

    Households carry all of ``building_id``, ``address``, ``lon``/``lat`` and a ``given_by``
    column saying which of them the written roster keeps.
    """
    rng = np.random.default_rng(seed)
    buildings, compounds = make_buildings(rng)
    households = make_households(buildings, rng)
    by_coords = households["given_by"] == "coords"
    footprints = buildings.set_index("building_id").geometry
    pts = _points_inside(footprints.loc[households.loc[by_coords, "building_id"]], rng)
    pts_world = _to_world(gpd.GeoDataFrame(geometry=pts, crs=LOCAL_CRS)).geometry
    households["lon"] = np.nan
    households["lat"] = np.nan
    households.loc[by_coords, "lon"] = np.round(pts_world.x.to_numpy(), 7)
    households.loc[by_coords, "lat"] = np.round(pts_world.y.to_numpy(), 7)
    persons = make_persons(households, rng)
    heads = persons[persons["relationship"] == "户主"].set_index("household_id")["person_id"]
    households["head_person_id"] = households["household_id"].map(heads)
    staff = make_staff(households, buildings, rng)
    return {
        "communities": _to_world(make_communities()),
        "compounds": _to_world(compounds),
        "streets": _to_world(make_streets()),
        "buildings": _to_world(buildings).drop(columns="per_floor"),
        "grids_existing": _to_world(make_grids_existing()),
        "households": households,
        "persons": persons,
        "staff": staff,
    }


def _roster(households: pd.DataFrame) -> pd.DataFrame:
    """The households roster as an office writes it: only the locator each row is given by."""
    out = households.copy()
    out.loc[out["given_by"] != "building", "building_id"] = None
    out.loc[out["given_by"] == "coords", "address"] = None
    out = out[list(HOUSEHOLD_HEADERS)]
    return out.rename(columns=HOUSEHOLD_HEADERS)


def write_sample(sample: dict[str, pd.DataFrame], directory: Path = SAMPLE_DIR) -> list[Path]:
    """Write the GeoPackage and the rosters (CSV UTF-8 with BOM, households also as XLSX)."""
    directory.mkdir(parents=True, exist_ok=True)
    gpkg = directory / "bijiang.gpkg"
    gpkg.unlink(missing_ok=True)
    # Fixed timestamps inside the GeoPackage so regenerating gives the same file.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2024-06-30T00:00:00.000Z"})
    for layer in ("communities", "compounds", "streets", "buildings", "grids_existing"):
        pyogrio.write_dataframe(sample[layer], gpkg, layer=layer, driver="GPKG")
    households = _roster(sample["households"])
    paths = [gpkg, directory / "households.csv", directory / "households.xlsx",
             directory / "persons.csv", directory / "staff.csv"]  # fmt: skip
    households.to_csv(paths[1], index=False, encoding="utf-8-sig")
    households.to_excel(paths[2], index=False, sheet_name="住户")
    _freeze_xlsx_timestamps(paths[2])
    sample["persons"].rename(columns=PERSON_HEADERS).to_csv(
        paths[3], index=False, encoding="utf-8-sig"
    )
    staff = sample["staff"].rename(columns=STAFF_HEADERS)
    staff.to_csv(paths[4], index=False, encoding="utf-8-sig")
    return paths


def _freeze_xlsx_timestamps(path: Path) -> None:
    """Pin the zip entry dates and document dates of an XLSX so regenerating is byte-identical."""
    with zipfile.ZipFile(path) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    fixed = "2024-06-30T00:00:00Z"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            if name == "docProps/core.xml":
                text = re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rf"\g<1>{fixed}",
                              data.decode())  # fmt: skip
                data = text.encode()
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 6, 30, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)  # fmt: skip


def summary(sample: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Households, buildings and persons per community (for the README and logs)."""
    b = sample["buildings"]
    p = sample["persons"].merge(sample["households"][["household_id", "building_id"]])
    p = p.merge(b[["building_id", "community_code"]])
    out = b.groupby("community_code").agg(buildings=("building_id", "size"),
                                          households=("households", "sum"),
                                          max_building=("households", "max"))  # fmt: skip
    out["persons"] = p.groupby("community_code").size()
    return out


def main(argv: list[str] | None = None) -> None:
    """Regenerate ``geodata/sample`` (or ``--out DIR``) from ``--seed``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    sample = build_sample(args.seed)
    for path in write_sample(sample, args.out):
        logger.info("wrote %s (%d kB)", path, path.stat().st_size // 1024)
    logger.info("\n%s", summary(sample).to_string())


if __name__ == "__main__":
    main()
