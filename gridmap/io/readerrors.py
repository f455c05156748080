"""Errors of reading files, in English and Chinese: plain words in the catalogue
``gridmap/messages/read_errors.toml``, words computed from the values here.

:data:`READ_ERRORS` (an :class:`~gridmap.errors.ErrorTexts`) words every
:class:`~gridmap.errors.InputError` and :class:`~gridmap.errors.CRSError` that
:mod:`gridmap.io` raises about a file, and the checks of the plan commands' inputs (ids
repeated or blank, household counts unusable); ``read_error(code, **values)`` makes the error:
``str(err)`` is the English, ``err.message("zh")`` the Chinese. Each names the file, the records
(data rows, ids, headers) and the problem, and says how to fix it.

The problems of a file's headers (:data:`COLUMN_PROBLEM_CODES`) are :class:`ColumnProblem`
records, listed together in one ``columns`` error.

Examples
--------
>>> err = read_error("not_text", file="人口.csv")
>>> str(err)
'人口.csv is neither UTF-8 nor GB18030 text; save it as UTF-8 CSV.'
>>> err.message("zh")
'人口.csv 既不是 UTF-8 也不是 GB18030 文字；请另存为 UTF-8 编码的 CSV 文件。'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from gridmap.errors import (
    CRSError,
    DuplicateIdError,
    ErrorTexts,
    InvalidGeometryError,
    Words,
    quoted,
)
from gridmap.io.notes import entity_word
from gridmap.messages import glossary

__all__ = ["COLUMN_PROBLEM_CODES", "COLUMN_WORDS", "READ_ERRORS", "ColumnProblem", "column_word",
           "read_error"]  # fmt: skip

COLUMN_WORDS: dict[str, str] = glossary("columns")
"""Canonical column → its Chinese name (a header :mod:`gridmap.io.headers` recognises)."""


READ_ERRORS = ErrorTexts.catalogue("gridmap.messages", "read_errors.toml")
"""Every error about reading a file, by code."""


def column_word(column: str, lang: str) -> str:
    """``column`` as a person reads it: the canonical name (English) or its Chinese name."""
    return COLUMN_WORDS.get(column, column) if lang == "zh" else column


def _rows(rows: Sequence[int], n_rows: int | None, lang: str) -> str:
    """``1, 2, 3`` (``1、2、3``), then how many in all when not all are shown."""
    shown = ("、" if lang == "zh" else ", ").join(map(str, rows))
    if n_rows is None or n_rows <= len(rows):
        return shown
    return shown + (f" …（共 {n_rows} 行）" if lang == "zh" else f" … ({n_rows} in all)")


def _layer(layer: str | None, lang: str) -> str:
    if not layer:
        return ""
    return f"（图层“{layer}”）" if lang == "zh" else f" layer {layer!r}"


# --- files, layers, sheets ----------------------------------------------------------------------


@READ_ERRORS.worded("unreadable")
def _unreadable(file: str, detail: str, layer: str | None = None) -> Words:
    return (f"Cannot read {file}{_layer(layer, 'en')}: {detail}",
            f"无法读取 {file}{_layer(layer, 'zh')}：文件已损坏或不是所支持的格式；请用地图软件打开"
            "检查，另存为 .gpkg、.shp 或 .geojson 后重试。")  # fmt: skip


@READ_ERRORS.worded("unsupported_format")
def _unsupported_format(file: str, suffixes: Sequence[str]) -> Words:
    """A file named as no format gridmap reads, which GDAL could not read either."""
    return (f"Cannot read {file}: not a format gridmap reads; save it as one of "
            f"{' '.join(suffixes)} (map layers as .gpkg, .shp or .geojson, tables as .csv or "
            ".xlsx) and retry.",
            f"无法读取 {file}：不是本程序能读取的格式；请另存为以下格式之一：{' '.join(suffixes)}"
            "（地图图层存为 .gpkg、.shp 或 .geojson，表格存为 .csv 或 .xlsx）后重试。")  # fmt: skip


@READ_ERRORS.worded("no_records")
def _no_records(file: str, layer: str | None = None) -> Words:
    return (f"{file}{_layer(layer, 'en')} has no records; check that it is the right file "
            "(or layer) and that it was saved with its data.",
            f"{file}{_layer(layer, 'zh') or ' '}中没有任何记录；请检查是否给错了文件（或图层），"
            "或文件保存时丢失了数据。")  # fmt: skip


@READ_ERRORS.worded("output_suffix")
def _output_suffix(file: str, suffixes: str | Sequence[str]) -> Words:
    """The name of a file to write ends in none of ``suffixes`` (the format is chosen by it)."""
    given = [suffixes] if isinstance(suffixes, str) else list(suffixes)
    if len(given) == 1:
        return (f"Cannot write {file}: give a name ending in {given[0]}, the format it is "
                "written in.",
                f"无法写入 {file}：文件名须以 {given[0]} 结尾（文件按此格式写出）。")  # fmt: skip
    listed = " ".join(given)
    return (
        f"Cannot write {file}: give a name ending in one of {listed}; the format is chosen by it.",
        f"无法写入 {file}：文件名须以下列后缀之一结尾（按后缀选择格式）：{listed}。",
    )


@READ_ERRORS.worded("layers_ambiguous")
def _layers_ambiguous(
    file: str, entity: str, layers: Sequence[str], example: str | None = None
) -> Words:
    first = example or layers[0]
    return (f"{file} has {len(layers)} layers {list(layers)}; say which holds the "
            f"{entity_word(entity, 'en')}, e.g. --layer {entity}={first} (Python: "
            f"layer={first!r}).",
            f"{file} 有 {len(layers)} 个图层（{quoted(layers)}）；请指明哪个图层是"
            f"{entity_word(entity, 'zh')}，例如 --layer {entity}={first}。")  # fmt: skip


@READ_ERRORS.worded("zip_without_layer")
def _zip_without_layer(file: str, found: Sequence[str], n: int) -> Words:
    more = " …" if n > len(found) else ""
    held_en = f"found {list(found)}{more}" if found else "it is empty"
    held_zh = f"其中有 {quoted(found)}{more}" if found else "压缩包是空的"
    return (f"{file} holds no file gridmap reads ({held_en}); zip all the parts of the "
            "Shapefile (.shp .shx .dbf .prj …), a FileGDB folder (.gdb), or a .gpkg, .geojson, "
            ".kml, .csv or .xlsx.",
            f"{file} 中没有本程序能读取的文件（{held_zh}）；请把 .shp 文件连同与它同名的其他文件"
            "（.dbf、.prj 等）、文件地理数据库（.gdb 文件夹），或 .gpkg、.geojson、.kml、.csv、"
            ".xlsx 文件压缩进去。")  # fmt: skip


@READ_ERRORS.worded("rows_too_long")
def _rows_too_long(file: str, lines: Sequence[int], n: int, width: int) -> Words:
    """Lines of a CSV with more cells than its header (an unquoted comma in a value)."""
    return (f"{file}: line(s) {_rows(lines, n, 'en')} hold more cells than the header "
            f"({width} columns): a comma inside a value without quotes? Put such values in "
            "quotes, or remove the extra cells.",
            f"{file}：第 {_rows(lines, n, 'zh')} 行的单元格比表头（{width} 列）多：值中是否有未加"
            "引号的逗号？请给这样的值加上引号，或删去多余的单元格。")  # fmt: skip


# --- mapping files and headers -----------------------------------------------------------------


@READ_ERRORS.worded("header_problems")
def _header_problems(problems: Sequence[ColumnProblem]) -> Words:
    en = "; ".join(p.message("en")[0].upper() + p.message("en")[1:] for p in problems) + "."
    zh = "；".join(p.message("zh") for p in problems) + "。"
    return en, zh


@READ_ERRORS.worded("columns")
def _columns(
    file: str, entity: str, headers: Sequence[object], problems: Sequence[ColumnProblem]
) -> Words:
    en_list = "\n".join(f"  - {p.message('en')}" for p in problems)
    zh_list = "\n".join(f"  - {p.message('zh')}" for p in problems)
    return (f"{file}: {len(problems)} problem(s) with the {entity} columns (headers: "
            f"{list(headers)}):\n{en_list}",
            f"{file}：{entity_word(entity, 'zh')}表的列有 {len(problems)} 处问题（表头："
            f"{quoted(headers)}）：\n{zh_list}")  # fmt: skip


# --- coordinates ---------------------------------------------------------------------------------


def _crs_source(given: bool) -> Words:
    """Who says the CRS: the ``--crs`` option, or the file."""
    if given:
        return "--crs (crs=) says", "--crs 指定的是"
    return "the file declares", "文件声明的是"


@READ_ERRORS.worded("not_lonlat", CRSError)
def _not_lonlat(file: str, x: float, y: float, crs: str, given: bool) -> Words:
    source_en, source_zh = _crs_source(given)
    return (f"{file}: coordinates ({x:.0f}, {y:.0f}) … are not longitude/latitude, but "
            f"{source_en} {crs}. Give the CRS they are in, e.g. --crs EPSG:4545 (CGCS2000 3° "
            "Gauss-Krüger, CM 108°E).",
            f"{file}：坐标（{x:.0f}, {y:.0f}）… 不是经纬度，但{source_zh} {crs}。请给出坐标实际所用"
            "的坐标系，例如 --crs EPSG:4545（CGCS2000 三度带高斯-克吕格投影，中央经线东经 108°）。"
            )  # fmt: skip


@READ_ERRORS.worded("lonlat_in_projected", CRSError)
def _lonlat_in_projected(file: str, x: float, y: float, crs: str, given: bool) -> Words:
    """Longitude/latitude in a file (or ``--crs``) that says they are metres of a projected CRS,
    which would put them hundreds of kilometres away, near the CRS's origin."""
    source_en, source_zh = _crs_source(given)
    return (f"{file}: coordinates ({x:.6f}, {y:.6f}) … are longitude/latitude, but {source_en} "
            f"the projected {crs} (metres). Give --crs EPSG:4490 (CGCS2000 longitude/latitude; "
            "it replaces the one declared) or export the file again with its real CRS.",
            f"{file}：坐标（{x:.6f}, {y:.6f}）… 是经纬度，但{source_zh}以米为单位的投影坐标系 "
            f"{crs}。请用 --crs EPSG:4490（CGCS2000 经纬度，代替文件声明的坐标系），或按实际坐标系"
            "重新导出文件。")  # fmt: skip


@READ_ERRORS.worded("not_in_crs", CRSError)
def _not_in_crs(
    file: str,
    x: float,
    y: float,
    crs: str,
    given: bool,
    zone: int | None,
    prefixed: bool,
    suggested: str | None,
) -> Words:
    """Projected coordinates that do not lie in the CRS declared or given (a Gauss-Krüger X
    with the zone number in front where the CRS has none, or the other way)."""
    source_en = "--crs (crs=) gives" if given else "the file declares"
    source_zh = "--crs 指定的" if given else "文件声明的"
    if zone is None:
        why_en, why_zh = "", ""
    elif prefixed:
        why_en = f"; X begins with the zone number {zone}, which {crs} does not have in front"
        why_zh = f"；X 坐标前面带有带号 {zone}，而 {crs} 的 X 坐标不带带号"
    else:
        why_en = f"; {crs} has the zone number {zone} in front of X, which the coordinates lack"
        why_zh = f"；{crs} 的 X 坐标前面带有带号 {zone}，而这些坐标没有带号"
    fix = f"--crs {suggested}" if suggested else "--crs EPSG:4545"
    return (f"{file}: coordinates ({x:.0f}, {y:.0f}) … do not lie in {crs}, which {source_en}"
            f"{why_en}. Give the CRS they are in, e.g. {fix} (it replaces the one declared); the "
            "same zone of Xian 1980 or Beijing 1954 if the data are in those.",
            f"{file}：坐标（{x:.0f}, {y:.0f}）… 不在{source_zh} {crs} 范围内{why_zh}。请用 "
            f"--crs 给出坐标实际所用的坐标系，例如 {fix}（代替文件声明的坐标系）；若数据是西安 80 "
            "或北京 54 坐标，请给出相应坐标系的同一投影带。")  # fmt: skip


@READ_ERRORS.worded("lat_lon_swapped", CRSError)
def _lat_lon_swapped(file: str, x: float, y: float, columns: Sequence[str]) -> Words:
    """Coordinates in China given as latitude, longitude: the other way round."""
    if columns:
        lon, lat = columns
        fix_en = f"the column {lon!r} holds latitudes and {lat!r} longitudes: swap the two headers"
        fix_zh = f"“{lon}”列存的是纬度、“{lat}”列存的是经度：请对调这两列的表头"
    else:
        fix_en = (
            "export the file again with longitude first (x = longitude, y = latitude, "
            "as GeoJSON requires)"
        )
        fix_zh = "请重新导出，经度在前（x 为经度、y 为纬度，GeoJSON 要求如此）"
    return (f"{file}: coordinates ({x:.4f}, {y:.4f}) … are latitude, longitude the wrong way "
            f"round (y cannot be a latitude above 90); {fix_en}.",
            f"{file}：坐标（{x:.4f}, {y:.4f}）… 的经纬度顺序颠倒了（纬度不可能超过 90）；"
            f"{fix_zh}。")  # fmt: skip


# --- records (the plan commands' inputs) ----------------------------------------------------------


@READ_ERRORS.worded("duplicate_ids", DuplicateIdError)
def _duplicate_ids(
    file: str, entity: str, column: str, repeats: Sequence[tuple[str, Sequence[int]]], n: int
) -> Words:
    en = "; ".join(f"{i} (data rows {_rows(r, None, 'en')})" for i, r in repeats)
    zh = "；".join(f"“{i}”（数据行 {_rows(r, None, 'zh')}）" for i, r in repeats)
    more_en, more_zh = (f" … ({n} in all)", f" …（共 {n} 个）") if n > len(repeats) else ("", "")
    return (f"{file}: {n} {column} value(s) occur more than once: {en}{more_en}. Every "
            f"{entity} needs its own {column}: correct or delete the repeated rows.",
            f"{file}：{n} 个{column_word(column, 'zh')}重复：{zh}{more_zh}。每个"
            f"{entity_word(entity, 'zh')}的{column_word(column, 'zh')}都不能相同：请改正或删除"
            "重复的行。")  # fmt: skip


@READ_ERRORS.worded("blank_ids")
def _blank_ids(file: str, entity: str, column: str, rows: Sequence[int], n_rows: int) -> Words:
    return (f"{file}: data row(s) {_rows(rows, n_rows, 'en')} have no {column}; every {entity} "
            "needs one: fill it in or delete those rows.",
            f"{file}：数据行 {_rows(rows, n_rows, 'zh')} 没有{column_word(column, 'zh')}；每个"
            f"{entity_word(entity, 'zh')}都要有：请填写，或删除这些行。")  # fmt: skip


@READ_ERRORS.worded("bad_counts")
def _bad_counts(
    file: str, entity: str, column: str, rows: Sequence[int], n_rows: int, ids: Sequence[str]
) -> Words:
    return (f"{file}: data row(s) {_rows(rows, n_rows, 'en')} ({entity} {', '.join(ids)}) have "
            f"no usable {column} count (not a number, negative or fractional). Enter a "
            "whole number >= 0 (0 for schools, markets, offices).",
            f"{file}：数据行 {_rows(rows, n_rows, 'zh')}（{entity_word(entity, 'zh')} "
            f"{'、'.join(ids)}）的{column_word(column, 'zh')}不是数字、为负数或小数；请填写"
            "不小于 0 的整数（学校、市场、办公楼填 0）。")  # fmt: skip


@READ_ERRORS.worded("missing_counts")
def _missing_counts(file: str, n: int, total: int, ids: Sequence[str]) -> Words:
    """Buildings with no household count at all (an OpenStreetMap extract, a footprint layer
    drawn before the roster was taken): what to give instead."""
    more_en, more_zh = (" …", " 等") if n > len(ids) else ("", "")
    return (f"{file}: {n} of {total} buildings have no household count ({', '.join(ids)}"
            f"{more_en}); planning needs the households of every building. Give a buildings file "
            "with a households column (name its header with --households-field if it is not "
            "recognised; 0 for schools, markets, offices), or import the buildings with the "
            f"household roster (gridmap import --buildings {file} --households households.csv "
            "counts each building's households) and plan from the store (gridmap plan "
            "partition).",
            f"{file}：{total} 栋楼中有 {n} 栋没有户数（{'、'.join(ids)}{more_zh}）；划分网格需要"
            "每栋楼的户数。请给出带户数列的楼栋文件（表头未能识别时用 --households-field 指定；"
            "学校、市场、办公楼填 0），或连同住户名单导入楼栋（gridmap import --buildings "
            f"{file} --households 住户.csv，按名单统计每栋楼的户数），再从数据库划分（gridmap "
            "plan partition）。")  # fmt: skip


_GEOMETRY_KINDS_ZH = {"Point": "点", "LineString": "线", "MultiLineString": "多线",
                      "Polygon": "面", "MultiPolygon": "多面"}  # fmt: skip


@READ_ERRORS.worded("wrong_geometry_kind", InvalidGeometryError)
def _wrong_geometry_kind(
    file: str, entity: str, ids: Sequence[str], n: int, allowed: Sequence[str]
) -> Words:
    shown_en = ", ".join(ids) + (f" … ({n} in all)" if n > len(ids) else "")
    shown_zh = "、".join(ids) + (f" …（共 {n} 个）" if n > len(ids) else "")
    kinds_zh = "或".join(_GEOMETRY_KINDS_ZH.get(k, k) for k in sorted(allowed))
    return (f"{file + ': ' if file else ''}{entity}(s) {shown_en} have geometries of the wrong "
            f"kind; {entity} geometries must be {' or '.join(sorted(allowed))}. Check that the "
            "right file or layer was given.",
            f"{file + '：' if file else ''}{entity_word(entity, 'zh')} {shown_zh} 的图形类型不对；"
            f"{entity_word(entity, 'zh')}的图形须为{kinds_zh}。请检查给的文件或图层是否正确。"
            )  # fmt: skip


@READ_ERRORS.worded("deletions_lack_columns")
def _deletions_lack_columns(file: str, found: Sequence[str]) -> Words:
    return (f"{file} needs the columns entity,id (found {list(found)}); one line per record to "
            "remove, e.g. building,B00017.",
            f"{file} 须有 entity、id 两列（现有 {quoted(found)}）；每行写一条要删除的记录，例如 "
            "building,B00017。")  # fmt: skip


@READ_ERRORS.worded("deletions_bad_rows")
def _deletions_bad_rows(file: str, rows: Sequence[int], n_rows: int, known: Sequence[str]) -> Words:
    return (f"{file}: {', '.join(f'row {r}' for r in rows)}"
            f"{' …' if n_rows > len(rows) else ''} name no known entity ({', '.join(known)}) "
            "or have an empty id; fix those lines.",
            f"{file}：第 {'、'.join(map(str, rows))}{' …' if n_rows > len(rows) else ''} 行的 "
            f"entity 不是 {'、'.join(known)} 之一，"
            "或 id 为空；请改正这些行。")  # fmt: skip


@READ_ERRORS.worded("bad_layer_option")
def _bad_layer_option(value: str, entities: Sequence[str]) -> Words:
    return (f"--layer {value!r}: use ENTITY=LAYER, e.g. building=楼栋; ENTITY is one of "
            f"{', '.join(entities)}.",
            f"--layer “{value}” 的写法不对：应为 类别=图层名，例如 building=楼栋；类别可为 "
            f"{'、'.join(entities)}"
            f"（{'、'.join(entity_word(e, 'zh') for e in entities)}）。")  # fmt: skip


read_error = READ_ERRORS.error
"""``read_error(code, **values)``: the error ``code`` of :data:`READ_ERRORS` (its class:
InputError, CRSError …)."""


# --- problems of a file's headers --------------------------------------------------------------


def _unknown_targets(entity: str, targets: Sequence[str], known: Sequence[str]) -> Words:
    return (f"the column mapping for {entity} targets unknown column(s) {list(targets)}; known "
            f"columns are {list(known)}",
            f"{entity_word(entity, 'zh')}的列名对照指向不存在的列 {quoted(targets)}；可用的列名有 "
            f"{quoted(known)}")  # fmt: skip


def _doubled(entity: str, doubles: Sequence[tuple[str, Sequence[object]]]) -> Words:
    en = "; ".join(f"{target} ← {list(headers)}" for target, headers in doubles)
    zh = "；".join(
        f"{quoted(headers)} 都是{column_word(target, 'zh')}" for target, headers in doubles
    )
    return (f"several {entity} headers map to the same column ({en}); rename or map one of them "
            "explicitly, or ignore one with an empty target, e.g. mapping={'电话': ''}",
            f"{entity_word(entity, 'zh')}表有几个表头对应同一列（{zh}）；请改掉其中一个表头，或在 "
            "--mapping 对照文件中明确对应，或把不用的那个对应为空（例如 电话 = \"\"）")  # fmt: skip


def _field_header_missing(header: object, column: str) -> Words:
    return (f"no header {header!r} in the file (named for {column} by a --*-field option or "
            "fields=)",
            f"文件中没有表头“{header}”（命令的字段选项指定它为{column_word(column, 'zh')}列）；"
            "请检查表头的写法")  # fmt: skip


def _mapped_header_missing(column: str, header: object) -> Words:
    return (f"{column}: the mapping names header {header!r}, which the file lacks",
            f"{column_word(column, 'zh')}：列名对照指定的表头“{header}”在文件中没有；请检查表头或"
            "对照文件的写法")  # fmt: skip


def _column_missing(column: str) -> Words:
    word = column_word(column, "zh")
    return (f"no {column} column; map its header with mapping={{'<header>': '{column}'}} (a TOML "
            "mapping file, or the command's field option)",
            f"缺少“{word}”列；请把该列的表头改为“{word}”，或在 --mapping 对照文件中（或用命令的字段"
            "选项）指定哪一列是它")  # fmt: skip


def _household_id_missing(lacking: Sequence[str], person: bool = False) -> Words:
    en, zh = _column_missing("household_id")
    lacks_en = " and ".join(lacking)
    lacks_zh = "和".join(f"“{column_word(c, 'zh')}”" for c in lacking)
    en += (
        f"; or give the address household ids are made of (building_id + unit + room, "
        f"e.g. B00001-1-301): no {lacks_en} column"
    )
    zh += (
        f"；或者给出可生成户号的地址列（楼栋编号 + 单元 + 房号，如 B00001-1-301）：缺少{lacks_zh}列"
    )
    if person:  # persons are also found by where they live (gridmap.io.addresses)
        en += "; or where each person lives, as text (现住址) or as 经度/纬度 with unit and room"
        zh += "；或者给出每人的居住地址（现住址），或经度/纬度及单元、房号"
    return en, zh


_PERSONAL = {"id_number": ("citizen ID numbers (GB 11643)", "身份证号"),
             "phone": ("mobile phone numbers", "手机号")}  # fmt: skip


def _id_like(header: object, column: str, target: str, generated: bool) -> Words:
    what_en, what_zh = _PERSONAL[target]
    return (f"column {header!r} ({column}) holds {what_en}: personal data is never used as a "
            f"record id. Map that header to {target} (mapping={{{str(header)!r}: '{target}'}}) "
            f"or ignore it (mapping={{{str(header)!r}: ''}}) and give another {column} column"
            + ("; without it, ids are generated" if generated else ""),
            f"“{header}”列（当作{column_word(column, 'zh')}）存的是{what_zh}：个人信息不能用作"
            f"记录编号。请在 --mapping 对照文件中把它对应为{column_word(target, 'zh')}，或忽略它，"
            f"另给一列{column_word(column, 'zh')}"
            + ("；不给则自动生成编号" if generated else ""))  # fmt: skip


_PROBLEM_WORDS: dict[str, Callable[..., Words]] = {
    "unknown_targets": _unknown_targets,
    "doubled": _doubled,
    "field_header_missing": _field_header_missing,
    "mapped_header_missing": _mapped_header_missing,
    "column_missing": _column_missing,
    "household_id_missing": _household_id_missing,
    "id_like": _id_like,
}

COLUMN_PROBLEM_CODES = tuple(_PROBLEM_WORDS)
"""Every code a :class:`ColumnProblem` may have."""


class ColumnProblem(NamedTuple):
    """A problem with a file's headers (a column missing, two headers for one column …).

    ``problem.message(lang)`` words it; ``str(problem)`` is the English. The ``columns``
    error of :data:`READ_ERRORS` lists every problem of a file.
    """

    code: str
    values: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, code: str, **values: Any) -> ColumnProblem:
        """The problem ``code`` with ``values``; unknown codes are refused (ValueError)."""
        if code not in _PROBLEM_WORDS:
            raise ValueError(f"unknown column problem {code!r}; codes are {COLUMN_PROBLEM_CODES}")
        return cls(code, tuple(values.items()))

    def message(self, lang: str = "zh") -> str:
        """The problem in ``lang``: ``"zh"`` or ``"en"``."""
        en, zh = _PROBLEM_WORDS[self.code](**dict(self.values))
        return zh if lang == "zh" else en

    def __str__(self) -> str:
        return self.message("en")
