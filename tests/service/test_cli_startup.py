"""The command line starts without the data libraries: ``gridmap --help`` and the help of every
command import no geopandas, SciPy, shapely, pandas or SQLAlchemy (commands import them when they
run). Checked on ``sys.modules`` of a fresh interpreter, not by timing."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("geopandas", "scipy", "shapely", "pandas", "sqlalchemy", "pyogrio", "folium")
HELP = [[], ["import"], ["partition"], ["redistrict"], ["plan"], ["plan", "partition"],
        ["plan", "redistrict"], ["plan", "list"], ["plan", "export"], ["user"], ["user", "add"],
        ["user", "list"], ["user", "rotate-key"], ["serve"], ["orders"]]  # fmt: skip

_CHILD = """
import json, sys
from service.cli import app
codes = []
for args in json.loads(sys.argv[1]):
    try:
        app(args + ["--help"], prog_name="gridmap")
    except SystemExit as exit_:
        codes.append(exit_.code)
heavy = [m for m in json.loads(sys.argv[2]) if m in sys.modules]
print(json.dumps({"codes": codes, "heavy": heavy}))
"""


def test_help_of_every_command_loads_no_data_library():
    out = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(HELP), json.dumps(HEAVY)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["codes"] == [0] * len(HELP)
    assert seen["heavy"] == []


def test_the_child_would_see_a_heavy_import():
    code = "import sys, service.storage.models; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
