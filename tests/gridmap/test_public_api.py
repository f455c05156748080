"""The flat public API of ``gridmap``: every listed name resolves, and loading is lazy."""

from __future__ import annotations

import subprocess
import sys

import gridmap


def test_every_public_name_resolves_to_its_module_object():
    assert set(gridmap._PUBLIC) == set(gridmap.__all__) - {"__version__"}
    for name, module in gridmap._PUBLIC.items():
        value = getattr(gridmap, name)
        assert value is getattr(sys.modules[module], name), name
    assert set(gridmap.__all__) <= set(dir(gridmap))


def test_the_core_errors_load_without_geopandas():
    code = "import sys, gridmap.errors; print(sorted({'geopandas', 'scipy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
