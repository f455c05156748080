"""``import --update``: added / updated / unchanged / removed, one transaction, flagged grids."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import select
from typer.testing import CliRunner

from gridmap.errors import ImportAborted, InputError
from gridmap.idnumbers import gb11643_check_digit
from service.importer import import_files
from service.storage import models as m
from service.storage.crypto import keys_of, search_hash
from service.storage.loads import table_counts
from service.storage.session import make_engine, session_scope

CODE = "520602001001"
WEST, EAST = box(109.000, 27.700, 109.005, 27.710), box(109.005, 27.700, 109.010, 27.710)
# building id -> (x, y, households): three in each half, 360 households per half
BUILDINGS = {"B1": (109.001, 27.701, 120), "B2": (109.002, 27.708, 120),
             "B3": (109.004, 27.705, 120), "B4": (109.006, 27.701, 120),
             "B5": (109.008, 27.704, 120), "B6": (109.009, 27.709, 120)}  # fmt: skip
ID17 = "52060219800101001"
PERSONS = [("P1", "H1", ID17 + gb11643_check_digit(ID17), "13800000001"),
           ("P2", "H1", None, "13800000002"), ("P3", "H2", None, None),
           ("P4", "H2", None, "13800000004")]  # fmt: skip


def _buildings(path: Path, buildings: dict[str, tuple[float, float, int]]) -> Path:
    """Buildings GeoJSON without a community column (linked by location on import)."""
    frame = gpd.GeoDataFrame(
        {"building_id": list(buildings), "households": [h for _, _, h in buildings.values()],
         "kind": "residential"},
        geometry=[box(x - 1e-4, y - 1e-4, x + 1e-4, y + 1e-4) for x, y, _ in buildings.values()],
        crs="EPSG:4326",
    )  # fmt: skip
    frame.to_file(path, driver="GeoJSON")
    return path


def _persons(path: Path, persons: list[tuple]) -> Path:
    pd.DataFrame(persons, columns=["person_id", "household_id", "id_number", "phone"]).to_csv(
        path, index=False
    )
    return path


@pytest.fixture
def office(tmp_path: Path) -> dict[str, Path]:
    """The first import's files: community, grids (published on import), buildings, rosters."""
    communities = tmp_path / "communities.geojson"
    gpd.GeoDataFrame({"community_code": [CODE], "name": ["示例社区"]},
                     geometry=[box(109.0, 27.7, 109.01, 27.71)],
                     crs="EPSG:4326").to_file(communities, driver="GeoJSON")  # fmt: skip
    grids = tmp_path / "grids.geojson"
    codes = {"grid_code": [f"{CODE}001", f"{CODE}002"], "community_code": [CODE] * 2}
    gpd.GeoDataFrame(codes, geometry=[WEST, EAST], crs=4326).to_file(grids, driver="GeoJSON")
    households = tmp_path / "households.csv"
    pd.DataFrame({"household_id": ["H1", "H2"], "building_id": ["B2", "B2"]}).to_csv(
        households, index=False
    )
    return {"community": communities, "grid": grids,
            "building": _buildings(tmp_path / "buildings.geojson", BUILDINGS),
            "household": households,
            "person": _persons(tmp_path / "persons.csv", PERSONS)}  # fmt: skip


def _state(url: str) -> tuple[dict[str, int], dict[str, tuple]]:
    """Row counts per table and each building's (households, kind, community)."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            rows = session.execute(select(m.Building.id, m.Building.households, m.Building.kind,
                                          m.Building.community_code)).all()  # fmt: skip
            return table_counts(session=session), {r[0]: tuple(r[1:]) for r in rows}
    finally:
        engine.dispose()


def _changed(tmp_path: Path) -> Path:
    """B1 drops to 20 households, B6 is gone, B7 (east, 100) is new."""
    buildings = {**BUILDINGS, "B1": (109.001, 27.701, 20), "B7": (109.0075, 27.707, 100)}
    del buildings["B6"]
    return _buildings(tmp_path / "buildings-2.geojson", buildings)


def test_update_round_trip_counts_changes_and_flags_the_published_grids(
    store_url, office, tmp_path
):
    first = import_files(office, url=store_url)
    assert first.changes["building"].added == 6 and first.out_of_bounds == []
    result = import_files(
        {"building": _changed(tmp_path), "person": office["person"]},
        url=store_url, update=True, replace=["building"],
    )  # fmt: skip
    assert result.linked["building → community"] == 6  # the file has no community column
    b, p = result.changes["building"], result.changes["person"]
    assert (b.added, b.updated, b.unchanged, b.removed, b.retired) == (1, 1, 4, 1, 1)
    # Persons are stored encrypted: the same roster again is unchanged, not "updated".
    assert (p.added, p.updated, p.unchanged, p.removed) == (0, 0, 4, 0)
    flagged = {(g["grid_code"], g["households"], g["households_now"], g["status_now"])
               for g in result.out_of_bounds}  # fmt: skip
    # 002 keeps 240 of its buildings, and the new B7 (100) stands in it: 340, within bounds.
    assert flagged == {(f"{CODE}001", 360, 260, "under_min")}
    counts, buildings = _state(store_url)
    # B6 is assigned by the published plan: retired (kept for the plan), not deleted.
    assert buildings["B6"] == (0, "demolished", None)
    assert buildings["B1"] == (20, "residential", CODE)
    assert buildings["B7"] == (100, "residential", CODE)  # linked by location to the stored one
    assert counts["building"] == 7 and counts["grid_building"] == 6
    assert ("building", "B6", "building retired") in {
        (i.entity, i.record_id, i.reason) for i in result.report
    }
    # The same update next month changes nothing: B6 is not removed a second time.
    again = import_files({"building": _changed(tmp_path)}, url=store_url, update=True,
                         replace=["building"])  # fmt: skip
    b = again.changes["building"]
    assert (b.added, b.updated, b.unchanged, b.removed) == (0, 0, 6, 0)


def test_a_changed_encrypted_value_is_an_update_and_its_search_hash_follows(
    store_url, office, tmp_path
):
    import_files(office, url=store_url)
    persons = [("P1", "H1", PERSONS[0][2], "13900000009"), *PERSONS[1:]]
    result = import_files({"person": _persons(tmp_path / "p2.csv", persons)}, url=store_url,
                          update=True)  # fmt: skip
    p = result.changes["person"]
    assert (p.added, p.updated, p.unchanged) == (0, 1, 3)
    engine = make_engine(store_url)
    with session_scope(engine) as session:
        phone, phone_hash = session.execute(
            select(m.Person.phone, m.Person.phone_hash).where(m.Person.id == "P1")
        ).one()
    wanted = search_hash("13900000009", purpose="phone", keys=keys_of(engine))
    engine.dispose()
    assert phone == "13900000009" and phone_hash == wanted


def test_without_update_stored_ids_are_refused_with_a_hint(store_url, office):
    import_files(office, url=store_url)
    before = _state(store_url)
    with pytest.raises(ImportAborted, match=r"already in the store.*--update"):
        import_files({"building": office["building"]}, url=store_url)
    assert _state(store_url) == before
    with pytest.raises(InputError, match="--update"):
        import_files({"building": office["building"]}, url=store_url, replace=["building"])


def test_a_failing_update_leaves_the_store_unchanged(store_url, office, tmp_path):
    import_files({k: office[k] for k in ("community", "grid", "building", "household")},
                 url=store_url)  # fmt: skip
    before = _state(store_url)

    def fail_in_persons(table: str, done: int, total: int) -> None:
        if table == "person":  # buildings were already updated and B6 retired in this session
            raise OSError("connection lost")

    with pytest.raises(OSError, match="connection lost"):
        import_files({"building": _changed(tmp_path), "person": office["person"]},
                     url=store_url, update=True, replace=["building"],
                     progress=fail_in_persons)  # fmt: skip
    assert _state(store_url) == before


def test_deletions_file_removes_records_and_clears_links_to_them(store_url, office, tmp_path):
    import_files(office, url=store_url)
    deletions = tmp_path / "deletions.csv"
    deletions.write_text("entity,id\nhousehold,H1\nperson,P3\nbuilding,B9\n", encoding="utf-8")
    result = import_files({}, url=store_url, update=True, deletions=deletions)
    assert result.changes["household"].removed == 1 and result.changes["person"].removed == 1
    lines = {(i.entity, i.record_id, i.reason) for i in result.report}
    assert {("person", "P1", "household removed"), ("person", "P2", "household removed"),
            ("building", "B9", "not in the store")} <= lines  # fmt: skip
    counts, _ = _state(store_url)
    assert counts["household"] == 1 and counts["person"] == 3


def test_cli_update_prints_changes_and_grids_out_of_bounds(store_url, office, tmp_path):
    from service.cli import app

    import_files(office, url=store_url)
    base = ["import", "--lang", "en", "--db", store_url, "--report-dir", str(tmp_path / "rep")]
    refused = CliRunner().invoke(app, [*base, "--replace", "building", "--buildings",
                                       str(_changed(tmp_path))])  # fmt: skip
    assert refused.exit_code == 2 and "--update" in refused.output
    result = CliRunner().invoke(app, [*base, "--update", "--replace", "building",
                                      "--buildings", str(_changed(tmp_path))])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 (1 retired)" in result.output and "unchanged" in result.output
    assert f"{CODE}001" in result.output  # 002 holds the new B7: within bounds
    assert "gridmap plan redistrict" in result.output


def test_deletions_file_accepts_plurals_and_names_bad_lines(tmp_path):
    from service.importer import read_deletions

    good = tmp_path / "good.csv"
    good.write_text("Entity,ID\nbuildings,B1\nPerson,P2\ncommunities,520602001001\n", "utf-8")
    assert read_deletions(good) == {"building": {"B1"}, "person": {"P2"},
                                    "community": {"520602001001"}}  # fmt: skip
    bad = tmp_path / "bad.csv"
    bad.write_bytes("entity,id\nbuilding,B1\n楼栋,B2\nperson,\n".encode("gb18030"))
    with pytest.raises(InputError, match=r"row 3, row 4 name no known entity"):
        read_deletions(bad)


def test_removing_a_community_in_use_refuses_the_whole_update(store_url, office, tmp_path):
    import_files(office, url=store_url)
    before = _state(store_url)
    with pytest.raises(ImportAborted, match=rf"still in use cannot be removed: {CODE} \(1 plan\)"):
        import_files({"building": _changed(tmp_path)}, url=store_url, update=True,
                     deletions={"community": [CODE]})  # fmt: skip
    assert _state(store_url) == before  # the building changes made first were rolled back
