"""``gridmap import``: load office files into the store in one transaction.

Prints what was loaded (counts per table; with ``--update`` added / updated / unchanged /
removed per entity), what was linked by location, the published grids now out of bounds and
where the report is; never a personal value. All of it in the ``--lang`` chosen (Chinese by
default): the notes about the files read (:class:`gridmap.io.notes.ReadNote`), the progress,
the tables, the summary of the report (records per reason, :meth:`AttachReport.summary`) and
the report files' words (their ``entity`` and ``reason`` columns are codes).

``--dry-run`` runs the same import and rolls it back (:func:`service.importer.import_files`
``dry_run``): the same notes, tables, refusals and report (``import-report-dry-run-…``), under a
first and a last line saying that it was a dry run and nothing was written.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import typer

from service.commands import options as opt
from service.commands.options import DB, LANG

if TYPE_CHECKING:
    from rich.progress import TaskID
    from rich.table import Table

    from gridmap.io.notes import ReadNote

__all__ = ["import_command"]

_ZH = {
    # tables written (store table names) and the words of the tables printed
    "community": "社区", "compound": "小区", "street": "道路", "building": "楼栋",
    "household": "住户", "person": "人员", "staff": "网格工作人员", "staff_grid": "人员分管网格",
    "plan": "方案", "grid": "网格", "table": "数据表", "read": "读取", "written": "写入",
    "entity": "类别", "added": "新增", "updated": "更新", "unchanged": "未变", "removed": "删除",
    "records → link": "记录 → 关联到", "linked": "已关联", "grid_code": "网格", "plan_id": "方案",
    "households": "方案户数", "households_now": "现有户数", "status_now": "现状态",
    "community_code": "社区", "under_min": "低于下限", "over_max": "超过上限", "ok": "正常",
    # what the import is doing (the steps service.importer and gridmap.attach report)
    "write to the store": "写入数据库", "link by location": "按位置关联",
    "check communities and grids": "检查社区和网格",
    "attach persons to households": "人员关联到住户",
    "attach households to buildings": "住户关联到楼栋",
    "attach buildings to grids": "楼栋关联到网格", "roll up counts": "汇总人数和户数",
    "starting": "开始",
}  # fmt: skip
"""Chinese for the words ``gridmap import --lang zh`` prints."""

_EN = {"plan_id": "plan", "grid_code": "grid", "community_code": "community",
       "households": "households in plan", "households_now": "households now",
       "status_now": "status"}  # fmt: skip


def _word(text: str, lang: str) -> str:
    """``text`` in ``lang``: a table, entity or column name, or a fixed phrase."""
    return _ZH.get(text, text) if lang == "zh" else _EN.get(text, text)


def _dry_run_lines(lang: str, new_store: bool = False) -> tuple[str, str]:
    """The first and the last line of a dry run's output in ``lang``."""
    if lang == "zh":
        last = "预演结束：未写入任何内容（数据库、数据密钥和方案均未改变）。"
        if new_store:
            last += "数据库原本不存在：预演时临时建立，已删除。"
        return "预演（--dry-run）：以下是这次导入将做的操作，不写入任何内容。", last
    last = "Dry run finished: nothing was written (store, data key and plans unchanged)."
    if new_store:
        last += " The store did not exist: it was made for the dry run and removed again."
    return "DRY RUN (--dry-run): what this import would do; nothing is written.", last


def _step_words(description: str, lang: str) -> str:
    """A step of the import (``read building (楼栋.shp)``, ``validate persons`` …) in ``lang``;
    a step without Chinese words shows as 导入中 rather than in English."""
    if lang != "zh":
        return description
    verb, _, rest = description.partition(" ")
    entity, _, file = rest.partition(" ")
    entity = entity.removesuffix("s") if entity.removesuffix("s") in _ZH else entity
    if verb in ("read", "validate") and entity in _ZH:
        return ("读取" if verb == "read" else "检查") + _ZH[entity] + (f" {file}" if file else "")
    if verb == "write" and rest in _ZH:
        return f"写入{_ZH[rest]}"
    return _ZH.get(description, "导入中")


class _FileOption(TypedDict):
    """typer.Option keywords of an input file (typed so that ``**_FILE`` checks)."""

    exists: bool
    dir_okay: bool
    readable: bool


_FILE: _FileOption = {"exists": False, "dir_okay": True, "readable": False}
"""The files are checked when read, and a missing one named in ``--lang`` (READ_ERRORS
``file_not_found``), not by the option parser in English."""


def _check_report_dir(report_dir: Path) -> None:
    """Refuse a ``--report-dir`` that is, or lies under, a file before importing (else the
    records are committed and the report fails with a traceback)."""
    from gridmap.io.readerrors import read_error
    from service.commands.planfiles import exit_on_error

    blocker = next((p for p in (report_dir, *report_dir.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        with exit_on_error():
            raise read_error("output_under_file", file=str(report_dir), parent=str(blocker))


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
        [],
        "--layer",
        help="ENTITY=LAYER: GeoPackage layer, workbook sheet (.xlsx/.xls) or shapefile in a zip.",
    ),
    mapping: Path | None = typer.Option(
        None, "--mapping", help="TOML file mapping headers to columns.", **_FILE
    ),
    crs: list[str] = opt.CRS_OPTION,
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
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Do the whole import and roll it back: show what it would do, "
        "write nothing (the report files are written, named import-report-dry-run-…).",
    ),  # fmt: skip
    lang: str = LANG,
) -> None:
    """Import communities, buildings, households, persons, staff and grids (all or nothing)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from gridmap.attach.geomrepair import GeometryRepairWarning
    from gridmap.errors import GridmapError
    from gridmap.io.notes import ReadWarning
    from service.commands.planfiles import check_lang, parse_crs, parse_layers, print_notes
    from service.importer import ENTITY_ORDER, import_files
    from service.storage.errors import says_nothing_written

    check_lang(lang)
    given = {"community": communities, "compound": compounds, "street": streets,
             "building": buildings, "household": households, "person": persons, "staff": staff,
             "grid": grids}  # fmt: skip
    sources = {entity: path for entity, path in given.items() if path is not None}
    console = Console(stderr=True)
    if not sources and deletions is None:
        _refuse(console, lang, "give at least one file, e.g. --buildings buildings.gpkg",
                "请至少给出一个文件，例如 --buildings 楼栋.shp")  # fmt: skip
    if (replace or deletions is not None) and not update:
        _refuse(console, lang, "--replace and --deletions remove records: add --update",
                "--replace 和 --deletions 会删除记录：请加上 --update")  # fmt: skip
    _check_report_dir(report_dir)
    out = Console()
    if dry_run:
        out.print(_dry_run_lines(lang)[0], highlight=False, markup=False, soft_wrap=True)
    notes: list[ReadNote] = []  # what reading noticed: said before a refusal too
    with warnings.catch_warnings(), Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    ) as bar:  # fmt: skip
        stage = bar.add_task(_word("starting", lang), total=None)
        tasks: dict[str, TaskID] = {}

        def step(description: str) -> None:
            bar.update(stage, description=_step_words(description, lang))

        def rows(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(_step_words(f"write {table}", lang), total=total)
            bar.update(tasks[table], completed=done)

        try:
            warnings.simplefilter("ignore", ReadWarning)  # the notes say it, in --lang
            warnings.simplefilter("ignore", GeometryRepairWarning)  # a report line says it
            result = import_files(
                sources, url=db, layers=parse_layers(layer, ENTITY_ORDER), mapping=mapping,
                crs=parse_crs(crs, ENTITY_ORDER), encoding=encoding, report_dir=report_dir,
                step=step, progress=rows,
                update=update, replace=replace, deletions=deletions, lang=lang, notes=notes,
                dry_run=dry_run,
            )  # fmt: skip
        except GridmapError as exc:  # InputError, ImportAborted: the message names the records
            # the files' problems in --lang (English where no Chinese was written: on a line
            # of their own under the Chinese heading); an error whose words say already that
            # nothing was written (by its kind and code) does not hear it twice
            message = exc.message(lang)
            said = says_nothing_written(exc)
            failed = (
                ("导入失败：" if said else "导入失败，未写入任何内容：")
                if lang == "zh"
                else ("Import failed: " if said else "Import failed, nothing was written: ")
            )
            on_its_line = lang == "zh" and (not exc.message_zh or "\n" in message)
            print_notes(notes, lang)
            console.print(f"[red]{failed}[/red]", end="\n" if on_its_line else "")
            console.print(message, highlight=False, markup=False, soft_wrap=True)
            if dry_run:
                out.print(_dry_run_lines(lang)[1], highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(1) from None
    print_notes(result.notes, lang)
    _print_result(result, lang)
    if dry_run:
        out.print(_dry_run_lines(lang, result.new_store)[1], highlight=False, markup=False,
                  soft_wrap=True)  # fmt: skip


def _print_result(result, lang: str) -> None:
    from rich.console import Console

    console = Console()
    zh = lang == "zh"

    def say(text: str) -> None:
        console.print(text, highlight=False, markup=False, soft_wrap=True)

    if any(c.updated or c.unchanged or c.removed for c in result.changes.values()):
        console.print(_changes_table(result, lang))
    else:
        console.print(_counts_table(result, lang))
    for code, plan_id in result.plans.items():
        if result.dry_run:
            say(f"社区 {code}：网格将导入为新方案" if zh else
                f"community {code}: grids would be imported as a new plan")  # fmt: skip
        else:
            say(f"社区 {code}：网格已导入为方案 {plan_id}" if zh else
                f"community {code}: grids imported as plan {plan_id}")  # fmt: skip
    if result.linked:
        console.print(_linked_table(result, lang))
    if result.out_of_bounds:
        console.print(_out_of_bounds_table(result.out_of_bounds, lang))
        say("修复命令：gridmap plan redistrict --publish" if zh else
            "Repair them with: gridmap plan redistrict --publish")  # fmt: skip
    say(result.report.summary(lang))
    for kind, path in result.report_paths.items():
        say(f"报告（{kind.upper()}）：{path}" if zh else f"report ({kind}): {path}")


def _refuse(console, lang: str, en: str, zh: str) -> None:
    """Print a refusal of the options in ``lang`` (``错误：…`` or ``error: …``), exit 2."""
    console.print(f"错误：{zh}" if lang == "zh" else f"error: {en}", highlight=False,
                  markup=False, soft_wrap=True)  # fmt: skip
    raise typer.Exit(2)


def _table(title: str) -> Table:
    from rich.table import Table

    return Table(title=title)


def _title(result, lang: str, words: tuple[str, str], dry: tuple[str, str]) -> str:
    """A table's title (``导入 7：已载入`` / ``Import 7: loaded``); a dry run's has no run."""
    zh, en = dry if result.dry_run else words
    if result.dry_run:
        return f"预演导入：{zh}" if lang == "zh" else f"Dry run: {en}"
    return f"导入 {result.import_run_id}：{zh}" if lang == "zh" else (
        f"Import {result.import_run_id}: {en}")  # fmt: skip


def _counts_table(result, lang: str) -> Table:
    table = _table(_title(result, lang, ("已载入", "loaded"), ("将载入", "would load")))
    table.add_column(_word("table", lang))
    table.add_column(_word("read", lang), justify="right")
    written = ("将写入" if lang == "zh" else "would write") if result.dry_run else None
    table.add_column(written or _word("written", lang), justify="right")
    for name, written in result.counts.items():
        read = result.read.get(name)
        table.add_row(_word(name, lang), "" if read is None else str(read), str(written))
    return table


def _changes_table(result, lang: str) -> Table:
    table = _table(
        _title(result, lang, ("变更", "changes"), ("将做的变更", "changes it would make"))
    )
    for column in ("entity", "read", "added", "updated", "unchanged", "removed"):
        table.add_column(_word(column, lang), justify="left" if column == "entity" else "right")
    for entity, c in result.changes.items():
        read = result.read.get(entity)
        removed = str(c.removed)
        if c.retired:
            removed += f"（{c.retired} 栋停用）" if lang == "zh" else f" ({c.retired} retired)"
        table.add_row(_word(entity, lang), "" if read is None else str(read), str(c.added),
                      str(c.updated), str(c.unchanged), removed)  # fmt: skip
    return table


def _linked_table(result, lang: str) -> Table:
    zh = lang == "zh"
    table = _table("按位置关联" if zh else "Linked by location")
    table.add_column(_word("records → link", lang))
    table.add_column(_word("linked", lang), justify="right")
    outside = dict.fromkeys(("building", "compound", "street"), 0)
    for issue in result.report:
        if issue.reason == "outside communities" and issue.entity in outside:
            outside[issue.entity] += 1
    for what, n in result.linked.items():
        table.add_row(" → ".join(_word(w, lang) for w in what.split(" → ")), str(n))
    for entity, n in outside.items():
        if n:
            table.add_row(f"不在任何社区内的{_word(entity, lang)}（见报告）" if zh else
                          f"{entity} outside every community (see report)", str(n))  # fmt: skip
    return table


def _out_of_bounds_table(grids: list[dict], lang: str) -> Table:
    table = _table("已发布网格现超出户数范围" if lang == "zh" else
                   "Published grids now outside their household bounds")  # fmt: skip
    keys = ("community_code", "grid_code", "plan_id", "households", "households_now", "status_now")
    for key in keys:
        table.add_column(_word(key, lang), justify="right" if "households" in key else "left",
                         no_wrap=key in ("community_code", "grid_code"))  # fmt: skip
    for g in grids:
        table.add_row(g["community_code"], g["grid_code"], str(g["plan_id"]), str(g["households"]),
                      str(g["households_now"]), _word(g["status_now"], lang))  # fmt: skip
    return table
