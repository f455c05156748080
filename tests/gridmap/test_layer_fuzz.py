"""Broken GIS layers as district offices keep them, drawn by Hypothesis: read, repaired, planned.

Each case is one layer of one entity (community, compound, street, building, grid) in one
format (GeoJSON, GeoPackage, Shapefile in GBK without ``.cpg``, a zipped Shapefile, GeoParquet)
with some of its records broken (bow-ties, self-touching rings, holes outside their shell,
zero-area slivers, repeated points, unclosed GeoJSON rings, empty and null geometries, points,
lines and collections among polygons, MultiPolygons with a tiny part, Z and M coordinates, NaN,
infinite and huge coordinates, repeated ids) or the whole layer wrong (metres declared as
EPSG:4490, lon/lat declared as EPSG:4545, a Gauss-Krüger X with its zone number, no CRS, no
records, a GeoPackage whose other layer is empty). The properties:

* :func:`gridmap.read_layer` returns every record with its id and its geometry as drawn (the
  unbroken ones to the centimetre), or raises a gridmap error naming the file, in English and
  Chinese; a layer whose CRS cannot hold its coordinates is refused, never read elsewhere;
* :func:`gridmap.attach.geomrepair.repair_geometries` then refuses a layer holding geometries
  of the wrong kind, or keeps valid geometries of the right kind, each record it left out or
  changed named in an issue (Z and M values dropped are said in a note);
* :func:`gridmap.partition` of a small community with the layer read gives grids that tile
  the community, every building inside in exactly one grid, or a gridmap error.

Any other exception is a bug. A few cases go through the ``gridmap partition`` command too
(no traceback, exit code 0 or 2). The failures found are explicit regression tests at the end.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import gridmap
from gridmap.attach.geomrepair import repair_geometries
from gridmap.errors import CRSError, GridmapError
from gridmap.io.layers import read_layer
from gridmap.io.notes import ReadWarning
from service.cli import app

X0, Y0 = 500_000.0, 3_067_000.0  # near Tongren in CGCS2000 / 3° GK CM 108°E (EPSG:4545)
CELL = 100.0  # each record in a cell of its own: 4 columns, 2 rows of the 400 × 200 community
CODE = "520602001001"
KINDS = {"community": "polygon", "compound": "polygon", "street": "line",
         "building": "point-or-polygon", "grid": "polygon"}  # fmt: skip
HEADERS = {  # id header, other header, its value: what offices call them
    "community": ("社区代码", "社区名称", "碧江社区"),
    "compound": ("小区编号", "小区名称", "锦江花园"),
    "street": ("道路编号", "道路名称", "锦江路"),
    "building": ("楼栋编号", "户数", 60),
    "grid": ("网格编码", "社区代码", CODE),
}
LAYER_NAME = {"community": "社区", "compound": "小区", "street": "道路", "building": "楼栋",
              "grid": "网格"}  # fmt: skip
FORMATS = ("geojson", "gpkg", "shp", "zip", "parquet")
WRONG_KIND = ("point", "line", "collection")
"""Record faults that give a geometry of another kind (a Shapefile cannot hold them)."""
RECORD_FAULTS = {
    "polygon": ("bowtie", "self_touch", "hole_outside", "sliver", "repeated", "unclosed",
                "empty", "null", "tiny_part", "z", "nan", "inf", "huge", "duplicate_id",
                *WRONG_KIND),
    "line": ("repeated", "empty", "null", "z", "nan", "inf", "huge", "duplicate_id", "point",
             "collection"),
    "point": ("empty", "null", "z", "nan", "inf", "huge", "duplicate_id", "line", "collection"),
}  # fmt: skip
LAYER_CRS = ("ok", "ok", "ok", "lonlat", "metres_as_4490", "lonlat_as_4545", "gk_prefix", "none")
REFUSED_CRS = ("metres_as_4490", "lonlat_as_4545", "gk_prefix")
"""Layer CRS faults read_layer must refuse (a CRSError naming the file)."""


@dataclass
class Case:
    """One generated layer: what was drawn, and what was broken in it."""

    entity: str
    fmt: str
    ids: list[str]
    geoms: list[Any]  # as drawn, in EPSG:4545, before the faults
    faults: dict[int, str]
    layer_crs: str
    footprints: bool = True
    measured: bool = False
    gbk: bool = False
    empty_layer: bool = False
    other_layer: bool = False  # a GeoPackage with another, empty layer beside
    shown: list[Any] = field(default_factory=list)  # the geometries written

    @property
    def kind(self) -> str:
        kind = KINDS[self.entity]
        return ("polygon" if self.footprints else "point") if kind == "point-or-polygon" else kind


# --- drawing -----------------------------------------------------------------------------------


def _cell(i: int) -> tuple[float, float]:
    return X0 + (i % 4) * CELL, Y0 + (i // 4) * CELL


def _good(kind: str, i: int) -> Any:
    """Record ``i`` as drawn: a polygon (most of its cell, or a footprint), a line, a point."""
    x, y = _cell(i)
    if kind == "polygon":
        return shapely.box(x + 30, y + 30, x + 70, y + 70)
    if kind == "line":
        return shapely.LineString([(x, y + 50), (x + CELL, y + 50.37)])
    return shapely.Point(x + 50, y + 50)


def _community_cell(i: int) -> Any:
    x, y = _cell(i)
    return shapely.box(x, y, x + CELL, y + CELL)


def _broken(fault: str, good: Any, i: int) -> Any:
    """``good`` broken as ``fault`` says (``unclosed`` and ``duplicate_id`` are done when
    writing: the geometry stays)."""
    x, y = _cell(i)
    minx, miny, maxx, maxy = good.bounds
    coords = {
        "bowtie": [(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy), (minx, miny)],
        "self_touch": [(minx, miny), (maxx, miny), (maxx, maxy), ((minx + maxx) / 2, miny),
                       (minx, maxy), (minx, miny)],
        "sliver": [(minx, miny), (maxx, miny), ((minx + maxx) / 2, miny), (minx, miny)],
    }  # fmt: skip
    if fault in coords:
        return shapely.Polygon(coords[fault])
    if fault == "hole_outside":
        hole = shapely.box(x + 80, y + 5, x + 90, y + 15).exterior.coords
        return shapely.Polygon(good.exterior.coords, [hole])
    if fault == "repeated":
        pts = shapely.get_coordinates(good)
        pts = np.repeat(pts, 2, axis=0)
        return shapely.Polygon(pts) if good.geom_type == "Polygon" else shapely.LineString(pts)
    if fault == "tiny_part":
        return shapely.MultiPolygon([good, shapely.box(x + 5, y + 5, x + 5.001, y + 5.001)])
    if fault == "z":
        return shapely.force_3d(good, 12.5)
    if fault in ("nan", "inf", "huge"):
        value = {"nan": np.nan, "inf": np.inf, "huge": 1e30}[fault]
        if good.geom_type == "Point":
            return shapely.Point(value, y + 50)
        with np.errstate(invalid="ignore"):
            if good.geom_type == "LineString":
                return shapely.LineString([(x, y), (value, y + 50)])
            return shapely.Polygon([(x + 30, y + 30), (value, y + 30), (x + 70, y + 70)])
    if fault == "empty":
        return shapely.from_wkt(f"{good.geom_type.upper()} EMPTY")
    if fault == "null":
        return None
    if fault == "point":
        return shapely.Point(x + 50, y + 50)
    if fault == "line":
        return shapely.LineString([(x + 10, y + 10), (x + 60, y + 40)])
    if fault == "collection":
        return shapely.GeometryCollection([good, shapely.Point(x + 5, y + 5)])
    return good


@st.composite
def layer_cases(draw: st.DrawFn, entities: tuple[str, ...] = tuple(KINDS)) -> Case:
    """A layer of one of ``entities`` in one format, with some records and maybe the layer
    broken."""
    entity = draw(st.sampled_from(entities))
    fmt = draw(st.sampled_from(FORMATS))
    n = draw(st.integers(1, 8))
    case = Case(entity, fmt, [], [], {}, draw(st.sampled_from(LAYER_CRS)))
    case.footprints = entity != "building" or draw(st.booleans())
    kind = case.kind
    faults = [f for f in RECORD_FAULTS["polygon" if kind == "polygon" else kind]
              if not (fmt in ("shp", "zip", "gpkg") and f in ("nan", "inf"))
              and not (fmt in ("shp", "zip") and f in WRONG_KIND)
              and not (fmt != "geojson" and f == "unclosed")]  # fmt: skip
    broken = draw(st.lists(st.integers(0, n - 1), max_size=2, unique=True))
    case.faults = {i: draw(st.sampled_from(faults)) for i in broken}
    case.ids = [_record_id(entity, i) for i in range(n)]
    for i in range(n):
        good = _community_cell(i) if entity in ("community", "grid") else _good(kind, i)
        case.geoms.append(good)
        case.shown.append(_broken(case.faults[i], good, i) if i in case.faults else good)
        if case.faults.get(i) == "duplicate_id" and i > 0:
            case.ids[i] = case.ids[i - 1]
    case.measured = (
        fmt in ("gpkg", "shp") and kind != "point" and draw(st.sampled_from([False] * 5 + [True]))
    )
    case.gbk = fmt in ("shp", "zip") and draw(st.booleans())
    case.empty_layer = draw(st.sampled_from([False] * 9 + [True]))
    case.other_layer = fmt == "gpkg" and draw(st.booleans())
    return case


def _record_id(entity: str, i: int) -> str:
    if entity in ("community",):
        return f"5206020010{i + 1:02d}"
    if entity == "grid":
        return f"{CODE}{i + 1:03d}"
    return {"compound": "XQ", "street": "DL", "building": "B"}[entity] + f"{i + 1:03d}"


# --- writing -----------------------------------------------------------------------------------


def _declared(case: Case) -> tuple[list[Any], str | None]:
    """The geometries as written (coordinates moved as the layer's CRS fault says) and the CRS
    the file declares."""
    geoms = case.shown
    if case.layer_crs in ("lonlat", "lonlat_as_4545"):
        finite = [g if g is None or _finite(g) else None for g in geoms]
        moved = gpd.GeoSeries(finite, crs=4545).to_crs(4490).to_numpy()
        geoms = [m if f is not None else g for m, f, g in zip(moved, finite, geoms, strict=True)]
        return geoms, "EPSG:4490" if case.layer_crs == "lonlat" else "EPSG:4545"
    if case.layer_crs == "gk_prefix":
        moved = [None if g is None else shapely.transform(g, lambda c: c + [36_000_000, 0])
                 for g in geoms]  # fmt: skip
        return moved, "EPSG:4545"
    crs = {"ok": "EPSG:4545", "metres_as_4490": "EPSG:4490", "none": None}[case.layer_crs]
    return geoms, crs


def _finite(geom: Any) -> bool:
    return (
        bool(np.isfinite(shapely.get_coordinates(geom)).all())
        and not (abs(shapely.get_coordinates(geom)) > 1e20).any()
    )


def write_case(case: Case, folder: Path) -> Path:
    """Write ``case`` as an office would have: the file to read."""
    geoms, crs = _declared(case)
    if case.empty_layer:
        geoms, ids = [], []
    else:
        ids = case.ids
    id_header, other, value = HEADERS[case.entity]
    columns = {id_header: ids, other: [value] * len(ids)}
    if case.gbk:  # a remark header of 12 bytes in GBK, cut to 10 (备注说明信)
        columns["备注说明信息"] = ["旧楼改造"] * len(ids)
    frame = gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(geoms, dtype="geometry"), crs=crs)
    name = LAYER_NAME[case.entity]
    if case.fmt == "geojson":
        return _write_geojson(case, frame, crs, folder / f"{name}.geojson")
    if case.fmt == "parquet":
        path = folder / f"{name}.parquet"
        frame.to_parquet(path)
        return path
    if case.measured:
        return _write_measured(case, frame, crs, folder)
    if case.fmt == "gpkg":
        path = folder / "碧江.gpkg"
        pyogrio.write_dataframe(frame, path, layer=name, geometry_type="Unknown")
        if case.other_layer:
            other_entity = "street" if case.entity != "street" else "compound"
            empty = gpd.GeoDataFrame({"名称": []}, geometry=gpd.GeoSeries([]), crs=crs)
            pyogrio.write_dataframe(empty, path, layer=LAYER_NAME[other_entity],
                                    geometry_type="Polygon")  # fmt: skip
        return path
    shp_folder = folder / "shp"
    shp_folder.mkdir()
    shp = shp_folder / f"{name}.shp"
    with warnings.catch_warnings():  # GDAL: a field name cut to 10 bytes
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(frame, shp, encoding="GBK" if case.gbk else "UTF-8")
    if case.gbk:
        shp.with_suffix(".cpg").unlink(missing_ok=True)  # as older ArcGIS wrote them
    if case.fmt == "shp":
        return shp
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w") as zipped:
        for part in shp_folder.iterdir():
            zipped.write(part, f"数据/{part.name}")
    return path


def _write_geojson(case: Case, frame: gpd.GeoDataFrame, crs: str | None, path: Path) -> Path:
    """GeoJSON text as GIS tools write it, a ``crs`` member for other CRSs than lon/lat; an
    ``unclosed`` ring really unclosed."""
    features = []
    for i, geom in enumerate(frame.geometry):
        doc = None if geom is None else json.loads(shapely.to_geojson(geom))
        if case.faults.get(i) == "unclosed" and doc is not None:
            doc["coordinates"][0] = doc["coordinates"][0][:-1]
        props = {k: (v.item() if hasattr(v, "item") else v)
                 for k, v in frame.drop(columns="geometry").iloc[i].items()}  # fmt: skip
        features.append({"type": "Feature", "properties": props, "geometry": doc})
    collection: dict[str, object] = {"type": "FeatureCollection", "features": features}
    if crs is not None and crs != "EPSG:4490":
        epsg = crs.split(":")[1]
        collection["crs"] = {
            "type": "name",
            "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"},
        }
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def _write_measured(case: Case, frame: gpd.GeoDataFrame, crs: str | None, folder: Path) -> Path:
    """The layer with M values (a CAD or GPS export), written by ogr2ogr from WKT."""

    def measured(geom: Any) -> str:
        if geom is None or geom.is_empty or shapely.has_z(geom):
            return "" if geom is None else shapely.to_wkt(geom, rounding_precision=-1)
        wkt = shapely.to_wkt(shapely.force_3d(geom, 7.0), rounding_precision=-1)
        return wkt.replace(" Z ", " M ")

    table = pd.DataFrame(frame.drop(columns="geometry")).assign(WKT=frame.geometry.map(measured))
    csv = folder / "m.csv"
    table.to_csv(csv, index=False)
    name = LAYER_NAME[case.entity]
    out = folder / ("碧江.gpkg" if case.fmt == "gpkg" else f"{name}.shp")
    nlt = "MULTILINESTRINGM" if case.kind == "line" else "MULTIPOLYGONM"
    args = ["ogr2ogr", "-q", "-f", "GPKG" if case.fmt == "gpkg" else "ESRI Shapefile",
            str(out), str(csv), "-nln", name, "-nlt", nlt, "-oo", "GEOM_POSSIBLE_NAMES=WKT",
            "-oo", "KEEP_GEOM_COLUMNS=NO"]  # fmt: skip
    if case.fmt != "gpkg":
        args += ["-lco", "ENCODING=UTF-8"]
    if crs is not None:
        args += ["-a_srs", crs]
    subprocess.run(args, check=True, capture_output=True)
    # GDAL's Shapefile writer makes a layer whose first shape is empty plain 2-D
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pyogrio.read_info(out, layer=name if case.fmt == "gpkg" else None, encoding="latin1")
    case.measured = any("Measured" in str(w.message) for w in caught)
    return out


# --- the properties ----------------------------------------------------------------------------


def _names_file(exc: GridmapError, names: set[str]) -> bool:
    return all(any(n in text for n in names) for text in (str(exc), exc.message("zh")))


def read_case(case: Case, path: Path) -> gpd.GeoDataFrame | None:
    """``read_layer`` of the case: the frame, or None after checking the error it raised."""
    expect_refusal = case.empty_layer or (
        (case.layer_crs in REFUSED_CRS or "huge" in case.faults.values()) and not _all_missing(case)
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = read_layer(path, case.entity)
    except GridmapError as exc:
        event(f"read refused: {exc.code or type(exc).__name__}")
        assert _names_file(exc, {path.name}), (str(exc), exc.message("zh"))
        return None
    geoms = frame.geometry.to_numpy()
    unreadable = (shapely.is_missing(geoms) | shapely.is_empty(geoms)).all()  # nothing to check
    assert not expect_refusal or unreadable, f"{case.layer_crs}, empty {case.empty_layer}: read"
    return frame


def _all_missing(case: Case) -> bool:
    return all(g is None or shapely.is_empty(g) for g in case.shown)


def check_read(case: Case, frame: gpd.GeoDataFrame) -> None:
    """Every record, with its id, and the unbroken geometries where they were drawn."""
    ent_id = {"community": "community_code", "grid": "grid_code"}.get(
        case.entity, f"{case.entity}_id"
    )
    assert frame[ent_id].tolist() == case.ids
    assert str(frame.crs) == "EPSG:4326"
    at = frame.to_crs(4545).geometry.to_numpy()
    for i, drawn in enumerate(case.geoms):
        if i in case.faults and case.faults[i] not in ("duplicate_id", "repeated"):
            continue
        assert at[i] is not None and shapely.hausdorff_distance(at[i], drawn) < 0.01, (i, at[i])
    codes = {n.code for n in frame.attrs["notes"]}
    not_finite = [i for i, f in case.faults.items() if f in ("nan", "inf")]
    assert all(at[i] is None for i in not_finite)  # left out, not read as a wrong place
    if not_finite and case.fmt != "geojson":  # GeoJSON has no NaN: GDAL reads no geometry
        assert "rows_without_geometry" in codes
    if "z" in case.faults.values() and case.fmt in ("geojson", "parquet"):  # GDAL: one type
        assert "made_2d" in codes
    if case.measured and not _all_missing(case):
        assert "measures_dropped" in codes


def check_repaired(case: Case, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """repair_geometries: the wrong kinds refused naming the records, or valid geometries of
    the right kind, every record left out or changed named in an issue."""
    wrong_kind = {"point", "line", "collection"} - (
        {"point"} if case.entity == "building" else set()
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kept, issues = repair_geometries(frame, case.entity)
    except GridmapError as exc:
        event(f"repair refused: {exc.code}")
        assert wrong_kind & set(case.faults.values()), exc
        assert _names_file(exc, {frame.attrs["source"]})
        return None
    named = {i.record_id for i in issues}
    geoms = kept.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    assert shapely.is_valid(geoms[present]).all()
    allowed = {
        "polygon": {"Polygon", "MultiPolygon"},
        "line": {"LineString", "MultiLineString"},
        "point-or-polygon": {"Point", "Polygon", "MultiPolygon"},
    }[KINDS[case.entity]]
    assert set(shapely.get_type_id(geoms[present]).tolist()) <= {
        {"Point": 0, "LineString": 1, "Polygon": 3, "MultiLineString": 5, "MultiPolygon": 6}[k]
        for k in allowed
    }
    assert np.isfinite(shapely.get_coordinates(geoms[present])).all()
    before = frame.geometry.to_numpy()
    ids = frame.iloc[:, 0].astype(str).to_numpy()
    for pos, label in enumerate(frame.index):
        if label not in kept.index:
            assert ids[pos] in named, f"record {ids[pos]} left out without a word"
        elif not shapely.equals_exact(kept.geometry.loc[label], before[pos], 0) and not (
            before[pos] is None and kept.geometry.loc[label] is None
        ):
            assert ids[pos] in named, f"record {ids[pos]} changed without a word"
    return kept


def community_layer() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"community_code": [CODE]},
        geometry=[shapely.box(X0, Y0, X0 + 4 * CELL, Y0 + 2 * CELL)],
        crs=4545,
    ).to_crs(4326)


def building_layer() -> gpd.GeoDataFrame:
    pts = [shapely.Point(X0 + x, Y0 + y) for x in range(25, 400, 50) for y in range(25, 200, 50)]
    return gpd.GeoDataFrame(
        {"building_id": [f"F{i:02d}" for i in range(len(pts))], "households": [40] * len(pts)},
        geometry=pts,
        crs=4545,
    ).to_crs(4326)


def check_partition(case: Case, kept: gpd.GeoDataFrame) -> None:
    """Partition with the layer read: grids tiling each community, every building inside in
    exactly one grid, or a gridmap error."""
    layers = {"communities": community_layer(), "buildings": building_layer()}
    if case.entity == "community":
        layers["communities"] = kept
    elif case.entity == "building":
        layers["buildings"] = kept.assign(households=pd.to_numeric(kept["households"]))
    elif case.entity == "street":
        layers["streets"] = kept
    elif case.entity == "compound":
        layers["compounds"] = kept
    else:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = gridmap.partition(**layers, min_households=80, max_households=200)
    except GridmapError as exc:
        event(f"partition refused: {exc.code or type(exc).__name__}")
        return
    event(f"partitioned with {case.entity}s")
    check_tiling(result, layers["communities"], layers["buildings"])


def check_tiling(result, communities: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> None:
    crs = result.crs
    grids = result.grids.to_crs(crs)
    comm = communities.to_crs(crs)
    for code, boundary in zip(comm["community_code"], shapely.make_valid(comm.geometry.values),
                              strict=True):  # fmt: skip
        mine = grids[grids["community_code"] == code].geometry.to_numpy()
        area = shapely.area(boundary)
        assert shapely.area(shapely.symmetric_difference(shapely.union_all(mine), boundary)) <= (
            1e-6 * area + 1.0
        )
        assert abs(shapely.area(mine).sum() - area) <= 1e-6 * area + 1.0  # no overlaps
    assigned = result.assignments
    assert assigned["building_id"].is_unique
    assert set(assigned["building_id"]) <= set(buildings["building_id"].astype(str))
    geom_of = grids.set_index("grid_code").geometry
    bld = buildings.to_crs(crs).set_index(buildings["building_id"].astype(str))
    pts = bld.geometry.loc[assigned["building_id"]].representative_point().to_numpy()
    assert shapely.dwithin(geom_of.loc[assigned["grid_code"]].to_numpy(), pts, 0.01).all()


def run_case(case: Case) -> None:
    note(
        f"{case.entity} {case.fmt} {case.layer_crs} faults={case.faults} ids={case.ids} "
        f"measured={case.measured} gbk={case.gbk} empty={case.empty_layer} "
        f"other={case.other_layer} footprints={case.footprints}"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = write_case(case, Path(folder))
        frame = read_case(case, path)
        if frame is None:
            return
        check_read(case, frame)
        kept = check_repaired(case, frame)
        check_partition(case, frame)  # as `gridmap partition` plans the layer read
        if kept is not None and len(kept) and len(kept) < len(frame):
            check_partition(case, kept)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=layer_cases())
def test_broken_layers_are_read_refused_or_repaired(case: Case) -> None:
    run_case(case)


# --- through the command -----------------------------------------------------------------------

runner = CliRunner()


_OPTIONS = {"community": "--communities", "building": "--buildings", "street": "--streets",
            "compound": "--compounds"}  # fmt: skip


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=layer_cases(tuple(_OPTIONS)))
def test_the_partition_command_prints_no_traceback(case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = {"community": Path(folder) / "c.geojson", "building": Path(folder) / "b.geojson"}
        community_layer().to_file(files["community"])
        building_layer().to_file(files["building"])
        files[case.entity] = write_case(case, Path(folder))
        args = [a for entity, path in files.items() for a in (_OPTIONS[entity], str(path))]
        res = runner.invoke(app, ["partition", *args, "--out", str(Path(folder) / "g.geojson"),
                                  "--min-households", "80", "--max-households", "200"])  # fmt: skip
        assert "Traceback" not in res.output
        assert res.exit_code in (0, 2), (res.output, res.exception)


# --- regressions: the failures the properties found ---------------------------------------------


def _lonlat(geoms: list[Any]) -> list[Any]:
    return list(gpd.GeoSeries(geoms, crs=4545).to_crs(4490))


def test_lonlat_declared_as_gauss_kruger_metres_is_refused_and_read_with_crs(tmp_path):
    # Read as metres of EPSG:4545 they lay 500 km west of Tongren, on the equator.
    path = tmp_path / "楼栋.gpkg"
    geoms = _lonlat([_good("polygon", 0), _good("polygon", 1)])
    frame = gpd.GeoDataFrame({"楼栋编号": ["B1", "B2"], "户数": [60, 40]}, geometry=geoms,
                             crs=4545)  # fmt: skip
    frame.to_file(path)
    with pytest.raises(CRSError) as caught:
        read_layer(path, "building")
    assert caught.value.code == "lonlat_in_projected"
    assert "楼栋.gpkg" in str(caught.value) and "EPSG:4490" in caught.value.message("zh")
    read = read_layer(path, "building", crs="EPSG:4490")  # --crs replaces the declared CRS
    assert shapely.hausdorff_distance(read.to_crs(4545).geometry[0], _good("polygon", 0)) < 0.01


def test_a_nan_coordinate_leaves_that_geometry_out_saying_so_and_keeps_the_crs_check(tmp_path):
    # One NaN vertex made the layer's bounds NaN, which passed every CRS check unseen.
    nan = _broken("nan", _good("polygon", 1), 1)
    path = tmp_path / "社区.parquet"
    frame = gpd.GeoDataFrame({"社区代码": [CODE, "520602001002"], "社区名称": ["甲", "乙"]},
                             geometry=[_community_cell(0), nan], crs=4545)  # fmt: skip
    frame.to_parquet(path)
    with pytest.warns(ReadWarning, match="NaN"):
        read = read_layer(path, "community")
    assert read.geometry.isna().tolist() == [False, True]
    said = [n for n in read.attrs["notes"] if n.code == "rows_without_geometry"]
    assert len(said) == 1 and "2" in said[0].message("zh") and "NaN" in said[0].message("en")
    frame.to_crs(4490).set_crs(4545, allow_override=True).to_parquet(path)
    with pytest.raises(CRSError, match="社区.parquet"), pytest.warns(ReadWarning):
        read_layer(path, "community")


def _plan() -> Any:
    """The existing grids a redistrict starts from: a partition of the unbroken layers."""
    return gridmap.partition(community_layer(), building_layer(), min_households=80,
                             max_households=200)  # fmt: skip


def _shown(result: Any, kind: str) -> list[Any]:
    """The problems of ``kind`` and their lines in the report (Chinese and English)."""
    found = [p for p in result.problems if p.kind == kind]
    for p in found:
        assert p.message_zh in result.report("zh") and p.message in result.report("en")
    return found


@pytest.mark.parametrize("workflow", ["partition", "redistrict"])
@pytest.mark.parametrize("drawn", ["sliver", "point", "line", "collection_of_point_and_line"])
def test_a_community_without_area_is_refused_naming_it(drawn, workflow):
    # The planner failed with an IndexError on a community holding no cell.
    x, y = _cell(0)
    line = shapely.LineString([(x, y), (x + 100, y)])
    geom = {
        "sliver": shapely.Polygon([(x, y), (x + 100, y), (x + 50, y + 1e-7), (x, y)]),
        "point": shapely.Point(x, y),
        "line": line,
        "collection_of_point_and_line": shapely.GeometryCollection([shapely.Point(x, y), line]),
    }[drawn]
    comm = gpd.GeoDataFrame({"community_code": [CODE]}, geometry=[geom], crs=4545).to_crs(4326)
    with pytest.raises(GridmapError) as caught:
        if workflow == "partition":
            gridmap.partition(comm, building_layer(), min_households=80, max_households=200)
        else:
            gridmap.redistrict(_plan(), building_layer(), communities=comm, min_households=80,
                               max_households=200)  # fmt: skip
    assert CODE in str(caught.value) and CODE in caught.value.message("zh")
    assert "no area" in str(caught.value) and "没有面积" in caught.value.message("zh")


@pytest.mark.parametrize("workflow", ["partition", "redistrict"])
def test_a_community_drawn_as_a_collection_is_planned_from_its_polygon(workflow):
    # GeometryCollection(polygon, point): IndexError in the tessellation.
    box = shapely.box(X0, Y0, X0 + 4 * CELL, Y0 + 2 * CELL)
    drawn = shapely.GeometryCollection([box, shapely.Point(X0 + 5, Y0 + 5)])
    comm = gpd.GeoDataFrame({"community_code": [CODE]}, geometry=[drawn], crs=4545).to_crs(4326)
    kw = {"min_households": 80, "max_households": 200}
    if workflow == "partition":
        result = gridmap.partition(comm, building_layer(), **kw)
    else:
        result = gridmap.redistrict(_plan(), building_layer(), communities=comm, **kw)
        assert result.households_moved == 0
    check_tiling(
        result, comm.set_geometry(gpd.GeoSeries([box], crs=4545).to_crs(4326)), building_layer()
    )
    assert len(result.assignments) == len(building_layer())
    [dropped] = _shown(result, "boundary_parts_dropped")
    assert dropped.community_code == CODE and CODE in dropped.message_zh
    assert "点和线已略去" in dropped.message_zh and "left out" in dropped.message


@pytest.mark.parametrize("workflow", ["partition", "redistrict"])
def test_bowtie_footprints_are_planned_not_a_topology_exception(tmp_path, workflow):
    # A bow-tie footprint beside a MultiPolygon with a 1 mm² part, from a GeoPackage: GEOS
    # "TopologyException: side location conflict" while cutting the cells around footprints.
    bow = _broken("bowtie", _good("polygon", 0), 0)
    tiny = _broken("tiny_part", _good("polygon", 1), 1)
    path = tmp_path / "碧江.gpkg"
    gpd.GeoDataFrame({"楼栋编号": ["B1", "B2"], "户数": [60, 60]}, geometry=[bow, tiny],
                     crs=4545).to_file(path, layer="楼栋")  # fmt: skip
    bld = read_layer(path, "building").assign(households=lambda f: pd.to_numeric(f.households))
    comm = community_layer()
    kw = {"min_households": 80, "max_households": 200}
    if workflow == "partition":
        result = gridmap.partition(comm, bld, **kw)
    else:  # the grids planned before the bow-tie was drawn, with the buildings now
        both = pd.concat([building_layer(), bld.to_crs(4326)], ignore_index=True)
        result = gridmap.redistrict(_plan(), both, **kw)
        assert sorted(result.new_buildings) == ["B1", "B2"]
        bld = both
    check_tiling(result, comm, bld)
    assert {"B1", "B2"} <= set(result.assignments["building_id"])
    [repaired] = _shown(result, "footprint_repaired")
    assert repaired.building_ids == ("B1",) and repaired.community_code == CODE
    assert "楼栋 B1 的轮廓自相交，已按原覆盖范围修正后划分" in repaired.message_zh
    assert "B1" in repaired.message and "crosses" in repaired.message
    assert "B2" not in repaired.message


def test_the_repair_is_printed_in_chinese_and_english_with_the_problems_csv(tmp_path):
    bow = _broken("bowtie", _good("polygon", 0), 0)
    path = tmp_path / "楼栋.gpkg"
    gpd.GeoDataFrame({"楼栋编号": ["B1", "B2"], "户数": [90, 90]},
                     geometry=[bow, _good("polygon", 5)], crs=4545).to_file(path)  # fmt: skip
    community_layer().to_file(tmp_path / "社区.geojson")
    args = ["partition", "--communities", str(tmp_path / "社区.geojson"), "--buildings",
            str(path), "--out", str(tmp_path / "g.geojson"), "--problems",
            str(tmp_path / "p.csv"), "--min-households", "80",
            "--max-households", "200"]  # fmt: skip
    zh = runner.invoke(app, args)
    assert zh.exit_code == 0, zh.output
    assert "- 楼栋 B1 的轮廓自相交，已按原覆盖范围修正后划分。" in zh.output
    en = runner.invoke(app, [*args, "--lang", "en"])
    assert en.exit_code == 0, en.output
    assert "- The footprint of building(s) B1 crosses or touches itself" in en.output
    table = pd.read_csv(tmp_path / "p.csv", encoding="utf-8-sig", dtype=str)
    row = table[table["kind"] == "footprint_repaired"]
    assert row["community"].tolist() == [CODE] and row["severity"].tolist() == ["info"]
