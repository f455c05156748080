"""Files in and out of the file-based plan commands (``gridmap partition``, ``gridmap redistrict``).

Layers are read with pyogrio in any CRS and brought to one CRS; the grids go out as RFC 7946
GeoJSON (lon/lat) and the assignment as ``building_id,grid_code`` CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import typer
from rich.console import Console

from gridmap.crs import STORAGE_CRS
from gridmap.errors import InputError
from gridmap.problems import Problem
from gridmap.spreadsheet import safe_frame

__all__ = ["PlanInputs", "LANGS", "console", "check_lang", "read_inputs", "read_layer_file",
           "write_plan", "print_problems"]  # fmt: skip

console = Console(stderr=True)
LANGS = ("zh", "en")

# Options the plan commands share (the scripts' contract: same names, same defaults).
STREETS = typer.Option(None, "--streets", help="Street centrelines.")
COMPOUNDS = typer.Option(None, "--compounds", help="Compounds (小区).")
ID_FIELD = typer.Option("id", "--id-field", help="Building id column.")
HOUSEHOLDS_FIELD = typer.Option("households", "--households-field")
COMMUNITY_CODE_FIELD = typer.Option("code", "--community-code-field")
MIN_HOUSEHOLDS = typer.Option(300, "--min-households")
MAX_HOUSEHOLDS = typer.Option(500, "--max-households")
SEED = typer.Option(0, "--seed")
OUT = typer.Option(..., "--out", help="Output grids GeoJSON (RFC 7946).")
LANG = typer.Option("zh", "--lang", help="Language of the problems printed: zh (中文) or en.")


@dataclass
class PlanInputs:
    """The layers of a plan run, with canonical column names, in one CRS."""

    communities: gpd.GeoDataFrame | None
    buildings: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame | None
    compounds: gpd.GeoDataFrame | None


def check_lang(lang: str) -> None:
    """Exit with status 2 unless ``lang`` is one of :data:`LANGS`."""
    if lang not in LANGS:
        message = f"error: --lang must be zh or en, not {lang!r}."
        console.print(message, highlight=False, markup=False)
        raise typer.Exit(code=2)


def read_layer_file(path: Path, layer: str) -> gpd.GeoDataFrame:
    """Read a vector file (any format pyogrio reads); ``layer`` names it in errors."""
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


def _to_crs_of(frame: gpd.GeoDataFrame | None, ref: gpd.GeoDataFrame, layer: str, ref_name: str):
    if frame is None:
        return None
    for f, name in ((frame, layer), (ref, ref_name)):
        if f.crs is None:
            raise InputError(f"{name} file has no CRS; save it with one (for example EPSG:4490).")
    return frame.to_crs(ref.crs)


def read_inputs(
    *,
    communities: Path | None,
    buildings: Path,
    streets: Path | None,
    compounds: Path | None,
    id_field: str,
    households_field: str,
    community_code_field: str,
) -> PlanInputs:
    """Read the layers, map the named fields onto canonical columns, bring all to one CRS.

    The CRS is the communities' (or, without communities, the buildings').
    """
    comm = None
    if communities is not None:
        comm = _rename(read_layer_file(communities, "communities"),
                       {community_code_field: "community_code"}, "communities")  # fmt: skip
        comm["community_code"] = comm["community_code"].astype(str)
    columns = {id_field: "building_id", households_field: "households"}
    bld = _rename(read_layer_file(buildings, "buildings"), columns, "buildings")
    ref, ref_name = (comm, "communities") if comm is not None else (bld, "buildings")
    st = read_layer_file(streets, "streets") if streets else None
    cmp = read_layer_file(compounds, "compounds") if compounds else None
    return PlanInputs(
        communities=comm,
        buildings=_to_crs_of(bld, ref, "buildings", ref_name),
        streets=_to_crs_of(st, ref, "streets", ref_name),
        compounds=_to_crs_of(cmp, ref, "compounds", ref_name),
    )


def write_plan(
    grids: gpd.GeoDataFrame,
    columns: Sequence[str],
    assignments: pd.DataFrame,
    *,
    out: Path,
    assignments_out: Path | None,
) -> gpd.GeoDataFrame:
    """Write ``grids[columns]`` as RFC 7946 GeoJSON and, if asked, the assignment CSV."""
    written = grids[[*columns, "geometry"]].to_crs(STORAGE_CRS)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    written.to_file(out, driver="GeoJSON", engine="pyogrio", layer_options={"RFC7946": "YES"})
    if assignments_out is not None:
        assignments_out.parent.mkdir(parents=True, exist_ok=True)
        safe_frame(assignments[["building_id", "grid_code"]]).to_csv(assignments_out, index=False)
    return written


def print_problems(problems: Sequence[Problem], lang: str) -> None:
    """Print each problem in the language asked for (Chinese by default)."""
    for problem in problems:
        console.print(f"- {problem.text(lang)}", highlight=False, markup=False, soft_wrap=True)
