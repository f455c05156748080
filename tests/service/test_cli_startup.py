"""The command line starts without the data libraries: ``gridmap --help`` and the help of every
command import no geopandas, SciPy, shapely, pandas or SQLAlchemy (commands import them when they
run), and ``gridmap user list`` on a migrated store imports none of them but SQLAlchemy. Checked on
``sys.modules`` of a fresh interpreter, not by timing."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("geopandas", "scipy", "shapely", "pandas", "sqlalchemy", "pyogrio", "folium")
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


def test_the_child_would_see_a_heavy_import():
    code = "import sys, service.storage.models; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


# ------------------------------------------------------------------ gridmap user on a store
# Users are tables without geometry: on a store at the newest schema the user commands load no
# data library, no GeoAlchemy2 (it imports shapely) and no Alembic (see migrate.open_store).
NOT_FOR_USERS = ("geopandas", "pandas", "pyogrio", "shapely", "geoalchemy2", "alembic", "scipy")

_USER_LIST = """
import json, sys
from service.cli import app
try:
    app(["user", "list", "--db", sys.argv[1]], prog_name="gridmap")
except SystemExit as exit_:
    code = exit_.code
loaded = [m for m in json.loads(sys.argv[2]) if m in sys.modules]
print(json.dumps({"code": code, "loaded": loaded}))
"""


def _user_list(url: str) -> tuple[list[str], dict]:
    out = subprocess.run([sys.executable, "-c", _USER_LIST, url, json.dumps(NOT_FOR_USERS)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    *lines, last = out.stdout.strip().splitlines()
    return lines, json.loads(last)


def _add_user(url: str, monkeypatch) -> None:
    from service.storage.auth import create_user
    from service.storage.session import make_engine, session_scope
    from tests.service.residents_seed import use_fast_password_hashing

    use_fast_password_hashing(monkeypatch)
    engine = make_engine(url)
    with session_scope(engine) as session:
        create_user(session=session, username="d1", password="Tamarind-Kettle-42",
                    role="district_admin", district_code="520602")  # fmt: skip
    engine.dispose()


def test_user_list_on_a_migrated_store_loads_no_data_library(store_url, monkeypatch):
    _add_user(store_url, monkeypatch)
    lines, seen = _user_list(store_url)
    assert seen == {"code": 0, "loaded": []}
    assert lines == ["d1\tdistrict_admin\t520602\t-"]


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


def test_head_revision_constant_is_alembics_head():
    from service.storage.migrate import HEAD_REVISION, head_revision

    assert head_revision() == HEAD_REVISION
