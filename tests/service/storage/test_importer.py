"""Importing the Bijiang sample on both backends: counts, formats, planted faults, rollback, CLI."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from geodata import SAMPLE_DIR
from geodata.faults import PLANTED_FAULTS, write_faulty_sample
from gridmap.errors import DuplicateIdError, ImportAborted, InputError
from gridmap.io.layers import write_layer
from service.importer import import_files
from service.storage.loads import table_counts
from service.storage.plans import load_plan
from service.storage.session import make_engine, session_scope

GPKG = SAMPLE_DIR / "bijiang.gpkg"
LAYER_OF = {"community": "communities", "compound": "compounds", "street": "streets",
            "building": "buildings", "grid": "grids_existing"}  # fmt: skip
SPATIAL = dict.fromkeys(LAYER_OF, GPKG)
FULL = {**SPATIAL, "household": SAMPLE_DIR / "households.csv",
        "person": SAMPLE_DIR / "persons.csv", "staff": SAMPLE_DIR / "staff.csv"}  # fmt: skip
TABLE_OF = {"community": "community", "compound": "compound", "street": "street",
            "building": "building", "household": "household", "person": "person",
            "staff": "staff", "grid": "grid"}  # fmt: skip


def _rows_in_files() -> dict[str, int]:
    """Record counts of the sample read independently of gridmap (the expected counts)."""
    counts = {e: len(pyogrio.read_dataframe(GPKG, layer=layer, read_geometry=False))
              for e, layer in LAYER_OF.items()}  # fmt: skip
    for entity, name in (("household", "households"), ("person", "persons"), ("staff", "staff")):
        counts[entity] = len(pd.read_csv(SAMPLE_DIR / f"{name}.csv", dtype=str))
    return counts


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return table_counts(session=session)
    finally:
        engine.dispose()


def test_sample_import_stores_every_record(store_url, tmp_path):
    expected = _rows_in_files()
    result = import_files(FULL, url=store_url, report_dir=tmp_path / "report")
    stored = _counts(store_url)
    assert {e: stored[TABLE_OF[e]] for e in expected} == expected
    assert result.read == expected
    assert stored["plan"] == 1 and stored["import_run"] == 1
    # Every building of the gridded community is assigned; grid counts add up to the buildings'.
    engine = make_engine(store_url)
    with session_scope(engine) as session:
        grids = load_plan(session=session, community_code="520602002001")
    engine.dispose()
    assert len(grids) == expected["grid"] and grids.attrs["plan"]["status"] == "published"
    assert stored["grid_building"] == grids["buildings"].sum()
    assert grids["households"].sum() > 0 and grids["persons"].sum() > 0
    # The report is on disk as CSV and JSON with the same lines, and holds no personal values.
    csv = pd.read_csv(result.report_paths["csv"], dtype=str, encoding="utf-8-sig")
    lines = json.loads(Path(result.report_paths["json"]).read_text(encoding="utf-8"))
    assert len(csv) == len(lines) == len(result.report)


# --------------------------------------------------------------------------- formats
_SHP_NAMES = {"community_code": "comm_code", "compound_id": "compnd_id",
              "property_company": "prop_co", "subdistrict": "subdist",
              "building_id": "bldg_id"}  # fmt: skip


def _write_format(fmt: str, directory: Path) -> tuple[dict[str, Path], Path | None]:
    """The sample's GeoPackage layers (and households) converted to ``fmt`` in ``directory``."""
    sources: dict[str, Path] = {}
    mapping = None
    for entity, layer in LAYER_OF.items():
        frame = gpd.read_file(GPKG, layer=layer)
        if fmt == "shp":
            shp_dir = directory / layer
            shp_dir.mkdir()
            write_layer(frame.rename(columns=_SHP_NAMES), shp_dir / f"{layer}.shp")
            path = directory / f"{layer}.zip"
            with zipfile.ZipFile(path, "w") as zf:
                for part in shp_dir.iterdir():
                    zf.write(part, part.name)
        elif fmt == "csv-lonlat":  # points only: lon/lat of a point on each footprint
            path = directory / f"{layer}.csv"
            if entity in ("building",):
                table = pd.DataFrame(frame.drop(columns="geometry"))
                points = frame.geometry.representative_point()
                table["经度"], table["纬度"] = points.x, points.y
                table.to_csv(path, index=False)
            else:
                write_layer(frame, path)
        else:
            suffix = {"geojson": ".geojson", "parquet": ".parquet", "csv-wkt": ".csv",
                      "xlsx": ".xlsx"}[fmt]  # fmt: skip
            path = write_layer(frame, directory / f"{layer}{suffix}")
        sources[entity] = path
    if fmt == "shp":
        mapping = directory / "mapping.toml"
        tables = []
        for entity, layer in LAYER_OF.items():
            columns = pyogrio.read_info(GPKG, layer=layer)["fields"]
            lines = [f'{_SHP_NAMES[c]} = "{c}"' for c in columns if c in _SHP_NAMES]
            tables.append(f"[{entity}]\n" + "\n".join(lines) + "\n")
        mapping.write_text("\n".join(tables), "utf-8")
    households = "households.xlsx" if fmt == "xlsx" else "households.csv"
    sources["household"] = SAMPLE_DIR / households
    return sources, mapping


FORMATS = ["geojson", "shp", "parquet", "csv-wkt", "csv-lonlat", "xlsx"]


@pytest.fixture(scope="module")
def reference_counts(tmp_path_factory) -> dict[str, int]:
    """Counts after importing the GeoPackage itself (on SpatiaLite)."""
    directory = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{directory / 'ref.sqlite'}"
    import_files({**SPATIAL, "household": SAMPLE_DIR / "households.csv"}, url=url)
    counts = _counts(url)
    assert counts["building"] == 122 and counts["household"] > 6000  # sanity of the reference
    return counts


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_gives_the_same_counts(fmt, backend, make_store, tmp_path, reference_counts):
    sources, mapping = _write_format(fmt, tmp_path)
    url = make_store()
    result = import_files(sources, url=url, mapping=mapping)
    counts = _counts(url)
    assert counts == reference_counts
    if fmt != "csv-lonlat":  # points instead of footprints change what coordinates attach to
        assert len(result.report) == 0  # same (empty) report as the GPKG


# --------------------------------------------------------------------------- planted faults
PLANTED = {(f.entity, f.record_id) for f in PLANTED_FAULTS}


def _sources(directory: Path) -> dict[str, Path]:
    return {**dict.fromkeys(LAYER_OF, directory / "bijiang.gpkg"),
            "household": directory / "households.csv", "person": directory / "persons.csv",
            "staff": directory / "staff.csv"}  # fmt: skip


def test_clean_sample_has_an_empty_report(tmp_path):
    # Buildings of the two communities without hand-drawn grids are not "outside grids".
    result = import_files(FULL, url=f"sqlite:///{tmp_path / 'clean.sqlite'}")
    assert [(i.entity, i.record_id, i.reason) for i in result.report] == []


def test_planted_faults_are_exactly_the_reported_records(store_url, tmp_path):
    directory = write_faulty_sample(tmp_path / "faulty")
    with pytest.warns(UserWarning, match="Repaired invalid geometry of community"):
        result = import_files(_sources(directory), url=store_url, report_dir=tmp_path / "report")
    assert {(i.entity, i.record_id) for i in result.report} == PLANTED
    # One line per fault, plus three second lines for planted records: the self-intersection
    # the planted community overlap leaves (repaired), the building moved out of every community
    # (outside every grid too) and the grown grid (it leaves its community too).
    assert len(result.report) == len(PLANTED_FAULTS) + 3
    second = {("community", "520602002002", "geometry repaired"),
              ("building", "B00026", "outside grids"),
              ("grid", "520602002001009", "grid outside community")}  # fmt: skip
    assert second <= {(i.entity, i.record_id, i.reason) for i in result.report}
    # What was left out: the unusable footprint and the two exact copies; the rest is stored.
    stored = _counts(store_url)
    read = result.read
    assert (
        stored["building"] == read["building"] - 2 and stored["household"] == read["household"] - 1
    )
    assert stored["person"] == read["person"] and stored["grid"] == read["grid"]
    # The report names records only, never personal values.
    text = Path(result.report_paths["csv"]).read_text(encoding="utf-8-sig")
    persons = pd.read_csv(directory / "persons.csv", dtype=str, encoding="utf-8-sig")
    faulty = persons[persons["人员编号"].isin([p for e, p in PLANTED if e == "person"])]
    for value in faulty[["姓名", "身份证号", "联系电话"]].stack().dropna().astype(str):
        assert value not in text


def test_conflicting_duplicate_ids_refuse_the_import_and_write_nothing(store_url, tmp_path):
    import_files({"community": GPKG}, url=store_url)  # something already stored
    before = _counts(store_url)
    households = pd.read_csv(FULL["household"], dtype=str, encoding="utf-8-sig").head(20)
    twins = households.iloc[[3, 7]].assign(**{"房号": "999"})  # same ids, other rooms
    path = tmp_path / "households.csv"
    pd.concat([households, twins]).to_csv(path, index=False, encoding="utf-8-sig")
    ids = households["户号"].iloc[[3, 7]].tolist()
    with pytest.raises(DuplicateIdError, match=rf"'{ids[0]}' ×2, '{ids[1]}' ×2"):
        import_files({"building": GPKG, "household": path}, url=store_url)
    assert _counts(store_url) == before


def test_a_layer_of_the_wrong_geometry_kind_refuses_the_import(store_url, tmp_path):
    streets = gpd.read_file(GPKG, layer="streets")
    path = tmp_path / "grids.gpkg"
    streets.assign(grid_code=[f"520602002001{k:03d}" for k in range(1, len(streets) + 1)],
                   community_code="520602002001").to_file(path, layer="grids")  # fmt: skip
    with pytest.raises(InputError, match="wrong kind"):
        import_files({"community": GPKG, "grid": path}, url=store_url)
    assert _counts(store_url)["community"] == 0


# --------------------------------------------------------------------------- halfway failure
def test_an_import_failing_halfway_leaves_the_store_as_it_was(store_url):
    import_files(SPATIAL, url=store_url)
    before = _counts(store_url)
    written = []

    def fail_in_persons(table: str, done: int, total: int) -> None:
        written.append(table)
        if table == "person" and done > 2000:  # after 2 batches of persons were flushed
            raise OSError("connection lost")

    rosters = {k: FULL[k] for k in ("household", "person", "staff")}
    with pytest.raises(OSError, match="connection lost"):
        import_files(rosters, url=store_url, progress=fail_in_persons)
    assert written.count("person") == 2 and "household" in written
    assert _counts(store_url) == before


def test_import_refuses_ids_already_stored(store_url):
    import_files(SPATIAL, url=store_url)
    before = _counts(store_url)
    with pytest.raises(ImportAborted, match=r"building id\(s\) B00001, B00002"):
        import_files({"building": GPKG}, url=store_url)
    assert _counts(store_url) == before


def test_households_and_persons_attach_to_stored_buildings(store_url):
    import_files(SPATIAL, url=store_url)
    result = import_files({"household": FULL["household"]}, url=store_url)
    assert result.counts["household"] == _rows_in_files()["household"]
    result = import_files({"person": FULL["person"]}, url=store_url)
    assert not [i for i in result.report if i.reason == "unknown household"]


# --------------------------------------------------------------------------- CLI
def test_cli_import_prints_counts_and_report_but_no_personal_data(store_url, tmp_path):
    from service.cli import app

    args = ["import", "--lang", "en", "--db", store_url, "--report-dir", str(tmp_path / "rep")]
    for entity, path in FULL.items():
        option = {"community": "communities", "compound": "compounds", "street": "streets",
                  "building": "buildings", "household": "households", "person": "persons",
                  "staff": "staff", "grid": "grids"}[entity]  # fmt: skip
        args += [f"--{option}", str(path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "15220" in result.output and "report (csv)" in result.output
    persons = pd.read_csv(FULL["person"], dtype=str, encoding="utf-8-sig").head(50)
    for value in persons[["姓名", "身份证号", "联系电话"]].stack().dropna().astype(str):
        assert value not in result.output
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 1 and "nothing was written" in again.output
