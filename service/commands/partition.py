"""``gridmap partition``: split communities into grids and write GeoJSON + CSV.

The partition and the file handling are imported when the command runs (``gridmap --help`` loads
no data library).
"""

from __future__ import annotations

import atexit
import gc
from pathlib import Path

import typer

from service.commands import options as opt

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
    # The modules loaded here stay to the end: without the cyclic collector going through
    # their objects while they load (three full passes), nor again each time the layers read
    # make it run (0.15-0.25 s CPU before the workers start on the district).
    enabled = gc.isenabled()
    gc.disable()
    try:
        from gridmap.plans.partition import GRID_COLUMNS, partition
        from service.commands.planfiles import community_progress, exit_on_error
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    # Nor does it go through them all once more when the process ends (0.15-0.2 s CPU after
    # the files are written): they are set aside again then.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    try:
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
    finally:
        gc.unfreeze()
