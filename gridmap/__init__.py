"""gridmap: community grid mapping (社区网格化服务管理).

A pure library: geopandas, shapely and pyproj in, GeoDataFrames out; no web server or database.

>>> import gridmap
>>> sorted(n for n in gridmap.__all__ if n.startswith("partition"))
['partition']

Note that ``gridmap.partition`` and ``gridmap.redistrict`` are the functions; their modules are
still importable by name (``from gridmap.partition import PartitionResult``).
"""

from __future__ import annotations

from gridmap.adjacency import cell_graph
from gridmap.attach import (
    AttachResult,
    attach_all,
    attach_buildings,
    attach_households,
    attach_persons,
    roll_up_counts,
)
from gridmap.cells import tessellate
from gridmap.compare import PlanDiff, compare_plans, plans_by_grid_count
from gridmap.constraints import contiguous, household_bounds
from gridmap.crs import projected_crs_for, to_storage_crs
from gridmap.errors import (
    CRSError,
    DuplicateIdError,
    GridmapError,
    InfeasiblePartitionError,
    InputError,
    InvalidGeometryError,
)
from gridmap.io import read_layer, write_layer
from gridmap.partition import PartitionResult, Problem, partition
from gridmap.privacy import deidentify, mask_id_number, mask_name, mask_phone
from gridmap.redistrict import RedistrictResult, redistrict
from gridmap.report import AttachReport, Issue
from gridmap.tiling import grid_tiling_issues
from gridmap.validate import gb11643_check_digit, valid_id_number, validate_layer

__version__ = "0.1.0"

__all__ = [
    "AttachReport",
    "AttachResult",
    "CRSError",
    "DuplicateIdError",
    "GridmapError",
    "InfeasiblePartitionError",
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
