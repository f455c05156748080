"""Report lines for records that were repaired, cleared, skipped or left unattached.

Every problem found while validating or attaching a layer becomes one :class:`Issue`; an
:class:`AttachReport` collects them and writes them as CSV or JSON. Issues carry record ids and a
reason only, never personal values (names, ID numbers, phones): "invalid ID number check digit",
not the number.

The words of every issue are written here, in English and Chinese, as the read notes are
(:mod:`gridmap.io.notes`): :meth:`Issue.of` makes an issue from a code of :data:`ISSUE_CODES`
and its values (ids, columns, counts); ``issue.reason`` (an English phrase such as
``"unknown building"``) stays the machine-readable reason, ``issue.detail`` the English detail,
and :meth:`Issue.reason_text` / :meth:`Issue.message` word them in the language asked for. The
report files are written in one language (``lang``), with the reason code kept in their
``reason`` column.

Examples
--------
>>> issue = Issue.of("household", "H7", "unknown_building", building_id="B9")
>>> issue.reason, issue.detail
('unknown building', "building_id 'B9' not in buildings")
>>> issue.reason_text("zh"), issue.message("zh")
('楼栋编号不存在', '楼栋编号“B9”不在楼栋中')
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gridmap.io.notes import entity_word, frozen_values
from gridmap.io.readerrors import column_word
from gridmap.schema import Entity
from gridmap.spreadsheet import safe_frame

__all__ = ["Issue", "AttachReport", "ISSUE_CODES", "REPORT_COLUMNS", "record_labels"]

REPORT_COLUMNS = ("entity", "record_id", "reason", "detail")
"""Columns of :meth:`AttachReport.to_frame` (codes and English)."""
FILE_COLUMNS = ("entity", "record_id", "reason", "problem", "detail")
"""Columns of the report files: codes (entity, reason) and, in the file's language, the record,
the problem and what was found and done."""

Words = tuple[str, str]
"""A text in English and in Chinese."""
IssueWords = Callable[..., tuple[Words, Words]]
"""A function of an issue's entity and values: its reason and its detail (English, Chinese)."""


def record_labels(frame: pd.DataFrame, entity: Entity) -> pd.Series:
    """The id of each record, or ``"row N"`` (data row, 1-based) where the id is missing."""
    rows = pd.Series([f"row {int(i) + 1}" for i in frame.index], index=frame.index)
    if entity.id_column not in frame:
        return rows
    return frame[entity.id_column].astype(object).where(frame[entity.id_column].notna(), rows)


_ROW = re.compile(r"row (\d+)")


def _record(label: str, lang: str) -> str:
    """A record label in ``lang``: ``row 5`` is ``数据行 5`` in Chinese; ids as they are."""
    return _ROW.sub(r"数据行 \1", label) if lang == "zh" else label


def _ent(entity: str) -> str:
    return entity_word(entity, "zh")


def _m2(area: float) -> str:
    return f"{area:,.0f} m²"


def _m2_zh(area: float) -> str:
    return f"{area:,.0f} 平方米"


def _said(reason: Words, detail: Words) -> IssueWords:
    """An issue's words from ``str.format`` templates (English, Chinese) of its reason and
    detail: they name the issue's values and ``{entity}``; the Chinese ones also ``{ent}`` (the
    entity in Chinese) and ``{word}`` (the value ``column`` in Chinese). Other values are left
    unsaid, as the word functions' ``**_`` leave them."""

    def words(entity: str, **values: Any) -> tuple[Words, Words]:
        en = {**values, "entity": entity}
        zh = {**en, "ent": _ent(entity)}
        if "column" in values:
            zh["word"] = column_word(values["column"], "zh")
        return ((reason[0].format(**en), reason[1].format(**zh)),
                (detail[0].format(**en), detail[1].format(**zh)))  # fmt: skip

    return words


# --- records and values (gridmap.attach.validate) ------------------------------------------------


_VALUE_PROBLEMS: dict[str, str] = {
    "obsolete 15-digit ID number": "身份证号是旧的 15 位号码",
    "invalid ID number format": "身份证号格式不对",
    "invalid ID number birth date": "身份证号中的出生日期不存在",
    "invalid ID number check digit": "身份证号校验位不对",
    "invalid phone format": "电话号码格式不对",
}
"""The problems of ID numbers and phones (:func:`gridmap.idnumbers.id_number_problem`)."""


def _invalid_value(column: str, problem: str, **_: Any) -> tuple[Words, Words]:
    word = column_word(column, "zh")
    return ((problem, _VALUE_PROBLEMS.get(problem, f"{word}无效")),
            (f"{column} cleared; correct it in the source file",
             f"{word}已清空；请在原文件中改正"))  # fmt: skip


def _unknown_category(
    column: str, allowed: Sequence[str], allowed_zh: Sequence[str], **_: Any
) -> tuple[Words, Words]:
    word = column_word(column, "zh")
    return ((f"unknown {column}", f"{word}无法识别"),
            (f"value not one of {sorted(allowed)}; cleared",
             f"不是可用的{word}（{'、'.join(allowed_zh)}），已清空"))  # fmt: skip


def _no_address(blank: Sequence[str], **_: Any) -> tuple[Words, Words]:
    en, zh = " and ".join(blank), "和".join(column_word(c, "zh") for c in blank)
    return (("missing id", "缺少编号"),
            (f"no household_id, and none can be made of the address: {en} empty (a household "
             "id is building_id + unit + room); record skipped",
             f"没有户号，也无法按地址生成：{zh}为空（户号按楼栋编号 + 单元 + 房号生成）；"
             "记录已跳过"))  # fmt: skip


def _duplicate_id_number(owner: str, **_: Any) -> tuple[Words, Words]:
    return (("duplicate ID number", "身份证号重复"),
            (f"same ID number as person {owner}",
             f"与人员 {_record(owner, 'zh')} 的身份证号相同"))  # fmt: skip


# --- geometries (gridmap.attach.geomrepair) ------------------------------------------------------

_GEOS_REASONS: dict[str, str] = {
    "Self-intersection": "自相交", "Ring Self-intersection": "环自相交",
    "Too few points": "点数过少", "Hole lies outside shell": "内洞在外环之外",
    "Nested holes": "内洞相互嵌套", "Interior is disconnected": "内部不连通",
    "Nested shells": "外环相互嵌套", "Duplicate Rings": "有重复的环",
    "Invalid Coordinate": "坐标无效", "Ring is not closed": "环未闭合",
}  # fmt: skip
"""What GEOS (:func:`shapely.is_valid_reason`) says is wrong with a geometry, in Chinese."""


def _geos(why: str) -> str:
    return _GEOS_REASONS.get(why.strip(), "图形不合规")


def _size(line: bool) -> Words:
    return ("length", "长度") if line else ("area", "面积")


def _invalid_geometry(
    why: str, change: float, limit: float, line: bool = False, **_: Any
) -> tuple[Words, Words]:
    size_en, size_zh = _size(line)
    pct_en = f"{change:.0%}" if change < 10 else "over 1000% (its area as drawn is about zero)"
    pct_zh = f" {change:.0%}" if change < 10 else "超过 1000%（按原样计算面积约为零）"
    return (("invalid geometry", "图形无效"),
            (f"{why}; make_valid would change its {size_en} by {pct_en} (limit {limit:.0%}; a "
             "bow-tie ring?); record left out, redraw it",
             f"{_geos(why)}；自动修复会使其{size_zh}改变{pct_zh}（上限 {limit:.0%}，可能是自相交的"
             "“8”字形环）；记录未导入，请重新绘制"))  # fmt: skip


def _geometry_repaired(
    why: str, change: float, line: bool = False, **_: Any
) -> tuple[Words, Words]:
    size_en, size_zh = _size(line)
    return (("geometry repaired", "图形已修复"),
            (f"{why}; {size_en} changed by {change:.3%}",
             f"{_geos(why)}；已自动修复，{size_zh}改变 {change:.3%}"))  # fmt: skip


# --- the attach chain (gridmap.attach.chain) -----------------------------------------------------


_TRIED: dict[str, tuple[str, str]] = {
    "address_ambiguous": ("its address matches several buildings", "地址对应多栋楼"),
    "address_unknown": ("its address matches no building", "地址找不到对应的楼栋"),
    "point_far": ("no building contains its point or lies within {tolerance} m",
                  "没有楼栋包含其坐标，{tolerance} 米内也没有楼栋"),
    "nothing": ("it has no building key, address or coordinates", "没有楼栋编号、地址或坐标"),
}  # fmt: skip


def _tried(tried: Sequence[str], tolerance: float) -> Words:
    """What finding a household's building tried and why it failed, in English and Chinese."""
    return ("; ".join(_TRIED[t][0].format(tolerance=f"{tolerance:g}") for t in tried),
            "；".join(_TRIED[t][1].format(tolerance=f"{tolerance:g}") for t in tried))  # fmt: skip


def _no_building(tried: Sequence[str], tolerance: float = 0.0, **_: Any) -> tuple[Words, Words]:
    return ("no building", "未关联到楼栋"), _tried(tried, tolerance)


def _unplaced(tried: Sequence[str], tolerance: float = 0.0, **_: Any) -> tuple[Words, Words]:
    """A household without 户号 or 楼栋编号 whose building was not found: no id can be made."""
    en, zh = _tried(tried, tolerance)
    return (("missing id", "缺少编号"),
            (f"no household_id, and none can be made of the address: building_id empty and no "
             f"building found ({en}); record skipped",
             f"没有户号，也无法按地址生成：楼栋编号为空，且找不到所在楼栋（{zh}）；"
             "记录已跳过"))  # fmt: skip


_PERSON_TRIED: dict[str, tuple[str, str]] = {
    "address_none": ("its address is that of no household", "现住址与任何住户的地址都不相同"),
    "address_several": ("its address is that of several households, so not one",
                        "现住址与多户的地址相同，无法确定是哪一户"),
    "point_far": ("no building contains its point or lies within {tolerance} m",
                  "没有楼栋包含其坐标，{tolerance} 米内也没有楼栋"),
    "no_buildings": ("it has coordinates, but no buildings were given to find the building by",
                     "有坐标，但没有楼栋数据可用来确定所在楼栋"),
    "room_missing": ("its point lies in a building, but its room (房号) is blank",
                     "坐标所在楼栋已找到，但房号为空"),
    "household_none": ("no household {household_id} (the building its point lies in + unit + room)",
                       "没有住户 {household_id}（坐标所在楼栋 + 单元 + 房号）"),
    "household_several": ("several households at {household_id} (-2 …), so not one",
                          "{household_id} 有多户（-2 …），无法确定是哪一户"),
}  # fmt: skip
"""What finding a person's household without 户号 or 楼栋编号 tried and why it failed."""


def _person_tried(tried: Sequence[str], tolerance: float, household_id: str | None) -> Words:
    values = {"tolerance": f"{tolerance:g}", "household_id": household_id}
    return ("; ".join(_PERSON_TRIED[t][0].format(**values) for t in tried),
            "；".join(_PERSON_TRIED[t][1].format(**values) for t in tried))  # fmt: skip


def _no_household(
    tried: Sequence[str], tolerance: float = 0.0, household_id: str | None = None, **_: Any
) -> tuple[Words, Words]:
    en, zh = _person_tried(tried, tolerance, household_id)
    return (("no household", "未关联到住户"),
            (f"no household_id and no household found ({en}); person not attached",
             f"户号为空，也找不到所在住户（{zh}）；人员未关联到住户"))  # fmt: skip


def _unhoused(
    tried: Sequence[str], tolerance: float = 0.0, household_id: str | None = None, **_: Any
) -> tuple[Words, Words]:
    """A person without 户号, 楼栋编号 or person id whose household was not found: no id."""
    en, zh = _person_tried(tried, tolerance, household_id)
    return (("missing id", "缺少编号"),
            (f"no household_id, and no household found by its address or coordinates ({en}); "
             "record skipped",
             f"没有户号，按现住址或坐标也找不到所在住户（{zh}）；记录已跳过"))  # fmt: skip


# --- cross-checks (gridmap.attach.crosscheck) ----------------------------------------------------


def _crosses_street(
    names: Sequence[str], rows: Sequence[int] = (), **_: Any
) -> tuple[Words, Words]:
    en = ", ".join([*names, *(f"row {r}" for r in rows)])
    zh = "、".join([*names, *(f"第 {r} 条" for r in rows)])
    return (("crosses street", "跨越道路"),
            (f"footprint crossed by street {en}", f"道路 {zh} 穿过楼栋轮廓"))  # fmt: skip


def _out_of_range(column: str, value: int, limit: str, cap: int, **_: Any) -> tuple[Words, Words]:
    word, limit_zh = column_word(column, "zh"), column_word(limit, "zh")
    return ((f"{column} out of range", f"{word}超出范围"),
            (f"{column} {value} above the building's {limit} ({cap})",
             f"{word} {value} 大于楼栋的{limit_zh}（{cap}）"))  # fmt: skip


# --- links by location (gridmap.attach.linking) --------------------------------------------------


def _outside_targets(entity: str, column: str, targets: str, **_: Any) -> tuple[Words, Words]:
    target = entity_word({"communities": "community", "compounds": "compound"}[targets], "zh")
    return ((f"outside {targets}", f"不在{target}内"),
            (f"no {column} in the file and the {entity} lies in none of the {targets}; left empty",
             f"文件中没有{column_word(column, 'zh')}，且该{_ent(entity)}不在任何{target}内；"
             "留空"))  # fmt: skip


# --- the store's update (service.storage.footprints) ---------------------------------------------


def _point_outside_footprint(distance_m: float, **_: Any) -> tuple[Words, Words]:
    return (("point outside footprint", "坐标在楼栋轮廓外"),
            (f"the file's point lies {distance_m:,.0f} m outside the stored footprint; footprint "
             "and point kept (did the building move? give its footprint to move it)",
             f"文件中的坐标在已存楼栋轮廓外 {distance_m:,.0f} 米；已保留原轮廓和原坐标"
             "（楼栋是否迁移？如需移动，请在文件中给出楼栋轮廓）"))  # fmt: skip


# --- coverage (gridmap.attach.coverage) ----------------------------------------------------------


def _communities_overlap(other: str, area: float, held: float, **_: Any) -> tuple[Words, Words]:
    if held > 0:
        why_en = f"; {held:,.0f} m² of the overlap is held by {other}'s grids/buildings"
        why_zh = f"；重叠部分有 {_m2_zh(held)}属于社区 {other} 的网格或楼栋"
    else:
        why_en, why_zh = "; nothing shows which boundary is right", "；无从判断哪条边界正确"
    return (("communities overlap", "社区范围重叠"),
            (f"overlaps community {other} by {_m2(area)}{why_en}",
             f"与社区 {other} 重叠 {_m2_zh(area)}{why_zh}"))  # fmt: skip


def _grids_overlap(others: Sequence[tuple[str, float]], **_: Any) -> tuple[Words, Words]:
    en = ", ".join(f"{code} ({area:,.0f} m²)" for code, area in others)
    zh = "、".join(f"{code}（{_m2_zh(area)}）" for code, area in others)
    return ("grids overlap", "网格重叠"), (f"overlaps grid(s) {en}", f"与网格 {zh}重叠")


def _grid_outside(area: float, community_code: str, **_: Any) -> tuple[Words, Words]:
    return (("grid outside community", "网格超出社区"),
            (f"{_m2(area)} of the grid lies outside community {community_code}",
             f"网格有 {_m2_zh(area)}在社区 {community_code} 之外"))  # fmt: skip


def _gap(
    area: float, community_code: str, others: Sequence[str] | None = None, **_: Any
) -> tuple[Words, Words]:
    en = f"{_m2(area)} of community {community_code} is in no grid"
    zh = f"社区 {community_code} 有 {_m2_zh(area)}不在任何网格内"
    if others is not None:
        en += f": a strip along this grid (other grids next to it: {', '.join(others) or 'none'})"
        zh += f"：空隙沿本网格（相邻的其他网格：{'、'.join(others) or '无'}）"
    return ("gap between grids", "网格之间有空隙"), (en, zh)


_WORDS: dict[str, IssueWords] = {
    "missing_id": _said(
        ("missing id", "缺少编号"),
        ("no {column}; record skipped", "没有{word}；记录已跳过")),
    "no_address": _no_address,
    "unsafe_id": _said(
        ("unsafe id", "编号含非法字符"),
        ("{column} holds control or markup characters; record skipped",
         "{word}含控制字符或网页标记字符；记录已跳过")),
    "duplicate_footprint": _said(
        ("duplicate footprint", "楼栋重复"),
        ("data row {row} has the footprint of building {first} (data row {first_row}; "
         "{overlap:.0%} the same): the same building drawn twice? Left out, so its "
         "households are not counted twice; delete one of the two",
         "数据行 {row} 的轮廓与楼栋 {first}（数据行 {first_row}）相同（重合 {overlap:.0%}），"
         "可能是同一栋楼画了两次；本条未导入，以免户数重复计算；请删除其中一条")),
    "duplicate_record": _said(
        ("duplicate record", "重复记录"),
        ("identical copy of data row {first} at data row {row}; copy dropped",
         "数据行 {row} 与数据行 {first} 完全相同；重复的一行已去掉")),
    "control_characters": _said(
        ("control characters in {column}", "{word}含控制字符"),
        ("{column} held control characters (NUL …); removed",
         "{word}中有控制字符（NUL 等），已去掉")),
    "invalid_count": _said(
        ("invalid {column}", "{word}无效"),
        ("{column} {value} is not a non-negative integer (at most {limit}); cleared",
         "{word} {value} 不是非负整数（最大 {limit}），已清空")),
    "invalid_value": _invalid_value,
    "unknown_category": _unknown_category,
    "missing_id_number": _said(
        ("missing ID number", "缺少身份证号"),
        ("id_number is empty", "身份证号为空")),
    "duplicate_id_number": _duplicate_id_number,
    "birth_date_differs": _said(
        ("birth date differs from ID number", "出生日期与身份证号不符"),
        ("digits 7-14 disagree", "身份证号第 7–14 位与出生日期不一致")),
    "sex_differs": _said(
        ("sex differs from ID number", "性别与身份证号不符"),
        ("sex and ID number digit 17 disagree", "身份证号第 17 位与性别不一致")),
    "missing_geometry": _said(
        ("missing geometry", "缺少图形"),
        ("empty or missing geometry; every {entity} needs one; record left out",
         "图形为空或缺失；每个{ent}都需要图形；记录未导入")),
    "invalid_geometry": _invalid_geometry,
    "geometry_repaired": _geometry_repaired,
    "no_household_key": _said(
        ("no household key", "缺少户号"),
        ("household_id is empty; person not attached", "户号为空；人员未关联到住户")),
    "unknown_household": _said(
        ("unknown household", "户号不存在"),
        ("household_id {household_id!r} not in households", "户号“{household_id}”不在住户中")),
    "building_rejected": _said(
        ("building rejected", "所属楼栋未导入"),
        ("building {building_id} was left out (see its line); household not attached",
         "楼栋 {building_id} 未导入（见该楼栋的一行）；住户未关联")),
    "unknown_building": _said(
        ("unknown building", "楼栋编号不存在"),
        ("building_id {building_id!r} not in buildings", "楼栋编号“{building_id}”不在楼栋中")),
    "building_several": _said(
        ("building named ambiguously", "楼栋编号对应多栋楼"),
        ("building_id {building_id!r} reads as several buildings ({ids}); household not "
         "attached", "楼栋编号“{building_id}”可指多栋楼（{ids}）；住户未关联")),
    "outside_building": _said(
        ("coordinates outside building", "坐标不在楼栋内"),
        ("coordinates in no building footprint; attached to the nearest building {building_id} "
         "at {distance:.0f} m",
         "坐标不在任何楼栋轮廓内；已关联到最近的楼栋 {building_id}（相距 {distance:.0f} 米）")),
    "no_building": _no_building,
    "unplaced": _unplaced,
    "no_household": _no_household,
    "unhoused": _unhoused,
    "no_geometry": _said(
        ("no geometry", "缺少位置"),
        ("building has no footprint or point; no grid", "楼栋没有轮廓或坐标点，无法归入网格")),
    "outside_grids": _said(
        ("outside grids", "不在网格内"),
        ("building lies in no grid", "楼栋不在任何网格内")),
    "outside_communities": _said(
        ("outside communities", "不在社区内"),
        ("building lies in no community", "楼栋不在任何社区范围内")),
    "crosses_street": _crosses_street,
    "count_mismatch": _said(
        ("household count mismatch", "户数与住户记录不符"),
        ("households says {given} but {attached} household record(s) attached",
         "户数填的是 {given}，但关联到该楼栋的住户记录有 {attached} 条")),
    "out_of_range": _out_of_range,
    "unknown_community": _said(
        ("unknown community", "社区代码不存在"),
        ("community_code {community_code!r} not in communities",
         "社区代码“{community_code}”不在社区中")),
    "outside_targets": _outside_targets,
    "grid_left_out": _said(
        ("grid left out", "网格未采用"),
        ("the grid has no community_code and lies in no community (or has no geometry to find "
         "one); it is left out: draw it inside its community, or give its community code",
         "该网格没有社区代码，也不在任何社区内（或没有图形可用来确定）；未采用：请把它画在所属社区内，"
         "或填写社区代码")),
    "not_located": _said(
        ("not located", "无法定位"),
        ("no {column} in the file and no geometry to find one; left empty",
         "文件中没有{word}，也没有图形可用来确定；留空")),
    "point_outside_footprint": _point_outside_footprint,
    "communities_overlap": _communities_overlap,
    "grids_overlap": _grids_overlap,
    "grid_outside": _grid_outside,
    "gap": _gap,
    "too_long": _said(
        ("{column} too long", "{word}过长"),
        ("{column} exceeds {limit} characters; cleared", "{word}超过 {limit} 个字符，已清空")),
    "out_of_store_range": _said(
        ("invalid {column}", "{word}无效"),
        ("{column} exceeds the range {lo}..{hi}; cleared", "{word}超出 {lo}..{hi} 的范围，已清空")),
}  # fmt: skip

ISSUE_CODES = tuple(_WORDS)
"""Every code of :meth:`Issue.of`."""

_BY_REASON: dict[str, Words] = {
    "household removed": ("住户已删除", "所属住户已删除，户号已清空"),
    "building removed": ("楼栋已删除", "所属楼栋已删除，楼栋编号已清空"),
    "compound removed": ("小区已删除", "所属小区已删除，小区编号已清空"),
    "building retired": ("楼栋停用", "文件中已删除，但有方案分配了该楼栋：按已拆除保留（0 户），"
                         "方案的分配不变"),
    "not in the store": ("数据库中没有", "删除清单列出了该记录，但数据库中没有"),
}  # fmt: skip
"""Chinese of the issues the store's update writes by their English reason (without a code):
reason and detail; their English is the issue's own."""


@dataclass(frozen=True)
class Issue:
    """One report line: which record of which entity, why, and what was done about it.

    Make it with :meth:`of` (a code and its values: both languages); an issue written with a
    reason and detail only is said in English in both languages (unless its reason is one the
    store's update writes).

    Parameters
    ----------
    entity : str
        Entity name (``"building"``, ``"household"``, ``"person"`` ...).
    record_id : str
        The record's id, or ``"row N"`` (1-based data row) when it has none.
    reason : str
        Short fixed phrase usable for grouping, e.g. ``"unknown building"`` (English; the
        machine-readable reason).
    detail : str
        What was found and done, in English, with ids only (never personal values).
    code : str
        One of :data:`ISSUE_CODES` ("" for an issue written with its words).
    values : tuple of (name, value) pairs
        What the words say (ids, columns, counts).
    """

    entity: str
    record_id: str
    reason: str
    detail: str = ""
    code: str = ""
    values: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, entity: str, record_id: object, code: str, **values: Any) -> Issue:
        """The issue ``code`` of the record ``record_id`` of ``entity``, worded with ``values``.

        Raises
        ------
        ValueError
            ``code`` is not one of :data:`ISSUE_CODES`.
        """
        frozen = frozen_values("report issue", code, ISSUE_CODES, values)
        (reason, _), (detail, _) = _WORDS[code](entity=entity, **dict(frozen))
        return cls(entity, str(record_id), reason, detail, code, frozen)

    def _words(self) -> tuple[Words, Words]:
        if self.code in _WORDS:
            (_, reason_zh), (_, detail_zh) = _WORDS[self.code](entity=self.entity,
                                                               **dict(self.values))  # fmt: skip
        else:
            reason_zh, detail_zh = _BY_REASON.get(self.reason, (self.reason, self.detail))
        return (self.reason, reason_zh), (self.detail, detail_zh)

    def reason_text(self, lang: str = "zh") -> str:
        """The reason in ``lang``: ``"zh"`` (Chinese) or ``"en"`` (the reason itself)."""
        return self._words()[0][lang == "zh"]

    def message(self, lang: str = "zh") -> str:
        """What was found and done, in ``lang``: ``"zh"`` (Chinese) or ``"en"``."""
        return self._words()[1][lang == "zh"]

    def record(self, lang: str = "zh") -> str:
        """The record as a person reads it: its id, or ``row N`` (``数据行 N``)."""
        return _record(self.record_id, lang)


@dataclass
class AttachReport:
    """The list of issues of one import.

    Examples
    --------
    >>> report = AttachReport([Issue.of("household", "H1", "unknown_building", building_id="B9")])
    >>> len(report), report.to_frame().columns.tolist()
    (1, ['entity', 'record_id', 'reason', 'detail'])
    >>> report.to_frame("zh").iloc[0].tolist()
    ['household', 'H1', 'unknown building', '楼栋编号不存在', '楼栋编号“B9”不在楼栋中']
    >>> report.summary("zh"), report.summary("en")
    ('报告中有 1 条记录（楼栋编号不存在 1 条）', '1 record(s) in the report (unknown building: 1)')
    """

    issues: list[Issue] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.issues)

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)

    def extend(self, issues: Iterable[Issue]) -> None:
        """Append ``issues`` in order."""
        self.issues.extend(issues)

    def for_entity(self, entity: str) -> list[Issue]:
        """The issues of one entity."""
        return [i for i in self.issues if i.entity == entity]

    def reasons(self) -> dict[str, int]:
        """Count of issues per reason."""
        counts: dict[str, int] = {}
        for issue in self.issues:
            counts[issue.reason] = counts.get(issue.reason, 0) + 1
        return counts

    def summary(self, lang: str = "zh") -> str:
        """One line: how many records the report holds, per reason, in ``lang``."""
        counts = self.reasons()
        words = {i.reason: i.reason_text(lang) for i in reversed(self.issues)}
        if lang == "zh":
            each = "，".join(f"{words[r]} {k} 条" for r, k in counts.items())
            return f"报告中有 {len(self)} 条记录" + (f"（{each}）" if each else "")
        each = ", ".join(f"{r}: {k}" for r, k in counts.items())
        return f"{len(self)} record(s) in the report" + (f" ({each})" if each else "")

    def to_frame(self, lang: str | None = None) -> pd.DataFrame:
        """The issues as a DataFrame: without ``lang``, the columns :data:`REPORT_COLUMNS` (the
        reason and English detail); with it, :data:`FILE_COLUMNS` (codes, then the record, the
        problem and the detail in ``lang``)."""
        if lang is None:
            rows = [(i.entity, i.record_id, i.reason, i.detail) for i in self.issues]
            return pd.DataFrame(rows, columns=list(REPORT_COLUMNS), dtype=object)
        shown = [(i.entity, i.record(lang), i.reason, i.reason_text(lang), i.message(lang))
                 for i in self.issues]  # fmt: skip
        return pd.DataFrame(shown, columns=list(FILE_COLUMNS), dtype=object)

    def to_csv(self, path: str | Path, lang: str = "en") -> Path:
        """Write the report in ``lang`` (:meth:`to_frame`) as UTF-8 CSV with a BOM (Excel then
        shows Chinese); return the path."""
        path = Path(path)
        safe_frame(self.to_frame(lang)).to_csv(path, index=False, encoding="utf-8-sig")
        return path

    def to_json(self, path: str | Path, lang: str = "en") -> Path:
        """Write the report in ``lang`` as a JSON list of objects (UTF-8, Chinese readable)."""
        path = Path(path)
        rows = self.to_frame(lang).to_dict(orient="records")
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
        return path
