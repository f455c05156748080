"""``gridmap import --dry-run``: the real import, rolled back. It says what the import would
do (the same changes, links, grids out of bounds, report and refusals as the real run that
follows) and keeps nothing: no rows, no schema, no store file, no data key file, no plan."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gridmap.errors import ImportAborted, InputError
from service.analyst import open_store
from service.importer import ImportResult, import_files
from service.storage import models as m
from service.storage.crypto import (
    DataKeyError,
    check_store_key,
    derive_keys,
    forget_keys,
    generate_key,
    keys_for,
    parse_key,
    settings_of,
)
from service.storage.loads import table_counts
from service.storage.migrate import current_revision, upgrade_database
from service.storage.session import make_engine, session_scope
from tests.service.storage import test_import_updates as updates
from tests.service.storage.test_import_updates import CODE, PERSONS, _changed, _state

runner = CliRunner()


@pytest.fixture
def office(tmp_path: Path) -> dict[str, Path]:
    """The first import's files of :mod:`test_import_updates` (its fixture's function)."""
    return inspect.unwrap(updates.office)(tmp_path)


def _said(result: ImportResult) -> tuple:
    """All an import says of what it does, but the ids of the run and plans it records."""
    return ({e: c.as_dict() for e, c in result.changes.items()}, result.counts, result.read,
            result.linked, sorted(result.plans), result.out_of_bounds,
            sorted((i.entity, str(i.record_id), i.reason) for i in result.report))  # fmt: skip


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


@pytest.fixture
def key_file(tmp_path, monkeypatch) -> Path:
    """The data key read from a file that does not exist yet (as on a first import)."""
    monkeypatch.delenv("GRIDMAP_DATA_KEY", raising=False)
    key = tmp_path / "密钥" / "data.key"
    monkeypatch.setenv("GRIDMAP_DATA_KEY_FILE", str(key))
    return key


def test_a_first_import_dry_run_leaves_the_store_empty(store_url, office, tmp_path):
    dry = import_files(office, url=store_url, dry_run=True, report_dir=tmp_path / "rep")
    counts, buildings = _state(store_url)
    assert set(counts.values()) == {0} and buildings == {}
    assert dry.dry_run and dry.import_run_id == 0 and not dry.new_store
    assert dry.changes["building"].added == 6 and dry.changes["person"].added == 4
    assert all(path.name.startswith("import-report-dry-run-") for path in
               dry.report_paths.values())  # fmt: skip
    real = import_files(office, url=store_url)
    assert _said(dry) == _said(real)
    assert _state(store_url)[0]["building"] == 6


def _key_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "data key" in r.getMessage()]


def test_a_dry_run_on_a_store_without_schema_leaves_no_schema_and_no_key(
    make_store, office, key_file, caplog
):
    url = make_store(migrated=False)
    with caplog.at_level("INFO"):
        dry = import_files(office, url=url, dry_run=True)
    assert dry.new_store and dry.changes["person"].added == 4
    assert _revision(url) is None and not key_file.exists() and not key_file.parent.exists()
    assert _key_lines(caplog) == []  # a throwaway key in memory: none made, none announced
    # The real import that follows in this process makes (and uses) its key file, not the
    # dry run's throwaway key.
    with caplog.at_level("INFO"):
        real = import_files(office, url=url)
    assert key_file.exists() and _said(dry) == _said(real)
    assert [line.split(" in ")[0] for line in _key_lines(caplog)] == ["Created a new data key"]
    engine = make_engine(url)
    with session_scope(engine) as session:
        assert session.get(m.Person, "P1").phone == PERSONS[0][3]  # read with the new key file
        assert check_store_key(session.connection()) is None  # its fingerprint is the file's
    engine.dispose()


def test_a_dry_run_gives_the_callers_engine_its_key_back(make_store, office, key_file):
    url = make_store(migrated=False)
    engine = make_engine(url)
    try:
        settings = settings_of(engine)
        dry = import_files(office, engine=engine, dry_run=True)
        assert dry.new_store and settings_of(engine) is settings and not key_file.exists()
        import_files(office, engine=engine)
        with session_scope(engine) as session:
            assert session.get(m.Person, "P1").phone == PERSONS[0][3]
    finally:
        engine.dispose()
    made = derive_keys(parse_key(key_file.read_text()))
    assert keys_for(settings).fingerprint == made.fingerprint  # the engine used the key file


def test_a_dry_run_on_a_store_with_data_checks_its_key_file(make_store, office, key_file):
    url = make_store(migrated=False)
    import_files(office, url=url)
    key = key_file.read_text()
    files = {"person": office["person"]}
    dry = import_files(files, url=url, update=True, dry_run=True)  # the store's key, as today
    assert dry.changes["person"].unchanged == 4 and key_file.read_text() == key
    key_file.write_text(generate_key() + "\n")  # not the store's key: both refuse it
    forget_keys()
    for dry_run in (True, False):
        with pytest.raises(DataKeyError, match="Wrong data key"):
            import_files(files, url=url, update=True, dry_run=dry_run)
    key_file.unlink()  # no key file: refused, none made, as the real import
    forget_keys()
    for dry_run in (True, False):
        with pytest.raises(DataKeyError, match="This store holds data written with key"):
            import_files(files, url=url, update=True, dry_run=dry_run)
        assert not key_file.exists()


def test_an_update_dry_run_says_what_the_update_then_does(store_url, office, tmp_path):
    import_files(office, url=store_url)
    before = _state(store_url)
    files = {"building": _changed(tmp_path), "person": office["person"]}
    dry = import_files(files, url=store_url, update=True, replace=["building"], dry_run=True)
    assert _state(store_url) == before  # counts of every table and the buildings' values
    b = dry.changes["building"]
    assert (b.added, b.updated, b.unchanged, b.removed, b.retired) == (1, 1, 4, 1, 1)
    assert [g["grid_code"] for g in dry.out_of_bounds] == [f"{CODE}001"]
    again = import_files(files, url=store_url, update=True, replace=["building"], dry_run=True)
    assert _said(again) == _said(dry) and _state(store_url) == before
    real = import_files(files, url=store_url, update=True, replace=["building"])
    assert _said(real) == _said(dry)
    assert _state(store_url) != before


def test_a_refusal_in_a_dry_run_is_the_same_refusal(store_url, office):
    import_files(office, url=store_url)
    before = _state(store_url)
    errors = []
    for dry_run in (True, False):
        with pytest.raises(ImportAborted) as caught:
            import_files({"building": office["building"]}, url=store_url, dry_run=dry_run)
        errors.append((type(caught.value), caught.value.code, caught.value.message("en"),
                       caught.value.message("zh")))  # fmt: skip
    assert errors[0] == errors[1] and "--update" in errors[0][2]
    assert _state(store_url) == before


def test_a_dry_run_does_not_migrate_an_older_store(make_store, office):
    url = make_store(migrated=False)
    engine = make_engine(url)
    upgrade_database(engine, revision="0005")
    engine.dispose()
    with pytest.raises(InputError) as caught:
        import_files(office, url=url, dry_run=True)
    assert caught.value.code == "dry_run_needs_migration"
    assert "gridmap db upgrade" in caught.value.message("zh")
    assert _revision(url) == "0005"


def test_a_dry_run_on_a_store_newer_than_this_gridmap_is_refused_as_the_import(make_store, office):
    url = make_store()
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    finally:
        engine.dispose()
    codes = []
    for dry_run in (True, False):
        with pytest.raises(InputError) as caught:
            import_files(office, url=url, dry_run=dry_run)
        codes.append(caught.value.code)
    assert codes == ["store_newer", "store_newer"]
    assert _revision(url) == "0099"


def test_the_notebook_store_imports_dry(store_url, office):
    store = open_store(store_url)
    try:
        dry = store.import_files(office, dry_run=True)
        with session_scope(store.engine) as session:
            assert set(table_counts(session=session).values()) == {0}
        assert _said(store.import_files(office)) == _said(dry)
    finally:
        store.engine.dispose()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cli_dry_run_says_so_first_and_last_and_writes_a_dry_run_report(
    store_url, office, tmp_path, lang
):
    from service.cli import app

    import_files(office, url=store_url)
    before = _state(store_url)
    reports = tmp_path / "rep"
    args = ["import", "--lang", lang, "--db", store_url, "--report-dir", str(reports), "--update",
            "--replace", "building", "--buildings", str(_changed(tmp_path)),
            "--persons", str(office["person"])]  # fmt: skip
    res = runner.invoke(app, [*args, "--dry-run"])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    first, last = (("预演（--dry-run）", "预演结束：未写入任何内容") if lang == "zh" else
                   ("DRY RUN (--dry-run)", "Dry run finished: nothing was written"))  # fmt: skip
    assert lines[0].startswith(first) and lines[-1].startswith(last), res.output
    assert ("将做的变更" if lang == "zh" else "changes it would make") in res.output
    assert ("1（1 栋停用）" if lang == "zh" else "1 (1 retired)") in res.output
    assert _state(store_url) == before
    written = sorted(reports.iterdir())
    assert [p.suffix for p in written] == [".csv", ".json"]
    assert all(p.name.startswith("import-report-dry-run-") for p in written)
    text = "".join(p.read_text(encoding="utf-8") for p in written)
    assert "B6" in text and json.loads(written[1].read_text(encoding="utf-8"))
    for _, _, id_number, phone in PERSONS:  # no personal value in the output or the report
        for value in filter(None, (id_number, phone)):
            assert value not in text and value not in res.output
    real = runner.invoke(app, args)
    assert real.exit_code == 0 and "DRY RUN" not in real.output and "预演" not in real.output
    assert _state(store_url) != before


def test_cli_dry_run_refusal_is_the_import_refusal(store_url, office, tmp_path):
    from service.cli import app

    import_files(office, url=store_url)
    args = ["import", "--lang", "en", "--db", store_url, "--report-dir", str(tmp_path / "r"),
            "--buildings", str(office["building"])]  # fmt: skip
    dry, real = runner.invoke(app, [*args, "--dry-run"]), runner.invoke(app, args)
    assert dry.exit_code == real.exit_code == 1
    refusal = [line for line in real.output.splitlines() if line.strip()]
    assert refusal and all(line in dry.output for line in refusal)
    assert dry.output.splitlines()[0].startswith("DRY RUN")
    assert dry.output.rstrip().splitlines()[-1].startswith("Dry run finished")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cli_dry_run_of_a_new_sqlite_store_leaves_no_file(tmp_path, key_file, lang, caplog):
    from service.cli import app

    buildings = tmp_path / "in" / "楼栋.csv"
    buildings.parent.mkdir()
    buildings.write_text("楼栋编号,户数,经度,纬度\nB1,10,109.19,27.73\nB2,12,109.191,27.731\n",
                         encoding="gbk")  # fmt: skip
    before = sorted(tmp_path.rglob("*"))
    store = tmp_path / "库" / "store.sqlite"
    with caplog.at_level("INFO"):
        res = runner.invoke(app, ["import", "--lang", lang, "--db", f"sqlite:///{store}",
                                  "--buildings", str(buildings), "--report-dir",
                                  str(tmp_path / "in"), "--dry-run"])  # fmt: skip
    assert res.exit_code == 0, res.output
    last = ("数据库原本不存在：预演时临时建立，已删除" if lang == "zh" else
            "The store did not exist: it was made for the dry run and removed again")  # fmt: skip
    assert last in res.output.splitlines()[-1], res.output
    made = sorted(set(tmp_path.rglob("*")) - set(before))
    assert [p.name.startswith("import-report-dry-run-") for p in made] == [True, True]
    assert not store.parent.exists() and not key_file.parent.exists()
    said = res.output + "".join(r.getMessage() for r in caplog.records)
    key_words = ("已新建数据密钥", "新建的数据密钥", "new data key", "for this import was",
                 key_file.name)  # fmt: skip
    assert all(word not in said for word in key_words), said
