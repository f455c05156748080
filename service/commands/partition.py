"""``gridmap partition``: split communities into grids and write GeoJSON + CSV."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gridmap.errors import GridmapError
from gridmap.partition import GRID_COLUMNS, partition
from service.commands.planfiles import check_lang, console, print_problems, read_inputs, write_plan

__all__ = ["partition_command"]


def partition_command(
    communities: Path = typer.Option(..., "--communities", help="Community boundaries."),
    buildings: Path = typer.Option(..., "--buildings", help="Buildings (footprints or points)."),
    streets: Path | None = typer.Option(None, "--streets", help="Street centrelines."),
    compounds: Path | None = typer.Option(None, "--compounds", help="Compounds (小区)."),
    id_field: str = typer.Option("id", "--id-field", help="Building id column."),
    households_field: str = typer.Option("households", "--households-field"),
    community_code_field: str = typer.Option("code", "--community-code-field"),
    min_households: int = typer.Option(300, "--min-households"),
    max_households: int = typer.Option(500, "--max-households"),
    seed: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(..., "--out", help="Output grids GeoJSON (RFC 7946)."),
    assignments: Path | None = typer.Option(
        None, "--assignments", help="Output building→grid CSV."
    ),
    jobs: int = typer.Option(0, "--jobs", help="Processes (0 = one per core)."),
    lang: str = typer.Option(
        "zh", "--lang", help="Language of the problems printed: zh (中文) or en."
    ),
) -> None:
    """Partition communities into grids of min–max households."""
    check_lang(lang)
    try:
        inputs = read_inputs(
            communities=communities,
            buildings=buildings,
            streets=streets,
            compounds=compounds,
            id_field=id_field,
            households_field=households_field,
            community_code_field=community_code_field,
        )
        comm = inputs.communities
        n_jobs = jobs or os.cpu_count() or 1
        with Progress(
            TextColumn("partition"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("communities", total=len(comm))
            result = partition(
                comm,
                inputs.buildings,
                streets=inputs.streets,
                compounds=inputs.compounds,
                min_households=min_households,
                max_households=max_households,
                seed=seed,
                n_jobs=min(n_jobs, len(comm)),
                progress=lambda _code: bar.advance(task),
            )
    except GridmapError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
        raise typer.Exit(code=2) from exc
    grids = write_plan(result.grids, GRID_COLUMNS, result.assignments, out=out,
                       assignments_out=assignments)  # fmt: skip
    n_bad = int((grids["status"] != "ok").sum())
    console.print(f"{len(grids)} grids written to {out} ({n_bad} flagged).", highlight=False)
    print_problems(result.problems, lang)
