"""``gridmap redistrict``: repair a plan after the community changed, file in, file out.

Works without a database: the current plan (GeoJSON written by ``gridmap partition``), its
building → grid CSV and the current buildings go in; the repaired grids (same GeoJSON columns
as ``gridmap partition``, plus ``change``) and, optionally, the new assignment CSV come out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.console import Console

from gridmap.crs import STORAGE_CRS
from gridmap.errors import GridmapError, InputError
from gridmap.partition import GRID_COLUMNS
from gridmap.redistrict import redistrict
from service.commands.partition import _read, _rename, _same_crs

__all__ = ["redistrict_command"]

_err = Console(stderr=True)


def _read_assignments(path: Path) -> pd.DataFrame:
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
    streets: Path | None = typer.Option(None, "--streets", help="Street centrelines."),
    compounds: Path | None = typer.Option(None, "--compounds", help="Compounds (小区)."),
    id_field: str = typer.Option("id", "--id-field", help="Building id column."),
    households_field: str = typer.Option("households", "--households-field"),
    community_code_field: str = typer.Option("code", "--community-code-field"),
    min_households: int = typer.Option(300, "--min-households"),
    max_households: int = typer.Option(500, "--max-households"),
    seed: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(..., "--out", help="Output grids GeoJSON (RFC 7946)."),
    assignments_out: Path | None = typer.Option(
        None, "--assignments-out", help="Output building→grid CSV."
    ),
) -> None:
    """Repair grids that broke the household bounds, moving as few households as possible."""
    try:
        grids = _read(plan, "plan")
        bld = _rename(
            _read(buildings, "buildings"),
            {id_field: "building_id", households_field: "households"},
            "buildings",
        )
        comm = None
        if communities is not None:
            comm = _rename(
                _read(communities, "communities"),
                {community_code_field: "community_code"},
                "communities",
            )
            comm["community_code"] = comm["community_code"].astype(str)
        ref = comm if comm is not None else bld
        st = _read(streets, "streets") if streets else None
        cmp = _read(compounds, "compounds") if compounds else None
        # Files may come in different CRSs: bring them to one (the communities', else the
        # buildings').
        bld, st, cmp = (
            _same_crs(f, ref, name)
            for f, name in ((bld, "buildings"), (st, "streets"), (cmp, "compounds"))
        )
        result = redistrict(
            grids,
            bld,
            assignments=_read_assignments(assignments),
            communities=comm,
            streets=st,
            compounds=cmp,
            min_households=min_households,
            max_households=max_households,
            seed=seed,
        )
    except GridmapError as exc:
        _err.print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
        raise typer.Exit(code=2) from exc
    out_grids = result.grids[[*GRID_COLUMNS, "change", "geometry"]].to_crs(STORAGE_CRS)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    out_grids.to_file(out, driver="GeoJSON", engine="pyogrio", layer_options={"RFC7946": "YES"})
    if assignments_out is not None:
        assignments_out.parent.mkdir(parents=True, exist_ok=True)
        result.assignments[["building_id", "grid_code"]].to_csv(assignments_out, index=False)
    n_bad = int((out_grids["status"] != "ok").sum())
    _err.print(
        f"{len(out_grids)} grids written to {out} ({n_bad} flagged): "
        f"{len(result.kept_grids)} kept, {len(result.changed_grids)} changed or new, "
        f"{len(result.retired_codes)} code(s) retired; {len(result.moved)} building(s) and "
        f"{result.households_moved} household(s) change grid.",
        highlight=False,
    )
    for problem in result.problems:
        _err.print(f"- {problem.message}", highlight=False, markup=False)
