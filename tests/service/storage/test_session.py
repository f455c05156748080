"""mod_spatialite and GDAL in one process: loaded through load_spatialite, the process exits
cleanly whatever was imported before (the other order crashes at exit, see load_spatialite)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GPKG = ROOT / "geodata" / "sample" / "bijiang.gpkg"


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("spatialite_first", [True, False])
def test_spatialite_then_gdal_exits_cleanly(spatialite_first):
    # A fresh interpreter: nothing imported yet, so the load order is exactly the one written.
    load = "load_spatialite(conn)" if spatialite_first else "pass"
    result = _run(f"""
        import sqlean
        from service.storage.session import load_spatialite
        conn = sqlean.connect(":memory:")
        {load}
        print(conn.execute("SELECT spatialite_version()").fetchone()[0] if {spatialite_first}
              else "skipped")
        import pyogrio
        info = pyogrio.read_info({str(GPKG)!r}, layer="communities")
        print(info["features"])
        conn.close()
    """)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.split()[-1] == "3"


def test_engine_connections_load_spatialite_with_gdal_present(tmp_path):
    result = _run(f"""
        from sqlalchemy import text
        from service.storage.session import make_engine
        engine = make_engine("sqlite:///{tmp_path}/s.sqlite")
        with engine.connect() as conn:
            print(conn.execute(text("SELECT ST_AsText(MakePoint(1, 2))")).scalar_one())
        import geopandas
        print(len(geopandas.read_file({str(GPKG)!r}, layer="communities")))
        engine.dispose()
    """)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.split() == ["POINT(1", "2)", "3"]


def test_engine_without_spatialite_then_gdal_and_spatialite_exit_cleanly(tmp_path):
    # gridmap user commands open a migrated store without mod_spatialite (and without GDAL);
    # GDAL and a spatial engine later in the same process still load in the safe order.
    from service.storage.migrate import upgrade_database
    from service.storage.session import make_engine

    url = f"sqlite:///{tmp_path}/s.sqlite"
    engine = make_engine(url)
    upgrade_database(engine)
    engine.dispose()
    result = _run(f"""
        import sys
        from sqlalchemy import text
        from service.storage.migrate import open_store
        from service.storage.session import make_engine
        light = open_store({url!r}, spatial=False)
        with light.connect() as conn:
            print(conn.execute(text("SELECT count(*) FROM app_user")).scalar_one())
        print("pyogrio" in sys.modules)
        import geopandas
        print(len(geopandas.read_file({str(GPKG)!r}, layer="communities")))
        spatial = make_engine({url!r})
        with spatial.connect() as conn:
            print(conn.execute(text("SELECT ST_AsText(MakePoint(1, 2))")).scalar_one())
        light.dispose()
        spatial.dispose()
    """)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.split() == ["0", "False", "3", "POINT(1", "2)"]
