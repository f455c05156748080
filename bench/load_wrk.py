"""Load test: wrk at 50 connections for 30 s against the map page, a GeoJSON download and
/lookup, served from the Bijiang sample on SpatiaLite and on PostGIS.

Imports the sample (3 communities, buildings, households, persons, staff, existing grids) into a
fresh store per backend, starts one uvicorn process (``gridmap`` app factory) on it, and runs
``wrk -t2 -c50 -d30s --latency`` per URL. Prints requests/s, p50, p99, errors (socket errors +
non-2xx/3xx), the server process's CPU time per request and the machine's load average, and
writes ``bench/results/load_wrk.json``.

Not a test: timings depend on the machine. Needs ``wrk`` (Debian package ``wrk``) and, for
PostGIS, a server (default ``postgresql://postgres@127.0.0.1:5432/gridmap_load``, recreated).

    .venv/bin/python bench/load_wrk.py [--backends spatialite postgis] [--duration 30]
        [--postgis-url URL] [--app-root DIR (another source tree: "before" figures)]

``--smoke``: SpatiaLite, 4 connections for 1 s per URL, no results file (the test suite runs it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serving import (  # noqa: E402
    cpu_seconds,
    free_port,
    load_average,
    new_store_url,
    run_wrk,
    start_gridmap,
    wait_until_up,
    write_results,
)
from geodata import get_path  # noqa: E402
from service.importer import import_files  # noqa: E402

LAYERS = {"community": "communities", "compound": "compounds", "street": "streets",
          "building": "buildings", "grid": "grids_existing"}  # fmt: skip
PATHS = {
    "map page": "/maps/communities/520602002001",
    "GeoJSON download": "/downloads/communities/520602002001/grids.geojson",
    "lookup": "/lookup?lon=109.1905&lat=27.7200",
}
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/gridmap_load"


def _sources() -> dict[str, Path]:
    gpkg = get_path("bijiang.gpkg")
    return {**dict.fromkeys(LAYERS, gpkg), "household": get_path("households.csv"),
            "person": get_path("persons.csv"), "staff": get_path("staff.csv")}  # fmt: skip


def bench_backend(
    url: str, connections: int, duration: int, root: Path = ROOT
) -> dict[str, dict[str, float]]:
    import_files(_sources(), url=url, layers=LAYERS)
    port = free_port()
    server = start_gridmap(url, port, root)
    try:
        base = f"http://127.0.0.1:{port}"
        results = {}
        for name, path in PATHS.items():
            wait_until_up(base + path)
            run_wrk(base + path, threads=2, connections=connections, duration=3)  # warm-up
            cpu = cpu_seconds(server.pid)
            results[name] = run_wrk(
                base + path, threads=2, connections=connections, duration=duration
            )
            used = cpu_seconds(server.pid) - cpu
            results[name]["cpu_ms"] = 1000 * used / results[name]["requests"]
            results[name]["load"] = load_average()
            print(f"  {name:17s} {results[name]}", flush=True)
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["spatialite", "postgis"])
    parser.add_argument("--postgis-url", default=DEFAULT_PG)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--app-root", type=Path, default=ROOT, help="serve this source tree")
    parser.add_argument("--smoke", action="store_true", help="SpatiaLite, 1 s per URL, no file")
    args = parser.parse_args()
    if args.smoke:
        args.backends, args.connections, args.duration = ["spatialite"], 4, 1
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    os.environ.setdefault("GRIDMAP_DATA_KEY_FILE", str(Path(tempfile.gettempdir()) / "load.key"))
    all_results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends:
            print(f"{backend}: wrk -t2 -c{args.connections} -d{args.duration}s", flush=True)
            url = new_store_url(backend, args.postgis_url, tmp)
            all_results[backend] = bench_backend(url, args.connections, args.duration,
                                                 args.app_root.resolve())  # fmt: skip
    if not args.smoke:
        write_results("load_wrk", all_results)
    print("\n| backend | URL | req/s | p50 ms | p99 ms | errors | server CPU ms/req | load |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for backend, rows in all_results.items():
        for name, r in rows.items():
            print(f"| {backend} | {name} | {r['requests_per_s']:.1f} | {r['p50_ms']:.1f} | "
                  f"{r['p99_ms']:.1f} | {r['errors']} | {r['cpu_ms']:.2f} | "
                  f"{r['load']} |")  # fmt: skip


if __name__ == "__main__":
    main()
