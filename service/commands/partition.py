"""``gridmap partition``: split communities into grids and write them (GeoJSON, GeoPackage,
Shapefile or GeoParquet) with the building → grid assignment.

The partition and the file handling are imported when the command runs (``gridmap --help`` loads
no data library), set aside from the cyclic collector (:mod:`service.commands.startup`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from service.commands import options as opt
from service.commands.startup import modules_set_aside

__all__ = ["partition_command"]


@opt.option_groups
def partition_command(
    communities: Path = typer.Option(..., "--communities", help="Community boundaries."),
    buildings: Path = typer.Option(..., "--buildings", help="Buildings (footprints or points)."),
    layers: opt.LayerOptions = opt.GROUP,
    bounds: opt.BoundOptions = opt.GROUP,
    out: Path = opt.OUT,
    assignments: Path | None = opt.ASSIGNMENTS_OUT,
    run: opt.RunOptions = opt.GROUP,
    report: opt.ReportOptions = opt.GROUP,
) -> None:
    """Partition communities into grids of min–max households."""
    with modules_set_aside("gridmap.plans.partition", "service.commands.planfiles"):
        from gridmap.plans.partition import GRID_COLUMNS, partition
        from service.commands.planfiles import community_progress, exit_on_error

        report.check(out, assignments)
        with exit_on_error():
            read_options = layers.read_options()
            inputs = layers.read(communities=communities, buildings=buildings, options=read_options)
            comm = inputs.communities
            assert comm is not None  # --communities is required
            with community_progress("partition", len(comm)) as step:
                n_jobs = run.processes(len(comm))
                result = partition(comm, inputs.buildings, streets=inputs.streets,
                                   compounds=inputs.compounds, progress=step, **bounds.kwargs(),
                                   n_jobs=n_jobs, scheduler=run.scheduler)  # fmt: skip
        report.plan(result, GRID_COLUMNS, out=out, assignments_out=assignments)
