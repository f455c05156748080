"""``gridmap import`` links what files leave out by location: communities and compounds."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box
from sqlalchemy import select
from typer.testing import CliRunner

from service.importer import import_files
from service.storage import models as m
from service.storage.session import make_engine, session_scope

# Two communities side by side; a compound straddling the border, mostly in the west one.
WEST, EAST = "520602001001", "520602001002"
COMMUNITIES = {WEST: box(109.000, 27.700, 109.005, 27.710),
               EAST: box(109.005, 27.700, 109.010, 27.710)}  # fmt: skip
COMPOUND = box(109.002, 27.702, 109.006, 27.704)  # 3/4 of its area west
# building id -> geometry: footprints and points, one outside both communities
BUILDINGS = {
    "B1": box(109.0025, 27.7025, 109.0030, 27.7030),  # west, in the compound
    "B2": box(109.0052, 27.7025, 109.0056, 27.7030),  # east, in the compound
    "B3": Point(109.0080, 27.7080),  # east, no compound
    "B4": box(109.0049, 27.7060, 109.0053, 27.7061),  # straddles: point on surface decides
    "B5": Point(109.0200, 27.7200),  # outside every community
}


def _write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    frame.to_file(path, driver="GeoJSON")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Communities; compounds and buildings as GeoJSON without community or compound columns."""
    communities = gpd.GeoDataFrame({"community_code": list(COMMUNITIES), "name": ["西", "东"]},
                                   geometry=list(COMMUNITIES.values()), crs=4326)  # fmt: skip
    compounds = gpd.GeoDataFrame({"compound_id": ["C1"], "name": ["锦江小区"]},
                                 geometry=[COMPOUND], crs=4326)  # fmt: skip
    buildings = gpd.GeoDataFrame({"building_id": list(BUILDINGS), "households": [40] * 5},
                                 geometry=list(BUILDINGS.values()), crs=4326)  # fmt: skip
    # S1 runs about 0.4 km through the east community and 0.3 km through the west one.
    line = LineString([(109.002, 27.701), (109.009, 27.701)])
    streets = gpd.GeoDataFrame({"street_id": ["S1"], "name": ["中山路"]}, geometry=[line], crs=4326)
    return {"community": _write(communities, tmp_path / "communities.geojson"),
            "compound": _write(compounds, tmp_path / "compounds.geojson"),
            "street": _write(streets, tmp_path / "streets.geojson"),
            "building": _write(buildings, tmp_path / "buildings.geojson")}  # fmt: skip


def _stored(url: str) -> tuple[dict[str, tuple], dict[str, str | None]]:
    """Buildings' (community, compound); compounds' and streets' community."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            b = session.execute(
                select(m.Building.id, m.Building.community_code, m.Building.compound_id)
            ).all()
            c = session.execute(select(m.Compound.id, m.Compound.community_code)).all()
            s = session.execute(select(m.Street.id, m.Street.community_code)).all()
            return {r[0]: (r[1], r[2]) for r in b}, {**dict(c), **dict(s)}
    finally:
        engine.dispose()


def _expected_b4() -> str:
    return WEST if BUILDINGS["B4"].point_on_surface().x < 109.005 else EAST


def test_buildings_and_compounds_get_community_and_compound_by_location(store_url, files):
    result = import_files(files, url=store_url)
    buildings, compounds = _stored(store_url)
    assert compounds == {"C1": WEST, "S1": EAST}  # largest share of area / length
    assert buildings == {"B1": (WEST, "C1"), "B2": (EAST, "C1"), "B3": (EAST, None),
                         "B4": (_expected_b4(), None), "B5": (None, None)}  # fmt: skip
    assert result.linked == {"compound → community": 1, "street → community": 1,
                             "building → community": 4, "building → compound": 2}  # fmt: skip
    outside = [(i.entity, i.record_id) for i in result.report if i.reason == "outside communities"]
    assert outside == [("building", "B5")]  # once, though the cross-check finds it too


def test_buildings_imported_later_link_to_the_stored_communities_and_compounds(store_url, files):
    import_files({k: files[k] for k in ("community", "compound", "street")}, url=store_url)
    result = import_files({"building": files["building"]}, url=store_url)
    buildings, _ = _stored(store_url)
    assert buildings["B1"] == (WEST, "C1") and buildings["B3"] == (EAST, None)
    assert result.linked["building → community"] == 4
    assert [i.record_id for i in result.report if i.reason == "outside communities"] == ["B5"]


def test_a_community_column_in_the_file_is_kept(store_url, files, tmp_path):
    frame = gpd.read_file(files["building"]).assign(community_code=EAST)
    path = _write(frame, tmp_path / "with-community.geojson")
    result = import_files({"community": files["community"], "building": path}, url=store_url)
    buildings, _ = _stored(store_url)
    assert buildings["B1"][0] == EAST and "building → community" not in result.linked


def test_cli_prints_what_was_linked_and_what_lies_outside(store_url, files, tmp_path):
    from service.cli import app

    args = ["import", "--lang", "en", "--db", store_url, "--report-dir", str(tmp_path / "rep"),
            "--communities", str(files["community"]),
            "--buildings", str(files["building"])]  # fmt: skip
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Linked by location" in result.output and "building → community" in result.output
    assert "building outside every community" in result.output


def test_without_any_community_nothing_is_linked_or_reported(store_url, files):
    result = import_files({"building": files["building"]}, url=store_url)
    assert result.linked == {}
    assert not [i for i in result.report if i.reason == "outside communities"]


def test_osm_geojson_gets_the_communities_and_compounds_the_office_files_have(store_url, tmp_path):
    from tests.office_files import osm_geojson, sample_layers

    office = osm_geojson(tmp_path / "osm")
    result = import_files(office.sources(), url=store_url)
    stored, _ = _stored(store_url)
    truth = sample_layers()["buildings"]
    numbers = {400_000_000 + 7 * i: b for i, b in enumerate(truth["building_id"])}
    osm_id = {
        **{str(n): b for n, b in numbers.items()},
        **{f"way/{n}": b for n, b in numbers.items()},
    }  # either id the reader picks
    expected = dict(zip(truth["building_id"], truth["community_code"], strict=True))
    got = {osm_id[i]: community for i, (community, _) in stored.items()}
    assert got == expected  # every building of the sample, linked by its footprint's point
    assert result.linked["building → community"] == len(truth)
    compounds = dict(zip(truth["building_id"], truth["compound_id"], strict=True))
    in_compound = {osm_id[i]: c for i, (_, c) in stored.items() if c is not None}
    # Compound ids of the OSM file are the sample's with R instead of XQ.
    assert in_compound == {
        b: c.replace("XQ", "R") for b, c in compounds.items() if isinstance(c, str)
    }
