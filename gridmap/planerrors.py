"""Errors of planning, in English and Chinese: plain words in the catalogue
``gridmap/messages/plan_errors.toml``, words computed from the values here.

A core module (beside :mod:`gridmap.plans`) so that :mod:`gridmap.geometry` may use it too.

:data:`PLAN_ERRORS` (an :class:`~gridmap.errors.ErrorTexts`) words every
:class:`~gridmap.errors.InputError` that the plan inputs meet: the layers' checks
(:mod:`gridmap.plans.jobs`), grid numbering (:mod:`gridmap.geometry.numbering`), plan comparison
(:mod:`gridmap.plans.compare`) and the assignments file of ``gridmap redistrict``.
``plan_error(code, **values)`` makes the error: ``str(err)`` is the English,
``err.message("zh")`` the Chinese. Each names the layer or file, the records (ids, codes) and
how to fix it.

Examples
--------
>>> err = plan_error("duplicate_ids", name="buildings", column="building_id", ids=["B3"])
>>> str(err)
"buildings repeat building_id ['B3']; every building_id must be unique."
>>> err.message("zh")
'楼栋的楼栋编号重复：“B3”；每个楼栋编号必须唯一。'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gridmap.errors import (
    DuplicateIdError,
    ErrorTexts,
    InvalidGeometryError,
    Words,
    quoted,
)
from gridmap.messages import glossary

__all__ = ["PLAN_ERRORS", "plan_error"]

_LAYER_ZH = dict(glossary("entities").values())
"""A layer named by its entity's English plural (communities) → Chinese (社区)."""
_COLUMN_ZH = glossary("columns")
_SHOWN = 10
"""Ids named in a message at most (the count says how many in all)."""
_ASSIGNMENTS_HINT = ("`gridmap partition --assignments` (building_id, grid_code).",
                     "`gridmap partition --assignments` 写出的 CSV（building_id、grid_code 两列）。"
                     )  # fmt: skip
_GEOPACKAGE_HINT = ("Give the GeoPackage written by `gridmap partition --out plan.gpkg "
                    "--assignments plan.gpkg`, or the CSV written by " + _ASSIGNMENTS_HINT[0],
                    "请给出 `gridmap partition --out 方案.gpkg --assignments 方案.gpkg` 写出的 "
                    ".gpkg 文件，或 " + _ASSIGNMENTS_HINT[1])  # fmt: skip


PLAN_ERRORS = ErrorTexts.catalogue("gridmap.messages", "plan_errors.toml")
"""The errors of planning's inputs in English and Chinese."""


def _columns_zh(columns: Iterable[str]) -> str:
    return quoted(_COLUMN_ZH.get(c, c) for c in columns)


@PLAN_ERRORS.worded("lack_columns")
def _lack_columns(name: str, missing: list[str]) -> Words:
    return (f"{name} lack column(s) {missing}; rename the matching columns "
            "(the CLI has --id-field, --households-field and --community-code-field).",
            f"{_LAYER_ZH.get(name, name)}缺少{_columns_zh(missing)}列；请把对应的列改成这些名称，"
            "或用 --id-field、--households-field、--community-code-field "
            "指定。")  # fmt: skip


@PLAN_ERRORS.worded("duplicate_ids", DuplicateIdError)
def _duplicate_ids(name: str, column: str, ids: list[str]) -> Words:
    col = _COLUMN_ZH.get(column, column)
    return (f"{name} repeat {column} {ids[:_SHOWN]}; every {column} must be unique.",
            f"{_LAYER_ZH.get(name, name)}的{col}重复：{quoted(ids[:_SHOWN])}；每个{col}"
            "必须唯一。")  # fmt: skip


@PLAN_ERRORS.worded("empty_geometry", InvalidGeometryError)
def _empty_geometry(name: str, ids: list[str], no_area: bool = False) -> Words:
    """Records without geometry, or (``no_area``) drawn without area."""
    if no_area:
        return (f"{name} {ids[:_SHOWN]} have no area: a point, a line or a zero-area sliver "
                "has no ground to split into grids. Draw their boundary as a polygon.",
                f"{_LAYER_ZH.get(name, name)}{quoted(ids[:_SHOWN])}没有面积（画成了点、线或面积为零"
                "的狭长面），无法划分网格；请把边界画成面。")  # fmt: skip
    return (f"{name} with empty or missing geometry: {ids[:_SHOWN]}. Draw them or drop them.",
            f"{_LAYER_ZH.get(name, name)}没有图形（空或缺失）：{quoted(ids[:_SHOWN])}；"
            "请补画图形或删去这些记录。")  # fmt: skip


@PLAN_ERRORS.worded("bad_counts")
def _bad_counts(counts: list[int]) -> Words:
    return (f"counts must be whole numbers of grids of at least 1, got {counts}.",
            f"网格数必须是不小于 1 的整数，收到 {'、'.join(map(str, counts))}。")  # fmt: skip


@PLAN_ERRORS.worded("bad_weights")
def _bad_weights(parts: list[str], weights: Mapping[str, Any]) -> Words:
    given = "、".join(f"{k}={v}" for k, v in weights.items()) or "无"
    return (f"weights take the parts {parts} with a positive sum; got {weights}.",
            f"评分权重只能取 {'、'.join(parts)} 这几项，且总和须大于 0；收到 "
            f"{given}。")  # fmt: skip


def _is_geopackage(file: str) -> bool:
    return file.lower().endswith(".gpkg")


@PLAN_ERRORS.worded("assignments_unreadable")
def _assignments_unreadable(file: str, detail: str) -> Words:
    """An assignments file that cannot be read, worded for what it is named as: a GeoPackage
    (corrupt, or not one) or a CSV."""
    if _is_geopackage(file):
        return (f"Cannot read assignments file {file}: not a readable GeoPackage "
                f"({detail.rstrip('. ')}). " + _GEOPACKAGE_HINT[0],
                f"无法读取楼栋网格对应表 {file}：不是可读的 .gpkg 文件（已损坏，或并非 .gpkg "
                "格式）；" + _GEOPACKAGE_HINT[1])  # fmt: skip
    return (f"Cannot read assignments file {file}: {detail.rstrip('. ')}. Give the CSV written "
            "by " + _ASSIGNMENTS_HINT[0],
            f"无法读取楼栋网格对应表 {file}：不是可读的 CSV 文件；请给出 "
            + _ASSIGNMENTS_HINT[1])  # fmt: skip


@PLAN_ERRORS.worded("assignments_lack_columns")
def _assignments_lack_columns(file: str, missing: list[str]) -> Words:
    if _is_geopackage(file):
        return (f"The assignments table of {file} lacks column(s) {missing}. "
                + _GEOPACKAGE_HINT[0],
                f"{file} 中的楼栋网格对应表缺少 {'、'.join(missing)} 列；"
                + _GEOPACKAGE_HINT[1])  # fmt: skip
    return (f"Assignments file {file} lacks column(s) {missing}; give the CSV written by "
            + _ASSIGNMENTS_HINT[0],
            f"楼栋网格对应表 {file} 缺少 {'、'.join(missing)} 列；请给出 "
            + _ASSIGNMENTS_HINT[1])  # fmt: skip


plan_error = PLAN_ERRORS.error
"""``plan_error(code, **values)``: the error ``code`` of :data:`PLAN_ERRORS` worded with
``values``."""
