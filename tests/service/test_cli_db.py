"""``gridmap db status|upgrade|backup`` on both backends.

An old store shows "needs upgrade" and is left as it is (status never migrates); ``upgrade``
brings it to this gridmap's newest revision and says from which to which; a store newer than
this gridmap is shown as such and refused by ``upgrade``; the data key in use is compared with
the store's. ``backup`` copies a SpatiaLite store (the copy opens as a store with the same
records, a writer's open transaction is not in it) and refuses a PostGIS one naming ``pg_dump``
for the store's schema. Output is in one language at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from service.cli import app
from service.storage.migrate import HEAD_REVISION, downgrade_database
from service.storage.session import make_engine
from tests.gridmap.test_cli_language import english_words, foreign_chinese, repeated_lines
from tests.service.api.conftest import seed_toy_district
from tests.service.storage.test_import_dry_run import _revision
from tests.service.test_cli_startup import _CHILD, HEAVY

OLD = "0004"
TOY_COUNTS = {"communities": "2", "households": "1", "persons": "1", "staff": "2", "grids": "7",
              "plans, published": "2", "plans, draft": "1", "plans, superseded": "0"}  # fmt: skip
"""The records of the toy district (tests/service/api/conftest.py), buildings aside."""
_ROW = re.compile(r"^│ (\S.*?)\s+│\s+(\S+) │$", re.MULTILINE)


def run(*args: object, code: int = 0, env: dict[str, str] | None = None) -> str:
    """``gridmap ARGS`` (stdout and stderr); checks the exit code."""
    result = CliRunner().invoke(app, [str(a) for a in args], env=env)
    assert result.exit_code == code, result.output + repr(result.exception)
    return result.output


def counts(output: str) -> dict[str, str]:
    """The rows of the records table of ``gridmap db status --lang en``."""
    return {kind: n for kind, n in _ROW.findall(output) if not kind.startswith(("backend",
            "schema", "data key"))}  # fmt: skip


def _sql(url: str, query: str) -> object:
    """The first value of ``query``'s answer (``None`` for a statement that answers no rows)."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(query))
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


def _old_toy_store(make_store) -> str:
    """A store holding the toy district, migrated down to revision :data:`OLD`."""
    url = make_store()
    seed_toy_district(url)
    engine = make_engine(url)
    try:
        downgrade_database(engine, revision=OLD)
    finally:
        engine.dispose()
    return url


def _file_digest(url: str) -> str | None:
    database = make_url(url).database
    if not url.startswith("sqlite") or not database:
        return None
    return hashlib.sha256(Path(database).read_bytes()).hexdigest()


def test_status_shows_an_old_store_old_and_upgrade_brings_it_to_head(backend, make_store):
    url = _old_toy_store(make_store)
    digest = _file_digest(url)
    before = run("db", "status", "--db", url, "--lang", "en")
    assert f"{OLD}, this gridmap's is {HEAD_REVISION}: needs upgrade" in before
    assert _revision(url) == OLD and _file_digest(url) == digest  # not changed, not even touched
    buildings = str(_sql(url, "SELECT count(*) FROM building"))
    assert counts(before) == {**TOY_COUNTS, "buildings": buildings}
    assert "matches the store" in before
    said = run("db", "upgrade", "--db", url, "--lang", "en")
    assert said.strip() == f"Upgraded the store from revision {OLD} to {HEAD_REVISION}."
    assert _revision(url) == HEAD_REVISION
    after = run("db", "status", "--db", url, "--lang", "en")
    assert f"{HEAD_REVISION}: up to date" in after and "needs upgrade" not in after
    assert counts(after) == counts(before)
    again = run("db", "upgrade", "--db", url)
    assert again.strip() == f"数据库已是最新的结构版本 {HEAD_REVISION}，无需升级。"


def test_status_says_where_the_store_is_in_one_language(backend, store_url):
    seed_toy_district(store_url)
    en, zh = (run("db", "status", "--db", store_url, "--lang", lang) for lang in ("en", "zh"))
    url = make_url(store_url)
    if backend == "spatialite":
        assert f"SpatiaLite file {Path(str(url.database)).resolve()}" in en
    else:
        schema = str(url.query["options"]).split("=", 1)[1].split(",", 1)[0]
        place = f"PostGIS {url.host}:{url.port}, database {url.database}, schema {schema}"
        assert place in en
        assert f":{url.password}@" not in en + zh  # no URL with its password
    assert foreign_chinese(en, set()) == []
    assert set(english_words(zh)) <= {"SpatiaLite", "PostGIS"}
    assert "需要升级" not in zh and "已是最新" in zh and "社区" in zh
    assert repeated_lines(en) == repeated_lines(zh) == []


def test_a_store_newer_than_this_gridmap_is_shown_and_not_upgraded(backend, make_store):
    url = make_store()
    _sql(url, "UPDATE alembic_version SET version_num = '0099'")
    status = run("db", "status", "--db", url, "--lang", "en")
    assert f"0099, this gridmap's newest is {HEAD_REVISION}: newer than this gridmap" in status
    refused = run("db", "upgrade", "--db", url, "--lang", "en", code=2)
    assert refused.startswith("error: The store is at schema revision 0099, newer than this "
                              f"gridmap's newest ({HEAD_REVISION})")  # fmt: skip
    assert "nothing was changed" in refused
    refused_zh = run("db", "upgrade", "--db", url, code=2)
    assert refused_zh.startswith(f"错误：数据库的结构版本 0099 比本 gridmap 支持的最新版本"
                                 f"（{HEAD_REVISION}）新")  # fmt: skip
    assert _sql(url, "SELECT version_num FROM alembic_version") == "0099"
    # Every command opening the store says the same, not Alembic's "Can't locate revision".
    listed = run("plan", "list", "--db", url, "--lang", "en", code=2)
    assert "The store is at schema revision 0099, newer than this gridmap's newest" in listed
    assert "locate revision" not in listed and "cannot open" not in listed
    assert ":gridmap@" not in listed  # never a password
    assert _sql(url, "SELECT version_num FROM alembic_version") == "0099"


def test_status_compares_the_data_key_without_making_one(backend, make_store, tmp_path):
    from service.storage.keys import derive_keys, generate_key, parse_key

    url = make_store()  # its key's fingerprint recorded
    seed_toy_district(url)  # encrypted phones and ID numbers
    stored = str(_sql(url, "SELECT value FROM store_meta WHERE name = 'data_key_fingerprint'"))
    other = generate_key()
    mine = derive_keys(parse_key(other)).fingerprint
    status = ("db", "status", "--db", url, "--lang", "en")
    wrong = run(*status, env={"GRIDMAP_DATA_KEY": other})
    assert f"does not match: the key in use is {mine}, the store's is {stored}" in wrong
    key_file = tmp_path / "missing.key"
    no_key = {"GRIDMAP_DATA_KEY": "", "GRIDMAP_DATA_KEY_FILE": str(key_file)}
    missing = run(*status, env=no_key)
    assert ("no key set (GRIDMAP_DATA_KEY or GRIDMAP_DATA_KEY_FILE), but the store holds data "
            f"written with key {stored}") in missing  # fmt: skip
    # Without the fingerprint, a stored value is tried (and nothing is recorded).
    _sql(url, "DELETE FROM store_meta WHERE name = 'data_key_fingerprint'")
    undecrypted = run(*status, env={"GRIDMAP_DATA_KEY": other})
    assert f"does not match: the key in use ({mine}) does not decrypt the stored values" in (
        undecrypted)  # fmt: skip
    assert f"matches the store (fingerprint {stored})" in run(*status)
    assert "written with key (not recorded)" in run(*status, env=no_key)
    fingerprints = "SELECT count(*) FROM store_meta WHERE name = 'data_key_fingerprint'"
    assert _sql(url, fingerprints) == 0
    assert not key_file.exists()


def test_backup_copies_a_spatialite_store_and_names_pg_dump_for_postgis(
    backend, store_url, tmp_path
):
    seed_toy_district(store_url)
    copy = tmp_path / "backups" / "copy.sqlite"
    if backend == "postgis":
        url = make_url(store_url)
        schema = str(url.query["options"]).split("=", 1)[1].split(",", 1)[0]
        refused = run("db", "backup", copy, "--db", store_url, "--lang", "en", code=2)
        assert refused.startswith("error: gridmap db backup copies SpatiaLite stores only.")
        dump = (f"pg_dump --format=custom --schema={schema} --file={copy} --host={url.host} "
                f"--port={url.port} --username={url.username} {url.database}")  # fmt: skip
        assert dump in refused
        assert f":{url.password}@" not in refused
        assert not copy.exists() and not copy.parent.exists()
        refused_zh = run("db", "backup", copy, "--db", store_url, code=2)
        assert refused_zh.startswith("错误：gridmap db backup 只能备份 SpatiaLite 数据库。")
        return
    import sqlean

    # A writer holds an open transaction while the copy is made: the copy has the committed
    # data only, and the writer commits afterwards.
    writer = sqlean.connect(str(make_url(store_url).database), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO store_meta (name, value) VALUES ('uncommitted', 'x')")
    try:
        said = run("db", "backup", copy, "--db", store_url, "--lang", "en")
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert said.startswith(f"Backed up {Path(str(make_url(store_url).database)).resolve()} to "
                           f"{copy} (")  # fmt: skip
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    copy_url = f"sqlite:///{copy}"
    status = run("db", "status", "--db", copy_url, "--lang", "en")
    assert counts(status) == counts(run("db", "status", "--db", store_url, "--lang", "en"))
    assert counts(status)["communities"] == "2" and f"{HEAD_REVISION}: up to date" in status
    assert _sql(copy_url, "SELECT count(*) FROM store_meta WHERE name = 'uncommitted'") == 0
    from service.analyst import open_store

    with open_store(copy_url, migrate=False) as store:  # opens as a store
        assert sorted(store.communities()["community_code"]) == sorted(
            str(c) for c in [_sql(store_url, "SELECT min(code) FROM community"),
                             _sql(store_url, "SELECT max(code) FROM community")])  # fmt: skip
    digest = _file_digest(copy_url)
    refused = run("db", "backup", copy, "--db", store_url, "--lang", "en", code=2)
    assert refused.strip() == f"error: {copy} already exists; name a new file for the backup " \
                              "(nothing was written)."  # fmt: skip
    assert _file_digest(copy_url) == digest


def test_a_missing_store_file_is_said_and_not_made(tmp_path):
    missing = tmp_path / "none.sqlite"
    for command in (["status"], ["upgrade"], ["backup", tmp_path / "copy.sqlite"]):
        said = run("db", *command, "--db", f"sqlite:///{missing}", code=2)
        assert said.strip() == f"错误：找不到数据库文件 {missing}；请检查 --db（或环境变量 " \
                               "GRIDMAP_DATABASE_URL）。"  # fmt: skip
    assert os.listdir(tmp_path) == []


def test_help_of_the_db_commands_loads_no_data_library():
    helps = [["db"], ["db", "status"], ["db", "upgrade"], ["db", "backup"]]
    out = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(helps), json.dumps(HEAVY)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {"codes": [0] * len(helps), "heavy": []}


def test_every_refusal_names_what_it_is_about_in_both_languages():
    from service.commands.db import DB_ERRORS

    samples = {"no_store_file": {"path": "/srv/none.sqlite"},
               "cannot_open": {"db": "postgresql+psycopg://u:***@h/db", "reason": "refused"},
               "backup_exists": {"path": "/srv/copy.sqlite"},
               "backup_failed": {"path": "/srv/copy.sqlite", "reason": "disk full"},
               "backup_postgis": {"schema": "gm", "database": "gridmap",
                                  "command": "pg_dump --schema=gm gridmap"}}  # fmt: skip
    assert set(samples) == set(DB_ERRORS.codes)
    for code, values in samples.items():
        err = DB_ERRORS.error(code, **values)
        for lang in ("en", "zh"):
            assert str(next(iter(values.values()))) in err.message(lang), (code, lang)
        assert err.message("zh") != err.message("en")


@pytest.mark.parametrize("command", [("plan", "list"), ("orders", "list"), ("db", "status")])
def test_an_unreachable_store_is_named_without_its_password(command):
    url = "postgresql+psycopg://office:s3cret@127.0.0.1:1/gridmap"  # nothing listens on port 1
    said = CliRunner().invoke(app, [*command, "--db", url, "--lang", "en"]).output
    assert "office:***@127.0.0.1:1/gridmap" in said and "s3cret" not in said, said


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_unreachable_database_is_one_line_not_a_traceback(tmp_path, lang):
    """Commands without their own handling (import, user) meet the database unreachable: the
    console script says it in one line in --lang and exits 2, never with the password."""
    roster = tmp_path / "b.csv"
    roster.write_text("楼栋编号,户数,经度,纬度\nB1,10,109.19,27.73\n", encoding="utf-8")
    url = "postgresql+psycopg://office:s3cret@127.0.0.1:1/gridmap"
    code = "import sys\nfrom service.cli import main\nsys.argv = ['gridmap'] + sys.argv[1:]\nmain()"
    for args in (["import", "--buildings", roster, "--lang", lang], ["user", "list"]):
        out = subprocess.run(
            [sys.executable, "-c", code, *map(str, args), "--db", url],
            capture_output=True,
            text=True,
            env={**os.environ, "GRIDMAP_LANG": ""},
        )
        said = out.stderr.strip().splitlines()
        assert out.returncode == 2 and len(said) == 1 and "s3cret" not in out.stderr, out.stderr
        if lang == "en" and args[0] == "import":
            assert said[0].startswith("error: cannot reach the database: connection failed")
        elif args[0] == "import":
            assert said[0].startswith("错误：无法连接数据库")
