"""Browser assets (Leaflet) served by the app itself, so map pages never depend on a CDN.

``service/static/package.json`` pins the npm packages; ``npm ci`` puts them in
``service/static/node_modules`` and :func:`install` copies the few files the pages use into
``service/static/vendor/`` (gitignored), which the app serves at ``/static/vendor``::

    (cd service/static && npm ci) && python -m service.assets --install
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

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
    "main",
]

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
NODE_MODULES = STATIC_DIR / "node_modules"
VENDOR_URL = "/static/vendor"
APP_ASSETS_URL = "/static/gridmap"
"""Where gridmap's own map script and stylesheet are served (``service/static/gridmap``)."""

# vendor path -> path under node_modules. Leaflet only: the pages use no jQuery, Bootstrap or
# awesome-markers, which folium would otherwise pull from CDNs.
VENDOR_FILES: dict[str, str] = {
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/images": "leaflet/dist/images",
}
_JS = (("leaflet", "leaflet/leaflet.js"),)
_CSS = (("leaflet_css", "leaflet/leaflet.css"),)
_INSTALL_HINT = "Run `(cd service/static && npm ci) && python -m service.assets --install`."


def vendor_js() -> list[tuple[str, str]]:
    """Return ``(name, url)`` pairs of the vendored scripts, in folium's ``default_js`` form."""
    return [(name, f"{VENDOR_URL}/{path}") for name, path in _JS]


def vendor_css() -> list[tuple[str, str]]:
    """Return ``(name, url)`` pairs of the vendored stylesheets (folium's ``default_css``)."""
    return [(name, f"{VENDOR_URL}/{path}") for name, path in _CSS]


def is_installed(vendor_dir: Path = VENDOR_DIR) -> bool:
    """Return whether every vendored file is present in ``vendor_dir``."""
    return all((vendor_dir / target).exists() for target in VENDOR_FILES)


def install(node_modules: Path = NODE_MODULES, vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Copy the used files from ``node_modules`` into ``vendor_dir``; return what was written.

    Raises
    ------
    FileNotFoundError
        If a package is missing from ``node_modules`` (``npm ci`` was not run).
    """
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
    if NODE_MODULES.exists():
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
