"""``gridmap redistrict``: repair a plan after the community changed, file in, file out.

Works without a database: the current plan (the grids ``gridmap partition`` wrote: GeoJSON,
GeoPackage, Shapefile or GeoParquet), its building → grid assignment (CSV, or the GeoPackage
table) and the current buildings go in; the repaired grids (same columns as ``gridmap
partition``, plus ``change``) and, optionally, the new assignment come out, in the formats their
names end in. The repair and the file handling are imported when the command runs, set aside
from the cyclic collector (:mod:`service.commands.startup`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from service.commands import options as opt
from service.commands.startup import modules_set_aside

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["redistrict_command"]


def _read_assignments(path: Path) -> pd.DataFrame:
    """The building → grid assignment: a CSV, or the table of a GeoPackage named as
    :data:`~service.commands.planfiles.PLAN_TABLES` says (in either language)."""
    import pandas as pd

    from gridmap.errors import GridmapError
    from gridmap.io.readerrors import read_error
    from gridmap.planerrors import plan_error
    from service.commands.planfiles import repeated_ids

    if not path.is_file():
        raise read_error("file_not_found", path=str(path))
    try:
        if path.suffix.lower() == ".gpkg":
            frame = _assignments_table(path)
        else:
            frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except GridmapError:  # no assignment table: said as such
        raise
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


def _assignments_table(path: Path) -> pd.DataFrame:
    """The assignment table of the GeoPackage ``path`` (text columns)."""
    import pyogrio

    from gridmap.io.readerrors import read_error
    from service.commands.planfiles import PLAN_TABLES

    layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    found = next((name for name in layers if name in PLAN_TABLES["assignments"]), None)
    if found is None:
        raise read_error("no_assignments_table", file=str(path), layers=layers)
    frame = pyogrio.read_dataframe(path, layer=found, read_geometry=False)
    return frame.astype({c: str for c in frame.columns if c in ("building_id", "grid_code")})


@opt.option_groups
def redistrict_command(
    plan: Path = typer.Option(
        ..., "--plan", help="Current grids (the --out of partition: .geojson, .gpkg, .shp …)."
    ),
    assignments: Path = typer.Option(
        ..., "--assignments", help="Current building→grid CSV (or the GeoPackage holding it)."
    ),
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
    with modules_set_aside("gridmap.plans.redistrict", "service.commands.planfiles"):
        from gridmap.plans.partition import GRID_COLUMNS
        from gridmap.plans.redistrict import redistrict
        from service.commands.planfiles import community_progress, exit_on_error, redistrict_detail

        report.check(out, assignments_out)
        with exit_on_error():
            current = _read_assignments(assignments)  # a small table: refused before the layers
            inputs = layers.read(communities=communities, buildings=buildings, plan=plan,
                                 options=layers.read_options())  # fmt: skip
            grids = inputs.grids
            assert grids is not None  # --plan is required
            n_communities = grids["grid_code"].astype(str).str[:12].nunique()
            with community_progress("redistrict", n_communities) as step:
                result = redistrict(grids, inputs.buildings, assignments=current,
                                    communities=inputs.communities, streets=inputs.streets,
                                    compounds=inputs.compounds, progress=step, **bounds.kwargs(),
                                    n_jobs=run.processes(), scheduler=run.scheduler)  # fmt: skip
        report.plan(result, [*GRID_COLUMNS, "change"], out=out, assignments_out=assignments_out,
                    detail=redistrict_detail(result))  # fmt: skip
