"""geodata.make_district: a deterministic synthetic district and a province-like set of them."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd
import pytest
import shapely

from geodata.make_district import LAYERS, district_codes, main, make_district
from geodata.make_sample import PERSON_HEADERS
from gridmap import read_layer
from gridmap.idnumbers import valid_id_number
from gridmap.schema import BUILDING_KINDS, POPULATION_TYPES, STAFF_ROLES

SMALL = {"columns": 3, "rows": 2, "scale": 0.35, "small": 1}  # 7 communities, ~1,000 buildings
PHONE = re.compile(r"^1[3-9]\d{9}$")


@pytest.fixture(scope="module")
def district():
    return make_district(7, **SMALL)


@pytest.fixture(scope="module")
def persons(district):
    return pd.concat(list(district.persons()), ignore_index=True)


def _digest(district, persons: bool = True) -> str:
    h = hashlib.sha256()
    for frame in (district.communities, district.compounds, district.streets, district.buildings):
        h.update(frame.drop(columns="geometry").to_csv().encode())
        h.update(b"".join(shapely.to_wkb(frame.geometry.values)))
    h.update(district.households.to_csv().encode())
    h.update(district.staff.to_csv().encode())
    if persons:
        for batch in district.persons():
            h.update(batch.to_csv().encode())
    return h.hexdigest()


def test_same_seed_same_district_other_seed_other_district(district):
    assert _digest(make_district(7, **SMALL)) == _digest(district)
    assert _digest(make_district(8, **SMALL), persons=False) != _digest(district, persons=False)


@pytest.mark.slow
def test_full_size_is_bijiang_scale():
    d = make_district()
    counts = d.summary()
    assert 38 <= counts["communities"] <= 45 and counts["subdistricts"] >= 3
    assert 30_000 <= counts["buildings"] <= 40_000
    assert 360_000 <= counts["households"] <= 440_000
    assert 900_000 <= counts["persons"] <= 1_100_000
    assert counts["compounds"] >= 300 and counts["streets"] >= 100
    per_community = d.buildings.groupby("community_code")["households"].sum()
    assert 1 <= (per_community < 300).sum() <= 5  # a few infeasible communities
    assert (d.buildings["households"] > 500).sum() >= 3  # towers above one grid's maximum


def test_codes_follow_the_code_scheme(district):
    c, b = district.communities, district.buildings
    assert district.code == "520602"
    assert c["community_code"].str.fullmatch(r"520602(0\d\d)(\d{3})").all()
    township = c["community_code"].str[6:9].astype(int)
    village = c["community_code"].str[9:].astype(int)
    assert township.between(1, 99).all() and village.between(1, 199).all()  # 街道, 社区
    assert c["community_code"].is_unique and c["name"].str.endswith("社区").all()
    assert (
        c.groupby("subdistrict")["community_code"].apply(lambda s: s.str[6:9].nunique()).eq(1).all()
    )
    assert (b["code"].str[:12] == b["community_code"]).all() and b["code"].str.len().eq(16).all()
    assert b["code"].is_unique and b["building_id"].is_unique
    assert b["building_id"].str.fullmatch(r"B520602\d{6}").all()
    assert district.compounds["compound_id"].str.fullmatch(r"XQ520602\d{4}").all()
    assert district.streets["street_id"].str.fullmatch(r"DL520602\d{4}").all()
    assert district.streets["name"].is_unique
    assert set(b["kind"]) <= set(BUILDING_KINDS)
    assert set(district.staff["role"]) <= set(STAFF_ROLES)


def test_communities_tile_the_district_and_geometry_is_valid(district):
    for layer in LAYERS:
        frame = getattr(district, layer)
        assert frame.crs.to_epsg() == 4545
        assert shapely.is_valid(frame.geometry.values).all(), layer
    polys = district.communities.geometry.values
    union = shapely.union_all(polys)
    assert union.geom_type == "Polygon" and not list(union.interiors)  # one piece, no holes
    assert union.area == pytest.approx(shapely.area(polys).sum(), abs=1.0)  # no overlaps
    i, j = shapely.STRtree(polys).query(polys, predicate="overlaps")
    assert len(i) == 0


def test_buildings_compounds_and_streets_fit_together(district):
    b, cmp, streets = district.buildings, district.compounds, district.streets
    home = district.communities.set_index("community_code").geometry
    assert shapely.within(b.geometry.values, home.loc[b["community_code"]].values).all()
    i, j = shapely.STRtree(b.geometry.values).query(b.geometry.values, predicate="intersects")
    assert (i == j).all()  # no two footprints overlap
    i, j = shapely.STRtree(cmp.geometry.values).query(cmp.geometry.values, predicate="intersects")
    assert (i == j).all()
    walled = b.dropna(subset=["compound_id"])
    walls = cmp.set_index("compound_id").geometry.loc[walled["compound_id"]].values
    assert shapely.within(walled.geometry.values, walls).all()
    lines = shapely.union_all(streets.geometry.values)
    assert shapely.distance(b.geometry.values, lines).min() > 9.0  # none crosses a street
    assert not shapely.intersects(cmp.geometry.values, lines).any()
    dwellings = district.households.groupby("building_id").size()
    assert dwellings.reindex(b["building_id"], fill_value=0).tolist() == b["households"].tolist()


def test_persons_are_plausible_fake_and_consistent(district, persons):
    h = district.households
    assert len(persons) == h["size"].sum() == len(district.person_stream)
    assert persons["person_id"].is_unique and persons["id_number"].is_unique
    assert persons["id_number"].map(valid_id_number).all()
    odd = persons["id_number"].str[16].astype(int) % 2 == 1
    assert (odd == (persons["sex"] == "男")).all()
    assert (persons["id_number"].str[6:14] == persons["birth_date"].str.replace("-", "")).all()
    assert persons["name"].str.len().between(2, 3).all()
    assert persons["phone"].dropna().str.match(PHONE).all()
    heads = persons[persons["relationship"] == "户主"].set_index("household_id")["person_id"]
    assert heads.index.is_unique and len(heads) == len(h)
    assert (h.set_index("household_id")["head_person_id"] == heads).all()
    assert set(persons["population_type"]) <= set(POPULATION_TYPES)
    registered = persons["population_type"] != "floating"
    assert (persons.loc[registered, "id_number"].str[:6] == "520602").all()


def test_two_districts_side_by_side_through_the_command_line(tmp_path):
    main(["--districts", "2", "--out", str(tmp_path), "--lattice", "2x1", "--scale", "0.3"])
    codes = district_codes(2)
    assert codes[0] == "520602" and len(set(codes)) == 2
    outlines, ids = [], []
    for code in codes:
        folder = tmp_path / code
        communities = read_layer(folder / "district.gpkg", "community", layer="communities")
        buildings = read_layer(folder / "district.gpkg", "building", layer="buildings")
        assert communities["community_code"].str.startswith(code).all()
        assert buildings["building_id"].str.startswith(f"B{code}").all()
        outlines.append(shapely.union_all(communities.to_crs(4545).geometry.values))
        people = pd.read_csv(folder / "persons.csv", dtype=str, encoding="utf-8-sig")
        assert list(people.columns) == list(PERSON_HEADERS.values())
        ids.append(people["身份证号"])
        households = pd.read_csv(folder / "households.csv", dtype=str, encoding="utf-8-sig")
        assert households["楼栋编号"].isin(buildings["building_id"]).all()
    assert not outlines[0].intersects(outlines[1])
    assert pd.concat(ids).is_unique
    assert np.isclose(outlines[0].area, outlines[1].area, rtol=0.6)
