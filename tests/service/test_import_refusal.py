"""``gridmap import`` that refuses its input leaves nothing behind: no store file, no schema,
no data key file, no folder made for them.

Before, the store was made, migrated and given a new data key before the files were read, so a
refused file (a layer without records) left a migrated store and a key file of no use.
"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from service.cli import app

runner = CliRunner()


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    """The data key read from a file that does not exist yet (as on a first import)."""
    monkeypatch.delenv("GRIDMAP_DATA_KEY", raising=False)
    key = tmp_path / "密钥" / "data.key"
    monkeypatch.setenv("GRIDMAP_DATA_KEY_FILE", str(key))
    return key


def _import(db: str, buildings, tmp_path):
    reports = str(tmp_path / "reports")
    res = runner.invoke(app, ["import", "--db", db, "--buildings", str(buildings),
                              "--report-dir", reports, "--lang", "en"])  # fmt: skip
    assert "Traceback" not in res.output
    return res


def _files(tmp_path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))


def _empty_layer(tmp_path):
    path = tmp_path / "in" / "楼栋.csv"
    path.parent.mkdir()
    path.write_text("楼栋编号,户数,经度,纬度\n", encoding="utf-8")
    return path


def _duplicate_ids(tmp_path):
    """Read fine, refused once validated (after the store was migrated): one id, two counts."""
    path = tmp_path / "in" / "楼栋.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_text("楼栋编号,户数,经度,纬度\nB1,10,109.19,27.73\nB1,12,109.19,27.73\n",
                    encoding="utf-8")  # fmt: skip
    return path


@pytest.mark.parametrize("make_input", [_empty_layer, _duplicate_ids])
def test_a_refused_first_import_leaves_no_store_key_or_folder(
    tmp_path, key_file, make_input, caplog
):
    buildings = make_input(tmp_path)
    before = _files(tmp_path)
    store = tmp_path / "库" / "store.sqlite"
    with caplog.at_level("WARNING"):
        res = _import(f"sqlite:///{store}", buildings, tmp_path)
    assert res.exit_code == 1, res.output
    assert "nothing was written" in res.output
    assert _files(tmp_path) == before  # no store, journal, key file, folder or report
    said = [r.getMessage() for r in caplog.records]
    # The key (made for the duplicate ids, refused while writing) was never used: it is
    # neither said to be made nor said to be gone.
    assert not [m for m in said if "data key" in m], said


def test_a_refused_import_keeps_the_store_and_key_it_found(tmp_path, key_file):
    ok = tmp_path / "ok.csv"
    ok.write_text("楼栋编号,户数,经度,纬度\nB1,10,109.19,27.73\n", encoding="utf-8")
    store = tmp_path / "store.sqlite"
    assert _import(f"sqlite:///{store}", ok, tmp_path).exit_code == 0
    key = key_file.read_bytes()
    res = _import(f"sqlite:///{store}", _duplicate_ids(tmp_path), tmp_path)
    assert res.exit_code == 1 and "nothing was written" in res.output
    assert store.exists() and key_file.read_bytes() == key  # the store's own key stays
    res = _import(f"sqlite:///{store}", ok, tmp_path)  # the store still opens with its key
    assert res.exit_code == 1 and "already" in res.output


@pytest.mark.parametrize("make_input", [_empty_layer, _duplicate_ids])
def test_a_refused_import_leaves_an_unmigrated_store_unmigrated(
    make_store, tmp_path, key_file, make_input
):
    """Both backends: the store given exists but was never migrated; a refused import leaves it
    without a single table and makes no data key (before, the schema and the key were made
    first; a refusal after validation takes the schema it made back)."""
    from service.storage.session import make_engine

    url = make_store(migrated=False)
    res = _import(url, make_input(tmp_path), tmp_path)
    assert res.exit_code == 1 and "nothing was written" in res.output
    assert not key_file.exists() and not key_file.parent.exists()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = [t for t in inspect(conn).get_table_names() if t != "spatial_ref_sys"]
    finally:
        engine.dispose()
    assert not [t for t in tables if not _spatialite_metadata(t)], tables


def _spatialite_metadata(table: str) -> bool:
    """SpatiaLite's own tables (made when a connection loads it), not the store's schema."""
    return table.startswith(("geometry_columns", "spatial", "views_geometry", "virts_geometry",
                             "sql_statements", "SpatialIndex", "ElementaryGeometries",
                             "data_licenses", "KNN", "spatialite"))  # fmt: skip
