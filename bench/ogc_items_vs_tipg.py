"""Benchmark: gridmap's OGC grid items endpoint against tipg on the same PostGIS table.

A synthetic district of ~1,000 grids (40 communities x 25 grids, 64-vertex polygons) is written
to a PostGIS database; gridmap and tipg (each one uvicorn process) serve it, and ``wrk`` loads
``/collections/<grids>/items?limit=N`` of each with the same threads, connections and duration.
Prints requests/s and p99 latency, and writes ``bench/results/ogc_items_vs_tipg.json``.

tipg pins its own FastAPI/pydantic, so it runs from a separate virtualenv::

    python3 -m venv /tmp/tipg-venv && /tmp/tipg-venv/bin/pip install tipg uvicorn
    .venv/bin/python bench/ogc_items_vs_tipg.py --tipg-venv /tmp/tipg-venv

Not a test: timings depend on the machine. Needs PostgreSQL+PostGIS and ``wrk``. ``--smoke``
(the test suite runs it): gridmap alone on a SpatiaLite file, 1 s of wrk, no results file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import urllib.request
from pathlib import Path

from geoalchemy2.shape import from_shape
from shapely import MultiPolygon, Polygon
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from bench.serving import (
    free_port,
    fresh_postgis_database,
    run_wrk,
    smoke_store,
    start_gridmap,
    wait_until_up,
    write_results,
)
from service.storage import models as m
from service.storage.migrate import upgrade_database
from service.storage.session import make_engine

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gridmap_bench"
COMMUNITIES, GRIDS_PER_SIDE, VERTICES = 40, 5, 64
ORIGIN = (109.10, 27.65)
COMMUNITY_SIZE = 0.01  # degrees (about 1 km)


def _wobbly_box(x0: float, y0: float, size: float) -> Polygon:
    """A square cell with VERTICES vertices (grid boundaries follow streets, not straight lines)."""
    per_side = VERTICES // 4
    pts = []
    corners = [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size)]
    for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1], strict=True):
        for k in range(per_side):
            t = k / per_side
            wobble = 0.02 * size * math.sin(7 * t * math.pi) if k > 0 else 0.0
            pts.append((ax + (bx - ax) * t + wobble * (by - ay) / size,
                        ay + (by - ay) * t - wobble * (bx - ax) / size))  # fmt: skip
    return Polygon(pts)


def build_district(url: str) -> int:
    """Write the synthetic district; return the number of published grids."""
    if not url.startswith("sqlite"):
        fresh_postgis_database(url)
    engine = make_engine(url)
    upgrade_database(engine)
    cols = int(math.ceil(math.sqrt(COMMUNITIES)))
    grid_size = COMMUNITY_SIZE / GRIDS_PER_SIDE
    communities, plans, grids = [], [], []
    for c in range(COMMUNITIES):
        cx = ORIGIN[0] + (c % cols) * COMMUNITY_SIZE
        cy = ORIGIN[1] + (c // cols) * COMMUNITY_SIZE
        code = f"520602{1 + c // 20:03d}{1 + c % 20:03d}"
        outline = Polygon(
            [
                (cx, cy),
                (cx + COMMUNITY_SIZE, cy),
                (cx + COMMUNITY_SIZE, cy + COMMUNITY_SIZE),
                (cx, cy + COMMUNITY_SIZE),
            ]
        )
        communities.append(
            {
                "code": code,
                "name": f"社区{c + 1}",
                "geom": from_shape(MultiPolygon([outline]), srid=4326),
            }
        )
        plans.append({"id": c + 1, "community_code": code, "status": "published"})
        for g in range(GRIDS_PER_SIDE**2):
            x0 = cx + (g % GRIDS_PER_SIDE) * grid_size
            y0 = cy + COMMUNITY_SIZE - (g // GRIDS_PER_SIDE + 1) * grid_size
            grids.append({"plan_id": c + 1, "code": f"{code}{g + 1:03d}", "community_code": code,
                          "households": 300 + (g * 37) % 200, "buildings": 8 + g % 5,
                          "persons": 700 + (g * 53) % 500,
                          "geom": from_shape(MultiPolygon([_wobbly_box(x0, y0, grid_size)]),
                                             srid=4326)})  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(m.Community), communities)
        conn.execute(insert(m.Plan), plans)
        conn.execute(insert(m.Grid), grids)
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return len(grids)


def start_tipg(url: str, port: int, venv: Path) -> subprocess.Popen:
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": plain, "TIPG_DB_SCHEMAS": '["public"]',
           "TIPG_MAX_FEATURES_PER_QUERY": "10000"}  # fmt: skip
    cmd = [str(venv / "bin" / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning"]  # fmt: skip
    return subprocess.Popen(cmd, env=env, cwd="/tmp")


def add_tipg_arguments(parser: argparse.ArgumentParser, *, duration: int) -> None:
    """The options of every gridmap-versus-tipg run: the database, tipg's venv, the wrk load."""
    parser.add_argument("--db", default=os.environ.get("GRIDMAP_BENCH_POSTGIS_URL", DEFAULT_URL))
    parser.add_argument("--tipg-venv", type=Path, default=Path("/tmp/tipg-venv"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=duration)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_tipg_arguments(parser, duration=15)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--smoke", action="store_true", help="gridmap on SpatiaLite, 1 s, no file")
    args = parser.parse_args()
    if args.smoke:
        args.db, args.connections, args.duration = smoke_store(), 2, 1

    n = build_district(args.db)
    print(f"district: {n} published grids in {args.db}")
    ports = {"gridmap": free_port(), "tipg": free_port()}
    paths = {"gridmap": "/collections/grids/items", "tipg": "/collections/public.grid/items"}
    servers = {"gridmap": start_gridmap(args.db, ports["gridmap"])}
    if args.smoke:
        del ports["tipg"]
    else:
        servers["tipg"] = start_tipg(args.db, ports["tipg"], args.tipg_venv)
    results: dict[str, dict[str, float]] = {}
    try:
        for name, port in ports.items():
            url = f"http://127.0.0.1:{port}{paths[name]}?limit={args.limit}"
            wait_until_up(url)
            with urllib.request.urlopen(url) as response:  # check both serve the same page size
                body = json.loads(response.read())
            returned = len(body["features"])
            run_wrk(url, threads=args.threads, connections=args.connections, duration=3)  # warm-up
            results[name] = {**run_wrk(url, threads=args.threads, connections=args.connections,
                                         duration=args.duration),
                             "features_per_page": returned}  # fmt: skip
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=10)
    print(f"limit={args.limit}, wrk -t{args.threads} -c{args.connections} -d{args.duration}s")
    print(f"{'server':8} {'req/s':>9} {'p99 ms':>8} {'features':>9} {'non-2xx':>8}")
    for name, r in results.items():
        print(f"{name:8} {r['requests_per_s']:9.1f} {r['p99_ms']:8.1f} "
              f"{r['features_per_page']:9d} {r['errors']:8d}")  # fmt: skip
    if args.smoke:
        return
    payload = {"grids": n, "limit": args.limit, "threads": args.threads,
               "connections": args.connections, "duration_s": args.duration,
               "results": results}  # fmt: skip
    write_results("ogc_items_vs_tipg", payload)


if __name__ == "__main__":
    main()
