"""GDAL's OAPIF driver (ogrinfo from Debian's gdal-bin) reads the collections from a live server."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from .conftest import A, B

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin not installed")


def _ogrinfo(*args: str) -> str:
    done = subprocess.run(["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=120,
                          check=True)  # fmt: skip
    return done.stdout


def test_ogrinfo_lists_collections(live_server):
    out = _ogrinfo(f"OAPIF:{live_server}/")
    assert re.search(r"communities .*Polygon", out)
    assert re.search(r"grids .*Polygon", out)
    assert "buildings" in out


def test_ogrinfo_reads_every_grid_through_paging(live_server):
    out = _ogrinfo("-al", "-oo", "PAGE_SIZE=2", f"OAPIF:{live_server}/", "grids")
    codes = re.findall(r"grid_code \(String\) = (\d{15})", out)
    assert codes == [f"{A}001", f"{A}002", f"{A}003", f"{B}001", f"{B}002"]
    assert "households (Integer) = 520" in out
    assert "Feature Count: 5" in _ogrinfo("-so", f"OAPIF:{live_server}/", "grids")


def test_ogrinfo_spatial_filter_uses_bbox(live_server):
    out = _ogrinfo("-al", "-spat", "109.196", "27.721", "109.199", "27.729",
                   f"OAPIF:{live_server}/", "grids")  # fmt: skip
    assert re.findall(r"grid_code \(String\) = (\d{15})", out) == [f"{B}002"]
