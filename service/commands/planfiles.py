"""Files in and out of the file-based plan commands (``gridmap partition``, ``gridmap redistrict``).

Layers are read by :func:`gridmap.read_layer`, as ``gridmap import`` and the Python API read
them (header synonyms, ``--mapping``, ``--layer``, ``--crs``, ``--encoding``), in EPSG:4326; the
grids go out by :func:`gridmap.io.layers.write_layer` in the format their name ends in (RFC 7946
GeoJSON, GeoPackage, Shapefile, GeoParquet; lon/lat, EPSG:4326), the assignment as
``building_id,grid_code`` CSV or a GeoPackage table (:data:`PLAN_TABLES`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gridmap.crs import STORAGE_CRS
from gridmap.errors import GridmapError, InputError
from gridmap.geometry.snapping import LONLAT_GRID_SIZE, snap_grids
from gridmap.io.layers import LAYER_FILE_SUFFIXES, plural, read_layer, write_layer
from gridmap.io.notes import ReadNote, ReadWarning, Words, grouped_messages
from gridmap.io.readerrors import read_error
from gridmap.problems import Problem, problems_table, report_lines, write_problems_csv

if TYPE_CHECKING:
    from gridmap.attach.report import Issue
    from gridmap.plans.redistrict import RedistrictResult
    from service.commands.options import LayerOptions

__all__ = ["PlanInputs", "ReadOptions", "LANGS", "PLAN_TABLES", "GRIDS_SUFFIXES", "console",
           "check_lang", "parse_layers", "read_inputs", "read_layer_file", "record_problems",
           "repeated_ids", "print_notes", "print_issues", "community_progress", "table_name",
           "write_plan", "print_problems", "error_line", "exit_on_error", "report_plan",
           "tables_said", "redistrict_detail"]  # fmt: skip

console = Console(stderr=True)
LANGS = ("zh", "en")
_LANG: ContextVar[str] = ContextVar("gridmap_command_lang", default="zh")
"""The ``--lang`` the running command checked (:func:`check_lang`): what the functions below
print in when not told otherwise."""


def _lang(lang: str | None) -> str:
    return _LANG.get() if lang is None else lang


@dataclass
class PlanInputs:
    """The layers of a plan run, with canonical column names, in EPSG:4326."""

    communities: gpd.GeoDataFrame | None
    buildings: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame | None
    compounds: gpd.GeoDataFrame | None
    notes: list[ReadNote] = field(default_factory=list)
    grids: gpd.GeoDataFrame | None = None
    """The current plan's grids (``gridmap redistrict --plan``), other columns kept."""


@dataclass(frozen=True)
class ReadOptions:
    """How the plan commands read files: the options shared by every layer."""

    mapping: Path | None = None
    layers: Mapping[str, str] = field(default_factory=dict)
    crs: Mapping[str, str] = field(default_factory=dict)
    """Entity → CRS; ``""`` → the CRS of every other file (:func:`parse_crs`)."""
    encoding: str | None = None

    @classmethod
    def from_cli(
        cls,
        mapping: Path | None,
        layer: Sequence[str],
        crs: Sequence[str] | None,
        encoding: str | None,
    ) -> ReadOptions:
        """From the command-line options (``--layer`` values parsed, bad ones refused)."""
        return cls(mapping=mapping, layers=parse_layers(layer), crs=parse_crs(crs or ()),
                   encoding=encoding)  # fmt: skip


def error_line(exc: GridmapError, lang: str | None = None) -> str:
    """``错误：…`` (Chinese) or ``error: …``: ``exc`` as a command prints it in ``lang`` (default:
    the command's ``--lang``); an error written in English only keeps ``error:``."""
    if _lang(lang) == "zh" and exc.message_zh:
        return f"错误：{exc.message_zh}"
    return f"error: {exc}"


@contextmanager
def exit_on_error() -> Iterator[None]:
    """A :class:`~gridmap.errors.GridmapError` inside prints ``error: …`` (``错误：…``) in the
    command's ``--lang`` and exits with 2."""
    try:
        yield
    except GridmapError as exc:
        console.print(error_line(exc), style="red", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(code=2) from exc


def check_outputs(*paths: Path | None) -> None:
    """Refuse a file to write that names a folder, or lies under a file
    (READ_ERRORS ``output_is_folder``, ``output_under_file``); missing folders are made later."""
    from gridmap.io.readerrors import read_error

    for path in paths:
        if path is None:
            continue
        if path.is_dir():
            raise read_error("output_is_folder", file=str(path))
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise read_error("output_under_file", file=str(path), parent=str(parent))


GRIDS_SUFFIXES = tuple(s for s in LAYER_FILE_SUFFIXES if s != ".geoparquet")
"""What ``--out`` of the plan commands may end in: GeoJSON, GeoPackage, Shapefile (``.zip``:
zipped), GeoParquet."""
_ASSIGNMENTS_SUFFIXES = (".csv", ".gpkg")
_PROBLEMS_SUFFIXES = (".csv",)


def check_output_suffixes(
    grids: Path | None, assignments: Path | None = None, problems: Path | None = None
) -> None:
    """Refuse a file to write whose name says no format it is written in (READ_ERRORS
    ``output_suffix``, listing those it may end in): grids not in :data:`GRIDS_SUFFIXES`,
    assignments not ``.csv`` or ``.gpkg``, problems not ``.csv`` (``--out 网格.csv`` is not
    GeoJSON text that Excel shows as garbage)."""
    given = ((grids, GRIDS_SUFFIXES), (assignments, _ASSIGNMENTS_SUFFIXES),
             (problems, _PROBLEMS_SUFFIXES))  # fmt: skip
    for path, suffixes in given:
        if path is not None and path.suffix.lower() not in suffixes:
            raise read_error("output_suffix", file=str(path), suffixes=suffixes)


def check_lang(lang: str) -> None:
    """Exit with status 2 unless ``lang`` is one of :data:`LANGS`; else print in ``lang`` from
    now on (notes, progress and summaries of the functions below)."""
    if lang not in LANGS:
        message = f"error: --lang must be zh or en, not {lang!r}."
        console.print(message, highlight=False, markup=False)
        raise typer.Exit(code=2)
    _LANG.set(lang)


_PLAN_ENTITIES = ("community", "compound", "street", "building", "grid")
_PLAN_REQUIRED = {"community": ("community_code",), "building": ("building_id", "households")}
"""What planning needs of each layer (no community names; households of every building). Plan
grids may come without codes (drawn in 奥维 or Google Earth): ``gridmap redistrict`` makes them."""


def parse_layers(values: Sequence[str], entities: Sequence[str] = _PLAN_ENTITIES) -> dict[str, str]:
    """``["building=楼栋", …]`` → ``{"building": "楼栋"}``; plural entity names are accepted.

    Raises
    ------
    gridmap.errors.InputError
        A value without ``=``, or an entity the command does not read (not in ``entities``),
        in English and Chinese.
    """
    singular = {plural(e): e for e in entities} | {"plan": "grid"}
    layers = {}
    for value in values:
        entity, sep, layer = value.partition("=")
        entity = singular.get(entity.strip().lower(), entity.strip().lower())
        if not sep or not layer.strip() or entity not in entities:
            raise read_error("bad_layer_option", value=value, entities=list(entities))
        layers[entity] = layer.strip()
    return layers


def parse_crs(values: Sequence[str], entities: Sequence[str] = _PLAN_ENTITIES) -> dict[str, str]:
    """``--crs`` values → entity → CRS: ``buildings=GCJ-02`` for one layer's file, a bare CRS
    (``EPSG:4545``) under ``""`` for every other file. A value whose part before ``=`` names no
    entity is a CRS as a whole (``+proj=tmerc …``).

    >>> parse_crs(["EPSG:4545", "buildings=GCJ-02"])
    {'': 'EPSG:4545', 'building': 'GCJ-02'}
    """
    singular = {plural(e): e for e in entities} | {e: e for e in entities} | {"plan": "grid"}
    out: dict[str, str] = {}
    for value in values:
        entity, sep, crs = value.partition("=")
        name = singular.get(entity.strip().lower())
        if sep and name is not None and crs.strip():
            out[name] = crs.strip()
        else:
            out[""] = value.strip()
    return out


def read_layer_file(
    path: Path,
    entity: str,
    options: ReadOptions | None = None,
    overrides: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read one layer with :func:`gridmap.read_layer` for planning (plan grids keep their
    other columns).

    ``overrides`` (header → column, from the ``--*-field`` options) go over the mapping file;
    the file must have those headers.
    """
    options = options or ReadOptions()
    return read_layer(
        path,
        entity,
        layer=options.layers.get(entity),
        mapping=options.mapping,
        fields=overrides,
        crs=options.crs.get(entity, options.crs.get("")),
        encoding=options.encoding,
        required=_PLAN_REQUIRED.get(entity, ()),
        keep_extra=entity in ("grid", "street"),  # streets: tunnel/layer/boundary … columns
    )


def read_inputs(
    layers: LayerOptions,
    *,
    communities: Path | None,
    buildings: Path,
    options: ReadOptions,
    plan: Path | None = None,
) -> PlanInputs:
    """Read the current ``plan``'s grids (if given), the communities, the buildings and
    ``layers``' streets and compounds through :func:`gridmap.read_layer`, as ``gridmap import``
    does.

    Each file's headers are recognised (built-in synonyms, ``--mapping``), the ``--*-field``
    options override them. The notes of the files read (encoding detected, layer chosen, ids
    generated) are printed once, in the command's ``--lang`` (:func:`print_notes`), before the
    problems of all files are raised together in one :class:`~gridmap.errors.InputError` (a
    note may say why: an OpenStreetMap extract without dwelling counts), and returned in
    :attr:`PlanInputs.notes`.
    """
    building_fields = {layers.id_field: "building_id", layers.households_field: "households"}
    given = {
        "grid": (plan, {}),
        "community": (communities, {layers.community_code_field: "community_code"}),
        "building": (buildings, building_fields),
        "street": (layers.streets, {}),
        "compound": (layers.compounds, {}),
    }
    frames: dict[str, gpd.GeoDataFrame | None] = {}
    errors: list[GridmapError] = []
    for entity, (path, overrides) in given.items():
        frames[entity] = None
        if path is None:
            continue
        try:
            with warnings.catch_warnings():  # said by the notes, in the language asked for
                warnings.simplefilter("ignore", ReadWarning)
                frames[entity] = read_layer_file(
                    path, entity, options, {k: v for k, v in overrides.items() if k}
                )
        except InputError as exc:  # CRSError included: gather every file's problems
            errors.append(exc)
            continue
        errors += record_problems(frames[entity], entity, path)
    notes = [n for f in frames.values() if f is not None for n in f.attrs.get("notes", [])]
    print_notes(_not_said_by(errors, notes))  # before a refusal too: they may say why
    if errors:
        raise errors[0] if len(errors) == 1 else InputError.gather(errors)
    bld = frames["building"]
    assert bld is not None  # a required file: read, or its problems were raised above
    if "households" in bld.columns:  # CSV and XLSX counts come as text
        bld["households"] = pd.to_numeric(bld["households"], errors="coerce")
    bld = _drop_footprint_copies(bld, buildings.name)
    return PlanInputs(communities=frames["community"], buildings=bld, streets=frames["street"],
                      compounds=frames["compound"], notes=notes, grids=frames["grid"])  # fmt: skip


_ADVICE_OF_ERRORS = {"missing_counts": "osm_households_missing"}
"""Error code → the note code whose advice the error gives again (with the ids)."""


def _not_said_by(errors: Sequence[GridmapError], notes: Sequence[ReadNote]) -> list[ReadNote]:
    """``notes`` but those whose advice one of ``errors`` gives about the same file."""
    said = {(_ADVICE_OF_ERRORS[e.code], e.values.get("file"))
            for e in errors if e.code in _ADVICE_OF_ERRORS}  # fmt: skip
    return [n for n in notes if (n.code, n.file) not in said]


def _drop_footprint_copies(buildings: gpd.GeoDataFrame, file: str) -> gpd.GeoDataFrame:
    """``buildings`` without the footprints drawn twice under another id (the first is kept,
    as ``gridmap import`` keeps it), each copy said in the command's ``--lang``: its households
    are not counted twice."""
    from gridmap.attach.validate import drop_duplicate_footprints

    kept, copies = drop_duplicate_footprints(buildings)
    print_issues(file, copies)
    return kept


def print_issues(file: str, issues: Iterable[Issue], lang: str | None = None) -> None:
    """Print each report line about the records of ``file`` in ``lang`` (default: the command's
    ``--lang``): ``file：record：what was found and done``."""
    lang = _lang(lang)
    colon = "：" if lang == "zh" else ": "
    for issue in issues:
        console.print(f"{file}{colon}{issue.record(lang)}{colon}{issue.message(lang)}",
                      highlight=False, markup=False, soft_wrap=True)  # fmt: skip


_PLAN_IDS = {"community": "community_code", "building": "building_id"}
_ROWS_SAID = 10


def record_problems(frame: pd.DataFrame | None, entity: str, path: Path) -> list[GridmapError]:
    """What planning cannot use in the records of ``frame`` read from ``path``: ids (community
    codes, building ids) blank or repeated, building household counts missing, negative or
    fractional (:func:`_count_problems`); each error names the file, the data rows and the
    ids, in English and Chinese.
    """
    column = _PLAN_IDS.get(entity)
    if frame is None or column is None or column not in frame.columns:
        return []
    problems: list[GridmapError] = []
    rows = pd.Series(frame.index.to_numpy() + 1, index=frame.index)  # index: data row - 1
    ids = frame[column]
    blank = ids.isna() | (ids.astype(str).str.strip() == "")
    if blank.any():
        said = rows[blank].tolist()
        problems.append(read_error("blank_ids", file=path.name, entity=entity, column=column,
                                   rows=said[:_ROWS_SAID], n_rows=len(said)))  # fmt: skip
    repeated = repeated_ids(ids[~blank], rows, file=path.name, entity=entity, column=column)
    if repeated is not None:
        problems.append(repeated)
    if entity == "building" and "households" in frame.columns:
        problems += _count_problems(frame["households"], ids, rows, path.name)
    return problems


def _count_problems(
    given: pd.Series, ids: pd.Series, rows: pd.Series, file: str
) -> list[GridmapError]:
    """The buildings' household counts planning cannot use: missing (READ_ERRORS
    ``missing_counts``: what to give instead) and not a whole number >= 0 (``bad_counts``)."""
    missing = (given.isna() | given.astype(str).str.strip().eq("")).to_numpy()
    counts = pd.to_numeric(given, errors="coerce")
    bad = ~missing & (counts.isna() | (counts < 0) | (counts != counts.round())).to_numpy()
    shown = ids.fillna("").astype(str)
    problems: list[GridmapError] = []
    if missing.any():
        problems.append(read_error("missing_counts", file=file, n=int(missing.sum()),
                                   total=len(given),
                                   ids=shown[missing].tolist()[:_ROWS_SAID]))  # fmt: skip
    if bad.any():
        said = rows[bad].tolist()
        problems.append(read_error(
            "bad_counts", file=file, entity="building", column="households",
            rows=said[:_ROWS_SAID], n_rows=len(said), ids=shown[bad].tolist()[:_ROWS_SAID],
        ))  # fmt: skip
    return problems


def repeated_ids(
    ids: pd.Series, rows: pd.Series, *, file: str, entity: str, column: str
) -> GridmapError | None:
    """READ_ERRORS ``duplicate_ids`` naming the ``ids`` given more than once with their data
    ``rows`` (the first :data:`_ROWS_SAID`, ``rows`` indexed as ``ids``); None if none is."""
    repeated = ids[ids.duplicated(keep=False)]
    if not len(repeated):
        return None
    groups = rows[repeated.index].groupby(repeated.to_numpy(), sort=False)
    said = [(str(i), r.tolist()) for i, r in list(groups)[:_ROWS_SAID]]
    return read_error("duplicate_ids", file=file, entity=entity, column=column, repeats=said,
                      n=repeated.nunique())  # fmt: skip


_TASKS: dict[str, Words] = {"partition": ("partition", "划分网格"),
                           "redistrict": ("redistrict", "修复网格")}  # fmt: skip
"""The progress labels of :func:`community_progress`, in English and Chinese."""


@contextmanager
def community_progress(
    task: str, total: int, lang: str | None = None
) -> Iterator[Callable[[str], None]]:
    """A callback for each community done: a rich bar on a terminal, else a plain line each.

    ``task`` is ``"partition"`` or ``"redistrict"``, labelled in ``lang`` (default: the
    command's ``--lang``).
    """
    lang = _lang(lang)
    en, zh = _TASKS[task]
    label = zh if lang == "zh" else en
    if not console.is_terminal:
        done = [0]
        colon = "：" if lang == "zh" else ": "

        def line(code: str) -> None:
            done[0] += 1
            console.print(f"{label} {done[0]}/{total}{colon}{code}", highlight=False, markup=False)

        yield line
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task_id = bar.add_task(label, total=total)
        yield lambda _code: bar.advance(task_id)


def print_notes(notes: Sequence[ReadNote], lang: str | None = None) -> None:
    """Print the notes about the files read in ``lang`` (default: the command's ``--lang``),
    each once: one line for the files a note says the same of
    (:func:`gridmap.io.notes.grouped_messages`); no personal values: they carry none."""
    for text in grouped_messages(notes, _lang(lang)):
        console.print(text, highlight=False, markup=False, soft_wrap=True)


PLAN_TABLES: dict[str, Words] = {"grids": ("grids", "网格"), "problems": ("problems", "问题"),
                                 "assignments": ("assignments", "楼栋归属")}  # fmt: skip
"""The layer and tables of a plan's GeoPackage (English, Chinese): named in the command's
``--lang``, read back in either."""


def table_name(table: str, lang: str | None = None) -> str:
    """The name of a plan's layer or table (:data:`PLAN_TABLES`) in ``lang`` (default: the
    command's ``--lang``)."""
    en, zh = PLAN_TABLES[table]
    return zh if _lang(lang) == "zh" else en


def write_plan(
    grids: gpd.GeoDataFrame,
    columns: Sequence[str],
    assignments: pd.DataFrame,
    *,
    out: Path,
    assignments_out: Path | None,
    problems: Sequence[Problem] = (),
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Write ``grids[columns]`` to ``out`` in the format its name ends in
    (:func:`gridmap.io.layers.write_layer`, lon/lat) and, if asked, the building → grid
    assignment to ``assignments_out`` (CSV, or a GeoPackage table: in ``out`` itself when it
    names the same GeoPackage). A GeoPackage ``out`` also holds the ``problems`` as a table (if
    any). Returns the grids written and the names of the tables written beside them.

    The grids are rounded to the files' 7 decimals first
    (:func:`gridmap.geometry.snapping.snap_grids`), so each is one valid polygon as written, not
    only in memory.
    """
    written = grids[[*columns, "geometry"]].to_crs(STORAGE_CRS)
    written["geometry"] = snap_grids(written.geometry.to_numpy(), LONLAT_GRID_SIZE)
    pairs = assignments[["building_id", "grid_code"]]
    tables: dict[str, pd.DataFrame] = {}
    inside = assignments_out is not None and assignments_out.resolve() == out.resolve()
    if out.suffix.lower() == ".gpkg":
        if problems:
            tables[table_name("problems")] = problems_table(problems)
        if inside:
            tables[table_name("assignments")] = pairs
    out.parent.mkdir(parents=True, exist_ok=True)
    write_layer(written, out, layer=table_name("grids"), tables=tables, rfc7946=True)
    if assignments_out is not None and not inside:
        assignments_out.parent.mkdir(parents=True, exist_ok=True)
        write_layer(pairs, assignments_out, layer=table_name("assignments"))
    return written, list(tables)


def print_problems(
    problems: Sequence[Problem],
    lang: str,
    *,
    verbose: bool = False,
    problems_out: Path | None = None,
) -> None:
    """Print the problems in the language asked for (Chinese by default), one line per grid
    and kind; routine notices only with ``verbose``. ``problems_out`` also gets them as CSV
    (:func:`gridmap.problems.write_problems_csv`)."""
    if problems_out is not None:
        write_problems_csv(problems, problems_out)
    for line in report_lines(problems, lang, verbose):
        console.print(f"- {line}", highlight=False, markup=False, soft_wrap=True)


def report_plan(
    grids: gpd.GeoDataFrame,
    columns: Sequence[str],
    assignments: pd.DataFrame,
    problems: Sequence[Problem],
    *,
    out: Path,
    assignments_out: Path | None,
    lang: str,
    verbose: bool = False,
    problems_out: Path | None = None,
    detail: Words | str = ("", ""),
) -> None:
    """Write the plan (:func:`write_plan`), say in ``lang`` how many grids went out and how
    many are flagged (then ``detail``: English and Chinese, e.g. :func:`redistrict_detail`; a
    plain string is printed as it is), and print the problems (:func:`print_problems`)."""
    written, tables = write_plan(grids, columns, assignments, out=out,
                                 assignments_out=assignments_out, problems=problems)  # fmt: skip
    n_bad = int((written["status"] != "ok").sum())
    n = len(written)
    if isinstance(detail, str):
        detail = (detail, detail)
    beside = tables_said(tables, lang)
    if lang == "zh":
        said = f"已写出 {n} 个网格：{out}（{n_bad} 个超出户数范围）{detail[1]}{beside}。"
    else:
        said = f"{n} grids written to {out} ({n_bad} flagged){detail[0]}{beside}."
    console.print(said, highlight=False, markup=False, soft_wrap=True)
    print_problems(problems, lang, verbose=verbose, problems_out=problems_out)


def tables_said(tables: Sequence[str], lang: str) -> str:
    """``; the file also holds the tables problems, assignments`` (``；同一文件中另有表“问题”、
    “楼栋归属”``): what a GeoPackage holds beside the grids; empty without tables."""
    if not tables:
        return ""
    if lang == "zh":
        return "；同一文件中另有表" + "、".join(f"“{t}”" for t in tables)
    return f"; the file also holds the table{'s' if len(tables) > 1 else ''} {', '.join(tables)}"


def redistrict_detail(result: RedistrictResult) -> Words:
    """What a redistricting changed, after the summary of :func:`report_plan` (English,
    Chinese): grids kept, changed and retired, buildings and households that change grid."""
    kept, changed = len(result.kept_grids), len(result.changed_grids)
    retired, moved, households = (
        len(result.retired_codes),
        len(result.moved),
        result.households_moved,
    )
    return (f": {kept} kept, {changed} changed or new, {retired} code(s) retired; {moved} "
            f"building(s) and {households} household(s) change grid",
            f"：{kept} 个未变，{changed} 个调整或新增，{retired} 个编码停用；{moved} 栋楼、"
            f"{households} 户调整网格")  # fmt: skip
