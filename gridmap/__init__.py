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

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from gridmap.attach.validate import validate_layer
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
    from gridmap.idnumbers import gb11643_check_digit, valid_id_number
    from gridmap.io.layers import read_layer, write_layer
    from gridmap.plans.compare import PlanDiff, compare_plans, plans_by_grid_count
    from gridmap.plans.partition import PartitionResult, Problem, partition
    from gridmap.plans.redistrict import RedistrictResult, redistrict
    from gridmap.privacy import deidentify, mask_id_number, mask_name, mask_phone

_PUBLIC = {
    "AttachResult": "gridmap.attach.chain",
    "attach_all": "gridmap.attach.chain",
    "attach_buildings": "gridmap.attach.chain",
    "attach_households": "gridmap.attach.chain",
    "attach_persons": "gridmap.attach.chain",
    "roll_up_counts": "gridmap.attach.chain",
    "grid_tiling_issues": "gridmap.attach.coverage",
    "AttachReport": "gridmap.attach.report",
    "Issue": "gridmap.attach.report",
    "gb11643_check_digit": "gridmap.idnumbers",
    "valid_id_number": "gridmap.idnumbers",
    "validate_layer": "gridmap.attach.validate",
    "contiguous": "gridmap.constraints",
    "household_bounds": "gridmap.constraints",
    "projected_crs_for": "gridmap.crs",
    "to_storage_crs": "gridmap.crs",
    "CRSError": "gridmap.errors",
    "DuplicateIdError": "gridmap.errors",
    "GridmapError": "gridmap.errors",
    "InputError": "gridmap.errors",
    "InvalidGeometryError": "gridmap.errors",
    "cell_graph": "gridmap.geometry.adjacency",
    "tessellate": "gridmap.geometry.cells",
    "read_layer": "gridmap.io.layers",
    "write_layer": "gridmap.io.layers",
    "PlanDiff": "gridmap.plans.compare",
    "compare_plans": "gridmap.plans.compare",
    "plans_by_grid_count": "gridmap.plans.compare",
    "PartitionResult": "gridmap.plans.partition",
    "Problem": "gridmap.plans.partition",
    "partition": "gridmap.plans.partition",
    "RedistrictResult": "gridmap.plans.redistrict",
    "redistrict": "gridmap.plans.redistrict",
    "deidentify": "gridmap.privacy",
    "mask_id_number": "gridmap.privacy",
    "mask_name": "gridmap.privacy",
    "mask_phone": "gridmap.privacy",
}
"""Public name → module defining it; loaded on first use (``import gridmap.errors`` stays light)."""


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'gridmap' has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


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
