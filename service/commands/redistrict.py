"""``gridmap redistrict``: repair a plan after the community changed, file in, file out.

Works without a database: the current plan (the grids ``gridmap partition`` wrote: GeoJSON,
GeoPackage, Shapefile or GeoParquet; or grids drawn in 奥维 or Google Earth, KML named 第1网格 …
without codes, coded against ``--communities`` as ``gridmap import`` codes them), its building →
grid assignment (CSV, or the GeoPackage table; default: each building in the grid holding its
point) and the current buildings go in; the repaired grids (same columns as ``gridmap
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
    import geopandas as gpd
    import pandas as pd

    from gridmap.plans.redistrict import RedistrictResult

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


def _coded_grids(
    grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None, file: str
) -> gpd.GeoDataFrame:
    """The plan's ``grids`` with grid and community codes: those drawn without (奥维, Google
    Earth) get them as ``gridmap import`` makes them (:func:`gridmap.attach.gridcodes.code_grids`
    against ``communities``), with the ``grid_codes_made`` note and a line per grid in no
    community (left out) printed; refused without ``communities``. A plan with every grid code
    (and community code, if it has the column) is kept as it is."""
    from gridmap.attach.gridcodes import code_grids
    from gridmap.attach.linking import missing_links
    from gridmap.planerrors import plan_error
    from service.commands.planfiles import print_issues, print_notes

    lacking = missing_links(grids, "grid_code")
    if "community_code" in grids:
        lacking |= missing_links(grids, "community_code")
    if not lacking.any():
        return grids
    if communities is None:
        raise plan_error("plan_codes_need_communities", file=file, n=int(lacking.sum()),
                         total=len(grids))  # fmt: skip
    coding = code_grids(grids, communities)
    note = coding.note(file)
    print_notes([note] if note is not None else [])
    print_issues(file, coding.issues)
    return coding.frame


_SHOWN = 10
"""Buildings named in the line about those in no grid (the count says how many in all)."""


def _say_unplaced(result: RedistrictResult, buildings: str, plan: str, lang: str) -> None:
    """Without ``--assignments``: the buildings that lay in no grid of the plan (placed by the
    repair as new buildings), in ``lang``."""
    from service.commands.planfiles import console

    ids = result.new_buildings
    if not ids:
        return
    more = " …" if len(ids) > _SHOWN else ""
    if lang == "zh":
        said = (f"{buildings}：{len(ids)} 栋楼不在{plan}的任何网格内（{'、'.join(ids[:_SHOWN])}"
                f"{more}），已作为新增楼栋分入网格")  # fmt: skip
    else:
        said = (
            f"{buildings}: {len(ids)} building(s) lie in no grid of {plan} "
            f"({', '.join(ids[:_SHOWN])}{more}); placed in the grids as new buildings"
        )
    console.print(said, highlight=False, markup=False, soft_wrap=True)


@opt.option_groups
def redistrict_command(
    plan: Path = typer.Option(
        ..., "--plan", help="Current grids (the --out of partition: .geojson, .gpkg, .shp …)."
    ),
    assignments: Path | None = typer.Option(
        None,
        "--assignments",
        help="Current building→grid CSV (or the GeoPackage holding it); default: each building "
        "in the grid holding its point.",
    ),
    buildings: Path = typer.Option(..., "--buildings", help="Buildings as they are now."),
    communities: Path | None = typer.Option(
        None,
        "--communities",
        help="Community boundaries (default: union of the grids); needed to code grids drawn "
        "without codes.",
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
            # a small table: refused before the layers
            current = None if assignments is None else _read_assignments(assignments)
            inputs = layers.read(communities=communities, buildings=buildings, plan=plan,
                                 options=layers.read_options())  # fmt: skip
            assert inputs.grids is not None  # --plan is required
            plan_file = str(inputs.grids.attrs.get("source") or plan.name)
            grids = _coded_grids(inputs.grids, inputs.communities, plan_file)
            # every community given is repaired (one without grids gets new ones), else those
            # of the plan's grids
            given = inputs.communities
            n_communities = (grids["grid_code"].astype(str).str[:12].nunique() if given is None
                             else given["community_code"].nunique())  # fmt: skip
            with community_progress("redistrict", n_communities) as step:
                result = redistrict(grids, inputs.buildings, assignments=current,
                                    communities=inputs.communities, streets=inputs.streets,
                                    compounds=inputs.compounds, progress=step, **bounds.kwargs(),
                                    n_jobs=run.processes(), scheduler=run.scheduler)  # fmt: skip
        if assignments is None:
            _say_unplaced(result, buildings.name, plan_file, report.lang)
        report.plan(result, [*GRID_COLUMNS, "change"], out=out, assignments_out=assignments_out,
                    detail=redistrict_detail(result))  # fmt: skip
