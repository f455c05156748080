"""Time to first draw of the district and community map pages in Chromium (no internet).

Builds a synthetic district (``synth.py``: six Tongren-style communities side by side, ~3,500
buildings, partitioned into ~470 grids and published) in a SpatiaLite file, serves it with
gridmap, and opens each page in Debian's Chromium with every request off 127.0.0.1 blocked.
A page's time to first draw is the time from navigation until every layer it shows has been
fetched, added and painted (``data-<layer>-drawn``, set by map.js on the animation frame after
the layer was added and painted); the median of ``--runs`` loads is reported per page, with the
part spent drawing in the browser (sum over layers of the time from the data's arrival to its
paint; the rest is the server's answer and the transfer) and the time to zoom in and out once
(both frames painted). Each page is measured as served (canvas for the dense, non-interactive
layers) and with every layer forced to SVG paths, for comparison.

    .venv/bin/python bench/map_first_draw.py [--communities 6] [--buildings 600] [--runs 5]

``--smoke`` (the test suite runs it): one community of 150 buildings, one load, no results file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.browser import local_only_page, wait_drawn  # noqa: E402
from bench.serving import free_port, start_gridmap, wait_until_up  # noqa: E402
from bench.synth import CRS, tongren_community  # noqa: E402

PAGES = {
    "district": ("/maps?basemap=none", ["base", "communities", "grid_outlines"]),
    "community": (
        "/maps/communities/{code}?basemap=none",
        ["base", "grids", "streets", "compounds"],
    ),
}
_LAYERS = ("community", "building", "street", "compound")


def _shifted(dx: float, dy: float) -> Callable[[np.ndarray], np.ndarray]:
    """Coordinates moved by ``(dx, dy)`` (for :func:`shapely.transform`)."""
    return lambda coords: coords + (dx, dy)


def synthetic_district(n: int, n_buildings: int, folder: Path) -> dict[str, Path]:
    """Write ``n`` synthetic communities in a row (1.4 km apart) to GeoPackages; their paths."""
    layers: dict[str, list[gpd.GeoDataFrame]] = {k: [] for k in _LAYERS}
    for k in range(n):
        parts = tongren_community(k, n_buildings=n_buildings, code=f"5206020010{k + 1:02d}")
        dx, dy = (k % 3) * 1400.0, (k // 3) * 1100.0
        for key, frame in zip(layers, parts, strict=True):
            frame = frame.copy()
            frame["geometry"] = shapely.transform(frame.geometry.values, _shifted(dx, dy))
            for col in ("building_id", "street_id", "compound_id"):
                if col in frame and frame[col].notna().any():
                    frame[col] = f"C{k + 1}-" + frame[col].astype(str)
            if key == "community":
                frame["name"] = f"合成社区{k + 1}"
            layers[key].append(frame)
    paths = {}
    for key, frames in layers.items():
        paths[key] = folder / f"{key}.gpkg"
        gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=CRS).to_file(paths[key])
    return paths


def build_store(url: str, n: int, n_buildings: int, folder: Path) -> dict[str, int]:
    """Import, partition and publish the synthetic district; counts of what was written."""
    from service.analyst import open_store

    with open_store(url) as store:
        store.import_files(synthetic_district(n, n_buildings, folder))
        result = store.partition_many(n_jobs=2)
        codes = sorted(result.grids["community_code"].unique())
        store.save_drafts(dict.fromkeys(codes, result), publish=True)
        return {"communities": len(codes), "grids": len(result.grids),
                "buildings": len(store.load_buildings())}  # fmt: skip


def _bytes(url: str) -> int:
    with urllib.request.urlopen(url, timeout=120) as response:
        return len(response.read())


# Loaded before the page's scripts: every layer map.js loads is drawn as SVG paths, as before
# canvas rendering (for comparison only).
_ALL_SVG = """
Object.defineProperty(window, "gridmapLoad", {
  configurable: true,
  set(load) {
    Object.defineProperty(window, "gridmapLoad", {
      value: (group, map, spec, labels) => load(group, map, {...spec, canvas: false}, labels),
    });
  },
});
"""


# Zoom in one level and out again, each without animation; ms until both frames were painted.
_ZOOM = """async () => {
  const map = Object.values(window).find((v) => v instanceof L.Map);
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const start = performance.now();
  map.setZoom(map.getZoom() + 1, {animate: false});
  await frame();
  map.setZoom(map.getZoom() - 1, {animate: false});
  await frame();
  return performance.now() - start;
}"""


def measure(base: str, code: str, runs: int, svg: bool = False) -> dict[str, dict[str, float]]:
    """Median time to first draw (ms) of each page, and the size of each layer's data.

    With ``svg`` every layer is drawn as SVG paths (no canvas), to compare.
    """
    out: dict[str, dict[str, float]] = {}
    with local_only_page(1280, 860) as page:
        if svg:
            page.add_init_script(_ALL_SVG)
        for name, (path, keys) in PAGES.items():
            times = []
            for _ in range(runs + 1):  # the first load warms the server's caches; not counted
                page.goto("about:blank")
                page.goto(f"{base}{path.format(code=code)}")
                drawn = wait_drawn(page, keys, timeout_ms=120_000)
                draw = wait_drawn(page, keys, what="draw-ms")
                times.append((max(drawn.values()), sum(draw.values()), page.evaluate(_ZOOM)))
            first, draw_only, zoom = zip(*times[1:], strict=True)
            out[name] = {"median_ms": statistics.median(first), "max_ms": max(first),
                         "draw_ms": statistics.median(draw_only),
                         "zoom_ms": statistics.median(zoom)}  # fmt: skip
    out["data_kb"] = {
        "district base": _bytes(f"{base}/maps/data/base.geojson") / 1024,
        "district grids": _bytes(f"{base}/maps/data/grids.geojson") / 1024,
        "community base": _bytes(f"{base}/maps/data/communities/{code}/base.geojson") / 1024,
        "community grids": _bytes(f"{base}/maps/data/communities/{code}/grids.geojson") / 1024,
    }
    return out


def main(argv: list[str] | None = None) -> None:
    """Build the district, serve it, measure, print a table and write bench/results/."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=6)
    parser.add_argument("--buildings", type=int, default=600, help="per community (before cuts)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="one small community, one load")
    args = parser.parse_args(argv)
    if args.smoke:
        args.communities, args.buildings, args.runs = 1, 150, 1
    from rich.console import Console
    from rich.table import Table

    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/district.sqlite"
        with console.status("Building the synthetic district (import, partition, publish)"):
            started = time.perf_counter()
            counts = build_store(url, args.communities, args.buildings, Path(tmp))
        console.print(f"district: {counts} in {time.perf_counter() - started:.0f} s")
        port = free_port()
        server = start_gridmap(url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/maps")
            features = json.load(urllib.request.urlopen(f"{base}/maps/data/communities.geojson"))
            busiest = max(features["features"], key=lambda f: f["properties"]["grids"])
            with console.status("Loading the pages in Chromium"):
                result = measure(base, busiest["id"], args.runs)
                svg = measure(base, busiest["id"], args.runs, svg=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    table = Table(title=f"Time to first draw, median of {args.runs} loads")
    for col in ("page", "rendering", "median ms", "max ms", "of which drawing ms", "zoom ms"):
        table.add_column(col, justify="right" if col not in ("page", "rendering") else "left")
    for name in PAGES:
        for label, res in (("canvas base", result), ("all SVG", svg)):
            row = res[name]
            values = (f"{row[k]:.0f}" for k in ("median_ms", "max_ms", "draw_ms", "zoom_ms"))
            table.add_row(name, label, *values)
    console.print(table)
    sizes = ", ".join(f"{k} {v:.0f} KB" for k, v in result["data_kb"].items())
    console.print(f"data: {sizes}; busiest community {busiest['id']}: "
                  f"{busiest['properties']['grids']} grids")  # fmt: skip
    if args.smoke:
        return
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    payload = {"counts": counts, "busiest": busiest["id"], **result, "all_svg": svg}
    (results / "map_first_draw.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
