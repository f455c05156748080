"""Read streets, buildings, compounds and communities from an OpenStreetMap extract.

:func:`gridmap.read_layer` hands ``.osm.pbf``, ``.pbf`` and ``.osm`` (XML) files to
:func:`read_osm`, which reads them with GDAL's OSM driver (through pyogrio, with the tags of
``osmconf.ini`` beside this module as fields) and picks each entity's features **by tag**:

=============  ==================  ================================================================
entity         GDAL layer          features taken (default selection)
=============  ==================  ================================================================
``street``     ``lines``           ``highway`` = one of :data:`GRID_STREET_CLASSES`
``building``   ``multipolygons``   ``building`` = anything but ``no``
``compound``   ``multipolygons``   named ``landuse=residential`` or ``place=neighbourhood`` areas
``community``  ``multipolygons``   ``boundary=administrative`` with ``admin_level=10``
=============  ==================  ================================================================

Which streets bound grids: the roads people name an address by and walk along between
compounds, i.e. motorway, trunk, primary, secondary, tertiary (and their ``_link`` ramps),
unclassified, residential, living_street, pedestrian (a 步行街 separates blocks as any street
does) and road (a street not yet classified). Left out: footway, path, steps, cycleway, track,
bridleway, corridor, platform, construction …, and ``service`` roads: in China these are mostly
the driveways and internal roads of a compound (小区内部道路) or parking aisles, and a grid keeps a
compound whole, so they must not cut it. A way in a tunnel or under cover (``tunnel``,
``covered``, a negative ``layer``, ``location=underground``) is kept with those tags as
columns, so that :func:`gridmap.streets.boundary_mask` does not let it bound a grid.

The ``layer`` argument (``--layer ENTITY=…`` of the commands) replaces the default selection
with one tag filter ``KEY=VALUE[,VALUE…]``:

* ``highway=primary,secondary,tertiary`` — only these values; ``building=*`` — any value;
* ``highway=+service,+track`` — the default values and these (``+`` adds to the default);
* ``admin_level=8`` — communities from the level-8 (街道) boundaries instead of level 10.

The fixed part of the selection stays (a street is a ``highway`` line, a community a
``boundary=administrative`` area, a building not ``building=no``; compounds must be named). The
entity's own GDAL layer name (``lines``, ``multipolygons``) is accepted and means the default.

Columns: ids ``osm-way-<id>`` / ``osm-relation-<id>`` (stable across re-reads and new extracts;
community codes ``ref`` when tagged, else ``w<id>``/``r<id>``, which fit the 12 characters of a
code), ``name`` from ``name:zh``, ``name:zh-Hans`` or ``name``; buildings get ``floors`` from
``building:levels`` (its first number, rounded), ``households`` from ``building:flats`` (the
dwelling count; a whole number or left empty), ``kind`` (:data:`OSM_BUILDING_KINDS`) and
``address`` (``addr:full``, else the ``addr:*`` parts). ``frame.attrs["notes"]`` says what was
taken and what was left out (:mod:`gridmap.io.notes`, codes ``osm_*``).

Reading is one pass of GDAL over the file per entity, the fixed part of the selection given to
GDAL as an attribute filter; the rest is done on the frame.
"""

from __future__ import annotations

import configparser
import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from gridmap.errors import ErrorTexts, InputError, Words
from gridmap.io.notes import ReadNote, entity_word
from gridmap.schema import Entity
from gridmap.streets import BOUNDARY_TAGS, boundary_mask

__all__ = ["GRID_STREET_CLASSES", "OSM_BUILDING_KINDS", "OSM_ERRORS", "OSM_SUFFIXES",
           "TagFilter", "is_osm_file", "read_osm"]  # fmt: skip

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm")
"""File names read as OpenStreetMap extracts."""

_CONFIG = Path(__file__).with_name("osmconf.ini")

GRID_STREET_CLASSES = ("motorway", "motorway_link", "trunk", "trunk_link", "primary",
                       "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link",
                       "unclassified", "residential", "living_street", "pedestrian",
                       "road")  # fmt: skip
"""``highway`` values of the ways that bound grids by default (see the module docstring)."""

OSM_BUILDING_KINDS: dict[str, str] = {
    **dict.fromkeys(("apartments", "residential", "house", "detached", "semidetached_house",
                     "terrace", "dormitory", "bungalow", "cabin", "farm", "houseboat",
                     "stilt_house"), "residential"),
    **dict.fromkeys(("commercial", "retail", "office", "hotel", "kiosk", "supermarket", "shop",
                     "bank", "restaurant"), "commercial"),
    **dict.fromkeys(("public", "civic", "government", "school", "kindergarten", "college",
                     "university", "hospital", "clinic", "church", "cathedral", "chapel",
                     "mosque", "temple", "shrine", "synagogue", "religious", "train_station",
                     "transportation", "museum", "fire_station", "police", "sports_hall",
                     "stadium", "toilets"), "public"),
    **dict.fromkeys(("industrial", "warehouse", "factory", "manufacture", "garages", "garage",
                     "hangar", "storage_tank", "service", "utility"), "industrial"),
}  # fmt: skip
"""OSM ``building`` value → :data:`gridmap.schema.BUILDING_KINDS`; ``yes`` (kind not mapped)
gives no kind, any other value ``other`` (roof, shed, carport …)."""

_NAME_TAGS = ("name:zh", "name:zh-Hans", "name")
_ADDRESS_PARTS = ("addr:province", "addr:city", "addr:district", "addr:street",
                  "addr:housenumber")  # fmt: skip
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CODE_CHARS = 12  # a community code's length in the store


# --- the selection -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TagFilter:
    """Features whose tag ``key`` has one of ``values`` (``None``: any value), not ``excluded``.

    Examples
    --------
    >>> f = TagFilter.parse("highway=primary,secondary")
    >>> f, f.matches(pd.Series(["primary", "footway", None])).tolist()
    (TagFilter('highway=primary,secondary'), [True, False, False])
    >>> TagFilter.parse("building=*")
    TagFilter('building=*')
    """

    key: str
    values: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()
    order: tuple[str, ...] = field(default=(), compare=False)  # the values as written

    @classmethod
    def of(cls, key: str, values: Iterable[str] | None = None, excluded: Iterable[str] = ()
           ) -> TagFilter:  # fmt: skip
        """The filter ``key`` in ``values`` (in this order), minus ``excluded``."""
        listed = None if values is None else tuple(values)
        return cls(key, None if listed is None else frozenset(listed), frozenset(excluded),
                   listed or ())  # fmt: skip

    @classmethod
    def parse(cls, text: str, default: TagFilter | None = None) -> TagFilter:
        """``KEY=V1,V2`` / ``KEY=*`` / ``KEY=+V`` (``default``'s values and ``V``).

        Raises
        ------
        ValueError
            ``text`` is not ``KEY=VALUE[,VALUE…]``, or ``+V`` on a key the default does not
            select by.
        """
        key, sep, values = (part.strip() for part in text.partition("="))
        items = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key or not items:
            raise ValueError(text)
        if items == ["*"]:
            return cls.of(key)
        added = [v[1:] for v in items if v.startswith("+")]
        if not added:
            return cls.of(key, items)
        if len(added) != len(items) or default is None or default.key != key:
            raise ValueError(text)
        return cls.of(key, [*default.order, *added], default.excluded)

    def matches(self, values: pd.Series) -> np.ndarray:
        """Where the tag's ``values`` pass the filter."""
        text = values.astype(object)
        ok = text.notna()
        if self.values is not None:
            ok &= text.isin(self.values)
        if self.excluded:
            ok &= ~text.isin(self.excluded)
        return ok.to_numpy()

    def where(self) -> str:
        """The filter in OGR SQL, for the driver's attribute filter."""
        column = f'"{self.key}"'
        if self.values is not None:
            return f"{column} IN ({', '.join(_sql_text(v) for v in self.order)})"
        sql = f"{column} IS NOT NULL"
        if self.excluded:
            sql += f" AND {column} NOT IN ({', '.join(map(_sql_text, sorted(self.excluded)))})"
        return sql

    def __str__(self) -> str:
        if self.values is None:
            return f"{self.key}=*"
        shown = [v for v in self.order if not (v.endswith("_link") and v[:-5] in self.values)]
        return f"{self.key}=" + ",".join(
            f"{v}(_link)" if f"{v}_link" in self.values else v for v in shown
        )

    def __repr__(self) -> str:
        return f"TagFilter({str(self)!r})"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class _Selection:
    """Which features of which GDAL layer hold an entity: all of ``fixed`` and one of
    ``default`` (which a ``layer`` filter replaces)."""

    gdal_layer: str
    fixed: tuple[TagFilter, ...]
    default: tuple[TagFilter, ...] = ()

    def chosen(self, layer: str | None, file: str, entity: str) -> _Selection:
        """The selection ``layer`` asks for (see the module docstring)."""
        if layer is None or layer.strip() == self.gdal_layer:
            return self
        try:
            default = self.default[0] if len(self.default) == 1 else None
            given = TagFilter.parse(layer, default)
        except ValueError:
            raise OSM_ERRORS.error("bad_layer", file=file, entity=entity, layer=layer,
                                   keys=_KEYS[self.gdal_layer]) from None  # fmt: skip
        if given.key not in _KEYS[self.gdal_layer]:
            raise OSM_ERRORS.error("bad_layer", file=file, entity=entity, layer=layer,
                                   keys=_KEYS[self.gdal_layer])  # fmt: skip
        return replace(self, default=(given,))

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Where the features of ``frame`` (which pass ``fixed``) match the selection."""
        if not self.default:
            return np.ones(len(frame), bool)
        return np.logical_or.reduce([f.matches(frame[f.key]) for f in self.default])

    def where(self) -> str:
        """The OGR SQL filter GDAL applies while reading: the fixed part (the rest is tested on
        the frame, to count what it leaves out), or the default part when there is no fixed
        one (compounds)."""
        if self.fixed:
            return " AND ".join(f.where() for f in self.fixed)
        return " OR ".join(f"({f.where()})" for f in self.default)

    def describe(self) -> str:
        """``highway=…`` / ``landuse=residential | place=neighbourhood`` (the default part)."""
        return " | ".join(map(str, self.default or self.fixed))


def _configured_tags(config: Path) -> dict[str, tuple[str, ...]]:
    """The tags ``osmconf.ini`` makes fields of, per GDAL layer: what a ``layer`` filter may
    name."""
    parser = configparser.ConfigParser()
    parser.read(config, encoding="utf-8")
    return {section: tuple(parser[section]["attributes"].split(","))
            for section in parser.sections() if "attributes" in parser[section]}  # fmt: skip


_KEYS = _configured_tags(_CONFIG)

_SELECTIONS = {
    "street": _Selection("lines", (TagFilter.of("highway"),),
                         (TagFilter.of("highway", GRID_STREET_CLASSES),)),
    "building": _Selection("multipolygons", (TagFilter.of("building", excluded=("no",)),)),
    "compound": _Selection("multipolygons", (), (TagFilter.of("landuse", ("residential",)),
                                                 TagFilter.of("place", ("neighbourhood",)))),
    "community": _Selection("multipolygons", (TagFilter.of("boundary", ("administrative",)),),
                            (TagFilter.of("admin_level", ("10",)),)),
}  # fmt: skip


# --- reading -----------------------------------------------------------------------------------


def is_osm_file(path: str | Path) -> bool:
    """Whether ``path`` is named as an OpenStreetMap extract (:data:`OSM_SUFFIXES`)."""
    return Path(path).name.lower().endswith(OSM_SUFFIXES)


def read_osm(path: Path, ent: Entity, layer: str | None, notes: list[ReadNote]) -> gpd.GeoDataFrame:
    """The features of ``ent`` in the OSM extract ``path``, with canonical columns (module
    docstring); what was taken and left out is appended to ``notes``.

    Raises
    ------
    InputError
        ``ent`` cannot come from OSM (households, persons …), ``layer`` is not a tag filter,
        the file cannot be read, or no feature matches (the message says what the file has).
    """
    if ent.name not in _SELECTIONS:
        raise OSM_ERRORS.error("not_in_osm", file=path.name, entity=ent.name)
    selection = _SELECTIONS[ent.name].chosen(layer, path.name, ent.name)
    raw = _read_features(path, selection.gdal_layer, selection.where())
    chosen = selection.mask(raw)
    if not chosen.any():
        raise _nothing_selected(path.name, ent.name, selection, raw)
    build = {"street": _streets, "building": _buildings, "compound": _compounds,
             "community": _communities}[ent.name]  # fmt: skip
    return build(raw, chosen, selection, path.name, notes)


def _read_features(path: Path, gdal_layer: str, where: str) -> gpd.GeoDataFrame:
    """One GDAL layer of the extract, features passing ``where``; outlines GDAL cannot close
    (a relation cut at the extract's edge) come with no geometry."""
    options = {"CONFIG_FILE": str(_CONFIG)}
    try:
        with warnings.catch_warnings():  # "Non closed ring detected" …: counted in the notes
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                return _read_dataframe(path, gdal_layer, where, options)
            except pyogrio.errors.FeatureError as exc:
                if "OSM_USE_CUSTOM_INDEXING" not in str(exc):
                    raise
                # Node ids not sorted (files written by some tools): GDAL's slower index.
                with _gdal_option("OSM_USE_CUSTOM_INDEXING", "NO"):
                    return _read_dataframe(path, gdal_layer, where, options)
    except Exception as exc:  # pyogrio raises several DataSource/driver errors
        raise OSM_ERRORS.error("unreadable", file=path.name, detail=str(exc)) from exc


def _read_dataframe(
    path: Path, gdal_layer: str, where: str, options: dict[str, str]
) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(path, layer=gdal_layer, where=where, on_invalid="ignore",
                                  **options)  # fmt: skip


@contextmanager
def _gdal_option(name: str, value: str) -> Iterator[None]:
    """Set a GDAL configuration option for the ``with`` block, then put it back."""
    before = pyogrio.get_gdal_config_option(name)
    pyogrio.set_gdal_config_options({name: value})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({name: before})


def _nothing_selected(
    file: str, entity: str, selection: _Selection, raw: pd.DataFrame
) -> InputError:
    """The error saying that no feature matches, with what the file has instead (the most
    frequent values of the selection's keys)."""
    found: list[tuple[str, int]] = []
    for key in dict.fromkeys(f.key for f in selection.default):
        counts = raw[key].value_counts().head(_VALUES_SHOWN)
        found += [(f"{key}={value}", int(n)) for value, n in counts.items()]
    fixed = " ".join(map(str, selection.fixed))
    error = OSM_ERRORS.error("nothing_selected", file=file, entity=entity, fixed=fixed,
                             selection=selection.describe(), found=found)  # fmt: skip
    assert isinstance(error, InputError)
    return error


_VALUES_SHOWN = 8


# --- the entities ------------------------------------------------------------------------------


def _streets(raw: gpd.GeoDataFrame, chosen: np.ndarray, selection: _Selection, file: str,
             notes: list[ReadNote]) -> gpd.GeoDataFrame:  # fmt: skip
    """``street_id``, ``name``, ``highway`` and the tags saying a way runs under something."""
    left = raw.loc[~chosen, "highway"].value_counts()
    lines = raw.loc[chosen].reset_index(drop=True)
    frame = gpd.GeoDataFrame(
        {"street_id": "osm-way-" + lines["osm_id"].astype(str), "name": _names(lines),
         "highway": lines["highway"], **{tag: lines[tag] for tag in BOUNDARY_TAGS}},
        geometry=lines.geometry.values, crs=raw.crs,
    )  # fmt: skip
    under = int((~boundary_mask(frame)).sum())
    kinds = [(str(k), int(m)) for k, m in left.head(_VALUES_SHOWN).items()]
    notes.append(ReadNote.of("osm_streets", file, n=len(frame), selection=selection.describe(),
                             under=under, left=int(left.sum()), kinds=kinds))  # fmt: skip
    return frame


def _buildings(raw: gpd.GeoDataFrame, chosen: np.ndarray, selection: _Selection, file: str,
               notes: list[ReadNote]) -> gpd.GeoDataFrame:  # fmt: skip
    """``building_id``, ``name``, ``kind``, ``floors``, ``households``, ``address``."""
    areas, broken = _areas(raw.loc[chosen])
    floors = _first_number(areas["building:levels"])
    flats = pd.to_numeric(areas["building:flats"].str.strip(), errors="coerce")
    households = flats.where(flats.ge(0) & flats.eq(flats.round()))
    value = areas["building"]
    kinds = value.map(OSM_BUILDING_KINDS).fillna("other").where(value.ne("yes"))
    frame = gpd.GeoDataFrame(
        {"building_id": _area_ids(areas), "name": _names(areas), "kind": kinds,
         "floors": floors.astype("Int64"), "households": households.astype("Int64"),
         "address": _addresses(areas)},
        geometry=areas.geometry.values, crs=raw.crs,
    )  # fmt: skip
    unreadable = areas["building:flats"].notna() & households.isna()
    notes.append(ReadNote.of("osm_buildings", file, n=len(frame), selection=selection.describe(),
                             levels=int(floors.notna().sum()), flats=int(households.notna().sum()),
                             unreadable=int(unreadable.sum())))  # fmt: skip
    _note_broken(notes, file, "building", broken)
    missing = int(households.isna().sum())
    if missing:
        notes.append(ReadNote.of("osm_households_missing", file, n=missing, total=len(frame)))
    return frame


def _compounds(raw: gpd.GeoDataFrame, chosen: np.ndarray, selection: _Selection, file: str,
               notes: list[ReadNote]) -> gpd.GeoDataFrame:  # fmt: skip
    """Named areas: ``compound_id``, ``name`` (an unnamed ``landuse=residential`` area is rarely
    a compound: it often covers a whole quarter)."""
    areas = raw.loc[chosen]
    named = _names(areas).notna().to_numpy()
    if not named.any():
        raise OSM_ERRORS.error("nothing_named", file=file, selection=selection.describe(),
                               n=len(areas))  # fmt: skip
    areas, broken = _areas(areas.loc[named])
    frame = gpd.GeoDataFrame({"compound_id": _area_ids(areas), "name": _names(areas)},
                             geometry=areas.geometry.values, crs=raw.crs)  # fmt: skip
    notes.append(ReadNote.of("osm_compounds", file, n=len(frame), selection=selection.describe(),
                             unnamed=int((~named).sum())))  # fmt: skip
    _note_broken(notes, file, "compound", broken)
    return frame


def _communities(raw: gpd.GeoDataFrame, chosen: np.ndarray, selection: _Selection, file: str,
                 notes: list[ReadNote]) -> gpd.GeoDataFrame:  # fmt: skip
    """``community_code`` (``ref``, else ``r<id>``/``w<id>``) and ``name``."""
    areas, broken = _areas(raw.loc[chosen])
    ref = areas["ref"].str.strip()
    usable = ref.notna() & ref.str.len().between(1, _CODE_CHARS)
    ways = areas["osm_way_id"]
    short = ("w" + ways.astype(str)).where(ways.notna(), "r" + areas["osm_id"].astype(str))
    frame = gpd.GeoDataFrame({"community_code": ref.where(usable, short), "name": _names(areas)},
                             geometry=areas.geometry.values, crs=raw.crs)  # fmt: skip
    notes.append(ReadNote.of("osm_communities", file, n=len(frame),
                             selection=" ".join(map(str, (*selection.fixed, *selection.default))),
                             generated=int((~usable).sum())))  # fmt: skip
    _note_broken(notes, file, "community", broken)
    return frame


# --- columns -----------------------------------------------------------------------------------


def _areas(areas: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    """``areas`` whose outline GDAL could build, and how many it could not (a relation cut at
    the extract's edge, a ring not closed: said by the note ``osm_outlines_broken``)."""
    broken = areas.geometry.isna().to_numpy()
    return areas.loc[~broken].reset_index(drop=True), int(broken.sum())


def _note_broken(notes: list[ReadNote], file: str, entity: str, n: int) -> None:
    if n:
        notes.append(ReadNote.of("osm_outlines_broken", file, entity=entity, n=n))


def _area_ids(areas: pd.DataFrame) -> pd.Series:
    """``osm-way-<id>`` for a closed way, ``osm-relation-<id>`` for a multipolygon relation."""
    ways = areas["osm_way_id"]
    return ("osm-way-" + ways.astype(str)).where(
        ways.notna(), "osm-relation-" + areas["osm_id"].astype(str)
    )


def _names(features: pd.DataFrame) -> pd.Series:
    """The first filled of ``name:zh``, ``name:zh-Hans``, ``name``."""
    names = pd.Series(None, index=features.index, dtype="str")
    for tag in reversed(_NAME_TAGS):
        text = features[tag].str.strip()
        names = text.where(text.notna() & text.ne(""), names)
    return names


def _first_number(values: pd.Series) -> pd.Series:
    """The first number of each value, rounded half up (``"5"``, ``"5;6"`` → 5, ``"4.5"`` → 5).

    >>> _first_number(pd.Series(["5", "5;6", "4.5", "高", None])).tolist()
    [5.0, 5.0, 5.0, nan, nan]
    """
    first = pd.to_numeric(values.str.extract(f"({_NUMBER.pattern})", expand=False),
                          errors="coerce")  # fmt: skip
    return np.floor(first + 0.5)


def _addresses(areas: pd.DataFrame) -> pd.Series:
    """``addr:full``, else the ``addr:*`` parts: joined without spaces when Chinese (省市区街门牌),
    else ``street housenumber, city``."""
    parts = areas[list(_ADDRESS_PARTS)].astype(object)
    out: list[str | None] = []
    for full, row in zip(areas["addr:full"].tolist(), parts.itertuples(index=False), strict=True):
        if isinstance(full, str) and full.strip():
            out.append(full.strip())
            continue
        province, city, district, street, number = (v.strip() if isinstance(v, str) else ""
                                                    for v in row)  # fmt: skip
        if _CJK.search(province + city + district + street + number):
            text = province + city + district + street + number
        else:
            text = ", ".join(p for p in (f"{street} {number}".strip(), city) if p)
        out.append(text or None)
    return pd.Series(out, index=areas.index, dtype="str")


# --- errors ------------------------------------------------------------------------------------


def _found(found: list[tuple[str, int]], lang: str) -> str:
    if not found:
        return "无" if lang == "zh" else "none"
    return ("、" if lang == "zh" else ", ").join(f"{tag} ({n})" for tag, n in found)


def _nothing_selected_words(
    file: str, entity: str, fixed: str, selection: str, found: list[tuple[str, int]]
) -> Words:
    among = f" {fixed}" if fixed else ""
    return (f"{file}: no {entity_word(entity, 'en')} in this OSM extract: no{among} feature has "
            f"{selection}; it has {_found(found, 'en')}. Choose with --layer {entity}=KEY=VALUE "
            f"(layer=), e.g. {_example(entity)}.",
            f"{file}：此 OSM 数据中没有{entity_word(entity, 'zh')}：没有{among} {selection} "
            f"的要素；文件中有 {_found(found, 'zh')}。请用 --layer {entity}=KEY=VALUE"
            f"（layer=）选择，例如 {_example(entity)}。")  # fmt: skip


def _example(entity: str) -> str:
    return {"street": "highway=+service", "building": "building=*",
            "compound": "landuse=residential", "community": "admin_level=8"}[entity]  # fmt: skip


OSM_ERRORS = ErrorTexts({
    "not_in_osm": (InputError, lambda file, entity: (
        f"{file} is an OpenStreetMap extract: it holds streets, buildings, compounds and "
        f"communities, not {entity_word(entity, 'en')}; give the {entity} file.",
        f"{file} 是 OSM 数据，只含道路、楼栋、小区和社区，不含{entity_word(entity, 'zh')}；请给出"
        f"{entity_word(entity, 'zh')}文件。")),
    "bad_layer": (InputError, lambda file, entity, layer, keys: (
        f"{file}: --layer {entity}={layer} (layer=) does not choose OSM features; give a tag "
        f"filter KEY=VALUE[,VALUE…], KEY=* or KEY=+VALUE (added to the default) with KEY one of "
        f"{list(keys)}, e.g. {_example(entity)}.",
        f"{file}：--layer {entity}={layer}（layer=）不能用来选择 OSM 要素；请给出标签条件 "
        f"KEY=VALUE[,VALUE…]、KEY=* 或 KEY=+VALUE（在默认值之外增加），KEY 为 "
        f"{'、'.join(keys)} 之一，例如 {_example(entity)}。")),
    "nothing_selected": (InputError, _nothing_selected_words),
    "nothing_named": (InputError, lambda file, selection, n: (
        f"{file}: the {n} area(s) with {selection} have no name; compounds (小区) are taken from "
        "named areas only. Give the compounds file, or name them in OSM.",
        f"{file}：{n} 个 {selection} 区域都没有名称；小区只取有名称的区域。请给出小区文件，或在 "
        "OSM 中为其填写名称。")),
    "unreadable": (InputError, (
        "Cannot read the OpenStreetMap extract {file}: {detail}",
        "无法读取 OSM 数据 {file}：文件已损坏或不是 .osm.pbf/.osm 格式（{detail}）")),
})  # fmt: skip
"""The errors of reading OSM extracts, in English and Chinese."""
