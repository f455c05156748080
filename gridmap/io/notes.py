"""Notes about files read: what :func:`gridmap.read_layer` detected or chose, in English and
Chinese, all written here.

A :class:`ReadNote` is a small record (``code``, ``file``, ``values``) appended to
``frame.attrs["notes"]``; :meth:`ReadNote.message` words it in the language asked for
(``message_zh``, ``message_en``), so a command prints one language at a time. The record is a
named tuple: hashable (repeats are dropped with ``dict.fromkeys``), picklable, and written as
plain JSON where pandas stores ``attrs`` (``to_parquet``, which refuses a frame whose attrs hold
a dataclass). ``str(note)`` is the English message.

Codes (:data:`NOTE_CODES`):

============================  ========================================================
``encoding_given``            text read in the encoding given (``--encoding``)
``encoding_cpg``              text read as the Shapefile's ``.cpg`` says
``encoding_detected``         Shapefile without ``.cpg``: encoding judged from the text
``encoding_not_declared``     the ``.cpg`` or code page is wrong: read as detected
``encoding_not_utf8``         a CSV that is not UTF-8, read as GB18030
``headers_cut``               Shapefile field names cut inside a character
``layer_chosen``              the layer of a multi-layer file, found by its name, or the only one
                              with records
``description_read``          KML/KMZ: fields written in the placemarks' descriptions read into
                              columns (``户数：120``, ArcGIS's HTML table)
``osm_streets``               OSM extract: streets taken by ``highway`` class, ways left out
``osm_buildings``             OSM extract: buildings taken, with levels and dwelling counts
``osm_households_missing``    OSM extract: buildings without a dwelling count (said once)
``osm_compounds``             OSM extract: named residential areas taken as compounds
``osm_communities``           OSM extract: administrative boundaries taken as communities
``osm_outlines_broken``       OSM extract: areas whose outline GDAL could not close, left out
``crs_reinterpreted``         coordinates not lon/lat although declared so: read in the CRS given
``crs_kept``                  the file's own CRS kept, the CRS given not used
``made_2d``                   3-D geometries made 2-D
``measures_dropped``          the M values (measures) of the geometries dropped by GDAL
``ids_generated``             ids generated for records without one
``address_ids``               household ids made of building + unit + (floor) + room
``address_repeated``          an address of a household roster holding several households
``address_conflict``          address parts that disagree (楼层 4, 房号 301): kept, not guessed
``households_of_persons``     households made of a persons roster's addresses (no roster)
``grid_codes_made``           grids drawn without codes (奥维, Google Earth): grid codes made,
                              communities found by location, grids in no community left out
``households_found``          persons without 户号 or 楼栋编号 linked by 现住址 or coordinates
``formulas_unsaved``          spreadsheet formulas without a saved value, read as empty
``merged_cells_filled``       merged spreadsheet cells: each row of a range takes its value
``workbook_content``          a file named as a workbook (.xls …) that is really HTML, XML, text
                              or a workbook of another kind, read as what it is
``boundary_crosses_itself``   a community boundary crossing or touching itself (also warned)
``boundary_invalid``          a community, compound or grid area with a hole outside its outer
                              ring, parts overlapping or nested, … (also warned)
``placed_by_point``           buildings drawn as lines or collections: placed by a point on them
``header_rows_combined``      a header of two rows (a group title over its columns) read as one
``rows_without_geometry``     table rows whose lon/lat or WKT cannot be read, records of a layer
                              with a NaN or infinite coordinate (also warned)
``id_numbers_as_numbers``     ID numbers a spreadsheet stored as numbers (also warned)
``hidden_read``               rows (an AutoFilter's or hidden by hand) and columns a workbook
                              hides, read like the others (.xlsx)
``rows_left_out``             table rows that are no record: a 合计 (total) row, notes below the
                              table (填表人 …), the header repeated (two exports pasted together)
============================  ========================================================

The last two, ``boundary_crosses_itself`` and ``boundary_invalid`` are also warned
(:class:`ReadWarning`, in English) for users of the library; the commands print the note
instead, in the language asked for.

Examples
--------
>>> note = ReadNote.of("encoding_detected", "buildings.shp", encoding="GB18030")
>>> note.message_en
'buildings.shp: text read as GB18030 (no .cpg)'
>>> note.message("zh")
'buildings.shp：没有 .cpg 文件，按内容判断，文字以 GB18030 读取'
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from gridmap.messages import glossary

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["ENCODING_CODES", "ENTITY_WORDS", "NOTE_CODES", "ZIP_MEMBER", "ReadNote", "ReadWarning",
           "Words", "entity_word", "grouped_messages", "renamed", "zip_member"]  # fmt: skip

Words = tuple[str, str]
"""A text in English and in Chinese."""

ENTITY_WORDS: dict[str, Words] = glossary("entities")
"""Entity name → (English plural, Chinese), for messages."""


def entity_word(entity: str, lang: str) -> str:
    """``entity`` in words: the English plural (``communities``) or the Chinese (``社区``)."""
    en, zh = ENTITY_WORDS.get(entity, (entity, entity))
    return zh if lang == "zh" else en


def _quoted(items: Iterable[object], lang: str) -> str:
    """``['a', 'b']`` (English, as Python prints a list) or ``“a”、“b”`` (Chinese)."""
    items = [str(i) for i in items]
    return "、".join(f"“{i}”" for i in items) if lang == "zh" else str(items)


def _encoding(how_en: str, how_zh: str) -> Callable[..., Words]:
    def words(file: str, encoding: str, **_: Any) -> Words:
        return (f"{file}: text read as {encoding} ({how_en})",
                f"{file}：{how_zh}，文字以 {encoding} 读取")  # fmt: skip

    return words


def _not_declared(file: str, encoding: str, declared: str, **_: Any) -> Words:
    return (f"{file}: text read as {encoding} (not {declared} as declared)",
            f"{file}：文字不是所声明的 {declared}，以 {encoding} 读取")  # fmt: skip


def _headers_cut(file: str, headers: Sequence[str], **_: Any) -> Words:
    return (f"{file}: header(s) {_quoted(headers, 'en')} were cut inside a character (a Shapefile "
            "field name holds 10 bytes); the broken character is dropped",
            f"{file}：表头 {_quoted(headers, 'zh')} 在汉字中间被截断（.shp 文件的字段名最多 10 个"
            "字节），残缺的字已去掉")  # fmt: skip


def _layer_chosen(file: str, entity: str, layer: str, **_: Any) -> Words:
    return (f"{file}: {entity_word(entity, 'en')} read from layer {layer!r}",
            f"{file}：{entity_word(entity, 'zh')}取自图层“{layer}”")  # fmt: skip


def _description_read(file: str, n: int, headers: Sequence[str], **_: Any) -> Words:
    return (f"{file}: the descriptions of {n} record(s) read into column(s) "
            f"{_quoted(headers, 'en')} (the fields written in them)",
            f"{file}：{n} 条记录的说明中所写的字段已读作列 {_quoted(headers, 'zh')}")  # fmt: skip


def _crs_reinterpreted(file: str, crs: str, **_: Any) -> Words:
    return (f"{file}: coordinates are not lon/lat; read in {crs}",
            f"{file}：坐标不是经纬度，按 {crs} 读取")  # fmt: skip


def _crs_kept(file: str, crs: str, **_: Any) -> Words:
    return (f"{file}: declares {crs}; the CRS given is not used for it",
            f"{file}：文件自带坐标系 {crs}，指定的坐标系不用于此文件")  # fmt: skip


_OFFSET_WORDS: dict[str, Words] = {
    "gcj02": ("GCJ-02 (AMap/Gaode, Tencent)", "GCJ-02（高德、腾讯地图坐标）"),
    "bd09": ("BD-09 (Baidu)", "BD-09（百度地图坐标）"),
}


def _offset_removed(file: str, system: str, n: int, headers: Sequence[str], **_: Any) -> Words:
    en, zh = _OFFSET_WORDS[system]
    why_en = f"as the headers {list(headers)} say" if headers else "as given"
    why_zh = f"表头 {_quoted(headers, 'zh')} 如此标明" if headers else "按所指定的坐标系"
    return (f"{file}: {n} geometries' lon/lat read as {en} ({why_en}) and shifted to true "
            "WGS 84 coordinates (a few hundred metres)",
            f"{file}：{n} 个图形的经纬度按{zh}读取（{why_zh}），已换算为真实的 WGS 84 坐标"
            "（相差数百米）")  # fmt: skip


def _outlines_as_areas(file: str, entity: str, n: int, **_: Any) -> Words:
    return (f"{file}: {n} {entity_word(entity, 'en')} drawn as closed lines (outlines) read as "
            "the areas they enclose",
            f"{file}：{n} 个{entity_word(entity, 'zh')}以闭合线（轮廓线）绘制，已按其围成的区域读取"
            )  # fmt: skip


def _made_2d(file: str, n: int, **_: Any) -> Words:
    return (f"{file}: {n} 3-D geometries made 2-D (heights dropped)",
            f"{file}：{n} 个三维图形已改为二维（高度已去掉）")  # fmt: skip


def _measures_dropped(file: str, **_: Any) -> Words:
    return (f"{file}: the M values (measures) of its geometries are dropped; only x and y are used",
            f"{file}：图形的 M 值（测量值）已去掉，只用平面坐标")  # fmt: skip


def _ids_generated(file: str, entity: str, n: int, prefix: str = "", **_: Any) -> Words:
    if prefix:
        how_en, how_zh = f"{prefix}… from the geometry", f"{prefix}… 按图形生成"
    else:
        how_en, how_zh = "from the household id and row", "按户号和行序生成"
    what = ("名" if entity == "person" else "个") + entity_word(entity, "zh")  # 名 counts people
    return (f"{file}: {n} {entity} id(s) generated ({how_en})",
            f"{file}：{n} {what}没有编号，已生成（{how_zh}）")  # fmt: skip


def _address_ids(
    file: str,
    entity: str,
    n: int,
    headers: Sequence[str],
    example: str,
    without: int,
    placed: int = 0,
    **_: Any,
) -> Words:
    parts = " + ".join(headers)
    if entity == "household":
        en, zh = f"{n} household id(s) made", f"{n} 户没有户号，已按"
    else:
        en, zh = f"the household id of {n} person(s) made", f"{n} 名人员没有户号，已按"
    en = (
        f"{file}: {en} from {parts} (e.g. {example}; the floor only where the room number "
        "does not carry it)"
    )
    zh = f"{file}：{zh} {parts} 生成（如 {example}；房号已含楼层时不加楼层）"
    if placed and entity == "household":
        en += (
            f"; {placed} data row(s) without building but with an address or coordinates get "
            "theirs once the import finds their building by them"
        )
        zh += f"；{placed} 个数据行没有楼栋编号，但有地址或坐标：导入时据此找到所在楼栋后再生成"
    elif placed:
        en += (
            f"; {placed} data row(s) without building but with an address or coordinates are "
            "linked when the import finds their household by them"
        )
        zh += f"；{placed} 个数据行没有楼栋编号，但有现住址或坐标：导入时据此找到所在住户后再关联"
    if without:
        en += f"; {without} data row(s) without building or room have none (see the report)"
        zh += f"；{without} 个数据行缺少楼栋编号或房号，未生成（见报告）"
    return en, zh


def _address_repeated(
    file: str, repeats: Sequence[tuple[str, Sequence[int]]], n: int, **_: Any
) -> Words:
    en = "; ".join(f"{key} (data rows {_rows(rows, len(rows), 'en')})" for key, rows in repeats)
    zh = "；".join(f"{key}（数据行 {_rows(rows, len(rows), 'zh')}）" for key, rows in repeats)
    more_en, more_zh = (f" … ({n} in all)", f" …（共 {n} 个）") if n > len(repeats) else ("", "")
    first = repeats[0][0]
    return (f"{file}: {n} address(es) hold more than one household: {en}{more_en}; the later "
            f"ones are numbered -2, -3 … in file order ({first}-2). Check that no household "
            "was entered twice",
            f"{file}：{n} 个地址有不止一户：{zh}{more_zh}；按文件顺序编为 -2、-3 …（如 "
            f"{first}-2）。请核对是否有住户录入了两次")  # fmt: skip


_CONFLICT_WORDS: dict[str, Words] = {
    "floor": ("the room number says another floor than the floor column (楼层 4, 房号 301)",
              "房号所示的楼层与楼层列不同（如楼层 4、房号 301）"),
    "room_cell": ("the room cell holds another unit or floor than the unit or floor column "
                  "(单元 2, 房号 3-301)",
                  "房号中写的单元或楼层与单元、楼层列不同（如单元 2、房号 3-301）"),
}  # fmt: skip


def _address_conflict(
    file: str, kind: str, rows: Sequence[int], n_rows: int, example: str, **_: Any
) -> Words:
    what_en, what_zh = _CONFLICT_WORDS[kind]
    return (f"{file}: in data row(s) {_rows(rows, n_rows, 'en')} {what_en}; nothing guessed: "
            f"the household id keeps both as given (e.g. {example}), apart from the household "
            "the room alone names. Check these rows",
            f"{file}：数据行 {_rows(rows, n_rows, 'zh')} {what_zh}；未作猜测：户号按所填两者"
            f"生成（如 {example}），与只按房号生成的住户不同。请核对这些行")  # fmt: skip


def _households_of_persons(file: str, n: int, stored: int, **_: Any) -> Words:
    en = f"{file}: no household roster given; {n} household(s) made of the persons' addresses"
    en += " (one per address)"
    zh = f"{file}：没有住户表，已按人员的地址生成 {n} 户（每个地址一户）"
    if stored:
        en += f"; {stored} address(es) already stored as households"
        zh += f"；另有 {stored} 个地址的住户已在数据库中"
    return en, zh


def _grid_codes_made(file: str, n: int, named: int, located: int, left_out: int,
                     **_: Any) -> Words:  # fmt: skip
    en, zh = [], []
    if n:
        en.append(f"{n} grid(s) without a grid code got their community's code + a 3-digit "
                  f"number: {named} the number in their name, {n - named} numbered by position "
                  "(north to south, west to east)")  # fmt: skip
        zh.append(f"{n} 个网格没有网格编码，已按社区代码 + 3 位序号生成：{named} 个用名称中的序号，"
                  f"{n - named} 个按位置自北向南、自西向东编号")  # fmt: skip
    if located:
        en.append(f"the community of {located} grid(s) found by location (the one holding most "
                  "of the grid)")  # fmt: skip
        zh.append(f"{located} 个网格没有社区代码，已按位置确定所属社区（占网格面积最多的社区）")
    if left_out:
        en.append(f"{left_out} grid(s) in no community left out (each named below or in the "
                  "report)")  # fmt: skip
        zh.append(f"{left_out} 个网格不在任何社区内，未采用（逐个列于下文或报告中）")
    return f"{file}: " + "; ".join(en), f"{file}：" + "；".join(zh)


def _households_found(file: str, n: int, **_: Any) -> Words:
    return (f"{file}: {n} person(s) without household id or building are linked when the "
            "import finds their household: the one at the same address, else the one of the "
            "building their coordinates lie in + unit + room",
            f"{file}：{n} 名人员没有户号和楼栋编号：导入时按现住址（与住户地址相同）或坐标"
            "（所在楼栋 + 单元 + 房号）找到所在住户后关联")  # fmt: skip


def _formulas_unsaved(
    file: str, n: int, headers: Sequence[str], rows: Sequence[int], n_rows: int, **_: Any
) -> Words:
    more = n_rows > len(rows)
    rows_en = ", ".join(map(str, rows)) + (f" … ({n_rows} rows)" if more else "")
    rows_zh = "、".join(map(str, rows)) + (f" … 共 {n_rows} 行" if more else "")
    return (f"{file}: {n} formula cell(s) in column(s) {_quoted(headers, 'en')}, data row(s) "
            f"{rows_en}, have no saved value and read as empty; open and save the file in "
            "Excel or WPS, or type the values",
            f"{file}：{_quoted(headers, 'zh')} 列有 {n} 个公式单元格没有保存的值（数据行 "
            f"{rows_zh}），按空值读取；请用 Excel 或 WPS 打开后保存，或直接填入数值")  # fmt: skip


def _rows(rows: Sequence[int], n_rows: int, lang: str) -> str:
    """``1, 2, 3`` (``1、2、3``), then how many in all when not all are shown."""
    shown = ("、" if lang == "zh" else ", ").join(map(str, rows))
    if n_rows <= len(rows):
        return shown
    return shown + (f" …（共 {n_rows} 行）" if lang == "zh" else f" … ({n_rows} in all)")


def _rows_without_geometry(
    file: str, rows: Sequence[int], n_rows: int, column: str, **_: Any
) -> Words:
    problem_en, problem_zh = {
        "lonlat": ("lon/lat are not numbers", "经纬度不是数字"),
        "wkt": ("the WKT text cannot be parsed", "WKT 文本无法解析"),
        "not_finite": ("coordinates are NaN or infinite", "坐标含有 NaN 或无穷大的值"),
        "wkt_curved": (
            "the WKT is a curve (CIRCULARSTRING, CURVEPOLYGON …), which is not read: "
            "export it as polygons or lines",
            "WKT 是曲线图形（CIRCULARSTRING、CURVEPOLYGON 等），无法读取，请导出为普通的面或线",
        ),
    }[column]
    en = f"{file}: data row(s) {_rows(rows, n_rows, 'en')}: {problem_en}; they get no geometry."
    zh = f"{file}：数据行 {_rows(rows, n_rows, 'zh')} 的{problem_zh}，这些记录没有位置。"
    return en, zh


def _id_numbers_as_numbers(file: str, rows: Sequence[int], n_rows: int, **_: Any) -> Words:
    return (f"{file}: ID numbers in data row(s) {_rows(rows, n_rows, 'en')} are stored as "
            "numbers; spreadsheets keep only 15 significant digits, so they are probably wrong. "
            "Format the column as text and re-enter them.",
            f"{file}：数据行 {_rows(rows, n_rows, 'zh')} 的身份证号存成了数字；表格软件只保留 15 位"
            "有效数字，这些号码很可能有误。请把该列设为文本格式后重新录入。")  # fmt: skip


_LEFT_OUT_WORDS: dict[str, Words] = {
    "total": ("are total rows, not records",
              "是合计（小计）行，不是记录"),
    "footer": ("are notes below the table (who filled it in, when, remarks), not records",
               "是表格下方的说明（填表人、日期、注等），不是记录"),
    "header": ("repeat the header (two tables pasted one below the other?), with the title "
               "above it if any",
               "重复了表头（两张表上下接在了一起？），连同其上方的标题行"),
}  # fmt: skip


def _rows_left_out(file: str, kind: str, rows: Sequence[int], n_rows: int, **_: Any) -> Words:
    what_en, what_zh = _LEFT_OUT_WORDS[kind]
    return (f"{file}: data row(s) {_rows(rows, n_rows, 'en')} {what_en}; left out",
            f"{file}：数据行 {_rows(rows, n_rows, 'zh')} {what_zh}，已略去")  # fmt: skip


def _hidden_read(
    file: str, rows: Sequence[int], n_rows: int, headers: Sequence[str], filtered: bool, **_: Any
) -> Words:
    en, zh = [], []
    if n_rows:
        which_en = "the sheet has an AutoFilter; the {} data row(s) it hides"
        which_zh = "表格设置了筛选，筛选隐藏的 {} 行也已读入"
        if not filtered:
            which_en, which_zh = (
                "{} data row(s) hidden in the workbook",
                "表格中隐藏的 {} 行也已读入",
            )
        en.append(
            f"{which_en.format(n_rows)} (data row(s) {_rows(rows, n_rows, 'en')}) were "
            "read too, not only the rows shown"
        )
        zh.append(f"{which_zh.format(n_rows)}（数据行 {_rows(rows, n_rows, 'zh')}），读入的不只是"
                  "显示的行")  # fmt: skip
    if headers:
        en.append(f"hidden column(s) {_quoted(headers, 'en')} were read too")
        zh.append(f"隐藏的列 {_quoted(headers, 'zh')} 也已读入")
    return f"{file}: " + "; ".join(en), f"{file}：" + "；".join(zh)


def _merged_cells_filled(file: str, n: int, headers: Sequence[str], **_: Any) -> Words:
    return (f"{file}: {n} merged cell range(s) in column(s) {_quoted(headers, 'en')} filled: "
            "each row of a merged range takes its value",
            f"{file}：列 {_quoted(headers, 'zh')} 中有 {n} 处合并单元格，已将合并的值填入其中"
            "每一行")  # fmt: skip


def _boundary_crosses_itself(
    file: str, id: str, x: float, y: float, before: float, after: float, parts: int, **_: Any
) -> Words:
    return (f"{file}: the boundary of community {id} crosses itself at ({x:.6f}, {y:.6f}): "
            f"{before:,.0f} m² as drawn, {after:,.0f} m² in {parts} part(s) once repaired by "
            "make_valid; buildings in an area the repair loses lie outside every community "
            "(listed). Redraw the boundary",
            f"{file}：社区 {id} 的边界在 ({x:.6f}, {y:.6f}) 处自相交：原样面积 {before:,.0f} "
            f"平方米，自动修复后 {after:,.0f} 平方米，共 {parts} 块；修复丢失的区域中的"
            "楼栋不在任何社区内（见列表）。请重新绘制该边界")  # fmt: skip


_INVALID_WORDS: dict[str, Words] = {
    "crosses_itself": ("crosses or touches itself", "自相交（边界穿过或碰到自身）"),
    "hole_outside": ("has a hole (inner ring) outside its outer ring",
                     "的洞（内环）在外环之外"),
    "parts_overlap": ("is made of parts that overlap one another",
                      "由多个相互重叠的面组成"),
    "parts_nested": ("is made of parts, one lying inside another",
                     "由多个面组成，其中一个面套在另一个面之内（多个面相互重叠）"),
    "holes_nested": ("has a hole inside another hole", "有一个洞套在另一个洞之内"),
    "holes_split": ("has holes that cut its area into pieces", "的洞把面分割成了几块"),
    "other": ("is not a valid area", "不是有效的面"),
}  # fmt: skip


def _boundary_invalid(
    file: str,
    entity: str,
    id: str,
    kind: str,
    x: float,
    y: float,
    before: float,
    after: float,
    parts: int,
    **_: Any,
) -> Words:
    what_en, what_zh = _INVALID_WORDS[kind]
    return (f"{file}: the boundary of {entity} {id} {what_en} (at {x:.6f}, {y:.6f}): "
            f"{before:,.0f} m² as drawn, {after:,.0f} m² in {parts} part(s) once repaired by "
            "make_valid (a hole outside becomes a part of its own); buildings in an area the "
            "repair adds or loses are placed wrongly. Redraw the boundary",
            f"{file}：{entity_word(entity, 'zh')} {id} 的边界{what_zh}（位于 ({x:.6f}, {y:.6f})）："
            f"原样面积 {before:,.0f} 平方米，自动修复后 {after:,.0f} 平方米，共 {parts} 块"
            "（外环之外的洞会成为单独的一块）；修复增加或丢失的区域中的楼栋归属会出错。"
            "请重新绘制该边界")  # fmt: skip


def _placed_by_point(
    file: str, ids: Sequence[str], n: int, kinds: Sequence[str], **_: Any
) -> Words:
    shown_en = ", ".join(ids) + (f" … ({n} in all)" if n > len(ids) else "")
    shown_zh = "、".join(ids) + (f" …（共 {n} 栋）" if n > len(ids) else "")
    zh_kinds = "、".join({"line": "线", "collection": "图形集合"}[k] for k in kinds)
    en_kinds = " or ".join({"line": "lines", "collection": "geometry collections"}[k]
                           for k in kinds)  # fmt: skip
    return (f"{file}: {n} building(s) are drawn as {en_kinds}, not footprints: {shown_en}; "
            "each is placed by one point on it (its grid is the one that point lies in)",
            f"{file}：{n} 栋楼画成了{zh_kinds}，不是楼栋轮廓（面）：{shown_zh}；每栋按其上的"
            "一个点定位（该点所在的网格即其网格）")  # fmt: skip


def _header_rows_combined(
    file: str, rows: Sequence[int], headers: Sequence[str], n: int, **_: Any
) -> Words:
    more_en, more_zh = (f" … ({n} in all)", f" …（共 {n} 个）") if n > len(headers) else ("", "")
    return (f"{file}: the header takes two rows (rows {rows[0]}, {rows[1]}), read as one: "
            f"{', '.join(headers)}{more_en} (the lower header under its group title)",
            f"{file}：表头占两行（第 {rows[0]}、{rows[1]} 行），已合并为一行："
            f"{'、'.join(headers)}{more_zh}（下一行的表头归于其上方的标题）")  # fmt: skip


def _osm_streets(
    file: str,
    n: int,
    selection: str,
    under: int,
    left: int,
    kinds: Sequence[tuple[str, int]],
    **_: Any,
) -> Words:
    en = (
        f"{file}: {n} streets from OSM lines with {selection}; {left} other highway=* ways left out"
    )
    zh = f"{file}：从 OSM 的 {selection} 线取得 {n} 条道路；其余 {left} 条 highway=* 线未取"
    if left:
        more = " …" if left > sum(m for _, m in kinds) else ""
        en += " (" + ", ".join(f"highway={k} {m}" for k, m in kinds) + more + ")"
        zh += "（" + "、".join(f"highway={k} {m} 条" for k, m in kinds) + more + "）"
    if under:
        en += f"; {under} of the streets run in a tunnel or under cover: not grid boundaries"
        zh += f"；取得的道路中 {under} 条在隧道内或有遮盖，不作网格边界"
    return en, zh


def _osm_buildings(
    file: str, n: int, selection: str, levels: int, flats: int, unreadable: int, **_: Any
) -> Words:
    en = (
        f"{file}: {n} buildings from OSM areas with {selection}: {levels} with building:levels "
        f"(floors), {flats} with building:flats (households)"
    )
    zh = (
        f"{file}：从 OSM 的 {selection} 区域取得 {n} 栋楼：{levels} 栋有 building:levels"
        f"（层数），{flats} 栋有 building:flats（户数）"
    )
    if unreadable:
        en += f"; {unreadable} building:flats value(s) are not a whole number and were left empty"
        zh += f"；{unreadable} 个 building:flats 值不是整数，已留空"
    return en, zh


def _osm_households_missing(file: str, n: int, total: int, **_: Any) -> Words:
    return (f"{file}: {n} of {total} buildings have no household count (OSM building:flats); "
            "gridmap partition needs one for every building: import the buildings with the "
            f"household roster (gridmap import --buildings {file} --households households.csv "
            "counts each building's households) and plan from the store (gridmap plan "
            "partition), or give a buildings file with a households column (--households-field)",
            f"{file}：{total} 栋楼中有 {n} 栋没有户数（OSM 的 building:flats）；划分网格需要"
            "每栋楼的户数：请连同住户名单导入楼栋（gridmap import --buildings "
            f"{file} --households 住户.csv，按名单统计每栋楼的户数），再从数据库划分（gridmap plan "
            "partition）；或给出带户数列的楼栋文件（--households-field）")  # fmt: skip


def _osm_compounds(file: str, n: int, selection: str, unnamed: int, **_: Any) -> Words:
    return (f"{file}: {n} compounds from named OSM areas with {selection}; {unnamed} unnamed "
            "area(s) left out",
            f"{file}：从 OSM 的 {selection} 区域中有名称的取得 {n} 个小区；{unnamed} 个没有名称的"
            "区域未取")  # fmt: skip


def _osm_communities(file: str, n: int, selection: str, generated: int, **_: Any) -> Words:
    en = f"{file}: {n} communities from OSM areas with {selection}"
    zh = f"{file}：从 OSM 的 {selection} 区域取得 {n} 个社区"
    if generated:
        en += (
            f"; {generated} without a ref=* tag got a code from their OSM id (e.g. r1234567): "
            "replace it with the 12-digit community code"
        )
        zh += (
            f"；其中 {generated} 个没有 ref=* 标签，代码按 OSM 编号生成（如 r1234567），"
            "请改为 12 位社区代码"
        )
    return en, zh


def _osm_outlines_broken(file: str, entity: str, n: int, **_: Any) -> Words:
    return (f"{file}: {n} {entity} area(s) left out: their outline cannot be "
            "closed (cut at the edge of the extract, or a ring left open in OSM)",
            f"{file}：{n} 个{entity_word(entity, 'zh')}区域未取：其边界不闭合（在数据范围边缘"
            "被截断，或 OSM 中的环未闭合）")  # fmt: skip


_CONTENT_WORDS: dict[str, Words] = glossary("contents")
"""What a file named as a workbook really holds, by kind (html, xls …), in words."""


def _workbook_content(file: str, kind: str, **_: Any) -> Words:
    en, zh = _CONTENT_WORDS[kind]
    return (f"{file}: not what its name says but {en}; read as such",
            f"{file}：内容与文件名所示的格式不符，实为{zh}，已按其读取")  # fmt: skip


_WORDS: dict[str, Callable[..., Words]] = {
    "encoding_given": _encoding("as given", "按指定的编码"),
    "encoding_cpg": _encoding(".cpg", "按 .cpg 文件"),
    "encoding_detected": _encoding("no .cpg", "没有 .cpg 文件，按内容判断"),
    "encoding_not_declared": _not_declared,
    "encoding_not_utf8": _encoding("not valid UTF-8", "不是 UTF-8 文字"),
    "headers_cut": _headers_cut,
    "layer_chosen": _layer_chosen,
    "description_read": _description_read,
    "crs_reinterpreted": _crs_reinterpreted,
    "crs_kept": _crs_kept,
    "offset_removed": _offset_removed,
    "outlines_as_areas": _outlines_as_areas,
    "made_2d": _made_2d,
    "measures_dropped": _measures_dropped,
    "ids_generated": _ids_generated,
    "address_ids": _address_ids,
    "address_repeated": _address_repeated,
    "address_conflict": _address_conflict,
    "households_of_persons": _households_of_persons,
    "households_found": _households_found,
    "grid_codes_made": _grid_codes_made,
    "formulas_unsaved": _formulas_unsaved,
    "merged_cells_filled": _merged_cells_filled,
    "hidden_read": _hidden_read,
    "workbook_content": _workbook_content,
    "boundary_crosses_itself": _boundary_crosses_itself,
    "boundary_invalid": _boundary_invalid,
    "placed_by_point": _placed_by_point,
    "header_rows_combined": _header_rows_combined,
    "rows_without_geometry": _rows_without_geometry,
    "id_numbers_as_numbers": _id_numbers_as_numbers,
    "rows_left_out": _rows_left_out,
    "osm_streets": _osm_streets,
    "osm_buildings": _osm_buildings,
    "osm_households_missing": _osm_households_missing,
    "osm_compounds": _osm_compounds,
    "osm_communities": _osm_communities,
    "osm_outlines_broken": _osm_outlines_broken,
}

NOTE_CODES = tuple(_WORDS)
"""Every code a :class:`ReadNote` may have."""

ENCODING_CODES = frozenset(c for c in NOTE_CODES if c.startswith("encoding_"))
"""The codes that say which text encoding a file was read in (one per file)."""


def frozen_values(
    what: str, code: str, codes: Sequence[str], values: Mapping[str, Any]
) -> tuple[tuple[str, Any], ...]:
    """``values`` of the message ``code`` as ``(name, value)`` pairs, lists (of lists) as tuples:
    a note or an issue holding them is hashable and compares by value.

    Raises
    ------
    ValueError
        ``code`` is not one of ``codes`` (``what`` says of what: "read note" …).
    """
    if code not in codes:
        raise ValueError(f"unknown {what} {code!r}; codes are {list(codes)}")
    return tuple((k, _frozen(v)) for k, v in values.items())


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


class ReadWarning(UserWarning):
    """A note worth a warning (records without geometry, ID numbers probably wrong); its
    :class:`ReadNote` is in ``frame.attrs["notes"]`` too, so the commands ignore the warning."""


class ReadNote(NamedTuple):
    """Something worth telling the person who gave a file, found while reading it.

    Attributes
    ----------
    code : str
        One of :data:`NOTE_CODES`.
    file : str
        The file's name; a file inside a zip is named with the zip (:func:`zip_member`:
        ``村居.zip › 网格/楼栋.shp``).
    values : tuple of (name, value) pairs
        What the message says (encoding, layer, counts …); no personal value.
    """

    code: str
    file: str
    values: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, code: str, file: str, **values: Any) -> ReadNote:
        """The note ``code`` about ``file``; lists among ``values`` are kept as tuples.

        Raises
        ------
        ValueError
            ``code`` is not one of :data:`NOTE_CODES`.
        """
        return cls(code, file, frozen_values("read note", code, NOTE_CODES, values))

    def message(self, lang: str = "zh") -> str:
        """The note in ``lang``: ``"zh"`` (Chinese) or ``"en"``."""
        en, zh = _WORDS[self.code](self.file, **dict(self.values))
        return zh if lang == "zh" else en

    @property
    def message_zh(self) -> str:
        """The note in Chinese."""
        return self.message("zh")

    @property
    def message_en(self) -> str:
        """The note in English."""
        return self.message("en")

    def __str__(self) -> str:
        return self.message_en


def grouped_messages(notes: Iterable[ReadNote], lang: str = "zh") -> list[str]:
    """The ``notes`` in ``lang``, each said once: the notes saying the same of several files
    (same code and values) are one line naming the files, where the first of them was.

    Examples
    --------
    >>> notes = [ReadNote.of("encoding_detected", f"{name}.shp", encoding="GB18030")
    ...          for name in ("社区", "楼栋", "楼栋")]
    >>> grouped_messages(notes, "en")
    ['社区.shp, 楼栋.shp: text read as GB18030 (no .cpg)']
    >>> grouped_messages(notes, "zh")
    ['社区.shp、楼栋.shp：没有 .cpg 文件，按内容判断，文字以 GB18030 读取']
    """
    files: dict[tuple[str, tuple[tuple[str, Any], ...]], dict[str, None]] = {}
    for note in notes:
        files.setdefault((note.code, note.values), {})[note.file] = None
    joined = "、" if lang == "zh" else ", "
    return [ReadNote(code, joined.join(names), values).message(lang)
            for (code, values), names in files.items()]  # fmt: skip


ZIP_MEMBER = " › "
"""Between a zip's name and the name of a file in it, in both languages."""


def zip_member(archive: str, member: str) -> str:
    """How a file inside a zip is named to the person who has the zip.

    >>> zip_member("村居.zip", "网格/楼栋.shp")
    '村居.zip › 网格/楼栋.shp'
    """
    return f"{archive}{ZIP_MEMBER}{member}"


def renamed(notes: Iterable[ReadNote], names: Collection[str], name: str) -> list[ReadNote]:
    """``notes``, those about a file of ``names`` now about ``name`` (the zip › the file)."""
    return [note._replace(file=name) if note.file in names else note for note in notes]


ROWS_SHOWN = 20
"""Data rows a note or error names at most (the rest are counted)."""


def note_rows(
    notes: list[ReadNote],
    code: str,
    bad: npt.ArrayLike,
    path: Path,
    *,
    warn: bool = True,
    **values: str,
) -> None:
    """Note (and, with ``warn``, warn: :class:`~gridmap.io.notes.ReadWarning`) the data rows
    where ``bad`` (a boolean per data row)."""
    import numpy as np  # here: the module is read by commands that must start without numpy

    rows = [int(i) + 1 for i in np.flatnonzero(bad)]
    if rows:
        note = ReadNote.of(code, path.name, rows=rows[:ROWS_SHOWN], n_rows=len(rows), **values)
        notes.append(note)
        if warn:
            warnings.warn(note.message_en, ReadWarning, stacklevel=5)
