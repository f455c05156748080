"""Browser assets (Leaflet) served by the app itself, so map pages never depend on a CDN.

``service/static/package.json`` pins the npm packages; ``npm ci`` puts them in
``service/static/node_modules`` and :func:`install` copies the few files the pages use into
``service/static/vendor/`` (gitignored), which the app serves at ``/static/vendor``::

    (cd service/static && npm ci) && python -m service.assets --install

Building the package (``pip install .``, ``pip wheel .``, ``python -m build``) does the same
through the hatch build hook ``hatch_build.py``, which puts the files into the wheel. When they
are missing anyway, ``/static/vendor/…`` answers 404 (:func:`optional_static_files`) and the map
pages say which step is missing (:func:`missing_message`).

This module uses the standard library only (the build hook loads it without gridmap's
dependencies), except :func:`optional_static_files`, which imports Starlette when first used.
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path
from typing import Any

__all__ = [
    "STATIC_DIR",
    "VENDOR_DIR",
    "VENDOR_URL",
    "APP_ASSETS_URL",
    "VENDOR_FILES",
    "vendor_js",
    "vendor_css",
    "is_installed",
    "install",
    "ensure_installed",
    "missing_message",
    "optional_static_files",
    "main",
]

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
NODE_MODULES = STATIC_DIR / "node_modules"
VENDOR_URL = "/static/vendor"
APP_ASSETS_URL = "/static/gridmap"
"""Where gridmap's own map script and stylesheet are served (``service/static/gridmap``)."""

# vendor path -> path under node_modules. Leaflet and one plugin: the pages use no jQuery,
# Bootstrap or awesome-markers, which folium would otherwise pull from CDNs.
VENDOR_FILES: dict[str, str] = {
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/images": "leaflet/dist/images",
    # Leaflet.VectorGrid: draws the app's vector tiles (OGC API – Tiles, MVT) on the maps of
    # large districts; the bundle includes its protobuf decoder (pbf, vector-tile).
    "leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js": (
        "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"
    ),
    # Swagger UI of /docs (service.api.swagger), served here rather than from a CDN.
    "swagger-ui/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui/favicon-32x32.png": "swagger-ui-dist/favicon-32x32.png",
}
_JS = (
    ("leaflet", "leaflet/leaflet.js"),
    ("vectorgrid", "leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
)
_CSS = (("leaflet_css", "leaflet/leaflet.css"),)
INSTALL_STEP = "(cd service/static && npm ci) && python -m service.assets --install"
"""The command that puts Leaflet where the app serves it (from a source checkout)."""
_INSTALL_HINT = f"Run `{INSTALL_STEP}`."


def vendor_js() -> list[tuple[str, str]]:
    """Return ``(name, url)`` pairs of the vendored scripts, in folium's ``default_js`` form."""
    return [(name, f"{VENDOR_URL}/{path}") for name, path in _JS]


def vendor_css() -> list[tuple[str, str]]:
    """Return ``(name, url)`` pairs of the vendored stylesheets (folium's ``default_css``)."""
    return [(name, f"{VENDOR_URL}/{path}") for name, path in _CSS]


def is_installed(vendor_dir: Path | None = None) -> bool:
    """Return whether every vendored file is present in ``vendor_dir`` (default: the app's)."""
    vendor_dir = VENDOR_DIR if vendor_dir is None else vendor_dir
    return all((vendor_dir / target).exists() for target in VENDOR_FILES)


def missing_message(lang: str = "zh") -> str | None:
    """Return what to do when the vendored scripts are missing (``None`` when installed)."""
    if is_installed():
        return None
    if lang == "en":
        return (
            "The map cannot be drawn: the Leaflet script is not installed in this copy of "
            f"gridmap. From the source folder run `{INSTALL_STEP}`, or reinstall the package "
            "with npm available (`pip install .` runs it)."
        )
    return (
        "地图无法显示：此 gridmap 安装中缺少 Leaflet 地图脚本。请在源代码目录运行 "
        f"`{INSTALL_STEP}`，或在装有 npm 的机器上重新安装本软件包（`pip install .` 会自动完成）。"
    )


def optional_static_files(directory: Path) -> Any:
    """Return a Starlette static-files app for ``directory`` that answers 404 while it is absent.

    Starlette's own ``StaticFiles(check_dir=False)`` raises (HTTP 500) on the first request to a
    missing directory; this one serves the directory as soon as it exists.
    """
    from starlette.staticfiles import StaticFiles

    class OptionalStaticFiles(StaticFiles):
        async def check_config(self) -> None:
            if Path(str(self.directory)).is_dir():
                await super().check_config()

    return OptionalStaticFiles(directory=directory, check_dir=False)


def install(node_modules: Path | None = None, vendor_dir: Path | None = None) -> list[Path]:
    """Copy the used files from ``node_modules`` into ``vendor_dir``; return what was written.

    Raises
    ------
    FileNotFoundError
        If a package is missing from ``node_modules`` (``npm ci`` was not run).
    """
    node_modules = NODE_MODULES if node_modules is None else node_modules
    vendor_dir = VENDOR_DIR if vendor_dir is None else vendor_dir
    written = []
    for target, source in VENDOR_FILES.items():
        src, dst = node_modules / source, vendor_dir / target
        if not src.exists():
            raise FileNotFoundError(f"{src} is missing. {_INSTALL_HINT}")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, dst)
        written.append(dst)
    return written


def ensure_installed() -> bool:
    """Install the vendored files from ``node_modules`` if needed; warn if impossible."""
    if is_installed():
        return True
    if NODE_MODULES.is_dir():
        try:
            install()
            return True
        except FileNotFoundError as exc:
            logger.warning("Map pages will lack Leaflet: %s", exc)
            return False
    logger.warning("Map pages will lack Leaflet: %s is empty. %s", VENDOR_DIR, _INSTALL_HINT)
    return False


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m service.assets --install``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true", help="copy assets into vendor/")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.install:
        for path in install():
            logger.info("installed %s", path.relative_to(STATIC_DIR))
    else:
        logger.info("vendor assets %s", "present" if is_installed() else "missing")


if __name__ == "__main__":
    main()
