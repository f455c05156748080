"""``gridmap partition``: split communities into grids and write GeoJSON + CSV.

The partition and the file handling are imported when the command runs (``gridmap --help`` loads
no data library).
"""

from __future__ import annotations

import os
from pathlib import Path

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

__all__ = ["partition_command"]


def partition_command(
    communities: Path = typer.Option(..., "--communities", help="Community boundaries."),
    buildings: Path = typer.Option(..., "--buildings", help="Buildings (footprints or points)."),
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
    out: Path = OUT,
    assignments: Path | None = typer.Option(
        None, "--assignments", help="Output building→grid CSV."
    ),
    jobs: int = JOBS,
    scheduler: str | None = SCHEDULER,
    lang: str = LANG,
    problems_out: Path | None = PROBLEMS,
    verbose: bool = VERBOSE,
) -> None:
    """Partition communities into grids of min–max households."""
    from gridmap.plans.partition import GRID_COLUMNS, partition
    from service.commands.planfiles import (
        ReadOptions,
        check_lang,
        community_progress,
        exit_on_error,
        read_inputs,
        report_plan,
    )

    check_lang(lang)
    read_options = ReadOptions.from_cli(mapping, layer, crs, encoding)
    with exit_on_error():
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
        comm = inputs.communities
        assert comm is not None  # --communities is required
        n_jobs = jobs or os.cpu_count() or 1
        with community_progress("partition", len(comm)) as step:
            result = partition(
                comm,
                inputs.buildings,
                streets=inputs.streets,
                compounds=inputs.compounds,
                min_households=min_households,
                max_households=max_households,
                seed=seed,
                n_jobs=min(n_jobs, len(comm)),
                progress=step,
                scheduler=scheduler,
            )
    report_plan(result.grids, GRID_COLUMNS, result.assignments, result.problems, out=out,
                assignments_out=assignments, lang=lang, verbose=verbose,
                problems_out=problems_out)  # fmt: skip
