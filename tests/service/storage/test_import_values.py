"""Values no column can hold (NUL bytes, 1e30 households, 2**40 floors, over-long text) become
report lines naming record and field, identically on SpatiaLite and PostGIS; ids with control or
markup characters skip their record."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box
from sqlalchemy import select

from gridmap.errors import InputError
from service.importer import import_files
from service.storage import models as m
from service.storage.loads import table_counts
from service.storage.session import make_engine, session_scope

CODE = "520602001001"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    communities = tmp_path / "communities.geojson"
    gpd.GeoDataFrame({"community_code": [CODE], "name": ["示例社区"]},
                     geometry=[box(109.0, 27.7, 109.01, 27.71)],
                     crs=4326).to_file(communities, driver="GeoJSON")  # fmt: skip
    buildings = tmp_path / "buildings.geojson"
    gpd.GeoDataFrame(
        {"building_id": ["B1", "B2", "B3", "B4"], "floors": [2**40, 6, 6, 6],
         "households": [10.0, 1e30, 10.0, 10.0],
         "name": ["一号楼", "二号楼", "楼" * 300, "四号楼"]},
        geometry=[Point(109.001 + 0.001 * i, 27.705) for i in range(4)], crs=4326,
    ).to_file(buildings, driver="GeoJSON")  # fmt: skip
    households = tmp_path / "households.csv"
    households.write_bytes(
        "household_id,building_id,address,room\n"
        "H1,B1,清水塘路\x0012号,101\n"
        "H2,B1,清水塘路12号,1\x07 02\n"
        "H3,B4,清水塘路14号,101\n"
        "<img src=x onerror=alert(1)>,B4,清水塘路14号,102\n"
        "H\x005,B4,清水塘路14号,103\n".encode()
    )
    return {"community": communities, "building": buildings, "household": households}


def test_bad_values_are_report_lines_naming_record_and_field(store_url, files):
    result = import_files(files, url=store_url)
    lines = {(i.entity, i.record_id, i.reason) for i in result.report}
    assert {("building", "B1", "invalid floors"), ("building", "B2", "invalid households"),
            ("building", "B3", "name too long"),
            ("household", "H1", "control characters in address"),
            ("household", "H2", "control characters in room"),
            ("household", "row 4", "unsafe id"),
            ("household", "row 5", "unsafe id")} <= lines  # fmt: skip
    engine = make_engine(store_url)
    with session_scope(engine) as session:
        rows = dict(session.execute(select(m.Building.id, m.Building.floors)).all())
        names = dict(session.execute(select(m.Building.id, m.Building.name)).all())
        address = dict(session.execute(select(m.Household.id, m.Household.address)).all())
        counts = table_counts(session=session)
    engine.dispose()
    assert rows == {"B1": None, "B2": 6, "B3": 6, "B4": 6}
    assert names["B3"] is None and names["B1"] == "一号楼"
    assert address["H1"] == "清水塘路12号"  # NUL removed, the rest kept
    assert counts["building"] == 4 and counts["household"] == 3


def test_an_over_long_id_refuses_the_import_naming_it(store_url, files, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("household_id,building_id\n" + "H" * 80 + ",B1\nH9,B1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"too long for the store: household HHHH.*household_id"):
        import_files({**files, "household": path}, url=store_url)
    engine = make_engine(store_url)
    with session_scope(engine) as session:
        assert table_counts(session=session)["building"] == 0
    engine.dispose()


def test_an_over_long_required_value_refuses_the_import_naming_it(store_url, files, tmp_path):
    path = tmp_path / "communities.geojson"
    gpd.GeoDataFrame({"community_code": [CODE], "name": ["社" * 201]},
                     geometry=[box(109.0, 27.7, 109.01, 27.71)],
                     crs=4326).to_file(path, driver="GeoJSON")  # fmt: skip
    with pytest.raises(InputError, match=rf"community {CODE}: name \(200 characters\)"):
        import_files({"community": path}, url=store_url)
