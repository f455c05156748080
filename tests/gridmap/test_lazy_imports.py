"""What ``gridmap partition`` imports before its first community is planned: no networkx (only
:meth:`CellGraph.to_networkx` needs it) and no openpyxl (only an XLSX file needs it). Checked on
``sys.modules`` of a fresh interpreter; the functions that need them still import them."""

from __future__ import annotations

import subprocess
import sys

_CHILD = """
import sys
import gridmap.plans.partition, gridmap.io.layers, service.commands.planfiles
print([m for m in ("networkx", "openpyxl") if m in sys.modules])
"""


def test_partition_and_file_reading_load_neither_networkx_nor_openpyxl():
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_functions_that_need_them_still_import_them(tmp_path):
    import numpy as np
    import pandas as pd

    from gridmap.geometry.adjacency import CellGraph
    from gridmap.io.xlsx import sheet_names

    one = np.array([1.0])
    graph = CellGraph(n=2, edges=np.array([[0, 1]]), length=one, street_length=0 * one,
                      wall_length=0 * one, cost=one, weights=np.array([3, 4]))  # fmt: skip
    g = graph.to_networkx()
    assert g.number_of_edges() == 1 and g.nodes[1]["households"] == 4
    path = tmp_path / "t.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(path, sheet_name="楼栋", index=False)
    assert sheet_names(path) == ["楼栋"]
