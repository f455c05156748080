"""The ``gridmap partition`` command: files in, RFC 7946 GeoJSON and CSV out."""

from __future__ import annotations

import gc
import json

import pandas as pd
from typer.testing import CliRunner

from service.cli import app
from tests.gridmap.strategies import make_layers

runner = CliRunner()


def _write(tmp_path, n_communities=2):
    paths = {}
    rows = [(float(x), float(y), 50) for x in range(20, 400, 40) for y in (50, 150)]
    comms, blds = [], []
    for i in range(n_communities):
        c, b, _ = make_layers(
            [(i * 500, 0, i * 500 + 400, 200)],
            [(x + i * 500, y, h) for x, y, h in rows],
            code=f"52060200100{i + 1}",
        )
        b["building_id"] = [f"C{i}-{j}" for j in range(len(b))]
        comms.append(c)
        blds.append(b)
    comm = pd.concat(comms).rename(columns={"community_code": "code"})
    bld = pd.concat(blds).rename(columns={"building_id": "id"})
    bld.loc[bld["id"] == "C0-0", "households"] = 0
    paths["c"] = tmp_path / "c.gpkg"
    paths["b"] = tmp_path / "b.geojson"
    comm.to_file(paths["c"])
    bld.to_crs(4326).to_file(paths["b"])  # another CRS than the communities: reprojected
    return paths, len(bld)


def _partition(paths, *options):
    """``gridmap partition`` on the layers of :func:`_write` with more ``options``."""
    args = ["partition", "--communities", str(paths["c"]), "--buildings", str(paths["b"])]
    return runner.invoke(app, [*args, *map(str, options)])


def test_cli_writes_grids_and_assignments(tmp_path):
    paths, n = _write(tmp_path)
    out, csv = tmp_path / "grids.geojson", tmp_path / "a.csv"
    res = _partition(paths, "--out", out, "--assignments", csv)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    props = [f["properties"] for f in doc["features"]]
    for key in (
        "grid_code",
        "community_code",
        "households",
        "buildings",
        "status",
        "polsby_popper",
    ):
        assert all(key in p for p in props)
    x, y = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 100 < x < 120 and 20 < y < 35  # lon/lat near Tongren
    assert all(len(p["grid_code"]) == 15 for p in props)
    table = pd.read_csv(csv, dtype=str)
    assert list(table.columns) == ["building_id", "grid_code"] and len(table) == n
    assert sum(p["households"] for p in props) == 50 * (n - 1)


def test_cli_fails_clearly_on_missing_column(tmp_path):
    paths, _ = _write(tmp_path, 1)
    res = _partition(paths, "--households-field", "hh", "--out", tmp_path / "g.geojson",
                     "--lang", "en")  # fmt: skip
    assert res.exit_code != 0
    assert "hh" in res.output and "--*-field" in res.output


def test_cli_prints_problems_in_chinese_by_default_and_english_on_request(tmp_path):
    c, b, _ = make_layers([(0, 0, 200, 200)], [(50.0, 100.0, 120), (150.0, 100.0, 96)])
    c.to_file(tmp_path / "c.gpkg")
    b.rename(columns={"building_id": "id"}).to_file(tmp_path / "b.gpkg")
    c.rename(columns={"community_code": "code"}).to_file(tmp_path / "c.gpkg")
    args = ["partition", "--communities", str(tmp_path / "c.gpkg"), "--buildings"]
    args += [str(tmp_path / "b.gpkg"), "--out", str(tmp_path / "g.geojson")]
    zh = runner.invoke(app, args)
    assert zh.exit_code == 0, zh.output
    assert "社区520602001001仅有216户，不足300户，整体划为一个网格" in zh.output
    en = runner.invoke(app, [*args, "--lang", "en"])
    assert en.exit_code == 0 and "only 216 households" in en.output and "社区" not in en.output
    bad = runner.invoke(app, [*args, "--lang", "fr"])
    assert bad.exit_code != 0 and "--lang" in bad.output


def test_cli_leaves_the_collector_as_it_found_it(tmp_path):
    paths, _ = _write(tmp_path)
    frozen = gc.get_freeze_count()
    try:
        for enabled in (True, False):
            gc.enable() if enabled else gc.disable()
            res = _partition(paths, "--out", tmp_path / "g.geojson")
            assert res.exit_code == 0, res.output
            assert gc.isenabled() is enabled and gc.get_freeze_count() == frozen
        gc.enable()  # a command that fails on its input unfreezes as well
        (tmp_path / "bad.csv").write_text("x,y\n1,2\n")
        res = _partition(paths, "--out", tmp_path / "bad.csv")
        assert res.exit_code != 0 and gc.get_freeze_count() == frozen
    finally:
        gc.enable()
