"""A toy community in canonical columns: small enough to reason about every count.

Community 520602001001 is the square 109.000–109.010°E × 27.700–27.710°N. Grid ``…001`` is its
west half, ``…002`` its east half. Six buildings, three in each half; building households are
given for B1 only (10); the others derive from the household roster.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, box

from service.storage.imports import ImportBundle

CODE = "520602001001"
CRS = "EPSG:4326"
WEST, EAST = box(109.000, 27.700, 109.005, 27.710), box(109.005, 27.700, 109.010, 27.710)

# building id -> (x, y, polygon?), households given
BUILDINGS = {
    "B1": (109.001, 27.701, True, 10),
    "B2": (109.002, 27.708, False, None),
    "B3": (109.004, 27.705, True, None),
    "B4": (109.006, 27.701, False, None),
    "B5": (109.008, 27.704, True, None),
    "B6": (109.009, 27.709, False, None),
}
# household id -> building id; persons: 2 per household
HOUSEHOLDS = {f"H{i}": b for i, b in enumerate(["B2", "B2", "B3", "B4", "B4", "B4", "B5", "B6"])}


def bundle() -> ImportBundle:
    """A fresh toy bundle (frames may be modified by the caller)."""
    community = gpd.GeoDataFrame(
        {"community_code": [CODE], "name": ["示例社区"], "subdistrict": ["环北街道"]},
        geometry=[box(109.0, 27.7, 109.01, 27.71)],
        crs=CRS,
    )
    compounds = gpd.GeoDataFrame(
        {"compound_id": ["C1"], "name": ["锦江小区"], "community_code": [CODE]},
        geometry=[box(109.0005, 27.7005, 109.0045, 27.7095)],
        crs=CRS,
    )
    streets = gpd.GeoDataFrame(
        {"street_id": ["S1"], "name": ["中山路"]},
        geometry=[LineString([(109.005, 27.70), (109.005, 27.71)])],
        crs=CRS,
    )
    geoms, rows = [], []
    for bid, (x, y, poly, hh) in BUILDINGS.items():
        geoms.append(box(x - 1e-4, y - 1e-4, x + 1e-4, y + 1e-4) if poly else Point(x, y))
        compound = "C1" if x < 109.005 else None
        rows.append({"building_id": bid, "households": hh, "community_code": CODE,
                     "compound_id": compound, "kind": "residential"})  # fmt: skip
    buildings = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=CRS)
    households = pd.DataFrame(
        {"household_id": list(HOUSEHOLDS), "building_id": list(HOUSEHOLDS.values()),
         "size": [2] * len(HOUSEHOLDS), "room": ["101"] * len(HOUSEHOLDS)}
    )  # fmt: skip
    persons = pd.DataFrame(
        [{"person_id": f"P{h}{k}", "household_id": h, "name": "张三", "sex": "男",
          "id_number": "52060219800101001X", "phone": "13800000000",
          "birth_date": "1980-01-01", "tags": "elderly"}
         for h in HOUSEHOLDS for k in (1, 2)]
    )  # fmt: skip
    staff = pd.DataFrame(
        {"staff_id": ["W1", "W2"], "name": ["李四", "王五"], "role": ["grid_worker", "grid_head"],
         "grid_codes": [f"{CODE}001", f"{CODE}001;{CODE}002"], "community_code": [CODE, CODE]}
    )  # fmt: skip
    grids = gpd.GeoDataFrame(
        {"grid_code": [f"{CODE}001", f"{CODE}002"], "community_code": [CODE, CODE]},
        geometry=[WEST, EAST],
        crs=CRS,
    )
    return ImportBundle(
        communities=community, compounds=compounds, streets=streets, buildings=buildings,
        households=households, persons=persons, staff=staff, grids=grids,
        sources={"grid": "grids.geojson"},
    )  # fmt: skip


EXPECTED_COUNTS = {
    "community": 1, "compound": 1, "street": 1, "building": 6, "household": 8, "person": 16,
    "staff": 2, "staff_grid": 3, "plan": 1, "grid": 2, "grid_building": 6, "import_run": 1,
}  # fmt: skip
# West: B1 (10 given) + B2 (2) + B3 (1) = 13 households, 6 persons; east: B4 3 + B5 1 + B6 1.
EXPECTED_GRIDS = {f"{CODE}001": (3, 13, 6), f"{CODE}002": (3, 5, 10)}
