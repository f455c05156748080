"""``gridmap import``: load office files into the store in one transaction.

Prints what was loaded (counts per table; with ``--update`` added / updated / unchanged /
removed per entity), what was linked by location, the published grids now out of bounds and
where the report is; never a personal value.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import typer

from service.commands.options import DB

if TYPE_CHECKING:
    from rich.progress import TaskID
    from rich.table import Table

__all__ = ["import_command"]


class _FileOption(TypedDict):
    """typer.Option keywords of an input file (typed so that ``**_FILE`` checks)."""

    exists: bool
    dir_okay: bool
    readable: bool


_FILE: _FileOption = {"exists": True, "dir_okay": False, "readable": True}


def import_command(
    db: str | None = DB,
    communities: Path | None = typer.Option(None, help="Communities (社区) file.", **_FILE),
    compounds: Path | None = typer.Option(None, help="Compounds (小区) file.", **_FILE),
    streets: Path | None = typer.Option(None, help="Streets / boundary lines file.", **_FILE),
    buildings: Path | None = typer.Option(None, help="Buildings (楼栋) file.", **_FILE),
    households: Path | None = typer.Option(None, help="Households (户) roster.", **_FILE),
    persons: Path | None = typer.Option(None, help="Persons (人口) roster.", **_FILE),
    staff: Path | None = typer.Option(None, help="Grid staff (网格员…) roster.", **_FILE),
    grids: Path | None = typer.Option(None, help="Existing (hand-drawn) grids file.", **_FILE),
    layer: list[str] = typer.Option(
        [], "--layer", help="ENTITY=LAYER: GeoPackage layer, XLSX sheet or shapefile in a zip."
    ),
    mapping: Path | None = typer.Option(
        None, "--mapping", help="TOML file mapping headers to columns.", **_FILE
    ),
    crs: str | None = typer.Option(None, "--crs", help="CRS of files that declare none."),
    encoding: str | None = typer.Option(
        None, "--encoding", help="Text encoding of Shapefiles/CSV (default: detected; e.g. GBK)."
    ),
    report_dir: Path = typer.Option(
        Path("var/reports"), "--report-dir", help="Where the import report (CSV+JSON) goes."
    ),
    update: bool = typer.Option(
        False, "--update", help="Add new records, update changed ones, keep the rest (by id)."
    ),
    replace: list[str] = typer.Option(
        [],
        "--replace",
        metavar="ENTITY",
        help="With --update: this layer's file replaces the stored layer whole (stored records "
        "missing from it are removed). Repeatable.",
    ),  # fmt: skip
    deletions: Path | None = typer.Option(
        None, "--deletions", help="With --update: CSV of entity,id records to remove.", **_FILE
    ),
) -> None:
    """Import communities, buildings, households, persons, staff and grids (all or nothing)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from gridmap.errors import GridmapError
    from service.commands.planfiles import parse_layers, print_notes
    from service.importer import ENTITY_ORDER, import_files

    given = {"community": communities, "compound": compounds, "street": streets,
             "building": buildings, "household": households, "person": persons, "staff": staff,
             "grid": grids}  # fmt: skip
    sources = {entity: path for entity, path in given.items() if path is not None}
    if not sources and deletions is None:
        raise typer.BadParameter("give at least one file, e.g. --buildings buildings.gpkg")
    if (replace or deletions is not None) and not update:
        raise typer.BadParameter("--replace and --deletions remove records: add --update")
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as bar:  # fmt: skip
        stage = bar.add_task("starting", total=None)
        tasks: dict[str, TaskID] = {}

        def step(description: str) -> None:
            bar.update(stage, description=description)

        def rows(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(f"write {table}", total=total)
            bar.update(tasks[table], completed=done)

        try:
            result = import_files(
                sources, url=db, layers=parse_layers(layer, ENTITY_ORDER), mapping=mapping,
                crs=crs, encoding=encoding, report_dir=report_dir, step=step, progress=rows,
                update=update, replace=replace, deletions=deletions,
            )  # fmt: skip
        except GridmapError as exc:  # InputError, ImportAborted: the message names the records
            console.print(f"[red]Import failed, nothing was written:[/red] {exc}")
            raise typer.Exit(1) from None
    print_notes(result.notes)
    _print_result(result)


def _print_result(result) -> None:
    from rich.console import Console

    console = Console()
    if any(c.updated or c.unchanged or c.removed for c in result.changes.values()):
        console.print(_changes_table(result))
    else:
        console.print(_counts_table(result))
    for code, plan_id in result.plans.items():
        console.print(f"community {code}: grids imported as plan {plan_id}")
    if result.linked:
        console.print(_linked_table(result))
    if result.out_of_bounds:
        console.print(_out_of_bounds_table(result.out_of_bounds))
        console.print("Repair them with: gridmap plan redistrict --publish")
    reasons = result.report.reasons()
    summary = ", ".join(f"{reason}: {n}" for reason, n in reasons.items())
    suffix = f" ({summary})" if summary else ""
    console.print(f"{len(result.report)} record(s) in the report{suffix}")
    for kind, path in result.report_paths.items():
        console.print(f"report ({kind}): {path}")


def _counts_table(result) -> Table:
    from rich.table import Table

    table = Table(title=f"Import {result.import_run_id}: loaded")
    table.add_column("table")
    table.add_column("read", justify="right")
    table.add_column("written", justify="right")
    for name, written in result.counts.items():
        read = result.read.get(name)
        table.add_row(name, "" if read is None else str(read), str(written))
    return table


def _changes_table(result) -> Table:
    from rich.table import Table

    table = Table(title=f"Import {result.import_run_id}: changes")
    for column in ("entity", "read", "added", "updated", "unchanged", "removed"):
        table.add_column(column, justify="left" if column == "entity" else "right")
    for entity, c in result.changes.items():
        read = result.read.get(entity)
        removed = f"{c.removed} ({c.retired} retired)" if c.retired else str(c.removed)
        table.add_row(entity, "" if read is None else str(read), str(c.added), str(c.updated),
                      str(c.unchanged), removed)  # fmt: skip
    return table


def _linked_table(result) -> Table:
    from rich.table import Table

    table = Table(title="Linked by location")
    table.add_column("records → link")
    table.add_column("linked", justify="right")
    outside = dict.fromkeys(("building", "compound", "street"), 0)
    for issue in result.report:
        if issue.reason == "outside communities" and issue.entity in outside:
            outside[issue.entity] += 1
    for what, n in result.linked.items():
        table.add_row(what, str(n))
    for entity, n in outside.items():
        if n:
            table.add_row(f"{entity} outside every community (see report)", str(n))
    return table


def _out_of_bounds_table(grids: list[dict]) -> Table:
    from rich.table import Table

    table = Table(title="Published grids now outside their household bounds")
    for column in ("community", "grid", "plan", "households in plan", "households now", "status"):
        table.add_column(column, justify="right" if "households" in column else "left",
                         no_wrap=column in ("community", "grid"))  # fmt: skip
    for g in grids:
        table.add_row(g["community_code"], g["grid_code"], str(g["plan_id"]),
                      str(g["households"]), str(g["households_now"]), g["status_now"])  # fmt: skip
    return table
