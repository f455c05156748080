"""``gridmap import`` takes grids drawn in 奥维 or Google Earth: names only, no codes.

The sample's current grids (``grids_existing``, 9 grids of 广场社区) written as the offices export
them: a KML of named polygons, and a GeoJSON without any code. The import finds each grid's
community by location and makes its code: the number in its name where the names carry distinct
numbers, else numbered by position (north to south, west to east); a grid in no community is
left out with a report line. ``gridmap plan redistrict`` then works from the imported grids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely import affinity
from sqlalchemy import select
from typer.testing import CliRunner

import geodata
from gridmap.attach.gridcodes import name_number
from service.cli import app
from service.importer import import_files
from service.storage import models as m
from service.storage.session import make_engine, session_scope

COMMUNITY = "520602002001"  # 广场社区
# The office's names of the sample's grids (by their sample code): numbers counted backwards,
# so that keeping them differs from numbering by position; every spelling offices use.
NAMES = {"001": "广场社区第九网格", "002": "8号网格", "003": "七网格", "004": "第6网格",
         "005": "第五网格", "006": "4号网格", "007": "广场社区第3网格", "008": "二网格",
         "009": "第 1 网格"}  # fmt: skip
# Numbered by position: the grids lie in a tilted lattice; 002 and 003 stand higher than 001
# (by a quarter and half a row), so they make the first row.
BY_POSITION = {"001": "003", "002": "001", "003": "002", "004": "004", "005": "005",
               "006": "006", "007": "007", "008": "008", "009": "009"}  # fmt: skip
OUTSIDE = "第10网格"  # drawn 20 km east of every community


def _grids() -> gpd.GeoDataFrame:
    grids = gpd.read_file(geodata.get_path("bijiang.gpkg"), layer="grids_existing")
    return grids.to_crs(4326).assign(sample=grids["grid_code"].str[-3:])


def _kml(path: Path, grids: gpd.GeoDataFrame) -> Path:
    """Named polygons as 奥维互动地图 exports them (heights of 0), nothing else."""
    marks = "".join(
        f"<Placemark><name>{name}</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        + " ".join(f"{x:.7f},{y:.7f},0" for x, y in geom.exterior.coords)
        + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        for name, geom in zip(grids["name"], grids.geometry, strict=True)
    )
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/'
                    f'kml/2.2"><Document><name>网格</name>{marks}</Document></kml>',
                    encoding="utf-8")  # fmt: skip
    return path


@pytest.fixture(params=["kml", "geojson"])
def drawn(request, tmp_path: Path) -> tuple[str, Path]:
    """The grids with names only (KML: the office's numbers) or no codes (GeoJSON: every grid
    named alike, so that its number says nothing), plus a grid outside every community."""
    grids = _grids()
    names = grids["sample"].map(NAMES) if request.param == "kml" else "第1网格"
    grids = grids.assign(name=names)[["name", "geometry"]]
    outside = gpd.GeoDataFrame(
        {"name": [OUTSIDE]}, crs=4326, geometry=[affinity.translate(grids.geometry.iloc[0], 0.2)]
    )
    both = gpd.GeoDataFrame(pd.concat([grids, outside], ignore_index=True), crs=4326)
    if request.param == "kml":
        return "kml", _kml(tmp_path / "网格.kml", both)
    both.to_file(tmp_path / "网格.geojson", driver="GeoJSON")
    return "geojson", tmp_path / "网格.geojson"


def _expected(kind: str) -> dict[str, str]:
    """Sample code → the code the import should make."""
    if kind == "kml":
        return {s: f"{COMMUNITY}{name_number(n):03d}" for s, n in NAMES.items()}
    return {s: f"{COMMUNITY}{c}" for s, c in BY_POSITION.items()}


def _stored_grids(url: str) -> dict[str, tuple[str, str | None, Any]]:
    """Grid code → community, name, geometry of every stored grid."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            rows = session.execute(select(m.Grid.code, m.Grid.community_code, m.Grid.name,
                                          m.Grid.geom.ST_AsText())).all()  # fmt: skip
            return {r[0]: (r[1], r[2], shapely.from_wkt(r[3])) for r in rows}
    finally:
        engine.dispose()


def test_grids_drawn_without_codes_are_coded_linked_and_redistricted(store_url, tmp_path, drawn):
    kind, path = drawn
    sample = geodata.get_path("bijiang.gpkg")
    result = import_files({"community": sample, "compound": sample, "building": sample,
                           "grid": path},
                          url=store_url, report_dir=tmp_path)  # fmt: skip

    expected = _expected(kind)
    stored = _stored_grids(store_url)
    assert {c for c, _, _ in stored.values()} == {COMMUNITY}  # found by location
    grids = _grids()
    where = {
        s: next(code for code, (_, _, geom) in stored.items() if geom.contains(point))
        for s, point in zip(grids["sample"], grids.representative_point(), strict=True)
    }
    assert where == expected  # each drawn grid got its code, none was lost
    assert len(stored) == 9
    if kind == "kml":  # the office's own numbers kept, with its names
        assert {stored[expected[s]][1] for s in NAMES} == set(NAMES.values())
    assert result.linked["grid → community"] == 9
    assert result.plans.keys() == {COMMUNITY}

    note = next(n for n in result.notes if n.code == "grid_codes_made")
    named = 9 if kind == "kml" else 0
    assert dict(note.values) == {"n": 9, "named": named, "located": 9, "left_out": 1}
    assert note.file == path.name
    assert note.message("zh").startswith(f"{path.name}：9 个网格没有网格编码")
    assert "1 个网格不在任何社区内，未采用（逐个列于下文或报告中）" in note.message("zh")

    lines = [i for i in result.report if i.entity == "grid"]
    assert [(i.record_id, i.reason) for i in lines] == [(OUTSIDE, "grid left out")]
    assert "未采用" in lines[0].message("zh")
    assert OUTSIDE in result.report_paths["csv"].read_text(encoding="utf-8-sig")

    # the sample's grids hold too many households: redistrict repairs them into a new draft
    out = CliRunner().invoke(app, ["plan", "redistrict", "--db", store_url, "--lang", "en"])
    assert out.exit_code == 0, out.output + repr(out.exception)
    assert COMMUNITY in out.output
    engine = make_engine(store_url)
    try:
        with session_scope(engine) as session:
            statuses = session.scalars(select(m.Plan.status).where(
                m.Plan.community_code == COMMUNITY).order_by(m.Plan.id)).all()  # fmt: skip
    finally:
        engine.dispose()
    assert statuses == ["published", "draft"]
