"""Regenerate docs/map-*.png: the district, community and grid map pages of the demo store.

Builds the demo store (the Bijiang sample, see service/demo.py) in a temporary SpatiaLite file,
serves it, and takes the screenshots in Debian's Chromium with every request off 127.0.0.1
blocked, so they show what an office without internet sees (no basemap tiles).

    .venv/bin/python scripts/screenshots.py [--out docs] [--lang zh]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.browser import local_only_page, wait_drawn  # noqa: E402
from bench.serving import free_port, start_gridmap, wait_until_up  # noqa: E402

PAGES = {
    "district": ("/maps", ["base", "communities", "grid_outlines"]),
    "community": ("/maps/communities/{community}", ["base", "grids", "streets", "compounds"]),
    "grid": ("/maps/grids/{grid}", ["base", "outline", "buildings"]),
}


def _json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response)


def _pick(base: str) -> dict[str, str]:
    """The community with the most grids, and its grid with the most buildings."""
    communities = _json(f"{base}/maps/data/communities.geojson")["features"]
    community = max(communities, key=lambda f: (f["properties"]["grids"] or 0, f["id"]))["id"]
    grids = _json(f"{base}/maps/data/communities/{community}/grids.geojson")["features"]
    grid = max(grids, key=lambda f: (f["properties"]["buildings"] or 0, f["id"]))["id"]
    return {"community": community, "grid": grid}


def take(base: str, out: Path, lang: str) -> list[Path]:
    """Screenshot the three pages served at ``base`` into ``out``; return the files."""
    ids = _pick(base)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with local_only_page(1280, 860) as page:
        for name, (path, keys) in PAGES.items():
            page.goto(f"{base}{path.format(**ids)}?lang={lang}&basemap=none")
            wait_drawn(page, keys)
            page.wait_for_timeout(300)  # label placement after the last layer
            target = out / f"map-{name}.png"
            page.screenshot(path=str(target))
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    """Build the demo store, serve it and write the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--lang", choices=["zh", "en"], default="zh")
    args = parser.parse_args(argv)
    from rich.console import Console

    from service.demo import build_demo

    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.sqlite"
        with console.status("Building the demo store") as status:
            build_demo(url, step=lambda text: status.update(f"demo: {text}"))
        port = free_port()
        server = start_gridmap(url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            with console.status("Taking the screenshots in Chromium"):
                wait_until_up(f"{base}/maps")
                written = take(base, args.out, args.lang)
            for path in written:
                console.print(f"wrote {path}")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
