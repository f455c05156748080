"""Options the commands share (one definition each: same names, help and defaults everywhere).

Typer only: importing this module loads no data library, so ``gridmap --help`` stays fast; the
commands import geopandas, SciPy and the store inside their functions.
"""

from __future__ import annotations

import typer

__all__ = ["DB", "STREETS", "COMPOUNDS", "ID_FIELD", "HOUSEHOLDS_FIELD", "COMMUNITY_CODE_FIELD",
           "MAPPING", "LAYER", "CRS_OPTION", "ENCODING", "MIN_HOUSEHOLDS", "MAX_HOUSEHOLDS",
           "SEED", "OUT", "LANG", "JOBS", "SCHEDULER", "PROBLEMS", "VERBOSE",
           "COMMUNITY"]  # fmt: skip

DB = typer.Option(
    None, "--db", help="Database URL (default: GRIDMAP_DATABASE_URL or var/gridmap.sqlite)."
)

# Reading the layers of a plan (the scripts' contract: same names, same defaults).
STREETS = typer.Option(None, "--streets", help="Street centrelines.")
COMPOUNDS = typer.Option(None, "--compounds", help="Compounds (小区).")
ID_FIELD = typer.Option(
    None, "--id-field", help="Building id header (default: recognised, e.g. 楼栋编号, id)."
)
HOUSEHOLDS_FIELD = typer.Option(
    None, "--households-field", help="Households header (default: recognised, e.g. 户数)."
)
COMMUNITY_CODE_FIELD = typer.Option(
    None,
    "--community-code-field",
    help="Community code header of the communities (default: recognised, e.g. 社区代码, code).",
)
MAPPING = typer.Option(
    None,
    "--mapping",
    help='TOML file mapping headers to columns, e.g. 楼号 = "building_id".',
    exists=True,
    dir_okay=False,
)
LAYER = typer.Option(
    [],
    "--layer",
    metavar="ENTITY=LAYER",
    help="Layer of a multi-layer GeoPackage or zip, e.g. building=楼栋 (repeatable).",
)
CRS_OPTION = typer.Option(None, "--crs", help="CRS of files that declare none, e.g. EPSG:4545.")
ENCODING = typer.Option(
    None, "--encoding", help="Text encoding of Shapefiles and CSV, e.g. GBK (default: detected)."
)

# Making a plan.
MIN_HOUSEHOLDS = typer.Option(300, "--min-households")
MAX_HOUSEHOLDS = typer.Option(500, "--max-households")
SEED = typer.Option(0, "--seed")
JOBS = typer.Option(0, "--jobs", help="Processes (0 = one per core).")
SCHEDULER = typer.Option(
    None,
    "--scheduler",
    help="Dask scheduler address (tcp://host:8786): plan the communities on that cluster's "
    "workers instead of local processes (needs gridmap[dask]).",
)
OUT = typer.Option(..., "--out", help="Output grids GeoJSON (RFC 7946).")
COMMUNITY = typer.Option(
    [], "--community", help="Community code (repeat for several; default: all)."
)

# Reporting problems.
LANG = typer.Option("zh", "--lang", help="Language of the problems printed: zh (中文) or en.")
PROBLEMS = typer.Option(
    None, "--problems", help="Also write the problems as CSV (one row per grid and kind)."
)
VERBOSE = typer.Option(
    False, "--verbose", help="List routine notices too (by default only counted)."
)
