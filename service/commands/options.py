"""Options the commands share (one definition each: same names, help and defaults everywhere).

Typer only: importing this module loads no data library, so ``gridmap --help`` stays fast; the
commands import geopandas, SciPy and the store inside their functions.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, get_type_hints

import typer

if TYPE_CHECKING:
    from gridmap.plans.tables import PlanResult
    from service.commands.planfiles import PlanInputs, ReadOptions

__all__ = ["DB", "STREETS", "COMPOUNDS", "ID_FIELD", "HOUSEHOLDS_FIELD", "COMMUNITY_CODE_FIELD",
           "MAPPING", "LAYER", "CRS_OPTION", "ENCODING", "MIN_HOUSEHOLDS", "MAX_HOUSEHOLDS",
           "SEED", "OUT", "ASSIGNMENTS_OUT", "REPAIRED_ASSIGNMENTS_OUT", "LANG", "JOBS",
           "SCHEDULER", "PROBLEMS", "VERBOSE",
           "COMMUNITY", "LayerOptions", "BoundOptions", "RunOptions", "ReportOptions",
           "GROUP", "option", "option_groups", "unreachable_reason",
           "without_password"]  # fmt: skip

DB = typer.Option(
    None, "--db", help="Database URL (default: GRIDMAP_DATABASE_URL or var/gridmap.sqlite)."
)

_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@/\s]*@")


def without_password(text: str) -> str:
    """``text`` (a database URL, or an error quoting one) with each URL's password as ``***``.

    >>> without_password("cannot open postgresql://gm:s3cret@db/gm: refused")
    'cannot open postgresql://gm:***@db/gm: refused'
    """
    return _URL_PASSWORD.sub(r"\1***@", text)


def unreachable_reason(exc: BaseException) -> str:
    """Why a database could not be reached, in one line without any password: the driver's
    first line (SQLAlchemy's ``orig``), else the error's own."""
    lines = without_password(str(getattr(exc, "orig", None) or exc)).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


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
CRS_OPTION = typer.Option(
    [],
    "--crs",
    help="CRS of files that declare none, e.g. EPSG:4545; GCJ-02 or BD-09 for lon/lat taken "
    "from AMap/Tencent or Baidu maps (shifted back to true coordinates). ENTITY=CRS for one "
    "layer's file only, e.g. buildings=GCJ-02 (repeatable).",
)
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
OUT = typer.Option(
    ...,
    "--out",
    help="Output grids, in the format the name ends in: .geojson (RFC 7946), .gpkg, .shp, .zip "
    "(zipped Shapefile) or .parquet (GeoParquet).",
)
_ASSIGNMENTS_HELP = "Output building→grid CSV, or a .gpkg (the --out one: a table in it)."
ASSIGNMENTS_OUT = typer.Option(None, "--assignments", help=_ASSIGNMENTS_HELP)  # gridmap partition
REPAIRED_ASSIGNMENTS_OUT = typer.Option(None, "--assignments-out", help=_ASSIGNMENTS_HELP)
"""``gridmap redistrict``: its ``--assignments`` is the current assignment (input)."""
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


# --------------------------------------------------------------------------- option groups
# A command parameter typed with an option group (a dataclass whose fields are all made by
# :func:`option`, like the ones below) stands for that dataclass's fields, each a command-line
# option of its own, in the field order, where the parameter stands; :func:`option_groups`
# unfolds them for Typer and folds the values given back into the dataclass. The commands that
# read, plan and report alike thus declare those options once and keep their own order of
# options in ``--help``.


GROUP: Any = None
"""The default to write for a group parameter (``layers: LayerOptions = GROUP``), which
:func:`option_groups` replaces by the group's options."""


def option(info: typer.models.OptionInfo) -> Any:
    """A dataclass field carrying its command-line option (no default: Typer always gives one)."""
    return field(metadata={"option": info})


@dataclass(frozen=True)
class LayerOptions:
    """How the layers of a plan are read: the options every plan command shares."""

    streets: Path | None = option(STREETS)
    compounds: Path | None = option(COMPOUNDS)
    id_field: str | None = option(ID_FIELD)
    households_field: str | None = option(HOUSEHOLDS_FIELD)
    community_code_field: str | None = option(COMMUNITY_CODE_FIELD)
    mapping: Path | None = option(MAPPING)
    layer: list[str] = option(LAYER)
    crs: list[str] = option(CRS_OPTION)
    encoding: str | None = option(ENCODING)

    def read_options(self) -> ReadOptions:
        """The file options (``--layer`` values parsed, bad ones refused)."""
        from service.commands.planfiles import ReadOptions

        return ReadOptions.from_cli(self.mapping, self.layer, self.crs, self.encoding)

    def read(
        self,
        *,
        communities: Path | None,
        buildings: Path,
        options: ReadOptions,
        plan: Path | None = None,
    ) -> PlanInputs:
        """Read the current ``plan``'s grids (if given), the communities, the buildings and these
        streets and compounds."""
        from service.commands.planfiles import read_inputs

        return read_inputs(self, communities=communities, buildings=buildings, options=options,
                           plan=plan)  # fmt: skip


class Bounds(TypedDict):
    """The keyword arguments of the planning functions that :class:`BoundOptions` gives."""

    min_households: int
    max_households: int
    seed: int


@dataclass(frozen=True)
class BoundOptions:
    """The household bounds of the grids and the seed of the search."""

    min_households: int = option(MIN_HOUSEHOLDS)
    max_households: int = option(MAX_HOUSEHOLDS)
    seed: int = option(SEED)

    def kwargs(self) -> Bounds:
        """As the keyword arguments of the planning functions."""
        return {"min_households": self.min_households, "max_households": self.max_households,
                "seed": self.seed}  # fmt: skip


@dataclass(frozen=True)
class RunOptions:
    """Where the communities are planned: local processes or a Dask cluster."""

    jobs: int = option(JOBS)
    scheduler: str | None = option(SCHEDULER)

    def processes(self, most: int | None = None) -> int:
        """``--jobs`` (0: one per core), at most ``most`` (one per community is enough)."""
        n_jobs = self.jobs or os.cpu_count() or 1
        return n_jobs if most is None else min(n_jobs, most)


@dataclass(frozen=True)
class ReportOptions:
    """How the problems of a plan are reported."""

    lang: str = option(LANG)
    problems_out: Path | None = option(PROBLEMS)
    verbose: bool = option(VERBOSE)

    def check(self, out: Path | None = None, assignments: Path | None = None) -> None:
        """Refuse an unknown ``--lang``, and outputs (grids ``out``, ``assignments``,
        ``--problems``) that cannot be written or whose names end in no format they are written
        in (``planfiles.check_output_suffixes``), before any work: nothing is planned to be lost
        at the end."""
        from service.commands.planfiles import (
            check_lang,
            check_output_suffixes,
            check_outputs,
            exit_on_error,
        )

        check_lang(self.lang)
        with exit_on_error():
            check_outputs(out, assignments, self.problems_out)
            check_output_suffixes(out, assignments, self.problems_out)

    def plan(self, result: PlanResult, columns: Sequence[str], *, out: Path,
             assignments_out: Path | None,
             detail: tuple[str, str] | str = "") -> None:  # fmt: skip
        """Write the plan's files, say what went out, print the problems (``report_plan``)."""
        from service.commands.planfiles import report_plan

        report_plan(result.grids, columns, result.assignments, result.problems, out=out,
                    assignments_out=assignments_out, lang=self.lang, verbose=self.verbose,
                    problems_out=self.problems_out, detail=detail)  # fmt: skip


def _is_group(annotation: Any) -> bool:
    return (isinstance(annotation, type) and is_dataclass(annotation) and bool(fields(annotation))
            and all("option" in f.metadata for f in fields(annotation)))  # fmt: skip


def option_groups(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` as Typer sees it: each parameter typed with an option group unfolded into the
    group's options (at the parameter's place), their values folded back when it runs."""
    signature = inspect.signature(command, eval_str=True)
    parameters: list[inspect.Parameter] = []
    groups: dict[str, tuple[type[Any], list[str]]] = {}
    for parameter in signature.parameters.values():
        group = parameter.annotation
        if not _is_group(group):
            parameters.append(parameter)
            continue
        hints = get_type_hints(group)
        names = [f.name for f in fields(group)]
        parameters += [
            inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default=f.metadata["option"], annotation=hints[f.name])
            for f in fields(group)
        ]  # fmt: skip
        groups[parameter.name] = (group, names)

    @functools.wraps(command)
    def unfolded(**values: Any) -> None:
        for name, (group, names) in groups.items():
            values[name] = group(**{n: values.pop(n) for n in names})
        command(**values)

    unfolded.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    unfolded.__annotations__ = {p.name: p.annotation for p in parameters}
    return unfolded
