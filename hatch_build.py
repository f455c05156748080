"""Hatch build hook: put Leaflet (from npm, pinned in service/static/package-lock.json) into
the package, so a plain ``pip install`` serves working map pages.

Runs ``npm ci`` in ``service/static`` when its ``node_modules`` lacks the packages, then copies
the files the pages use into ``service/static/vendor`` (gitignored, so never committed) with
``service.assets.install`` and adds them to the wheel. Without npm the build still succeeds with
a warning; the map pages then say which step is missing.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _load_assets(root: Path) -> ModuleType:
    """Load service/assets.py by path (standard library only; gridmap's deps are not here)."""
    spec = importlib.util.spec_from_file_location("_gridmap_assets", root / "service/assets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class VendorAssetsHook(BuildHookInterface):  # type: ignore[type-arg]
    """Install the npm assets before a wheel (or an editable install) is built."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Make sure service/static/vendor is complete and ship it in the wheel."""
        if self.target_name != "wheel":
            return
        assets = _load_assets(Path(self.root))
        if not assets.is_installed():
            self._install(assets)
        if not assets.is_installed():
            return
        if version != "editable":  # an editable install serves the source folder itself
            build_data["force_include"][str(assets.VENDOR_DIR)] = "service/static/vendor"

    def _install(self, assets: ModuleType) -> None:
        static = assets.STATIC_DIR
        npm = shutil.which("npm")
        if not all((assets.NODE_MODULES / src).exists() for src in assets.VENDOR_FILES.values()):
            if npm is None:
                self._warn(f"npm not found, map pages lack Leaflet; fix: {assets.INSTALL_STEP}")
                return
            self.app.display_info("gridmap: npm ci (Leaflet for the map pages)")
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--silent", "--ignore-scripts"],
                cwd=static,
                check=False,
            )
            if done.returncode != 0:
                self._warn(f"`npm ci` failed ({done.returncode}); map pages will lack Leaflet")
                return
        for path in assets.install():
            self.app.display_info(f"gridmap: vendored {path.relative_to(static)}")

    def _warn(self, text: str) -> None:
        self.app.display_warning(f"gridmap: {text}")
        print(f"WARNING gridmap: {text}", file=sys.stderr)  # noqa: T201 (pip hides hatch output)
