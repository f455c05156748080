"""The command line starts without the data libraries: ``gridmap --help`` and the help of every
command import no geopandas, SciPy, shapely, pandas, SQLAlchemy or pydantic-settings (commands
import them when they run), and ``gridmap user list`` on a ready store imports none of them either
(it reads the store through its driver, :mod:`service.storage.direct`); on a store that is not
ready it takes the full path, with the same output and errors. Checked on ``sys.modules`` of a
fresh interpreter, not by timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("geopandas", "scipy", "shapely", "pandas", "sqlalchemy", "pyogrio", "folium", "alembic",
         "pydantic_settings", "psycopg", "fastapi", "uvicorn")  # fmt: skip
HELP = [[], ["import"], ["partition"], ["redistrict"], ["plan"], ["plan", "partition"],
        ["plan", "redistrict"], ["plan", "list"], ["plan", "export"], ["user"], ["user", "add"],
        ["user", "list"], ["user", "rotate-key"], ["serve"], ["orders"]]  # fmt: skip

_CHILD = """
import json, sys
from service.cli import app
codes = []
for args in json.loads(sys.argv[1]):
    try:
        app(args + ["--help"], prog_name="gridmap")
    except SystemExit as exit_:
        codes.append(exit_.code)
heavy = [m for m in json.loads(sys.argv[2]) if m in sys.modules]
print(json.dumps({"codes": codes, "heavy": heavy}))
"""


def test_help_of_every_command_loads_no_data_library():
    out = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(HELP), json.dumps(HEAVY)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["codes"] == [0] * len(HELP)
    assert seen["heavy"] == []


def test_genkey_prints_a_key_without_the_store_libraries():
    code = ("import sys\nfrom service.cli import app\ntry:\n    app(['user', 'genkey'])\n"
            "except SystemExit:\n    pass\nprint([m for m in ('sqlalchemy', 'pydantic_settings') "
            "if m in sys.modules])")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    key, loaded = out.stdout.strip().splitlines()
    assert loaded == "[]"
    from service.storage.keys import parse_key

    assert len(parse_key(key)) == 32


def test_the_child_would_see_a_heavy_import():
    code = "import sys, service.storage.models; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


# ------------------------------------------------------------------ gridmap user on a store
# Users are tables without geometry: on a store at the newest schema whose key fingerprint is
# recorded, ``user list`` reads them through the driver alone (no SQLAlchemy, no pydantic-settings,
# no data library); other user commands open it without GeoAlchemy2 or Alembic (open_store).
NOT_FOR_USERS = ("geopandas", "pandas", "pyogrio", "shapely", "geoalchemy2", "alembic", "scipy",
                 "sqlalchemy", "pydantic_settings", "rich")  # fmt: skip

_USER_LIST = """
import json, sys
from service.cli import app
args = ["user", "list"] + (["--db", sys.argv[1]] if sys.argv[1] else [])
try:
    app(args, prog_name="gridmap")
except SystemExit as exit_:
    code = exit_.code
loaded = [m for m in json.loads(sys.argv[2]) if m in sys.modules]
print(json.dumps({"code": code, "loaded": loaded}))
"""


def _user_list(url: str | None, *, env: dict[str, str] | None = None, cwd: Path | None = None,
               stderr: list[str] | None = None) -> tuple[list[str], dict]:  # fmt: skip
    out = subprocess.run([sys.executable, "-c", _USER_LIST, url or "", json.dumps(NOT_FOR_USERS)],
                         capture_output=True, text=True, check=True, env=env, cwd=cwd)  # fmt: skip
    if stderr is not None:
        stderr.extend(out.stderr.splitlines())
    *lines, last = out.stdout.strip().splitlines()
    return lines, json.loads(last)


def _add_user(url: str, monkeypatch, username: str = "d1", **scope) -> None:
    from service.storage.auth import create_user
    from service.storage.migrate import open_store
    from service.storage.session import session_scope
    from tests.service.residents_seed import use_fast_password_hashing

    use_fast_password_hashing(monkeypatch)
    engine = open_store(url)  # as `gridmap user add`: records the key's fingerprint
    with session_scope(engine) as session:
        create_user(session=session, username=username, password="Tamarind-Kettle-42",
                    **(scope or {"role": "district_admin", "district_code": "520602"}))  # fmt: skip
    engine.dispose()


def _run_sql(url: str, *statements: str) -> None:
    from sqlalchemy import text

    from service.storage.session import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_user_list_on_a_migrated_store_loads_no_data_library(store_url, monkeypatch):
    _add_user(store_url, monkeypatch)
    lines, seen = _user_list(store_url)
    assert seen == {"code": 0, "loaded": []}
    assert lines == ["d1\tdistrict_admin\t520602\t-"]


def test_the_quick_listing_is_the_full_one(store_url, monkeypatch):
    """Names in order, grids by code, every scope and the reveal flag, as the ORM lists them."""
    from service.storage.auth import list_users
    from service.storage.direct import read_users
    from service.storage.session import make_engine, session_scope

    _add_user(store_url, monkeypatch, "zoe", role="district_admin")
    _add_user(store_url, monkeypatch, "Bob", role="public")
    _add_user(store_url, monkeypatch, "amy", role="district_admin", district_code="520602",
              can_reveal=True)  # fmt: skip
    # Grid workers need grids of a plan: their scope rows are written directly.
    _run_sql(store_url,
             "INSERT INTO app_user (username, password_hash, role, community_code, can_reveal, "
             "active, token_version) VALUES ('gw', 'x', 'grid_worker', NULL, 0 = 1, 1 = 1, 'v'), "
             "('ca', 'x', 'community_admin', '520602001001', 0 = 1, 1 = 0, 'v')",
             "INSERT INTO app_user_grid (user_id, grid_code) SELECT id, c.code FROM app_user, "
             "(SELECT '520602001001003' AS code UNION ALL SELECT '520602001001001') AS c "
             "WHERE username = 'gw'")  # fmt: skip
    engine = make_engine(store_url)
    try:
        with session_scope(engine) as session:
            full = list_users(session=session)
    finally:
        engine.dispose()
    quick = read_users(store_url)
    assert quick == full  # same users, order (the database's collation), grids and flags
    assert all(u.created_at is not None for u in quick)
    assert next(u for u in quick if u.username == "gw").grid_codes == (
        "520602001001001", "520602001001003")  # fmt: skip
    expected = {"zoe": "zoe\tdistrict_admin\t-\t-", "Bob": "Bob\tpublic\t-\t-",
                "amy": "amy\tdistrict_admin\t520602\treveal",
                "gw": "gw\tgrid_worker\t520602001001001,520602001001003\t-",
                "ca": "ca\tcommunity_admin\t520602001001\t-"}  # fmt: skip
    lines, seen = _user_list(store_url)
    assert seen == {"code": 0, "loaded": []}
    assert lines == [expected[u.username] for u in full]


def test_user_list_migrates_an_older_store_with_the_spatial_engine(store_url, monkeypatch):
    from service.storage.migrate import HEAD_REVISION, current_revision, downgrade_database
    from service.storage.session import make_engine

    _add_user(store_url, monkeypatch)
    engine = make_engine(store_url)
    try:
        downgrade_database(engine, revision="0004")
        lines, seen = _user_list(store_url)
        assert seen["code"] == 0 and {"alembic", "geoalchemy2"} <= set(seen["loaded"])
        assert lines == ["d1\tdistrict_admin\t520602\t-"]
        assert current_revision(engine) == HEAD_REVISION
    finally:
        engine.dispose()
    lines, seen = _user_list(store_url)  # at the newest schema now: the quick path
    assert seen == {"code": 0, "loaded": []}
    assert lines == ["d1\tdistrict_admin\t520602\t-"]


def test_user_list_records_a_missing_key_fingerprint_on_the_full_path(store_url, monkeypatch):
    from sqlalchemy import text

    from service.storage.session import make_engine

    _add_user(store_url, monkeypatch)
    _run_sql(store_url, "DELETE FROM store_meta WHERE name = 'data_key_fingerprint'")
    lines, seen = _user_list(store_url)
    assert seen["code"] == 0 and "sqlalchemy" in seen["loaded"]  # checked, then recorded
    assert lines == ["d1\tdistrict_admin\t520602\t-"]
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            query = "SELECT count(*) FROM store_meta WHERE name = 'data_key_fingerprint'"
            assert conn.execute(text(query)).scalar() == 1
    finally:
        engine.dispose()
    assert _user_list(store_url)[1] == {"code": 0, "loaded": []}


def test_user_list_with_the_wrong_key_fails_as_before(store_url, monkeypatch):
    from service.storage.keys import generate_key

    _add_user(store_url, monkeypatch)
    errors: list[str] = []
    env = {**os.environ, "GRIDMAP_DATA_KEY": generate_key()}
    lines, seen = _user_list(store_url, env=env, stderr=errors)
    assert seen["code"] == 1 and lines == []
    assert len(errors) == 1 and errors[0].startswith("error: Wrong data key: GRIDMAP_DATA_KEY has")


def test_user_list_reads_the_store_and_key_from_the_environment_and_dotenv(
    store_url, monkeypatch, tmp_path
):
    """No --db: GRIDMAP_DATABASE_URL and the key (any case) over .env, as Settings() reads them;
    the other settings are not read (a bad one stops the commands that use them)."""
    _add_user(store_url, monkeypatch)
    key = os.environ["GRIDMAP_DATA_KEY"]
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("GRIDMAP_")}
    (tmp_path / ".env").write_text(f"GRIDMAP_DATABASE_URL={store_url}\ngridmap_data_key='{key}'\n")
    # Settings the listing does not use are not read: one Settings() would refuse is ignored.
    lines, seen = _user_list(None, env={**env, "GRIDMAP_TOKEN_MINUTES": "soon"}, cwd=tmp_path)
    assert seen == {"code": 0, "loaded": []}
    assert lines == ["d1\tdistrict_admin\t520602\t-"]
    # The environment wins over .env: a missing store there is created (full path), empty.
    other = tmp_path / "other" / "new.sqlite"
    env["gridmap_Database_URL"] = f"sqlite:///{other}"
    lines, seen = _user_list(None, env=env, cwd=tmp_path)
    assert seen["code"] == 0 and "sqlalchemy" in seen["loaded"]
    assert lines == [] and other.is_file()


def test_read_environment_as_settings(monkeypatch, tmp_path):
    from service.environment import quick_settings, read_environment
    from service.settings import Settings

    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.upper().startswith("GRIDMAP_")]:
        monkeypatch.delenv(name)
    assert read_environment("database_url", "data_key") == {}
    assert quick_settings() is not None
    (tmp_path / ".env").write_text(
        "GRIDMAP_DATABASE_URL=postgres://u@h/db  # comment\n"
        'export GRIDMAP_DATA_KEY_FILE="/k/a key"\nGRIDMAP_TOKEN_MINUTES=5\n'
    )  # fmt: skip
    monkeypatch.setenv("Gridmap_Data_Key", "from-env")
    quick, full = quick_settings(), Settings()
    assert quick is not None
    assert (quick.database_url, quick.data_key, quick.data_key_file) == (
        full.database_url, full.data_key, full.data_key_file)  # fmt: skip
    assert quick.database_url == "postgresql+psycopg://u@h/db"
    assert (quick.data_key, quick.data_key_file) == ("from-env", "/k/a key")
    (tmp_path / ".env").write_text("GRIDMAP_DATABASE_URL\n")  # Settings() refuses it
    assert read_environment("database_url") is None
    assert read_environment("data_key") == {"data_key": "from-env"}


def test_head_revision_constant_is_alembics_head():
    from service.storage.migrate import HEAD_REVISION, head_revision

    assert head_revision() == HEAD_REVISION
