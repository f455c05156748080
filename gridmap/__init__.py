"""gridmap: community grid mapping (社区网格化服务管理).

A pure library: geopandas, shapely and pyproj in, GeoDataFrames out; no web server or database.

>>> import gridmap
>>> sorted(n for n in gridmap.__all__ if n.startswith("partition"))
['partition']

The package is laid out by workflow; this module keeps the public API flat:

* core modules: ``errors``, ``crs``, ``schema``, ``constraints``, ``problems``, ``privacy``,
  ``coords``, ``streets``, ``idnumbers``, ``spreadsheet``;
* :mod:`gridmap.io`: reading and writing layers (formats, encodings, headers, layer names);
* :mod:`gridmap.attach`: person → household → building → grid, validation, geometry repair,
  cross-checks, grid coverage, roll-ups and the attach report;
* :mod:`gridmap.geometry`: cells, adjacency, street blocks, units, metrics, numbering, snapping;
* :mod:`gridmap.solve`: the bisection/local search and the fewest-moves program;
* :mod:`gridmap.plans`: community jobs, planner, partition, redistrict and plan comparison.

``gridmap.partition`` and ``gridmap.redistrict`` are functions; their modules are
``gridmap.plans.partition`` and ``gridmap.plans.redistrict``.
"""

from __future__ import annotations

from gridmap.attach.chain import (
    AttachResult,
    attach_all,
    attach_buildings,
    attach_households,
    attach_persons,
    roll_up_counts,
)
from gridmap.attach.coverage import grid_tiling_issues
from gridmap.attach.report import AttachReport, Issue
from gridmap.attach.validate import gb11643_check_digit, valid_id_number, validate_layer
from gridmap.constraints import contiguous, household_bounds
from gridmap.crs import projected_crs_for, to_storage_crs
from gridmap.errors import (
    CRSError,
    DuplicateIdError,
    GridmapError,
    InputError,
    InvalidGeometryError,
)
from gridmap.geometry.adjacency import cell_graph
from gridmap.geometry.cells import tessellate
from gridmap.io.layers import read_layer, write_layer
from gridmap.plans.compare import PlanDiff, compare_plans, plans_by_grid_count
from gridmap.plans.partition import PartitionResult, Problem, partition
from gridmap.plans.redistrict import RedistrictResult, redistrict
from gridmap.privacy import deidentify, mask_id_number, mask_name, mask_phone

__version__ = "0.1.0"

__all__ = [
    "AttachReport",
    "AttachResult",
    "CRSError",
    "DuplicateIdError",
    "GridmapError",
    "InputError",
    "InvalidGeometryError",
    "Issue",
    "PartitionResult",
    "PlanDiff",
    "Problem",
    "RedistrictResult",
    "__version__",
    "attach_all",
    "attach_buildings",
    "attach_households",
    "attach_persons",
    "cell_graph",
    "compare_plans",
    "contiguous",
    "deidentify",
    "gb11643_check_digit",
    "grid_tiling_issues",
    "household_bounds",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "partition",
    "plans_by_grid_count",
    "projected_crs_for",
    "read_layer",
    "redistrict",
    "roll_up_counts",
    "tessellate",
    "to_storage_crs",
    "valid_id_number",
    "validate_layer",
    "write_layer",
]
