"""Benchmark: gridmap's vector tiles against tipg's tile endpoint on the same PostGIS table.

The synthetic district of ``ogc_items_vs_tipg.py`` (1,000 published grids, 64-vertex polygons)
is written to a PostGIS database and served, one uvicorn process each, by

- ``gridmap``: ``/collections/grids/tiles/WebMercatorQuad/{z}/{x}/{y}`` as deployed: tiles of
  published plans rendered once per store revision and kept (``service.api.cache``);
- ``gridmap-render``: the same with the response cache off (``GRIDMAP_RESPONSE_CACHE_MB=0``),
  so every request renders its tile (``ST_AsMVT``) as tipg does;
- ``tipg``: ``/collections/public.grid/tiles/WebMercatorQuad/{z}/{x}/{y}``, the same table.

``wrk`` cycles through every tile covering the district at the chosen zooms (a Lua script),
the servers taking turns for ``--rounds`` rounds (the machine's load changes; medians are
reported). Before the runs every tile is fetched from each and decoded, and the features per
tile compared. Prints tiles/s and latencies, and writes ``bench/results/tiles_vs_tipg.json``.

``--before DIR`` adds ``gridmap@before`` and ``gridmap-render@before``: the same two servers
run from another source tree (``git archive`` of an older commit), taking their turns in the
same rounds, so before and after see the same machine load.

tipg pins its own FastAPI/pydantic, so it runs from a separate virtualenv::

    python3 -m venv /tmp/tipg-venv && /tmp/tipg-venv/bin/pip install tipg uvicorn
    .venv/bin/python bench/tiles_vs_tipg.py --tipg-venv /tmp/tipg-venv

Not a test: timings depend on the machine. Needs PostgreSQL+PostGIS and ``wrk``. ``--smoke``
(the test suite runs it): the two gridmap servers on a SpatiaLite file, zoom 14, 1 s of wrk, one
round, no tipg and no results file.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import morecantile
from sqlalchemy import text

from bench.ogc_items_vs_tipg import (
    COMMUNITIES,
    COMMUNITY_SIZE,
    ORIGIN,
    add_tipg_arguments,
    build_district,
    start_tipg,
)
from bench.serving import (
    ROOT,
    cpu_spent,
    database_pids,
    free_port,
    run_wrk,
    smoke_store,
    start_gridmap,
    wait_until_up,
    write_results,
)
from service.storage.session import make_engine

PATHS = {
    "gridmap": "/collections/grids/tiles/WebMercatorQuad",
    "gridmap-render": "/collections/grids/tiles/WebMercatorQuad",
    "tipg": "/collections/public.grid/tiles/WebMercatorQuad",
}
_LUA = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def district_tiles(zooms: list[int]) -> list[morecantile.Tile]:
    """Every WebMercatorQuad tile covering the synthetic district at ``zooms``."""
    cols = math.ceil(math.sqrt(COMMUNITIES))  # as build_district lays the communities out
    rows = math.ceil(COMMUNITIES / cols)
    west, south = ORIGIN
    east, north = west + cols * COMMUNITY_SIZE, south + rows * COMMUNITY_SIZE
    tms = morecantile.tms.get("WebMercatorQuad")
    return list(tms.tiles(west, south, east, north, zooms))


def _features(base: str, path: str, tile: morecantile.Tile) -> int:
    """Features in one tile (0 for an empty answer, 204 or 200 with no body)."""
    with urllib.request.urlopen(f"{base}{path}/{tile.z}/{tile.x}/{tile.y}") as response:
        body = response.read()
    layers = mapbox_vector_tile.decode(body) if body else {}
    return sum(len(layer["features"]) for layer in layers.values())


def _lua_script(path: str, tiles: list[morecantile.Tile]) -> Path:
    listed = ", ".join(f'"{path}/{t.z}/{t.x}/{t.y}"' for t in tiles)
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(_LUA % listed)
    return script


def _measured_run(url: str, server: int, engine: Any, **opts: Any) -> dict[str, float]:
    """One wrk run, with the CPU time the server and its database backends spent per request
    (a figure the machine's other load hardly changes, unlike requests/s)."""
    result, used = cpu_spent(lambda: {server} | database_pids(engine, own=False),
                             lambda: run_wrk(url, **opts))  # fmt: skip
    return {**result, "cpu_ms_per_request": used * 1000 / result["requests"]}


def _start(name: str, db: str, port: int, tipg_venv: Path, before: Path | None) -> subprocess.Popen:
    if name == "tipg":
        return start_tipg(db, port, tipg_venv)
    kind, _, when = name.partition("@")
    root = before if when == "before" and before is not None else ROOT
    cache_mb = os.environ.get("GRIDMAP_RESPONSE_CACHE_MB")
    os.environ["GRIDMAP_RESPONSE_CACHE_MB"] = "0" if kind == "gridmap-render" else "256"
    try:
        return start_gridmap(db, port, root.resolve())
    finally:
        os.environ.pop("GRIDMAP_RESPONSE_CACHE_MB")
        if cache_mb is not None:
            os.environ["GRIDMAP_RESPONSE_CACHE_MB"] = cache_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_tipg_arguments(parser, duration=10)
    parser.add_argument("--zooms", type=int, nargs="+", default=[14, 15])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="gridmap on SpatiaLite, seconds")
    parser.add_argument("--before", type=Path, help="also serve gridmap from this source tree")
    parser.add_argument("--skip-build", action="store_true", help="reuse the district in --db")
    args = parser.parse_args()
    names = list(PATHS)
    if args.before is not None:
        names[2:2] = ["gridmap@before", "gridmap-render@before"]
    if args.smoke:
        args.db, args.zooms, args.rounds = smoke_store(), [14], 1
        args.connections, args.duration, names = 2, 1, ["gridmap", "gridmap-render"]

    n = _grids(args.db) if args.skip_build else build_district(args.db)
    tiles = district_tiles(args.zooms)
    print(f"district: {n} published grids; {len(tiles)} tiles at zooms {args.zooms}")
    ports = {name: free_port() for name in names}
    servers = {name: _start(name, args.db, port, args.tipg_venv, args.before)
               for name, port in ports.items()}  # fmt: skip
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    try:
        counts = {}
        for name, port in ports.items():
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/collections")
            counts[name] = [_features(base, _path(name), t) for t in tiles]
        if len({tuple(c) for c in counts.values()}) != 1:
            raise SystemExit(f"features per tile differ: {counts}")
        scripts = {name: _lua_script(_path(name), tiles) for name in names}
        opts = {"threads": args.threads, "connections": args.connections}
        for name, port in ports.items():  # warm-up
            run_wrk(f"http://127.0.0.1:{port}/", duration=3, script=scripts[name], **opts)
        engine = make_engine(args.db)
        for _ in range(args.rounds):
            for name, port in ports.items():
                url = f"http://127.0.0.1:{port}/"
                runs[name].append(_measured_run(url, servers[name].pid, engine,
                                                duration=args.duration, script=scripts[name],
                                                **opts))  # fmt: skip
        engine.dispose()
        for script in scripts.values():
            script.unlink()
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=10)
    results = {name: _median(r) for name, r in runs.items()}
    features = sum(counts[names[0]])
    print(f"zooms {args.zooms}, {len(tiles)} tiles ({features} features), "
          f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
          f"median of {args.rounds} rounds")  # fmt: skip
    print(f"{'server':22} {'tiles/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/tile':>12} "
          f"{'errors':>7}  tiles/s of each round")  # fmt: skip
    for name, r in results.items():
        each = " ".join(f"{x['requests_per_s']:.0f}" for x in runs[name])
        print(f"{name:22} {r['requests_per_s']:9.1f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} "
              f"{r['cpu_ms_per_request']:12.2f} {int(r['errors']):7d}  {each}")  # fmt: skip
    if args.smoke:
        return
    tipg = results["tipg"]["requests_per_s"]
    tipg_cpu = results["tipg"]["cpu_ms_per_request"]
    ratios = {
        name: {"tiles_per_s": results[name]["requests_per_s"] / tipg,
               "tiles_per_cpu_s": tipg_cpu / results[name]["cpu_ms_per_request"]}
        for name in names if name != "tipg"
    }  # fmt: skip
    for name, ratio in ratios.items():
        print(f"{name} / tipg: {ratio['tiles_per_s']:.2f}x tiles/s, "
              f"{ratio['tiles_per_cpu_s']:.2f}x tiles per CPU second")  # fmt: skip
    write_results("tiles_vs_tipg", {"grids": n, "zooms": args.zooms, "tiles": len(tiles),
                                    "features": features, "threads": args.threads,
                                    "connections": args.connections, "duration_s": args.duration,
                                    "runs": runs, "median": results, "ratios": ratios})  # fmt: skip


def _path(name: str) -> str:
    return PATHS[name.partition("@")[0]]


def _grids(db: str) -> int:
    engine = make_engine(db)
    with engine.connect() as conn:
        n = int(conn.execute(text("SELECT count(*) FROM grid")).scalar_one())
    engine.dispose()
    return n


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


if __name__ == "__main__":
    main()
