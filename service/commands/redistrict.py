"""``gridmap redistrict``: repair a plan after the community changed, file in, file out.

Works without a database: the current plan (GeoJSON written by ``gridmap partition``), its
building → grid CSV and the current buildings go in; the repaired grids (same GeoJSON columns
as ``gridmap partition``, plus ``change``) and, optionally, the new assignment CSV come out.
The repair and the file handling are imported when the command runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from service.commands.options import (
    COMMUNITY_CODE_FIELD,
    COMPOUNDS,
    CRS_OPTION,
    ENCODING,
    HOUSEHOLDS_FIELD,
    ID_FIELD,
    JOBS,
    LANG,
    LAYER,
    MAPPING,
    MAX_HOUSEHOLDS,
    MIN_HOUSEHOLDS,
    OUT,
    PROBLEMS,
    SCHEDULER,
    SEED,
    STREETS,
    VERBOSE,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["redistrict_command"]


def _read_assignments(path: Path) -> pd.DataFrame:
    import pandas as pd

    from gridmap.errors import InputError

    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except Exception as exc:  # unreadable or not CSV
        raise InputError(f"Cannot read assignments file {path}: {exc}") from exc
    missing = [c for c in ("building_id", "grid_code") if c not in frame.columns]
    if missing:
        raise InputError(
            f"Assignments file {path} lacks column(s) {missing}; give the CSV written by "
            "`gridmap partition --assignments` (building_id, grid_code)."
        )
    return frame


def redistrict_command(
    plan: Path = typer.Option(..., "--plan", help="Current grids (GeoJSON from partition)."),
    assignments: Path = typer.Option(..., "--assignments", help="Current building→grid CSV."),
    buildings: Path = typer.Option(..., "--buildings", help="Buildings as they are now."),
    communities: Path | None = typer.Option(
        None, "--communities", help="Community boundaries (default: union of the grids)."
    ),
    streets: Path | None = STREETS,
    compounds: Path | None = COMPOUNDS,
    id_field: str | None = ID_FIELD,
    households_field: str | None = HOUSEHOLDS_FIELD,
    community_code_field: str | None = COMMUNITY_CODE_FIELD,
    mapping: Path | None = MAPPING,
    layer: list[str] = LAYER,
    crs: str | None = CRS_OPTION,
    encoding: str | None = ENCODING,
    min_households: int = MIN_HOUSEHOLDS,
    max_households: int = MAX_HOUSEHOLDS,
    seed: int = SEED,
    jobs: int = JOBS,
    scheduler: str | None = SCHEDULER,
    out: Path = OUT,
    assignments_out: Path | None = typer.Option(
        None, "--assignments-out", help="Output building→grid CSV."
    ),
    lang: str = LANG,
    problems_out: Path | None = PROBLEMS,
    verbose: bool = VERBOSE,
) -> None:
    """Repair grids that broke the household bounds, moving as few households as possible."""
    from gridmap.plans.partition import GRID_COLUMNS
    from gridmap.plans.redistrict import redistrict
    from service.commands.planfiles import (
        ReadOptions,
        check_lang,
        community_progress,
        exit_on_error,
        read_inputs,
        read_layer_file,
        report_plan,
    )

    check_lang(lang)
    read_options = ReadOptions.from_cli(mapping, layer, crs, encoding)
    with exit_on_error():
        grids = read_layer_file(plan, "grid", read_options)
        inputs = read_inputs(
            communities=communities,
            buildings=buildings,
            streets=streets,
            compounds=compounds,
            id_field=id_field,
            households_field=households_field,
            community_code_field=community_code_field,
            options=read_options,
        )
        current = _read_assignments(assignments)
        n_communities = grids["grid_code"].astype(str).str[:12].nunique()
        with community_progress("redistrict", n_communities) as step:
            result = redistrict(
                grids,
                inputs.buildings,
                assignments=current,
                communities=inputs.communities,
                streets=inputs.streets,
                compounds=inputs.compounds,
                min_households=min_households,
                max_households=max_households,
                seed=seed,
                n_jobs=jobs or os.cpu_count() or 1,
                progress=step,
                scheduler=scheduler,
            )
    detail = (
        f": {len(result.kept_grids)} kept, {len(result.changed_grids)} changed or new, "
        f"{len(result.retired_codes)} code(s) retired; {len(result.moved)} building(s) and "
        f"{result.households_moved} household(s) change grid"
    )
    report_plan(result.grids, [*GRID_COLUMNS, "change"], result.assignments, result.problems,
                out=out, assignments_out=assignments_out, lang=lang, verbose=verbose,
                problems_out=problems_out, detail=detail)  # fmt: skip
