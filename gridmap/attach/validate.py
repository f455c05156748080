"""Check and clean one layer before it is attached or stored.

Two kinds of problem, decided here once:

**Fatal** (an exception; the whole import is refused, nothing is written): records sharing an
id but differing in some value (:class:`~gridmap.errors.DuplicateIdError`, naming the ids), and
a layer whose geometries are of the wrong kind (a point given for a grid). Missing columns, a
missing CRS and different CRSs are refused earlier by :func:`gridmap.read_layer` and the
attach chain. These are whole-file problems the office must fix.

**Report lines** (an :class:`~gridmap.attach.report.Issue`; the import goes on):

* a record without id → skipped (it cannot be referenced), named ``"row N"``;
* an exact copy of an earlier record (same id, same values) → the copy is dropped;
* an empty or missing geometry where the entity requires one, or an invalid geometry that
  :func:`shapely.make_valid` would change materially → that record is left out
  (:func:`gridmap.attach.geomrepair.repair_geometries`);
* an invalid geometry repaired with a small area change → kept repaired, plus a UserWarning;
* a building footprint drawn twice (another id, a footprint overlapping an earlier one by at
  least :data:`DUPLICATE_FOOTPRINT_OVERLAP` of their union) → the later record is left out, so
  its households are not counted twice; its line names both records
  (:func:`drop_duplicate_footprints`);
* an ID number failing GB 11643 (length, birth date or check digit), a malformed phone, a count
  that is not a non-negative integer, an unknown category value → that *value* is cleared and
  the record kept.

Issues never carry the offending personal value, only the record id and the reason.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.attach.geomrepair import repair_geometries
from gridmap.attach.report import Issue, record_labels
from gridmap.crs import projected_crs_for
from gridmap.errors import DuplicateIdError
from gridmap.idnumbers import gb11643_check_digits, id_number_problem, valid_phone
from gridmap.io.addresses import (
    lacking_parts,
    makes_household_ids,
    takes_address_ids,
    waits_for_building,
    waits_for_household,
)
from gridmap.io.notes import entity_word
from gridmap.schema import COUNT_COLUMNS, PERSON, Entity, get_entity

__all__ = [
    "CATEGORY_SYNONYMS",
    "drop_missing_ids",
    "drop_unsafe_ids",
    "drop_exact_duplicates",
    "check_unique_ids",
    "DUPLICATE_FOOTPRINT_OVERLAP",
    "drop_duplicate_footprints",
    "MAX_COUNT",
    "check_text",
    "check_counts",
    "check_id_numbers",
    "check_phones",
    "check_categories",
    "check_person_consistency",
    "validate_layer",
]

_SEX_DIGIT = {str(d): ("F", "M")[d % 2] for d in range(10)}
MAX_COUNT = 2_147_483_647
"""Largest count accepted (households, floors …): the store's integer columns hold no more."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters removed from text (tab, line feed and carriage return are kept)."""
_UNSAFE_ID = re.compile(r"[\x00-\x1f\x7f-\x9f<>\"'&`]")
"""Characters an id may not hold: control characters and HTML markup."""
CATEGORY_SYNONYMS: dict[str, dict[str, str]] = {
    "population_type": {"户籍": "registered", "户籍人口": "registered", "常住": "resident",
                        "常住人口": "resident", "流动": "floating", "流动人口": "floating"},
    "kind": {"住宅": "residential", "商业": "commercial", "公共": "public", "公建": "public",
             "商住": "mixed", "商住混合": "mixed", "工业": "industrial", "厂房": "industrial",
             "其他": "other", "其它": "other"},
    "role": {"网格员": "grid_worker", "专职网格员": "grid_worker", "网格长": "grid_head",
             "网格党小组长": "party_leader", "党小组长": "party_leader", "联户长": "liaison_head",
             "楼栋长": "liaison_head", "单元长": "liaison_head", "网格助理": "assistant"},
    "sex": {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"},
}  # fmt: skip
"""Office wording → canonical value; canonical values themselves are accepted as they are."""


# --- records and ids ---------------------------------------------------------------------------


def drop_missing_ids(
    frame: pd.DataFrame, entity: str | Entity, *, placed_later: bool = False
) -> tuple[pd.DataFrame, list[Issue]]:
    """Skip records without id; each becomes an issue named by its data row. A household or
    person whose household id could not be made of its address says which part is blank.
    ``placed_later`` keeps the households whose id waits for their building, found by address
    or location (:func:`gridmap.io.addresses.waits_for_building`), and the persons whose id
    waits for their household, found the same way (:func:`~gridmap.io.addresses.
    waits_for_household`): the attach chain makes them.

    Examples
    --------
    >>> f = pd.DataFrame({"household_id": ["B1-1-101", None], "building_id": ["B1", None],
    ...                   "unit": ["1", "2"], "room": ["101", "201"]})
    >>> _, issues = drop_missing_ids(f, "household")
    >>> [(i.record_id, i.reason) for i in issues]
    [('row 2', 'missing id')]
    >>> issues[0].message("zh")
    '没有户号，也无法按地址生成：楼栋编号为空（户号按楼栋编号 + 单元 + 房号生成）；记录已跳过'
    """
    ent = get_entity(entity)
    missing = frame[ent.id_column].isna()
    if placed_later and ent.name == "household":
        missing &= ~waits_for_building(frame)
    elif placed_later and ent.name == "person":
        missing &= ~waits_for_household(frame)
    no_address = missing & _household_id_unmade(frame, ent)
    blank = lacking_parts(frame.loc[no_address])
    issues = [
        Issue.of(ent.name, f"row {int(i) + 1}", "no_address", blank=blank[i])
        if no_address[i] else
        Issue.of(ent.name, f"row {int(i) + 1}", "missing_id", column=ent.id_column)
        for i in frame.index[missing]
    ]  # fmt: skip
    return frame.loc[~missing], issues


def _household_id_unmade(frame: pd.DataFrame, ent: Entity) -> pd.Series:
    """True for households and persons without household id in a frame with the address
    columns it is made of (:mod:`gridmap.io.addresses`): a part of their address is blank."""
    if not takes_address_ids(ent) or not makes_household_ids(frame.columns):
        return pd.Series(False, index=frame.index)
    if "household_id" not in frame.columns:
        return pd.Series(True, index=frame.index)
    return frame["household_id"].isna()


def drop_unsafe_ids(frame: pd.DataFrame, entity: str | Entity) -> tuple[pd.DataFrame, list[Issue]]:
    """Skip records whose id holds control or markup characters (``<``, ``>``, quotes, ``&``).

    Such an id is a damaged export or an attempt at script injection on the map pages; it is
    never repaired silently (two damaged ids could become one). Each skipped record becomes a
    report line named by its data row, without the id itself.

    Examples
    --------
    >>> f = pd.DataFrame({"building_id": ["B1", "<img src=x onerror=alert(1)>", "B" + chr(0)]})
    >>> out, issues = drop_unsafe_ids(f, "building")
    >>> out["building_id"].tolist(), [(i.record_id, i.reason) for i in issues]
    (['B1'], [('row 2', 'unsafe id'), ('row 3', 'unsafe id')])
    """
    ent = get_entity(entity)
    unsafe = _matches(frame[ent.id_column], _UNSAFE_ID)
    issues = [
        Issue.of(ent.name, f"row {int(i) + 1}", "unsafe_id", column=ent.id_column)
        for i in frame.index[unsafe]
    ]  # fmt: skip
    return frame.loc[~unsafe], issues


def drop_exact_duplicates(
    frame: pd.DataFrame, entity: str | Entity
) -> tuple[pd.DataFrame, list[Issue]]:
    """Drop records identical in every column (geometry included) to an earlier one; report each.

    Pasting a block of a roster twice is common; records sharing an id but differing in any
    value are left for :func:`check_unique_ids` to refuse.
    """
    ent = get_entity(entity)
    ids = frame[ent.id_column]
    suspect = ids.duplicated(keep=False) & ids.notna()
    if not suspect.any():
        return frame, []
    rows = frame.loc[suspect]
    if isinstance(rows, gpd.GeoDataFrame):
        rows = pd.DataFrame(rows).assign(
            **{rows.geometry.name: shapely.to_wkb(rows.geometry.to_numpy())}
        )
    copies = rows.astype(object).where(rows.notna(), None).duplicated(keep="first")
    dropped = copies[copies].index
    first = {v: i for i, v in reversed(list(ids[suspect].items()))}
    issues = [
        Issue.of(ent.name, ids[i], "duplicate_record", first=int(first[ids[i]]) + 1,
                 row=int(i) + 1)
        for i in dropped
    ]  # fmt: skip
    return frame.drop(index=dropped), issues


def check_unique_ids(frame: pd.DataFrame, entity: str | Entity) -> None:
    """Raise :class:`DuplicateIdError` naming the file (``frame.attrs["source"]``, where read
    from one) and every id that occurs more than once, in English and Chinese."""
    ent = get_entity(entity)
    counts = frame[ent.id_column].dropna().value_counts()
    dups = counts[counts > 1]
    if len(dups):
        shown = list(dups.head(20).items())
        source = frame.attrs.get("source")
        en_file, zh_file = (f"{source}: ", f"{source}：") if source else ("", "")
        more_en = f" and {len(dups) - 20} more" if len(dups) > 20 else ""
        more_zh = f" 等 {len(dups)} 个" if len(dups) > 20 else ""
        raise DuplicateIdError(
            f"{en_file}{len(dups)} duplicate {ent.name} {ent.id_column}(s): "
            f"{', '.join(f'{i!r} ×{n}' for i, n in shown)}{more_en}. "
            "Each id must be unique; renumber or merge those records.",
            zh=f"{zh_file}{entity_word(ent.name, 'zh')}编号重复 {len(dups)} 个："
            f"{'、'.join(f'“{i}”×{n}' for i, n in shown)}{more_zh}。"
            "每个编号必须唯一；请重新编号或合并这些记录。",
        )


DUPLICATE_FOOTPRINT_OVERLAP = 0.9
"""Two building footprints overlapping by at least this share of their union (intersection
over union) are one building drawn twice. Neighbours sharing a wall overlap by ~0, a building
and its redrawn copy by nearly 1; points (a geocoded address may hold several buildings) are
never taken for copies."""


def drop_duplicate_footprints(
    frame: pd.DataFrame, entity: str | Entity = "building"
) -> tuple[pd.DataFrame, list[Issue]]:
    """Leave out buildings whose footprint is an earlier building's (another id, the same
    polygon or nearly: :data:`DUPLICATE_FOOTPRINT_OVERLAP`); one report line each, naming
    both records. The first in file order is kept. Other layers are returned unchanged.

    Examples
    --------
    >>> from shapely import box
    >>> x, y = 500_000, 3_067_000  # Tongren, EPSG:4545
    >>> b = gpd.GeoDataFrame({"building_id": ["B1", "B2", "B3"], "households": [24, 24, 30]},
    ...     geometry=[box(x, y, x + 20, y + 10), box(x + 0.2, y, x + 20, y + 10),
    ...               box(x + 20, y, x + 40, y + 10)], crs=4545)
    >>> out, issues = drop_duplicate_footprints(b)
    >>> out["building_id"].tolist(), [(i.record_id, i.reason) for i in issues]
    (['B1', 'B3'], [('B2', 'duplicate footprint')])
    >>> issues[0].message("en")
    'data row 2 has the footprint of building B1 (data row 1; 99% the same): the same building \
drawn twice? Left out, so its households are not counted twice; delete one of the two'
    """
    ent = get_entity(entity)
    if ent.name != "building" or not isinstance(frame, gpd.GeoDataFrame) or len(frame) < 2:
        return frame, []
    geoms = frame.geometry.to_numpy()
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
    if polygonal.sum() < 2 or frame.crs is None:
        return frame, []
    where = np.flatnonzero(polygonal)
    series = frame.geometry.iloc[where]
    shapes = series.to_numpy()
    a, b = shapely.STRtree(shapes).query(shapes, predicate="intersects")
    later = a < b
    a, b = a[later], b[later]
    if series.crs.is_geographic:
        # Pairs are found in lon/lat; only the footprints of the pairs that may be copies are
        # projected. Intersection over union is kept by the projection (affine over a
        # building, to ~1e-6), so the bound below with a margin drops no pair the metric bound
        # keeps; those are then checked in metres as before.
        possible = _overlap_bound(shapes, a, b) >= DUPLICATE_FOOTPRINT_OVERLAP - _LONLAT_MARGIN
        a, b = a[possible], b[possible]
        if not len(a):
            return frame, []
        near = np.unique(np.concatenate([a, b]))
        shapes = np.full(len(shapes), None, dtype=object)
        shapes[near] = series.iloc[near].to_crs(projected_crs_for(series)).to_numpy()
    # The overlap is at most what the bounding boxes and areas allow: neighbours sharing a wall
    # are ruled out without intersecting their polygons (most pairs a tree query finds).
    possible = _overlap_bound(shapes, a, b) >= DUPLICATE_FOOTPRINT_OVERLAP
    a, b = a[possible], b[possible]
    if not len(a):
        return frame, []
    areas = shapely.area(shapes)
    common = shapely.area(shapely.intersection(shapes[a], shapes[b]))
    with np.errstate(divide="ignore", invalid="ignore"):
        overlap = common / (areas[a] + areas[b] - common)
    same = np.flatnonzero(overlap >= DUPLICATE_FOOTPRINT_OVERLAP)
    if not len(same):
        return frame, []
    labels = record_labels(frame, ent).to_numpy()
    rows = frame.index.to_numpy()
    kept_for: dict[int, tuple[int, float]] = {}  # position of a copy -> the first one, overlap
    for k in sorted(same, key=lambda k: (b[k], a[k])):
        copy, first = int(where[b[k]]), int(where[a[k]])
        if copy in kept_for:
            continue
        first = kept_for.get(first, (first, 0.0))[0]  # a copy of a copy: the first kept
        kept_for[copy] = (first, float(overlap[k]))
    issues: list[Issue] = [
        Issue.of(ent.name, str(labels[copy]), "duplicate_footprint",
                 row=int(rows[copy]) + 1, first=str(labels[first]),
                 first_row=int(rows[first]) + 1, overlap=round(share, 4))
        for copy, (first, share) in sorted(kept_for.items())
    ]  # fmt: skip
    drop = np.zeros(len(frame), dtype=bool)
    drop[list(kept_for)] = True
    return frame.loc[~drop], issues


_LONLAT_MARGIN = 0.01
"""How much lower the lon/lat bound of a pair's overlap may be than the one in metres (it is
~1e-6 lower at most: a building is far too small for the projection to bend it)."""


def _overlap_bound(shapes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """An upper bound of the intersection over union of ``shapes[a]`` and ``shapes[b]``, from
    their bounding boxes and areas (no polygon intersected); NaN for a missing shape."""
    areas = shapely.area(shapes)
    box = shapely.bounds(shapes)
    width = np.minimum(box[a, 2], box[b, 2]) - np.maximum(box[a, 0], box[b, 0])
    height = np.minimum(box[a, 3], box[b, 3]) - np.maximum(box[a, 1], box[b, 1])
    most = np.minimum(np.clip(width, 0, None) * np.clip(height, 0, None),
                      np.minimum(areas[a], areas[b]))  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        bound: np.ndarray = most / (areas[a] + areas[b] - most)
    return bound


# --- field values ------------------------------------------------------------------------------


def check_text(frame: pd.DataFrame, entity: str | Entity) -> tuple[pd.DataFrame, list[Issue]]:
    """Remove control characters (NUL …) from text values; one report line per record and field.

    Ids are left to :func:`drop_unsafe_ids` (a damaged id is not repaired).

    A NUL byte or another control character in a cell is never meant (a damaged export, a
    pasted binary); databases refuse NUL in text. Tab, line feed and carriage return are kept.

    Examples
    --------
    >>> f = pd.DataFrame({"building_id": ["B1", "B2"], "address": ["路" + chr(0) + "12号", "x"]})
    >>> out, issues = check_text(f, "building")
    >>> out["address"].tolist(), [(i.record_id, i.reason) for i in issues]
    (['路12号', 'x'], [('B1', 'control characters in address')])
    """
    ent = get_entity(entity)
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    out, issues = frame, []
    for col in [c for c in frame.columns if c not in (geometry, ent.id_column)]:
        values = frame[col]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        bad = _matches(values, _CONTROL)
        if not bad.any():
            continue
        cleaned = values.where(~bad, values[bad].map(lambda v: _CONTROL.sub("", v)))
        out = out.assign(**{col: cleaned})
        issues += [
            Issue.of(ent.name, i, "control_characters", column=col)
            for i in record_labels(out[bad], ent)
        ]  # fmt: skip
    return out, issues


def check_counts(frame: pd.DataFrame, entity: str | Entity) -> tuple[pd.DataFrame, list[Issue]]:
    """Type count columns as ``Int64``; clear and report values that are not integers ≥ 0.

    Counts above :data:`MAX_COUNT` (``1e30``, ``2**40`` floors) are cleared and reported too:
    no real count is that large and the store's integer columns cannot hold it.
    """
    ent = get_entity(entity)
    out, issues = frame, []
    for col in [c for c in ent.columns if c in COUNT_COLUMNS and c in frame]:
        values = frame[col].astype(object)
        parsed = pd.to_numeric(values.map(_strip_text), errors="coerce").astype(float)
        ok = parsed.notna() & (parsed >= 0) & (parsed % 1 == 0) & (parsed <= MAX_COUNT)
        bad = values.notna() & ~ok
        out = out.assign(**{col: parsed.where(ok).astype("Int64")})
        issues += [
            Issue.of(ent.name, i, "invalid_count", column=col, value=_short(v), limit=MAX_COUNT)
            for i, v in zip(record_labels(frame[bad], ent), values[bad], strict=True)
        ]
    return out, issues


def _chinese_values(synonyms: dict[str, str]) -> list[str]:
    """The first Chinese word of each canonical value of a category (男, 女; 户籍 …)."""
    first: dict[str, str] = {}
    for word, value in synonyms.items():
        if any("\u4e00" <= ch <= "\u9fff" for ch in word):
            first.setdefault(value, word)
    return list(first.values())


def _short(value: object, limit: int = 24) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_id_numbers(frame: pd.DataFrame, entity: str | Entity) -> tuple[pd.DataFrame, list[Issue]]:
    """Clear and report ID numbers failing GB 11643 (the value itself is never reported)."""
    return _check_text(frame, get_entity(entity), "id_number", id_number_problem, upper=True,
                       valid=r"[ \t]*[0-9]{17}[0-9Xx][ \t]*")  # fmt: skip


def check_phones(frame: pd.DataFrame, entity: str | Entity) -> tuple[pd.DataFrame, list[Issue]]:
    """Clear and report phone numbers that are neither a mainland mobile nor a landline."""

    def problem(v: str) -> str | None:
        return None if valid_phone(v) else "invalid phone format"

    return _check_text(frame, get_entity(entity), "phone", problem, valid=r"1[3-9][0-9]{9}")


def check_categories(frame: pd.DataFrame, entity: str | Entity) -> tuple[pd.DataFrame, list[Issue]]:
    """Map office wording of categories (人口类型, 建筑类型, 职务, 性别) to canonical values."""
    ent = get_entity(entity)
    out, issues = frame, []
    for col, synonyms in CATEGORY_SYNONYMS.items():
        if col not in frame:
            continue
        canonical = set(synonyms.values())
        values = frame[col]
        lookup = {  # each distinct value once
            v: v if v in canonical else synonyms.get(str(v).strip().casefold())
            for v in pd.unique(values[values.notna()])
        }
        mapped = values.map(lookup)
        bad = values.notna() & mapped.isna()
        out = out.assign(**{col: pd.Series(mapped, index=frame.index, dtype="str")})
        allowed_zh = _chinese_values(synonyms)
        issues += [
            Issue.of(
                ent.name,
                i,
                "unknown_category",
                column=col,
                allowed=sorted(canonical),
                allowed_zh=allowed_zh,
            )
            for i in record_labels(frame[bad], ent)
        ]
    return out, issues


def check_person_consistency(
    frame: pd.DataFrame, *, id_given: pd.Series | None = None
) -> list[Issue]:
    """Report persons whose ID number is missing, shared, or disagrees with birth date or sex.

    Run after :func:`check_id_numbers` and :func:`check_categories` (sex as ``M``/``F``); values
    are kept, only listed. Digits 7-14 of an ID number are the birth date, the 17th is odd for men.
    ``id_given`` marks records that had an ID number before invalid ones were cleared (those are
    reported once, by :func:`check_id_numbers`, not again as missing).
    """
    if "id_number" not in frame:
        return []
    labels = record_labels(frame, PERSON)
    ids = frame["id_number"]
    issues = [
        Issue.of("person", i, "missing_id_number")
        for i in labels[ids.isna() & ~(id_given if id_given is not None else ids.notna())]
    ]
    first = ids[ids.notna()].drop_duplicates()
    owner = pd.Series(labels[first.index].to_numpy(), index=first.to_numpy())
    shared = ids.notna() & ids.duplicated(keep="first")
    issues += [
        Issue.of("person", i, "duplicate_id_number", owner=str(owner[v]))
        for i, v in zip(labels[shared], ids[shared], strict=True)
    ]
    if "birth_date" in frame:
        birth = frame["birth_date"]
        if isinstance(birth.dtype, pd.StringDtype):
            birth = birth.str.replace(r"[^0-9]", "", regex=True).str[:8]
        else:
            birth = birth.astype(object).map(
                lambda v: re.sub(r"[^0-9]", "", v)[:8] if isinstance(v, str) else None
            )
        bad = ids.notna() & birth.notna() & (birth != ids.str[6:14])
        issues += [Issue.of("person", i, "birth_date_differs") for i in labels[bad]]
    if "sex" in frame:
        from_id = ids.str[16].map(_SEX_DIGIT)
        bad = ids.notna() & frame["sex"].notna() & (frame["sex"] != from_id)
        issues += [Issue.of("person", i, "sex_differs") for i in labels[bad]]
    return issues


def _check_text(frame, ent, col, problem, *, upper=False, valid=None):
    """Clear the values of ``col`` for which ``problem`` gives a reason; report each.

    ``valid`` (a regex, optional) marks values that are certainly valid as they are; the others
    go through ``problem`` one by one. It only makes the common case fast: the result is
    ``problem``'s.
    """
    if col not in frame:
        return frame, []
    values = frame[col]
    fast = _certainly_valid(values, valid, col)
    found = values.where(~fast).map(lambda v: problem(v.strip()) if isinstance(v, str) else None)
    bad = found.notna()
    kept = values.where(~bad)
    cleaned = kept
    if upper:
        text = kept.to_numpy(dtype=object, na_value=None)
        sure = fast.to_numpy()
        if sure.any():  # plain ASCII digits: no Unicode case or space to care about
            text[sure] = kept[fast].str.strip().str.upper().to_numpy(dtype=object)
        text[~sure] = [v.strip().upper() if isinstance(v, str) else v for v in text[~sure]]
        cleaned = pd.Series(text, index=values.index)
    issues = [
        Issue.of(ent.name, i, "invalid_value", column=col, problem=r)
        for i, r in zip(record_labels(frame[bad], ent), found[bad], strict=True)
    ]
    return frame.assign(**{col: cleaned.astype("str")}), issues


def _certainly_valid(values: pd.Series, valid: str | None, col: str) -> pd.Series:
    """Values matching ``valid`` (and, for ID numbers, their birth date and check digit)."""
    if valid is None or not isinstance(values.dtype, pd.StringDtype):
        return pd.Series(False, index=values.index)
    ok = values.str.fullmatch(valid).fillna(False).astype(bool)
    if col != "id_number" or not ok.any():
        return ok
    number = values[ok].str.strip().str.upper()
    born = pd.to_datetime(number.str[6:14], format="%Y%m%d", errors="coerce").notna()
    check = gb11643_check_digits(number.str[:17].tolist())
    ok[ok] = born.to_numpy() & (check == number.str[17].to_numpy(dtype=object))
    return ok


def _matches(values: pd.Series, pattern: re.Pattern[str]) -> pd.Series:
    """Whether each value is text containing ``pattern`` (False for missing values)."""
    if isinstance(values.dtype, pd.StringDtype):
        return values.str.contains(pattern.pattern, regex=True).fillna(False).astype(bool)
    return values.map(lambda v: isinstance(v, str) and bool(pattern.search(v))).astype(bool)


def _strip_text(v: object) -> object:
    return v.strip() if isinstance(v, str) else v


# --- the whole layer ---------------------------------------------------------------------------


def validate_layer(
    frame: pd.DataFrame, entity: str | Entity, *, placed_later: bool = False
) -> tuple[pd.DataFrame, list[Issue]]:
    """Run every check on one layer as read by :func:`gridmap.read_layer`.

    Returns the cleaned frame (records without id dropped, counts typed ``Int64``, bad values
    cleared, geometries repaired) and the report lines. Raises on fatal problems (see module doc).
    ``placed_later``: households whose id waits for their building, and persons whose id waits
    for their household, are kept (:func:`drop_missing_ids`).
    """
    ent = get_entity(entity)
    frame, issues = drop_unsafe_ids(frame, ent)
    frame, found = check_text(frame, ent)
    issues += found
    frame, found = drop_missing_ids(frame, ent, placed_later=placed_later)
    issues += found
    frame, found = drop_exact_duplicates(frame, ent)
    issues += found
    check_unique_ids(frame, ent)
    if isinstance(frame, gpd.GeoDataFrame) and ent.geometry is not None:
        frame, found = repair_geometries(frame, ent)
        issues += found
        frame, found = drop_duplicate_footprints(frame, ent)
        issues += found
    id_given = frame["id_number"].notna() if "id_number" in frame else None
    for check in (check_counts, check_id_numbers, check_phones, check_categories):
        frame, found = check(frame, ent)
        issues += found
    if ent.name == "person":
        issues += check_person_consistency(frame, id_given=id_given)
    return frame, issues
