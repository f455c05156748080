"""Small files the way district offices have them, built from the committed Bijiang demo sample.

Every builder writes a complete set (communities, buildings, and where it matters compounds,
streets, persons) under ``directory`` and returns an :class:`OfficeFiles` with the paths. The
geometry and counts are the demo sample's (3 communities, 122 buildings, 13 compounds, 11
streets), so partitioning any set gives real grids; only the *form* of the files differs:

===========================  ===========================================================
builder                      what it has that an office file has
===========================  ===========================================================
:func:`gbk_shapefiles`       GBK attributes and headers (社区代码, 楼栋编号 …), EPSG:4545;
                             ``cpg=False``: no ``.cpg`` and code page byte 0 (GDAL alone
                             reads the text as Latin-1 mojibake)
:func:`truncated_shapefiles` English headers cut to 10 characters (``building_i``,
                             ``community_``, ``compound_i``, ``property_c``), EPSG:4545
:func:`multilayer_geopackage`  one GeoPackage, layers 社区边界 / 小区 / 道路 / 楼栋 and an
                             unrelated first layer 兴趣点 (layer names ≠ entity names)
:func:`osm_geojson`          GeoJSON with ``id`` / ``osm_id``, no community column on
                             buildings, compounds with ``id`` and no name
:func:`compounds_without_ids`  compounds with neither id nor name; streets with names only
:func:`buildings_lonlat_csv` buildings CSV with 经度/纬度 points (``wkt=True``: WKT polygons)
:func:`persons_roster`       persons CSV (GBK) without a person id: 户号, 姓名, 身份证号, 联系电话
:func:`rosters_without_household_ids`  households XLSX and persons CSV (GBK) without 户号:
                             楼栋编号, 单元, 楼层, 房号 (and 地址/现住址, 经度/纬度) say
                             where each lives
===========================  ===========================================================

Nothing in these files is real (see ``geodata/README.md``). ``ALL_SETS`` lists the builders
that give a full partition input, for parametrised tests.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

import geodata
from gridmap.io.layers import plural

__all__ = [
    "ALL_SETS",
    "OFFICE_CRS",
    "OfficeFiles",
    "buildings_lonlat_csv",
    "compounds_without_ids",
    "dbf_has_gbk_text",
    "gbk_shapefiles",
    "multilayer_geopackage",
    "osm_geojson",
    "persons_roster",
    "rosters_without_household_ids",
    "sample_layers",
    "truncated_shapefiles",
]

OFFICE_CRS = "EPSG:4545"
"""CGCS2000 3° Gauss-Krüger CM 108°E: what Tongren's offices draw in."""

_LDID_OFFSET = 29  # DBF header byte holding the code page (language driver id)


@dataclass(frozen=True)
class OfficeFiles:
    """Paths of one set of office files; ``layers`` maps entity → GeoPackage layer."""

    communities: Path
    buildings: Path
    compounds: Path | None = None
    streets: Path | None = None
    persons: Path | None = None
    layers: dict[str, str] = field(default_factory=dict)

    def partition_args(self) -> list[str]:
        """``gridmap partition`` options for these files (no mapping file, no field options)."""
        return self._file_options(("community", "building", "compound", "street"))

    def import_args(self, db: str, reports: Path) -> list[str]:
        """``gridmap import`` of these files into ``db``, reports to ``reports`` (no mapping)."""
        return ["import", "--db", db, "--report-dir", str(reports),
                *self._file_options(self.sources())]  # fmt: skip

    def _file_options(self, entities: Iterable[str]) -> list[str]:
        """``--communities F`` … for those of ``entities`` this set has, then its ``--layer``s."""
        given = self.sources()
        args = [a for e in entities if e in given for a in (f"--{plural(e)}", str(given[e]))]
        return args + [a for e, layer in self.layers.items() for a in ("--layer", f"{e}={layer}")]

    def sources(self) -> dict[str, Path]:
        """Entity → file, as :func:`service.importer.import_files` takes them."""
        given = {"community": self.communities, "compound": self.compounds, "street": self.streets,
                 "building": self.buildings, "person": self.persons}  # fmt: skip
        return {entity: path for entity, path in given.items() if path is not None}


@cache
def _sample() -> dict[str, pd.DataFrame]:
    return geodata.load_sample()


def sample_layers() -> dict[str, gpd.GeoDataFrame]:
    """Copies of the sample's communities, compounds, streets and buildings (EPSG:4490)."""
    s = _sample()
    return {k: s[k].copy() for k in ("communities", "compounds", "streets", "buildings")}


# --- Shapefiles -------------------------------------------------------------------------------

_GBK_HEADERS = {
    "communities": {"community_code": "社区代码", "name": "社区名称", "subdistrict": "街道"},
    "compounds": {"compound_id": "小区编号", "name": "小区名称", "community_code": "社区代码",
                  "property_company": "物业公司"},
    "streets": {"street_id": "道路编号", "name": "道路名称"},
    "buildings": {"building_id": "楼栋编号", "name": "楼栋名称", "address": "地址",
                  "floors": "层数", "units": "单元数", "households": "户数",
                  "compound_id": "小区编号", "community_code": "社区代码"},
}  # fmt: skip


def _office_frame(frame: gpd.GeoDataFrame, headers: dict[str, str], crs: str) -> gpd.GeoDataFrame:
    out = frame[[*headers, "geometry"]].rename(columns=headers)
    return out.to_crs(crs)


def _write_shapefile(frame: gpd.GeoDataFrame, path: Path, encoding: str) -> Path:
    with warnings.catch_warnings():  # GDAL warns about truncated or non-ASCII field names
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(frame, path, encoding=encoding)
    return path


def _drop_code_page(shp: Path) -> None:
    """Remove the ``.cpg`` and zero the DBF code page byte, as old office software leaves them."""
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = shp.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    data[_LDID_OFFSET] = 0
    dbf.write_bytes(bytes(data))


def dbf_has_gbk_text(shp: Path, text: str) -> bool:
    """True if the ``.dbf`` of ``shp`` holds ``text`` GBK-encoded (and not UTF-8-encoded)."""
    data = shp.with_suffix(".dbf").read_bytes()
    return text.encode("gbk") in data and text.encode("utf-8") not in data


def gbk_shapefiles(directory: Path, *, cpg: bool = True) -> OfficeFiles:
    """Shapefiles with Chinese headers and GBK text in EPSG:4545; ``cpg=False`` drops the .cpg.

    Buildings carry 楼栋编号, 楼栋名称, 地址, 层数, 单元数, 户数, 小区编号, 社区代码.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Any] = {}  # OfficeFiles keywords
    for name, headers in _GBK_HEADERS.items():
        frame = _office_frame(sample_layers()[name], headers, OFFICE_CRS)
        paths[name] = _write_shapefile(frame, directory / f"{name}.shp", "GBK")
        if not cpg:
            _drop_code_page(paths[name])
        if not dbf_has_gbk_text(paths[name], next(iter(headers.values()))):
            raise AssertionError(f"{paths[name]} was not written in GBK")
    return OfficeFiles(**paths)


_ENGLISH_COLUMNS = {
    "communities": ["community_code", "name", "subdistrict"],
    "compounds": ["compound_id", "name", "community_code", "property_company"],
    "streets": ["street_id", "name"],
    "buildings": ["building_id", "name", "floors", "units", "households", "compound_id",
                  "community_code"],
}  # fmt: skip


def truncated_shapefiles(directory: Path) -> OfficeFiles:
    """UTF-8 shapefiles (with .cpg) whose English headers the driver cut to 10 characters.

    ``building_id`` → ``building_i``, ``community_code`` → ``community_``, ``compound_id`` →
    ``compound_i``, ``property_company`` → ``property_c``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Any] = {}  # OfficeFiles keywords
    for name, columns in _ENGLISH_COLUMNS.items():
        frame = sample_layers()[name][[*columns, "geometry"]].to_crs(OFFICE_CRS)
        paths[name] = _write_shapefile(frame, directory / f"{name}.shp", "UTF-8")
    return OfficeFiles(**paths)


# --- GeoPackage -------------------------------------------------------------------------------

GPKG_LAYERS = {"community": "社区边界", "compound": "小区", "street": "道路", "building": "楼栋"}
"""Entity → layer name in :func:`multilayer_geopackage`."""


def multilayer_geopackage(directory: Path) -> OfficeFiles:
    """One GeoPackage (EPSG:4490) with Chinese layer names and headers, an unrelated layer first.

    The layers are 兴趣点 (points of interest, not an entity), 社区边界, 小区, 道路 and 楼栋;
    :attr:`OfficeFiles.layers` says which is which.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "碧江区基础数据.gpkg"
    path.unlink(missing_ok=True)
    layers = sample_layers()
    poi = gpd.GeoDataFrame(
        {"名称": ["铜仁市第一中学", "碧江区人民医院"], "类别": ["学校", "医院"]},
        geometry=list(layers["buildings"].geometry.iloc[[5, 40]].representative_point()),
        crs=layers["buildings"].crs,
    )
    poi.to_file(path, layer="兴趣点", engine="pyogrio")
    for entity, layer in GPKG_LAYERS.items():
        name = {"community": "communities", "compound": "compounds", "street": "streets",
                "building": "buildings"}[entity]  # fmt: skip
        frame = _office_frame(layers[name], _GBK_HEADERS[name], "EPSG:4490")
        frame.to_file(path, layer=layer, engine="pyogrio")
    return OfficeFiles(communities=path, buildings=path, compounds=path, streets=path,
                       layers=dict(GPKG_LAYERS))  # fmt: skip


# --- GeoJSON (OpenStreetMap style) ------------------------------------------------------------


def _write_geojson(frame: gpd.GeoDataFrame, path: Path) -> Path:
    path.unlink(missing_ok=True)
    frame.to_crs(4326).to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def osm_geojson(directory: Path) -> OfficeFiles:
    """GeoJSON as exported from OpenStreetMap tools: ``id``/``osm_id`` ids, no community column.

    * communities: ``code``, ``name``;
    * buildings: ``id`` (``way/…``), ``osm_id`` (number), ``building``, ``building:levels``,
      ``households``, ``name``; **no** community or compound column;
    * compounds: ``id`` only (no name);
    * streets: ``osm_id``, ``highway``, ``name``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    layers = sample_layers()
    comm = layers["communities"].rename(columns={"community_code": "code"})[
        ["code", "name", "geometry"]
    ]
    b = layers["buildings"]
    osm_ids = [400_000_000 + 7 * i for i in range(len(b))]
    bld = gpd.GeoDataFrame(
        {
            "id": [f"way/{n}" for n in osm_ids],
            "osm_id": osm_ids,
            "building": b["kind"].map({"residential": "apartments", "mixed": "yes"}).fillna("yes"),
            "building:levels": b["floors"].astype(int),
            "households": b["households"].astype(int),
            "name": b["name"],
        },
        geometry=b.geometry.values,
        crs=b.crs,
    )
    cmp = layers["compounds"].assign(id=lambda f: f["compound_id"].str.replace("XQ", "R"))
    st = layers["streets"].assign(
        osm_id=[300_000_000 + 11 * i for i in range(len(layers["streets"]))], highway="secondary"
    )
    return OfficeFiles(
        communities=_write_geojson(comm, directory / "communities.geojson"),
        buildings=_write_geojson(bld, directory / "buildings.geojson"),
        compounds=_write_geojson(cmp[["id", "geometry"]], directory / "compounds.geojson"),
        streets=_write_geojson(
            st[["osm_id", "highway", "name", "geometry"]], directory / "streets.geojson"
        ),  # fmt: skip
    )


def compounds_without_ids(directory: Path) -> OfficeFiles:
    """Compounds with neither id nor name (only 物业公司), streets with names only (道路名称).

    Buildings and communities are Chinese-header GeoJSON; buildings have no 小区编号 column.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    layers = sample_layers()
    headers = dict(_GBK_HEADERS["buildings"])
    del headers["compound_id"]
    return OfficeFiles(
        communities=_write_geojson(
            _office_frame(layers["communities"], _GBK_HEADERS["communities"], "EPSG:4490"),
            directory / "社区.geojson",
        ),
        buildings=_write_geojson(
            _office_frame(layers["buildings"], headers, "EPSG:4490"), directory / "楼栋.geojson"
        ),
        compounds=_write_geojson(
            _office_frame(layers["compounds"], {"property_company": "物业公司"}, "EPSG:4490"),
            directory / "小区.geojson",
        ),
        streets=_write_geojson(
            _office_frame(layers["streets"], {"name": "道路名称"}, "EPSG:4490"),
            directory / "道路.geojson",
        ),
    )


# --- tables -----------------------------------------------------------------------------------


def buildings_lonlat_csv(directory: Path, *, wkt: bool = False) -> OfficeFiles:
    """Buildings as a CSV table: 楼栋编号, 户数, 社区代码, 小区编号 and 经度/纬度 (a point
    inside each footprint), or with ``wkt=True`` a 空间信息 column of WKT polygons (lon/lat).

    Communities and compounds come as Chinese-header GeoJSON, streets are left out.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    layers = sample_layers()
    b = layers["buildings"].to_crs(4326)
    table = pd.DataFrame(
        {
            "楼栋编号": b["building_id"],
            "户数": b["households"],
            "社区代码": b["community_code"],
            "小区编号": b["compound_id"],
        }  # fmt: skip
    )
    if wkt:
        table["空间信息"] = shapely.to_wkt(b.geometry.values, rounding_precision=8)
        path = directory / "楼栋_wkt.csv"
    else:
        points = b.geometry.representative_point()
        table["经度"], table["纬度"] = points.x.round(7), points.y.round(7)
        path = directory / "楼栋_经纬度.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    return OfficeFiles(
        communities=_write_geojson(
            _office_frame(layers["communities"], _GBK_HEADERS["communities"], "EPSG:4490"),
            directory / "社区.geojson",
        ),
        buildings=path,
        compounds=_write_geojson(
            _office_frame(layers["compounds"], _GBK_HEADERS["compounds"], "EPSG:4490"),
            directory / "小区.geojson",
        ),
    )


def persons_roster(directory: Path, *, rows: int | None = 400, encoding: str = "gbk") -> Path:
    """A persons roster without a person id: 户号, 姓名, 身份证号, 联系电话, 与户主关系.

    Taken from the (fictitious) ``geodata/sample/persons.csv``; the first ``rows`` rows (all
    if ``None``), written in ``encoding`` (GBK: what Excel on Chinese Windows saves).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    source = pd.read_csv(geodata.get_path("persons.csv"), dtype=str, encoding="utf-8-sig")
    table = source[["户号", "姓名", "身份证号", "联系电话", "与户主关系"]]
    if rows is not None:
        table = table.head(rows)
    path = directory / "人口花名册.csv"
    table.to_csv(path, index=False, encoding=encoding)
    return path


_ADDRESS_HEADERS = ["楼栋编号", "单元", "楼层", "房号"]
_WHERE_HEADERS = {"地址": "现住址", "经度": "经度", "纬度": "纬度"}
"""A persons roster's free-text address and coordinates, from its household's (地址 → 现住址)."""


def rosters_without_household_ids(
    directory: Path, *, rows: int | None = None, persons_building: bool = True
) -> tuple[Path, Path]:
    """A household roster (XLSX, sheet 住户) and a persons roster (GBK CSV) with no 户号 at all:
    the households say where they live (楼栋编号, 单元, 楼层, 房号, 地址, 经度/纬度, 人数), the
    persons too (楼栋编号, 单元, 楼层, 房号, 现住址, 经度/纬度; 姓名, 身份证号, 联系电话,
    与户主关系), as an office keeping no household numbers has them. ``persons_building=False``:
    the persons roster has no 楼栋编号 column at all (where they live only as 现住址 text,
    单元/楼层/房号 and coordinates).

    Taken from the (fictitious) ``geodata/sample`` rosters: the first ``rows`` households (all
    if ``None``) and their persons; 375 of the 6,649 sample households have no 楼栋编号 (given
    by address or coordinates only), and their persons neither. Returns ``(households,
    persons)``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    households = pd.read_csv(geodata.get_path("households.csv"), dtype=str, encoding="utf-8-sig")
    if rows is not None:
        households = households.head(rows)
    persons = pd.read_csv(geodata.get_path("persons.csv"), dtype=str, encoding="utf-8-sig")
    where = households[["户号", *_ADDRESS_HEADERS, *_WHERE_HEADERS]].rename(columns=_WHERE_HEADERS)
    persons = persons.merge(where, on="户号", how="inner")
    households_path = directory / "住户_无户号.xlsx"
    households.drop(columns=["户号", "户主编号"]).to_excel(households_path, sheet_name="住户",
                                                          index=False)  # fmt: skip
    persons_path = directory / "人口_无户号.csv"
    address = _ADDRESS_HEADERS if persons_building else _ADDRESS_HEADERS[1:]
    columns = [*address, *_WHERE_HEADERS.values(), "姓名", "身份证号", "联系电话", "与户主关系"]
    persons[columns].to_csv(persons_path, index=False, encoding="gbk")
    return households_path, persons_path


ALL_SETS: dict[str, Callable[[Path], OfficeFiles]] = {
    "gbk_shapefiles_cpg": lambda d: gbk_shapefiles(d, cpg=True),
    "gbk_shapefiles_no_cpg": lambda d: gbk_shapefiles(d, cpg=False),
    "truncated_shapefiles": truncated_shapefiles,
    "multilayer_geopackage": multilayer_geopackage,
    "osm_geojson": osm_geojson,
    "compounds_without_ids": compounds_without_ids,
    "buildings_lonlat_csv": buildings_lonlat_csv,
    "buildings_wkt_csv": lambda d: buildings_lonlat_csv(d, wkt=True),
}
"""Name → builder of every full partition input set (communities + buildings at least)."""
