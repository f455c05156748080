"""Benchmark scripts cannot rot: each runs in its ``--smoke`` mode (small data, seconds).

The smoke modes use what is installed here (SpatiaLite, the sample and bundled datasets, wrk,
Chromium; not tipg, CP-SAT or a PostgreSQL role that may create databases) and run the same code
paths as the full benchmarks; figures are not checked, only that a run completes and prints its
summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
SMOKE = {
    "cli_startup.py": "| gridmap user list |",
    "dask_districts.py": "every run gave the same plan",
    "cached_geojson.py": "| items, 304 |",
    "import_backends.py": "grids published",
    "load_wrk.py": "| spatialite | lookup |",
    "map_first_draw.py": "busiest community",
    "ogc_items_vs_tipg.py": "non-2xx",
    "partition_peers.py": "small1 (",
    "publish_district.py": "| spatialite | publish |",
    "redistrict_floor.py": "floor_ratio",
    "redistrict_real.py": "bubenec: redistrict takes",
    "redistrict_vs_fresh.py": "redistrict moves",
    "rosters_without_ids.py": "spatialite, without ids (xlsx):",
    "tiles_vs_tipg.py": "gridmap-render",
}
"""Script → a line its summary prints."""


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_bench_script_runs_in_smoke_mode(script: str, tmp_path: Path) -> None:
    env = {**os.environ, "GRIDMAP_DATA_KEY_FILE": str(tmp_path / "bench.key")}
    result = subprocess.run(
        [sys.executable, "-W", "ignore", str(BENCH / script), "--smoke"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert SMOKE[script] in result.stdout


def test_every_bench_script_has_a_smoke_run() -> None:
    scripts = {p.name for p in BENCH.glob("*.py") if "__main__" in p.read_text()}
    assert scripts - set(SMOKE) == set(), "bench scripts without a smoke run in this test"


def test_cpu_ticks_leave_out_ended_processes() -> None:
    from bench.serving import CLOCK_TICKS, cpu_seconds, cpu_ticks

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    sum(i * i for i in range(300_000))  # some CPU time of this process
    ticks = cpu_ticks({os.getpid(), ended.pid})
    assert set(ticks) == {os.getpid()} and ticks[os.getpid()] > 0
    assert cpu_seconds(os.getpid()) >= ticks[os.getpid()] / CLOCK_TICKS


def _burn() -> str:
    """0.3 s of this process's CPU."""
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    return "done"


def test_cpu_spent_counts_the_work_of_the_named_processes() -> None:
    from bench.serving import CLOCK_TICKS, cpu_spent

    result, spent = cpu_spent(lambda: {os.getpid()}, _burn)
    assert result == "done" and 0.3 - 2 / CLOCK_TICKS <= spent < 5
    result, spent = cpu_spent(set, _burn)  # no process named: nothing counted
    assert result == "done" and spent == 0


def test_timed_gives_wall_process_and_server_cpu_seconds(engine) -> None:
    from bench.serving import process_cpu, timed

    before = process_cpu()
    result, spent = timed(engine, _burn)
    assert result == "done" and set(spent) == {"wall", "cpu", "server cpu"}
    assert 0.29 <= spent["cpu"] <= process_cpu() - before and spent["wall"] >= 0.29
    if engine.dialect.name != "postgresql":  # SpatiaLite runs in this process: no server
        assert spent["server cpu"] == 0


def test_new_store_url_gives_a_new_spatialite_file_each_time(tmp_path: Path) -> None:
    from bench.serving import new_store_url

    urls = [new_store_url("spatialite", "postgresql://unused", tmp_path) for _ in range(2)]
    files = [Path(url.removeprefix("sqlite:///")) for url in urls]
    assert urls[0].startswith("sqlite:///") and files[0] != files[1]
    assert all(f.parent.parent == tmp_path and f.parent.is_dir() and not f.exists() for f in files)


def test_database_pids_with_and_without_the_asking_connection(engine) -> None:
    from sqlalchemy import text

    from bench.serving import database_pids

    if engine.dialect.name != "postgresql":  # SpatiaLite runs inside this process
        assert database_pids(engine) == set() == database_pids(engine, own=False)
        return
    with engine.connect() as conn:
        busy = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert busy in database_pids(engine) and busy in database_pids(engine, own=False)
        asking = database_pids(engine) - database_pids(engine, own=False)
    assert len(asking) == 1 and busy not in asking
