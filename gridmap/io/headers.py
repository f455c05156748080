"""Column headers: built-in Chinese synonyms, user mappings and mapping files.

Office rosters rarely use gridmap's column names. :func:`resolve_headers` maps each header of a
file onto a canonical column of :mod:`gridmap.schema`. Headers are compared after NFKC
normalisation (full-width → half-width), case folding and removal of spaces, a trailing ``*``
and notes in brackets, so ``"身份证号码（必填）"`` and ``" 身份证号码 "`` both match. A header
is recognised, strongest first, as

1. an entry of the explicit mapping (option or TOML file);
2. the canonical name itself, a built-in synonym below, or a name a Shapefile cut to 10
   bytes (``building_i``, ``community_``, ``社区代``: the unique canonical column, else
   synonym, it starts);
3. a generic id header (``osm_id``, ``id``, ``fid``, ``objectid`` …; ``code`` for communities),
   taken as the record id only when no stronger header names it.

A weaker header aiming at a column a stronger one already fills is ignored (``id`` beside
``building_id``); two equally strong ones are a problem the office must settle.

An empty target (``"备用电话" = ""``) ignores a header. A mapping file is TOML with one table
per entity, plus optional top-level keys for all entities::

    [household]
    户号 = "household_id"          # bare Chinese keys are accepted (quoted before parsing)
    所在楼栋 = "building_id"
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gridmap.io.readerrors import ColumnProblem, read_error
from gridmap.schema import Entity

__all__ = [
    "GENERIC_ID_HEADERS",
    "HeaderResolution",
    "HEADER_SYNONYMS",
    "ENTITY_HEADER_SYNONYMS",
    "SHAPEFILE_FIELDS",
    "GEOMETRY_HEADERS",
    "normalise_header",
    "load_mapping",
    "resolve_columns",
    "resolve_headers",
]

_SYNONYM_LISTS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名称", "名字"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "公民身份证号码", "证件号码", "身份证"),
    "phone": ("联系电话", "手机号", "手机号码", "电话", "电话号码", "联系方式", "mobile", "tel"),
    "sex": ("性别",),
    "birth_date": ("出生日期", "出生年月", "出生年月日"),
    "relationship": ("与户主关系", "户主关系"),
    "population_type": ("人口类型", "人员类型", "人口类别"),
    "tags": ("标签", "人员标签", "特殊人群"),
    "household_id": ("户号", "户编号", "户编码", "住户编号"),
    "head_person_id": ("户主编号", "户主人员编号"),
    "building_id": ("楼栋编号", "楼栋号", "楼栋编码", "楼号", "建筑编号", "楼栋", "栋号", "幢号"),
    "unit": ("单元", "单元号", "所在单元"),
    "floor": ("楼层", "所在楼层", "层"),
    "room": ("房号", "门牌号", "房间号", "室号", "房间"),
    "households": ("户数", "住户数", "总户数"),
    "floors": ("层数", "楼层数", "总层数", "building:levels", "levels"),
    "units": ("单元数",),
    "address": (
        "地址",
        "详细地址",
        "住址",
        "门牌地址",
        "现住址",
        "居住地址",
        "现居住地址",
        "实际居住地址",
        "现居地址",
    ),
    "community_code": ("社区代码", "社区编码", "社区编号", "所属社区代码", "所属社区编码"),
    "grid_code": ("网格编码", "网格编号", "网格代码", "所属网格", "所属网格编码"),
    "compound_id": ("小区", "小区编号", "小区编码", "所属小区", "院落"),
    "kind": ("建筑类型", "房屋类型", "楼栋类型", "用途"),
    "subdistrict": ("街道", "所属街道", "街道办事处"),
    "code_year": ("代码年份", "区划代码年份"),
    "property_company": ("物业公司", "物业"),
    "code": ("楼栋代码",),
    "status": ("状态",),
    "role": ("职务", "角色", "岗位"),
    "grid_codes": ("负责网格", "所辖网格"),
}

SHAPEFILE_FIELDS: dict[str, str] = {"community_code": "comm_code", "polsby_popper": "polsby_pp"}
"""The field names :func:`gridmap.io.layers.write_layer` gives the columns of the grids longer
than a Shapefile field holds (10 characters); read back as those columns."""

HEADER_SYNONYMS: dict[str, str] = {
    syn: canonical for canonical, syns in _SYNONYM_LISTS.items() for syn in syns
} | {short: column for column, short in SHAPEFILE_FIELDS.items()}
"""Built-in header synonyms valid for every entity: header → canonical column."""

ENTITY_HEADER_SYNONYMS: dict[str, dict[str, str]] = {
    "community": {
        "community_name": "name",
        "社区名称": "name",
        "社区": "name",
        "编码": "community_code",
        "代码": "community_code",
        "区划代码": "community_code",
    },
    "compound": {
        "compound_name": "name",
        "小区名称": "name",
        "小区编号": "compound_id",
        "小区": "compound_id",
        "编号": "compound_id",
    },
    "street": {
        "道路编号": "street_id",
        "道路名称": "name",
        "街道名称": "name",
        "路名": "name",
        "编号": "street_id",
        "road_id": "street_id",
        "street_name": "name",
        "road_name": "name",
    },
    "building": {"楼栋名称": "name", "编号": "building_id", "building_name": "name"},
    "household": {
        "人数": "size",
        "人口数": "size",
        "家庭人口": "size",
        "户内人数": "size",
        "编号": "household_id",
    },
    "person": {
        "人员编号": "person_id",
        "人口编号": "person_id",
        "人员编码": "person_id",
        "编号": "person_id",
    },
    "staff": {
        "人员编号": "staff_id",
        "工号": "staff_id",
        "编号": "staff_id",
        "网格编码": "grid_codes",
    },
    "grid": {
        "网格名称": "name",
        "人数": "persons",
        "人口数": "persons",
        "楼栋数": "buildings",
        "编号": "grid_code",
    },
}
"""Header synonyms that depend on the entity (``"编号"`` is the id of whatever is read)."""

GENERIC_ID_HEADERS: tuple[str, ...] = ("osm_id", "@id", "id", "fid", "objectid", "gid")
"""Headers taken as the record id when no stronger header names it; the first present wins."""

_GENERIC_ENTITY_HEADERS: dict[str, dict[str, str]] = {"community": {"code": "community_code"}}
"""Weak headers of one entity, recognised like :data:`GENERIC_ID_HEADERS`."""

SHAPEFILE_FIELD_WIDTH = 10
"""A Shapefile (dBASE) field name holds at most 10 characters; drivers cut longer headers."""

GEOMETRY_HEADERS: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "long", "longitude", "经度", "x坐标", "x"),
    "lat": ("lat", "latitude", "纬度", "y坐标", "y"),
    "wkt": ("wkt", "geometry", "geom", "the_geom", "几何", "坐标串", "空间信息"),
}
"""Headers recognised as coordinate or WKT columns in CSV and XLSX tables."""

_BARE_KEY = re.compile(r'^(\s*)([^\s="\'\[#]*[^\x00-\x7f][^\s="\'\[#]*)(\s*=)', re.MULTILINE)
_NOTE = re.compile(r"[\(\[（【][^\)\]）】]*[\)\]）】]")


def normalise_header(header: object) -> str:
    """Return ``header`` in comparable form.

    NFKC (full-width letters and digits become plain ones), case-folded, without notes in
    brackets and trailing ``*`` marks; in an ASCII header runs of spaces and hyphens become
    ``_``, from any other the spaces are dropped.

    Examples
    --------
    >>> normalise_header(" 身份证号码（必填）* ")
    '身份证号码'
    >>> normalise_header("Household ID")
    'household_id'
    """
    text = unicodedata.normalize("NFKC", str(header)).strip().casefold()
    text = _NOTE.sub("", text).strip().rstrip("*").strip()
    return re.sub(r"[\s\-]+", "_", text) if text.isascii() else re.sub(r"\s+", "", text)


def load_mapping(path: str | Path, entity: str | None = None) -> dict[str, str]:
    """Read a TOML mapping file; return header → column for ``entity`` (top-level keys included).

    Raises
    ------
    InputError
        If the file is not valid TOML or a value is not a string.
    """
    path = Path(path)
    try:
        data = tomllib.loads(_quote_bare_keys(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise read_error("mapping_unreadable", path=str(path), detail=str(exc)) from exc
    mapping = {k: v for k, v in data.items() if not isinstance(v, dict)}
    if entity is not None:
        mapping.update(data.get(entity, {}))
    bad = [k for k, v in mapping.items() if not isinstance(v, str)]
    if bad:
        raise read_error("mapping_not_text", path=str(path), keys=bad)
    return mapping


def _quote_bare_keys(text: str) -> str:
    """Quote bare non-ASCII keys: TOML wants ASCII bare keys, offices write ``户号 = ...``."""
    return _BARE_KEY.sub(lambda m: f'{m[1]}"{m[2]}"{m[3]}', text)


@dataclass
class HeaderResolution:
    """What :func:`resolve_headers` made of a file's headers.

    Attributes
    ----------
    columns : dict
        Header → canonical column, for each recognised header (file order).
    problems : list of ColumnProblem
        Mapping and header problems, all of them (empty when the headers are usable);
        ``str(problem)`` is the English, ``problem.message("zh")`` the Chinese.
    ignored : dict
        Weaker header → the column a stronger header fills instead (``{"id": "building_id"}``).
    """

    columns: dict[object, str]
    problems: list[ColumnProblem] = field(default_factory=list)
    ignored: dict[object, str] = field(default_factory=dict)


_EXPLICIT, _NAMED, _GENERIC = 0, 1, 2  # strength of a header match, strongest first


def resolve_headers(
    headers: list[object], entity: Entity, mapping: Mapping[str, str] | None = None
) -> HeaderResolution:
    """Map each recognised header to its canonical column, collecting every problem.

    Examples
    --------
    >>> from gridmap.schema import BUILDING
    >>> r = resolve_headers(["id", "building_i", "community_", "备注"], BUILDING)
    >>> r.columns, r.ignored, r.problems
    ({'building_i': 'building_id', 'community_': 'community_code'}, {'id': 'building_id'}, [])
    """
    known = set(entity.columns)
    explicit = {normalise_header(k): v for k, v in (mapping or {}).items()}
    problems = []
    unknown_targets = sorted(set(explicit.values()) - known - {""})
    if unknown_targets:
        problems.append(ColumnProblem.of("unknown_targets", entity=entity.name,
                                         targets=unknown_targets, known=sorted(known)))  # fmt: skip
    named = _named_headers(entity)
    generic = {**_GENERIC_ENTITY_HEADERS.get(entity.name, {}),
               **dict.fromkeys(GENERIC_ID_HEADERS, entity.id_column)}  # fmt: skip
    matches: list[tuple[object, str, int, int]] = []  # header, target, strength, preference
    for header in headers:
        key = normalise_header(header)
        if key in explicit:
            if explicit[key] in known:
                matches.append((header, explicit[key], _EXPLICIT, 0))
        elif (target := named.get(key) or _truncated_target(header, key, entity)) is not None:
            matches.append((header, target, _NAMED, 0))
        elif key in generic and generic[key] in known:
            order = list(generic).index(key)
            matches.append((header, generic[key], _GENERIC, order))
    result = HeaderResolution(columns={}, problems=problems)
    doubles: list[tuple[str, list[object]]] = []
    for target in dict.fromkeys(m[1] for m in matches):
        rivals = sorted((m for m in matches if m[1] == target), key=lambda m: (m[2], m[3]))
        best = rivals[0]
        tied = [m[0] for m in rivals if m[2] == best[2] != _GENERIC]
        if len(tied) > 1:
            doubles.append((target, tied))
        result.ignored.update({m[0]: target for m in rivals[1:] if m[0] not in tied})
    winners = {m[0]: m[1] for m in matches if m[0] not in result.ignored}
    result.columns = {h: winners[h] for h in headers if h in winners}
    if doubles:
        result.problems.append(ColumnProblem.of("doubled", entity=entity.name, doubles=doubles))
    return result


def _named_headers(entity: Entity) -> dict[str, str]:
    """Normalised canonical names and synonyms of ``entity`` → canonical column."""
    known = set(entity.columns)
    named = {normalise_header(k): v for k, v in HEADER_SYNONYMS.items() if v in known}
    named.update(
        (normalise_header(k), v)
        for k, v in ENTITY_HEADER_SYNONYMS.get(entity.name, {}).items()
        if v in known
    )
    named.update((c, c) for c in entity.columns)
    return named


def _truncated_target(header: object, key: str, entity: Entity) -> str | None:
    """The column a Shapefile field name was cut from, if it is unambiguous.

    A field name holds 10 bytes: 10 ASCII characters (``building_i``), or 3 Chinese characters
    in UTF-8 and 5 in GBK (``社区代``). The canonical columns of ``entity`` are tried first,
    then its synonyms; a prefix matching names of several columns is left unrecognised.
    """
    if key.isascii():
        if len(str(header).strip()) != SHAPEFILE_FIELD_WIDTH:
            return None
        columns = {c for c in entity.columns if c.startswith(key)}
        if len(columns) == 1:
            return columns.pop()
        if columns:
            return None
    elif not _CUT_CJK_LENGTHS[0] <= len(key) <= _CUT_CJK_LENGTHS[1]:
        return None
    named = _named_headers(entity)
    targets = {v for k, v in named.items() if k.isascii() == key.isascii() and k.startswith(key)}
    return targets.pop() if len(targets) == 1 else None


_CUT_CJK_LENGTHS = (3, 5)  # Chinese characters left in 10 bytes: UTF-8 (3 each), GBK (2 each)


def resolve_columns(
    headers: list[object], entity: Entity, mapping: Mapping[str, str] | None = None
) -> dict[object, str]:
    """Map each recognised header to its canonical column; unrecognised headers are left out.

    Raises
    ------
    InputError
        Listing every problem: two headers of equal strength mapping to the same column, a
        mapping targeting an unknown column.

    Examples
    --------
    >>> from gridmap.schema import HOUSEHOLD
    >>> resolve_columns(["户号", "楼栋号", "备注"], HOUSEHOLD)
    {'户号': 'household_id', '楼栋号': 'building_id'}
    """
    result = resolve_headers(headers, entity, mapping)
    if result.problems:
        raise read_error("header_problems", problems=result.problems)
    return result.columns
