"""``gridmap plan`` on both backends, over the Bijiang demo sample imported into the store.

Partition from the store gives the grids ``gridmap partition`` gives for the same files and
seed; plans keep their problems; ``plan list`` flags grids by the households stored NOW;
``plan redistrict`` repairs them; errors exit 2 with one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import func, select, update
from typer.testing import CliRunner

import geodata
from gridmap.crs import projected_crs_for
from service.analyst import open_store
from service.cli import app
from service.storage import models as m
from service.storage.session import session_scope
from tests.gridmap.test_cli_language import english_words, foreign_chinese

SAMPLE_LAYERS = {"community": "communities", "compound": "compounds", "street": "streets",
                 "building": "buildings"}  # fmt: skip
BIG = "520602002001"  # 13 grids, all within 300-500 households at seed 0
TOWER = "520602002002"  # holds B00088, 528 households: a grid over the maximum on its own
GEOMETRY_TOLERANCE_M = 0.05  # files are written with 7 decimals of a degree (about 1 cm)


def run(*args: object, code: int = 0) -> str:
    """Invoke ``gridmap`` and return its output (stdout and stderr); check the exit code."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output + repr(result.exception)
    return result.output


def import_sample(url: str) -> None:
    """The sample's communities, compounds, streets and buildings (households per building)."""
    gpkg = geodata.get_path("bijiang.gpkg")
    with open_store(url) as store:
        store.import_files(dict.fromkeys(SAMPLE_LAYERS, gpkg))


def assert_same_grids(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    """Same grid codes and household counts, geometries equal within a few centimetres."""
    a = a.sort_values("grid_code").reset_index(drop=True)
    b = b.sort_values("grid_code").reset_index(drop=True)
    assert a["grid_code"].tolist() == b["grid_code"].tolist()
    assert a["households"].astype(int).tolist() == b["households"].astype(int).tolist()
    crs = projected_crs_for(a)
    ga, gb = a.geometry.to_crs(crs), b.geometry.to_crs(crs)
    distance = ga.hausdorff_distance(gb.set_crs(crs, allow_override=True))
    assert float(distance.max()) < GEOMETRY_TOLERANCE_M, distance.tolist()


def _plans(url: str) -> pd.DataFrame:
    with open_store(url, migrate=False) as store:
        return store.plan_overview()


def _ids(plans: pd.DataFrame, status: str) -> dict[str, int]:
    chosen = plans[plans["status"] == status]
    return dict(zip(chosen["community_code"], chosen["id"].astype(int), strict=True))


@pytest.fixture
def sample_url(store_url: str) -> str:
    import_sample(store_url)
    return store_url


def _sample_files(tmp_path) -> list[str]:
    """The sample's layers as separate files: the `gridmap partition` options for them."""
    gpkg = geodata.get_path("bijiang.gpkg")
    args = []
    for option, layer in (("--communities", "communities"), ("--buildings", "buildings"),
                          ("--streets", "streets"), ("--compounds", "compounds")):  # fmt: skip
        path = tmp_path / f"{layer}.gpkg"
        gpd.read_file(gpkg, layer=layer).to_file(path)
        args += [option, str(path)]
    return [*args, "--community-code-field", "community_code", "--id-field", "building_id"]


# --------------------------------------------------------------------------- partition
def partition_sample_files(tmp_path: Path) -> tuple[Path, Path]:
    """``gridmap partition`` of the sample's files (seed 3, one process): grids and CSV."""
    out, csv = tmp_path / "grids.geojson", tmp_path / "assignments.csv"
    run("partition", *_sample_files(tmp_path), "--seed", 3, "--jobs", 1, "--out", out,
        "--assignments", csv)  # fmt: skip
    return out, csv


def assert_drafts_are_the_files(url: str, out: Path, csv: Path) -> list[Any]:
    """The three draft plans stored at ``url`` have the grids of ``out`` and the building →
    grid rows of ``csv``; returns the stored plans."""
    drafts = _ids(_plans(url), "draft")
    assert len(drafts) == 3
    with open_store(url, migrate=False) as store:
        stored = [store.load_plan(i) for i in drafts.values()]
    assert_same_grids(gpd.read_file(out), pd.concat([p.grids for p in stored]))
    from_files = pd.read_csv(csv, dtype=str).sort_values("building_id")
    from_store = pd.concat([p.assignments for p in stored]).sort_values("building_id")
    assert from_files.to_numpy().tolist() == from_store.to_numpy().tolist()
    return stored


def test_store_partition_gives_the_grids_of_the_files(sample_url, tmp_path):
    out, csv = partition_sample_files(tmp_path)
    printed = run("plan", "partition", "--db", sample_url, "--seed", 3, "--jobs", 1)
    for code in (BIG, TOWER):
        assert code in printed
    stored = assert_drafts_are_the_files(sample_url, out, csv)
    assert not _ids(_plans(sample_url), "published")
    assert stored[0].info["params"]["seed"] == 3


def test_stored_grids_are_the_written_grids_one_valid_polygon_each(sample_url, tmp_path):
    """Issue 11: grids are rounded to the output precision before they are stored, as they are
    before they are written: the database holds one valid polygon per grid, vertex for vertex
    the polygons of the GeoJSON file (7 decimals)."""
    out = tmp_path / "grids.geojson"
    run("partition", *_sample_files(tmp_path), "--seed", 3, "--jobs", 1, "--out", out)
    run("plan", "partition", "--db", sample_url, "--seed", 3, "--jobs", 1)
    with open_store(sample_url, migrate=False) as store, session_scope(store.engine) as session:
        rows = session.execute(
            select(m.Grid.code, func.ST_IsValid(m.Grid.geom), func.ST_NumGeometries(m.Grid.geom))
        ).all()
        stored = {
            p.grids.iloc[0]["community_code"]: p.grids
            for p in (store.load_plan(int(i)) for i in _ids(_plans(sample_url), "draft").values())
        }
    written = gpd.read_file(out).set_index("grid_code")
    assert sorted(code for code, _, _ in rows) == sorted(written.index)
    assert all(bool(valid) and parts == 1 for _, valid, parts in rows), rows
    for grids in stored.values():
        for code, geom in zip(grids["grid_code"], grids.geometry, strict=True):
            (polygon,) = shapely.get_parts(geom)
            assert polygon.normalize().equals_exact(
                written.geometry[code].normalize(), tolerance=1e-9
            ), code


def test_plans_keep_their_problems_and_show_them(sample_url, tmp_path):
    printed = run("plan", "partition", "--db", sample_url, "--community", TOWER, "--publish")
    plan_id = _ids(_plans(sample_url), "published")[TOWER]
    assert list(_ids(_plans(sample_url), "published")) == [TOWER]
    assert "B00088" in printed and "528" in printed  # the tower's problem, in Chinese
    shown = run("plan", "show", plan_id, "--db", sample_url)
    assert f"{TOWER}001" in shown and "超过上限" in shown and "B00088" in shown
    assert "over_max" not in shown  # Chinese by default
    english = run("plan", "show", plan_id, "--db", sample_url, "--lang", "en")
    assert "more than the maximum" in english and "over_max" in english
    assert "超过" not in english
    run("plan", "show", plan_id, "--db", sample_url, "--problems", tmp_path / "p.csv")
    table = pd.read_csv(tmp_path / "p.csv", dtype=str, encoding="utf-8-sig")
    assert ((table["grid"] == f"{TOWER}001") & (table["kind"] == "over_max")).sum() == 1
    problem_lines = [line for line in shown.splitlines() if line.startswith("- ")]
    assert len(problem_lines) == len(set(problem_lines)) >= 1
    with open_store(sample_url, migrate=False) as store:
        kept = store.plan_problems(plan_id)
        fresh = store.partition_many([TOWER]).problems
    assert kept == list(dict.fromkeys(p for p in fresh if p.community_code == TOWER))
    assert any(p.kind == "over_max" and "B00088" in p.message for p in kept)


def test_list_flags_grids_broken_by_new_counts_and_redistrict_repairs_them(sample_url):
    run("plan", "partition", "--db", sample_url, "--publish")
    plans = _plans(sample_url)
    before = plans.set_index("community_code")
    assert int(before.at[BIG, "flagged"]) == 0 and int(before.at[TOWER, "flagged"]) == 1
    old_id = int(before.at[BIG, "id"])
    with open_store(sample_url, migrate=False) as store:
        grids = store.load_plan(old_id).grids.set_index("grid_code")["households"]
        fullest = str(grids.idxmax())  # push the fullest grid over 500
        building = store.load_plan(old_id).assignments.query("grid_code == @fullest")
        target = str(building["building_id"].iloc[0])
        with session_scope(store.engine) as session:  # what an `import --update` writes
            now = session.scalar(select(m.Building.households).where(m.Building.id == target))
            session.execute(update(m.Building).where(m.Building.id == target)
                            .values(households=now + (520 - int(grids.max()))))  # fmt: skip
    listed = run("plan", "list", "--db", sample_url, "--lang", "en")
    assert "outside the household bounds now" in listed
    listed_zh = run("plan", "list", "--db", sample_url)  # Chinese by default, as every command
    assert "按现有户数已超出范围" in listed_zh and "已发布" in listed_zh
    assert "published" not in listed_zh and "outside" not in listed_zh
    assert int(_plans(sample_url).set_index("community_code").at[BIG, "flagged"]) == 1
    status = run("plan", "show", old_id, "--db", sample_url, "--lang", "en")
    assert fullest in status and "over_max" in status

    repaired = run("plan", "redistrict", "--db", sample_url, "--publish")
    assert "个已发布方案无需调整" in repaired  # the other communities: nothing to repair
    after = _plans(sample_url)
    published = _ids(after, "published")
    new_id = published[BIG]
    assert new_id != old_id
    assert after.set_index("id").at[old_id, "status"] == "superseded"
    assert int(after.set_index("id").at[new_id, "flagged"]) == 0
    assert published[TOWER] == int(before.at[TOWER, "id"])  # unchanged plan: nothing saved
    with open_store(sample_url, migrate=False) as store:
        assert store.load_plan(new_id).info["params"]["from_plan"] == old_id
        moved = store.compare(store.load_plan(old_id), store.load_plan(new_id), code=BIG)
    assert moved.households_moved > 0
    assert "户调整网格" in run("plan", "diff", old_id, new_id, "--db", sample_url)
    diff = run("plan", "diff", old_id, new_id, "--db", sample_url, "--lang", "en")
    assert f"{moved.households_moved} household(s) change grid" in diff
    assert "grids paired by code" in diff
    for building_id in moved.moved["building_id"]:
        assert building_id in diff


def test_publish_export_and_errors(sample_url, tmp_path):
    run("plan", "partition", "--db", sample_url)
    drafts = _ids(_plans(sample_url), "draft")
    printed = run("plan", "publish", drafts[BIG], drafts[TOWER], "--db", sample_url, "--lang", "en")
    assert f"plan {drafts[BIG]} of community {BIG}: published" in printed
    again = run("plan", "publish", drafts[BIG], "--db", sample_url)  # --lang zh
    assert again.strip() == f"方案{drafts[BIG]}（社区{BIG}）：原已发布"
    assert set(_ids(_plans(sample_url), "published")) == {BIG, TOWER}

    run("plan", "partition", "--db", sample_url, "--community", BIG)
    second = max(_plans(sample_url)["id"])
    one_line = run("plan", "publish", second, drafts[BIG], "--db", sample_url, "--lang", "en",
                   code=2)  # fmt: skip
    assert one_line.count("\n") == 1 and "one plan per community" in one_line
    in_zh = run("plan", "publish", second, drafts[BIG], "--db", sample_url, code=2)
    said_zh = f"方案 {second}、{drafts[BIG]} 都属于社区 {BIG}；每个社区只能发布一个方案"
    assert in_zh.startswith(f"错误：{said_zh}") and in_zh.count("\n") == 1, in_zh
    assert _ids(_plans(sample_url), "published")[BIG] == drafts[BIG]  # nothing switched

    out, csv = tmp_path / "g.geojson", tmp_path / "a.csv"
    run("plan", "export", drafts[BIG], "--db", sample_url, "--out", out, "--assignments", csv)
    doc = json.loads(out.read_text())
    props = [f["properties"] for f in doc["features"]]
    assert set(props[0]) == {"grid_code", "community_code", "households", "buildings", "status",
                             "polsby_popper"}  # fmt: skip
    with open_store(sample_url, migrate=False) as store:
        plan = store.load_plan(drafts[BIG])
    assert sorted(p["grid_code"] for p in props) == sorted(plan.grids["grid_code"])
    table = pd.read_csv(csv, dtype=str).sort_values("building_id").to_numpy().tolist()
    assert table == plan.assignments.sort_values("building_id").to_numpy().tolist()

    errors = [
        ("plan", "show", 9999, "--db", sample_url),
        ("plan", "diff", drafts[BIG], drafts[TOWER], "--db", sample_url),
        ("plan", "partition", "--db", sample_url, "--community", "520602999999"),
        ("plan", "redistrict", "--db", sample_url, "--community", "520602001005"),
        ("plan", "publish", 9999, "--db", sample_url),
        ("plan", "partition", "--db", sample_url, "--min-households", 600),
    ]
    said = {}
    for args in errors:
        for lang in ("en", "zh"):
            message = run(*args, "--lang", lang, code=2)
            start = "error: " if lang == "en" else "错误："
            assert message.startswith(start) and message.count("\n") == 1, message
            said[args[1], lang] = message
            if lang == "zh":
                assert english_words(message) == [], message
            else:
                assert foreign_chinese(message, set()) == [], message
    assert "not found" in said["show", "en"] and "找不到方案 9999" in said["show", "zh"]
    assert "different communities" in said["diff", "en"] and "不同社区" in said["diff", "zh"]
    assert "no published plan" in said["redistrict", "en"]
    assert "没有已发布的方案" in said["redistrict", "zh"]


_UNKNOWN_PLAN = {
    "zh": "错误：找不到方案 9999；可用 gridmap plan list 列出已有的方案。\n",
    "en": "error: Plan 9999 not found; list the plans with `gridmap plan list` (or "
    "list_plans()).\n",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("command", ["show", "publish", "export"])
def test_an_unknown_plan_id_is_said_in_one_language(store_url, tmp_path, command, lang):
    extra = ["--out", tmp_path / "g.geojson"] if command == "export" else []
    said = run("plan", command, 9999, *extra, "--db", store_url, "--lang", lang, code=2)
    assert said == _UNKNOWN_PLAN[lang]
    assert english_words(said) == [] if lang == "zh" else foreign_chinese(said, set()) == []
    assert not (tmp_path / "g.geojson").exists()


def test_a_building_added_since_counts_in_the_grid_it_stands_in(sample_url):
    from geoalchemy2.shape import from_shape

    run("plan", "partition", "--db", sample_url, "--community", TOWER, "--publish")
    plan_id = _ids(_plans(sample_url), "published")[TOWER]
    with open_store(sample_url, migrate=False) as store:
        grids = store.load_plan(plan_id).grids.set_index("grid_code")
        code = str(grids["households"].idxmin())
        point = grids.geometry[code].representative_point()
        with session_scope(store.engine) as session:  # what `import --update` adds
            session.add(m.Building(id="NEW1", households=300, community_code=TOWER,
                                   geom=from_shape(point, srid=4326)))  # fmt: skip
        status = store.grid_status(plan_id).set_index("grid_code")
    assert int(status.at[code, "households_now"]) == int(grids.at[code, "households"]) + 300
    assert int(status.at[code, "new_buildings"]) == 1 and status.at[code, "status_now"] != "ok"
    assert int(_plans(sample_url).set_index("id").at[plan_id, "flagged"]) == 2  # + the tower
    shown = run("plan", "show", plan_id, "--db", sample_url, "--lang", "en")
    assert "new buildings" in shown
    run("plan", "redistrict", "--db", sample_url, "--community", TOWER, "--publish")
    new_id = _ids(_plans(sample_url), "published")[TOWER]
    with open_store(sample_url, migrate=False) as store:
        assigned = store.load_plan(new_id).assignments
    assert "NEW1" in set(assigned["building_id"])
    assert int(_plans(sample_url).set_index("id").at[new_id, "flagged"]) == 1  # the tower only


def test_export_writes_the_plan_in_the_format_asked(sample_url, tmp_path):
    """A GeoPackage holding the grids, the plan's problems and its assignment; a zipped
    Shapefile and GeoParquet: the grids of the GeoJSON export; a name in no format refused."""
    import pyogrio

    run("plan", "partition", "--db", sample_url, "--community", TOWER)
    plan_id = _ids(_plans(sample_url), "draft")[TOWER]
    geojson = tmp_path / "g.geojson"
    run("plan", "export", plan_id, "--db", sample_url, "--out", geojson)
    expected = gpd.read_file(geojson)
    gpkg = tmp_path / "方案.gpkg"
    said = run("plan", "export", plan_id, "--db", sample_url, "--out", gpkg, "--assignments", gpkg,
               "--lang", "en")  # fmt: skip
    assert said.strip().endswith("the file also holds the tables problems, assignments.")
    assert [str(n) for n, _ in pyogrio.list_layers(gpkg)] == ["grids", "problems", "assignments"]
    assert_same_grids(gpd.read_file(gpkg, layer="grids"), expected)
    problems = pyogrio.read_dataframe(gpkg, layer="problems", read_geometry=False)
    tower = problems[problems["kind"] == "over_max"]
    assert len(tower) == 1 and "B00088" in tower["message_zh"].iloc[0]
    with open_store(sample_url, migrate=False) as store:
        plan = store.load_plan(plan_id)
    pairs = pyogrio.read_dataframe(gpkg, layer="assignments", read_geometry=False)
    assert sorted(pairs.to_numpy().tolist()) == sorted(plan.assignments.to_numpy().tolist())
    for name in ("方案.zip", "方案.parquet"):
        run("plan", "export", plan_id, "--db", sample_url, "--out", tmp_path / name)
        path = tmp_path / name
        written = gpd.read_parquet(path) if path.suffix == ".parquet" else gpd.read_file(path)
        assert written.crs.to_epsg() == 4326
        assert_same_grids(written, expected)
    refused = run("plan", "export", plan_id, "--db", sample_url, "--out", tmp_path / "方案.kml",
                  code=2)  # fmt: skip
    assert "文件名须以下列后缀之一结尾" in refused and not (tmp_path / "方案.kml").exists()
