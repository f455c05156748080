"""Benchmark: whole-district GeoJSON of published plans, rendered once (``service.api.cache``).

The synthetic district of ``ogc_items_vs_tipg.py`` (40 communities, 1,000 published grids,
64-vertex polygons) is written to a PostGIS database and served by one uvicorn process;
``wrk -t2 -c50`` loads

- ``/collections/grids/items?limit=1000``: every grid of the district in one OGC page (1.7 MB),
  as wrk asks (no ``Accept-Encoding``), as a browser asks (``Accept-Encoding: gzip, deflate,
  br``), and revalidated (``If-None-Match`` with the page's ETag: 304);
- ``/maps/data/grids.geojson``: the district map's grid outlines (1.3 MB), plain and brotli.

``--app-root DIR`` serves the app from another source tree (e.g. ``git archive`` of an older
commit) against the same database: the "before" figures. Prints requests/s, p50, p99, errors
and body sizes, and writes ``bench/results/cached_geojson.json``.

    .venv/bin/python bench/cached_geojson.py [--db URL] [--duration 15] [--app-root DIR]

Not a test: timings depend on the machine. Needs PostgreSQL+PostGIS and ``wrk``. ``--smoke``:
the same district on SpatiaLite, 2 connections for 1 s per case, no results file (the test suite
runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from bench.ogc_items_vs_tipg import build_district
from bench.serving import (
    ROOT,
    cpu_seconds,
    free_port,
    load_average,
    run_wrk,
    smoke_store,
    wait_until_up,
    write_results,
)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gridmap_bench_cache"
BROWSER = {"Accept-Encoding": "gzip, deflate, br"}
ITEMS, OUTLINES = "/collections/grids/items?limit=1000", "/maps/data/grids.geojson"
CASES = [  # name, path, request headers (``etag``: the page's own ETag, asked once)
    ("items, plain", ITEMS, {}),
    ("items, br", ITEMS, BROWSER),
    ("items, 304", ITEMS, "etag"),
    ("outlines, plain", OUTLINES, {}),
    ("outlines, br", OUTLINES, BROWSER),
]


def start_app(database_url: str, port: int, root: Path) -> subprocess.Popen:
    """One uvicorn process serving the gridmap app of the source tree ``root``."""
    env = {**os.environ, "GRIDMAP_DATABASE_URL": database_url, "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "service.api.main:create_app",
           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    return subprocess.Popen(cmd, env=env, cwd=root)


def _fetch(url: str, headers: dict[str, str]) -> tuple[int, str | None]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request) as response:
        return len(response.read()), response.headers.get("ETag")


def _lua(headers: dict[str, str], folder: Path) -> Path | None:
    if not headers:
        return None
    path = folder / f"headers-{abs(hash(tuple(headers.items())))}.lua"
    # json.dumps quotes a string as Lua does: an ETag's own quotes are escaped ("\"…\"")
    path.write_text("".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n"
                            for k, v in headers.items()))  # fmt: skip
    return path


def run(base: str, duration: int, connections: int, folder: Path, pid: int) -> dict[str, dict]:
    """wrk on every case; returns its figures, the body size and server CPU per request."""
    results = {}
    for name, path, asked in CASES:
        url = base + path
        wait_until_up(url)
        headers = dict(asked) if isinstance(asked, dict) else {}
        size, etag = _fetch(url, headers)
        if asked == "etag":
            if etag is None:
                print(f"  {name}: no ETag served, skipped", flush=True)
                continue
            headers = {"If-None-Match": etag}
            size = 0  # a 304 has no body
        script = _lua(headers, folder)
        run_wrk(url, threads=2, connections=connections, script=script, duration=3)  # warm-up
        cpu = cpu_seconds(pid)
        measured = run_wrk(
            url, threads=2, connections=connections, script=script, duration=duration
        )
        results[name] = {**measured, "body_bytes": size, "load": load_average()}
        results[name]["cpu_ms"] = 1000 * (cpu_seconds(pid) - cpu) / results[name]["requests"]
        print(f"  {name:16s} {results[name]}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("GRIDMAP_BENCH_POSTGIS_URL", DEFAULT_URL))
    parser.add_argument("--app-root", type=Path, default=ROOT)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--skip-build", action="store_true", help="reuse the district in --db")
    parser.add_argument("--smoke", action="store_true", help="SpatiaLite, 1 s per case, no file")
    args = parser.parse_args()
    if args.smoke:
        args.db, args.connections, args.duration = smoke_store(), 2, 1
    if not args.skip_build:
        print(f"district: {build_district(args.db)} published grids in {args.db}", flush=True)
    port = free_port()
    server = start_app(args.db, port, args.app_root.resolve())
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = f"http://127.0.0.1:{port}"
            results = run(base, args.duration, args.connections, Path(tmp), server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\napp {args.app_root}, wrk -t2 -c{args.connections} -d{args.duration}s")
    print("| case | req/s | p50 ms | p99 ms | errors | body bytes | server CPU ms/req | load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['requests_per_s']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
              f"{r['errors']} | {r['body_bytes']:,} | {r['cpu_ms']:.2f} | "
              f"{r['load']} |")  # fmt: skip
    if args.smoke:
        return
    write_results("cached_geojson", {"app_root": str(args.app_root), "results": results})


if __name__ == "__main__":
    main()
