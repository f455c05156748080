"""``gridmap partition``: split communities into grids and write GeoJSON + CSV."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gridmap.crs import STORAGE_CRS
from gridmap.errors import GridmapError, InputError
from gridmap.partition import GRID_COLUMNS, partition

__all__ = ["partition_command"]

_err = Console(stderr=True)


def _read(path: Path, layer: str) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"Cannot read {layer} file {path}: {exc}") from exc


def _rename(frame: gpd.GeoDataFrame, mapping: dict[str, str], layer: str) -> gpd.GeoDataFrame:
    for source, target in mapping.items():
        if source == target:
            continue
        if source not in frame.columns:
            raise InputError(
                f"{layer} has no column {source!r} (columns: {list(frame.columns)}); "
                "name the right one with the matching --*-field option."
            )
        frame = frame.drop(columns=[target], errors="ignore").rename(columns={source: target})
    return frame


def _same_crs(frame, ref: gpd.GeoDataFrame, layer: str):
    if frame is None:
        return None
    for f, name in ((frame, layer), (ref, "communities")):
        if f.crs is None:
            raise InputError(f"{name} file has no CRS; save it with one (for example EPSG:4490).")
    return frame.to_crs(ref.crs)


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
    if lang not in ("zh", "en"):
        _err.print(f"error: --lang must be zh or en, not {lang!r}.", highlight=False, markup=False)
        raise typer.Exit(code=2)
    try:
        comm = _rename(
            _read(communities, "communities"),
            {community_code_field: "community_code"},
            "communities",
        )
        comm["community_code"] = comm["community_code"].astype(str)
        bld = _rename(
            _read(buildings, "buildings"),
            {id_field: "building_id", households_field: "households"},
            "buildings",
        )
        st = _read(streets, "streets") if streets else None
        cmp = _read(compounds, "compounds") if compounds else None
        # Files may come in different CRSs: bring them to the communities' CRS.
        bld, st, cmp = (
            _same_crs(f, comm, name)
            for f, name in ((bld, "buildings"), (st, "streets"), (cmp, "compounds"))
        )
        n_jobs = jobs or os.cpu_count() or 1
        with Progress(
            TextColumn("partition"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=_err,
            transient=True,
        ) as bar:
            task = bar.add_task("communities", total=len(comm))
            result = partition(
                comm,
                bld,
                streets=st,
                compounds=cmp,
                min_households=min_households,
                max_households=max_households,
                seed=seed,
                n_jobs=min(n_jobs, len(comm)),
                progress=lambda _code: bar.advance(task),
            )
    except GridmapError as exc:
        _err.print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
        raise typer.Exit(code=2) from exc
    grids = result.grids[[*GRID_COLUMNS, "geometry"]].to_crs(STORAGE_CRS)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    grids.to_file(out, driver="GeoJSON", engine="pyogrio", layer_options={"RFC7946": "YES"})
    if assignments is not None:
        assignments.parent.mkdir(parents=True, exist_ok=True)
        result.assignments[["building_id", "grid_code"]].to_csv(assignments, index=False)
    n_bad = int((grids["status"] != "ok").sum())
    _err.print(f"{len(grids)} grids written to {out} ({n_bad} flagged).", highlight=False)
    for problem in result.problems:
        _err.print(f"- {problem.text(lang)}", highlight=False, markup=False)
