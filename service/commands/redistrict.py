"""``gridmap redistrict``: repair a plan after the community changed, file in, file out.

Works without a database: the current plan (GeoJSON written by ``gridmap partition``), its
building → grid CSV and the current buildings go in; the repaired grids (same GeoJSON columns
as ``gridmap partition``, plus ``change``) and, optionally, the new assignment CSV come out.
The repair and the file handling are imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from service.commands import options as opt

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["redistrict_command"]


def _read_assignments(path: Path) -> pd.DataFrame:
    import pandas as pd

    from gridmap.io.readerrors import read_error
    from gridmap.planerrors import plan_error
    from service.commands.planfiles import repeated_ids

    if not path.is_file():
        raise read_error("file_not_found", path=str(path))
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except Exception as exc:  # unreadable or not CSV
        raise plan_error("assignments_unreadable", file=str(path), detail=str(exc)) from exc
    missing = [c for c in ("building_id", "grid_code") if c not in frame.columns]
    if missing:
        raise plan_error("assignments_lack_columns", file=str(path), missing=missing)
    # a building in two rows (two grids): say which, not a pandas traceback
    rows = pd.Series(frame.index.to_numpy() + 1, index=frame.index)  # data rows
    repeated = repeated_ids(frame["building_id"], rows, file=str(path), entity="building",
                            column="building_id")  # fmt: skip
    if repeated is not None:
        raise repeated
    return frame


@opt.option_groups
def redistrict_command(
    plan: Path = typer.Option(..., "--plan", help="Current grids (GeoJSON from partition)."),
    assignments: Path = typer.Option(..., "--assignments", help="Current building→grid CSV."),
    buildings: Path = typer.Option(..., "--buildings", help="Buildings as they are now."),
    communities: Path | None = typer.Option(
        None, "--communities", help="Community boundaries (default: union of the grids)."
    ),
    layers: opt.LayerOptions = opt.GROUP,
    bounds: opt.BoundOptions = opt.GROUP,
    run: opt.RunOptions = opt.GROUP,
    out: Path = opt.OUT,
    assignments_out: Path | None = opt.REPAIRED_ASSIGNMENTS_OUT,
    report: opt.ReportOptions = opt.GROUP,
) -> None:
    """Repair grids that broke the household bounds, moving as few households as possible."""
    from gridmap.plans.partition import GRID_COLUMNS
    from gridmap.plans.redistrict import redistrict
    from service.commands.planfiles import (
        community_progress,
        exit_on_error,
        read_layer_file,
        redistrict_detail,
    )

    report.check(out, assignments_out)
    with exit_on_error():
        read_options = layers.read_options()
        grids = read_layer_file(plan, "grid", read_options)
        inputs = layers.read(communities=communities, buildings=buildings, options=read_options)
        current = _read_assignments(assignments)
        n_communities = grids["grid_code"].astype(str).str[:12].nunique()
        with community_progress("redistrict", n_communities) as step:
            result = redistrict(grids, inputs.buildings, assignments=current,
                                communities=inputs.communities, streets=inputs.streets,
                                compounds=inputs.compounds, progress=step, **bounds.kwargs(),
                                n_jobs=run.processes(), scheduler=run.scheduler)  # fmt: skip
    report.plan(result, [*GRID_COLUMNS, "change"], out=out, assignments_out=assignments_out,
                detail=redistrict_detail(result))  # fmt: skip
