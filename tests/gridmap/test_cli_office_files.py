"""``gridmap partition`` on files as offices have them (tests/office_files.py), no mapping file.

Every fixture set must give grids for the 3 sample communities holding all 122 buildings and all
6,649 households; a GBK Shapefile without ``.cpg`` must give the same grids as with one.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy
from typer.testing import CliRunner

import geodata
from gridmap.io.layers import plural
from service.cli import app
from tests import office_files
from tests.office_files import ALL_SETS

runner = CliRunner()
COMMUNITY_CODES = {"520602002001", "520602002002", "520602001005"}
SAMPLE_HOUSEHOLDS = 6649
SAMPLE_BUILDINGS = 122


def _partition(files: office_files.OfficeFiles, tmp_path, *extra: str):
    out, csv = tmp_path / "grids.geojson", tmp_path / "assignments.csv"
    args = ["partition", *files.partition_args(), "--out", str(out), "--assignments", str(csv)]
    res = runner.invoke(app, [*args, "--jobs", "1", *extra])
    return res, out, csv


def _grids(out) -> list[dict]:
    return [f["properties"] for f in json.loads(out.read_text(encoding="utf-8"))["features"]]


@pytest.mark.parametrize("name", sorted(ALL_SETS))
def test_every_office_set_partitions_without_a_mapping(name, tmp_path):
    files = ALL_SETS[name](tmp_path / "in")
    res, out, csv = _partition(files, tmp_path)
    assert res.exit_code == 0, res.output
    grids = _grids(out)
    assert len(grids) >= 10
    assert {g["grid_code"][:12] for g in grids} == COMMUNITY_CODES
    assert sum(g["households"] for g in grids) == SAMPLE_HOUSEHOLDS
    assignments = pd.read_csv(csv, dtype=str)
    assert len(assignments) == SAMPLE_BUILDINGS and assignments["building_id"].is_unique
    assert set(assignments["grid_code"]) == {g["grid_code"] for g in grids}
    if name == "osm_geojson":  # the OSM id, not the "way/…" id, is the building id
        assert assignments["building_id"].str.fullmatch(r"4\d{8}").all()
    else:
        assert assignments["building_id"].str.fullmatch(r"B\d{5}").all()


def test_gbk_shapefile_without_cpg_gives_the_same_grids_and_says_how_it_was_read(tmp_path):
    with_cpg = office_files.gbk_shapefiles(tmp_path / "cpg", cpg=True)
    without = office_files.gbk_shapefiles(tmp_path / "nocpg", cpg=False)
    assert not without.buildings.with_suffix(".cpg").exists()
    assert office_files.dbf_has_gbk_text(without.buildings, "清水塘小区")
    res_a, out_a, csv_a = _partition(with_cpg, tmp_path / "a")
    res_b, out_b, csv_b = _partition(without, tmp_path / "b")
    assert res_a.exit_code == 0 and res_b.exit_code == 0, res_a.output + res_b.output
    assert _grids(out_a) == _grids(out_b)
    assert pd.read_csv(csv_a).equals(pd.read_csv(csv_b))
    text = " ".join(res_b.output.split())  # Chinese by default
    names = "communities.shp、buildings.shp、streets.shp、compounds.shp"  # one line for all
    assert text.count(f"{names}：没有 .cpg 文件，按内容判断，文字以 GB18030 读取") == 1
    assert text.count("没有 .cpg 文件") == 1
    assert f"{names}：按 .cpg 文件，文字以 GBK 读取" in " ".join(res_a.output.split())


def test_encoding_option_overrides_detection(tmp_path):
    files = office_files.gbk_shapefiles(tmp_path / "in", cpg=False)
    res, out, _ = _partition(files, tmp_path, "--encoding", "GBK", "--lang", "en")
    assert res.exit_code == 0, res.output
    names = "communities.shp, buildings.shp, streets.shp, compounds.shp"  # one line for all
    assert f"{names}: text read as GBK (as given)" in " ".join(res.output.split())
    wrong, _, _ = _partition(files, tmp_path / "w", "--encoding", "UTF-8", "--lang", "en")
    assert wrong.exit_code != 0
    assert "text is not UTF-8 as given; it looks like GB18030" in " ".join(wrong.output.split())


def test_multilayer_geopackage_layers_are_found_by_name_or_given(tmp_path):
    files = office_files.multilayer_geopackage(tmp_path / "in")
    bare = office_files.OfficeFiles(communities=files.communities, buildings=files.buildings)
    res, out, _ = _partition(bare, tmp_path / "guessed")
    assert res.exit_code == 0, res.output
    assert "碧江区基础数据.gpkg：楼栋取自图层“楼栋”" in " ".join(res.output.split())
    bad = bare.partition_args() + ["--layer", "building=房屋"]
    res = runner.invoke(app, ["partition", *bad, "--out", str(tmp_path / "g.geojson"),
                              "--lang", "en"])  # fmt: skip
    assert res.exit_code != 0
    assert "has no layer '房屋'" in " ".join(res.output.split())
    res = runner.invoke(app, ["partition", *bare.partition_args(), "--layer", "楼栋",
                              "--out", str(tmp_path / "g.geojson"), "--lang", "en"])  # fmt: skip
    assert res.exit_code != 0 and "ENTITY=LAYER" in res.output


def test_mapping_file_and_field_options_apply(tmp_path):
    files = office_files.buildings_lonlat_csv(tmp_path / "in")
    renamed = {"户数": "住户总量", "楼栋编号": "楼编"}
    table = pd.read_csv(files.buildings, dtype=str).rename(columns=renamed)
    table.to_csv(files.buildings, index=False)
    res, _, _ = _partition(files, tmp_path / "none", "--lang", "en")
    assert res.exit_code != 0
    text = " ".join(res.output.split())
    assert "no building_id column" in text and "no households column" in text  # both at once
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[building]\n楼编 = "building_id"\n', encoding="utf-8")
    res, out, _ = _partition(
        files, tmp_path / "mapped", "--mapping", str(mapping), "--households-field", "住户总量"
    )
    assert res.exit_code == 0, res.output
    assert sum(g["households"] for g in _grids(out)) == SAMPLE_HOUSEHOLDS


def test_problems_of_several_files_are_reported_together(tmp_path):
    files = office_files.truncated_shapefiles(tmp_path / "in")
    res, _, _ = _partition(files, tmp_path, "--id-field", "bid", "--community-code-field", "cc",
                           "--lang", "en")  # fmt: skip
    assert res.exit_code != 0
    text = " ".join(res.output.split())
    assert "communities.shp" in text and "'cc'" in text
    assert "buildings.shp" in text and "'bid'" in text


def test_a_buildings_csv_without_coordinates_is_a_clear_error(tmp_path):
    files = office_files.buildings_lonlat_csv(tmp_path / "in")
    table = pd.read_csv(files.buildings, dtype=str).drop(columns=["经度", "纬度"])
    table.to_csv(files.buildings, index=False)
    res, _, _ = _partition(files, tmp_path, "--lang", "en")
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "empty or missing geometry" in " ".join(res.output.split())


def test_import_refuses_a_person_id_column_of_id_numbers(tmp_path):
    """Issue 12 item 3: an ID number never becomes a record id, and the message says why."""
    roster = pd.read_csv(office_files.persons_roster(tmp_path, rows=30), dtype=str,
                         encoding="gbk")  # fmt: skip
    bad = tmp_path / "花名册.csv"
    roster.rename(columns={"身份证号": "人员编号"}).to_csv(bad, index=False, encoding="gbk")
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    res = runner.invoke(app, ["import", "--lang", "en", "--db", db, "--persons", str(bad),
                              "--report-dir", str(tmp_path / "rep")])  # fmt: skip
    assert res.exit_code != 0
    text = " ".join(res.output.split())
    assert "'人员编号' (person_id) holds citizen ID numbers" in text
    assert "'id_number'" in text and "ids are generated" in text
    assert not any(number in res.output for number in roster["身份证号"])


def test_import_reads_the_same_files_gbk_names_and_generated_person_ids(tmp_path):
    files = office_files.gbk_shapefiles(tmp_path / "shp", cpg=False)
    roster = office_files.persons_roster(tmp_path, rows=50)
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    args = [
        "import",
        "--lang",
        "en",
        "--db",
        db,
        "--report-dir",
        str(tmp_path / "rep"),
        "--households",
        str(geodata.get_path("households.csv")),
        "--persons",
        str(roster),
    ]
    for entity, path in files.sources().items():
        args += [f"--{plural(entity)}", str(path)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    names = "communities.shp, compounds.shp, streets.shp, buildings.shp"
    assert text.count(f"{names}: text read as GB18030 (no .cpg)") == 1  # one line for all
    assert text.count("(no .cpg)") == 1
    engine = sqlalchemy.create_engine(db)
    with engine.connect() as conn:
        names = dict(conn.execute(sqlalchemy.text("SELECT code, name FROM community")).all())
        persons = conn.execute(sqlalchemy.text("SELECT id, household_id FROM person")).all()
    engine.dispose()
    assert names == {"520602002001": "广场社区", "520602002002": "南门社区",
                     "520602001005": "锦江社区"}  # fmt: skip
    assert len(persons) == 50
    assert all(pid.startswith(hh + "-") for pid, hh in persons)


def test_redistrict_reads_office_files_the_same_way(tmp_path):
    """A plan made from GBK Shapefiles is repaired against a lon/lat CSV of the buildings."""
    shp = office_files.gbk_shapefiles(tmp_path / "shp", cpg=False)
    res, grids, assignments = _partition(shp, tmp_path / "plan")
    assert res.exit_code == 0, res.output
    table = office_files.buildings_lonlat_csv(tmp_path / "csv")
    now = pd.read_csv(table.buildings, dtype={"楼栋编号": str})
    now.loc[now["楼栋编号"].isin(["B00001", "B00002", "B00003"]), "户数"] += 200  # new flats
    now.to_csv(table.buildings, index=False, encoding="gbk")  # and saved by Excel on Windows
    out = tmp_path / "new.geojson"
    args = ["redistrict", "--plan", str(grids), "--assignments", str(assignments),
            "--buildings", str(table.buildings), "--communities", str(shp.communities),
            "--streets", str(shp.streets), "--compounds", str(shp.compounds),
            "--out", str(out), "--lang", "en"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "楼栋_经纬度.csv: text read as GB18030 (not valid UTF-8)" in text
    assert "communities.shp, streets.shp, compounds.shp: text read as GB18030 (no .cpg)" in text
    assert sum(g["households"] for g in _grids(out)) == SAMPLE_HOUSEHOLDS + 600


def test_import_takes_layers_and_encoding_like_partition(tmp_path):
    """``gridmap import`` reads through the same layer as the plan commands: ``--layer`` (plural
    entity names too), ``--encoding``, and every file's header problems in one message."""
    gpkg = office_files.multilayer_geopackage(tmp_path / "gpkg")
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    args = ["import", "--db", db, "--report-dir", str(tmp_path / "rep")]
    for entity, path in gpkg.sources().items():
        args += [f"--{plural(entity)}", str(path)]
    for entity, layer in gpkg.layers.items():
        args += ["--layer", f"{plural(entity)}={layer}"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    engine = sqlalchemy.create_engine(db)
    with engine.connect() as conn:
        buildings = conn.execute(sqlalchemy.text("SELECT count(*) FROM building")).scalar()
    engine.dispose()
    assert buildings == 122

    shp = office_files.gbk_shapefiles(tmp_path / "shp", cpg=False)
    wrong = ["import", "--lang", "en", "--db", f"sqlite:///{tmp_path / 'other.sqlite'}",
             "--encoding", "UTF-8",
             "--communities", str(shp.communities), "--buildings", str(shp.buildings)]  # fmt: skip
    res = runner.invoke(app, wrong)
    assert res.exit_code != 0 and "Traceback" not in res.output
    text = " ".join(res.output.split())
    # both files are named in one run: the office fixes them together
    assert "communities.shp: the text is not UTF-8" in text
    assert "buildings.shp: the text is not UTF-8" in text
