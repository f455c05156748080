"""Invariants of the committed Bijiang demo sample, its faulty variant and the real loaders."""

from __future__ import annotations

import datetime as dt
import re
from itertools import combinations

import geopandas as gpd
import pandas as pd
import pytest

import geodata
from geodata.faults import PLANTED_FAULTS, PROBLEMS, Fault, write_faulty_sample
from geodata.make_sample import SEED, build_sample
from geodata.people import valid_id_number
from gridmap.schema import BUILDING_KINDS, POPULATION_TYPES, STAFF_ROLES

METRIC = "EPSG:4545"
PHONE = re.compile(r"^1[3-9]\d{9}$")
LARGE, MEDIUM, SMALL = "520602002001", "520602002002", "520602001005"


@pytest.fixture(scope="module")
def sample():
    return geodata.load_sample()


@pytest.fixture(scope="module")
def metric(sample):
    return {k: v.to_crs(METRIC) for k, v in sample.items() if isinstance(v, gpd.GeoDataFrame)}


def _resolve_buildings(sample, buildings_m):
    """Building of every household: by id, else by address prefix, else by point in footprint."""
    h = sample["households"]
    b = sample["buildings"]
    by_address = dict(zip(b["address"], b["building_id"], strict=True))
    resolved = h["building_id"].copy()
    for i in h.index[resolved.isna() & h["address"].notna()]:
        prefix = re.sub(r"\d+单元\d+室$", "", h.at[i, "address"])
        resolved[i] = by_address.get(prefix)
    pts = h[resolved.isna() & h.geometry.notna()].to_crs(METRIC)
    hits = gpd.sjoin(pts, buildings_m[["building_id", "geometry"]], predicate="within")
    resolved[hits.index] = hits["building_id_right"]
    return resolved


# ---------------------------------------------------------------- layers


def test_layers_crs_place_and_codes(sample):
    assert set(sample) == {
        "communities", "compounds", "streets", "buildings", "grids_existing", "households",
        "persons", "staff",
    }  # fmt: skip
    for name in geodata.SAMPLE_LAYERS:
        assert sample[name].crs.to_epsg() == 4490, name
        minx, miny, maxx, maxy = sample[name].total_bounds
        assert 109.18 <= minx < maxx <= 109.21 and 27.70 <= miny < maxy <= 27.74, name
    c = sample["communities"]
    assert sorted(c["community_code"]) == sorted([LARGE, MEDIUM, SMALL])
    assert c["community_code"].str.fullmatch(r"520602(0\d\d)(\d{3})").all()
    assert (c["code_year"] == 2023).all()
    assert "广场社区" in set(c["name"])


def test_community_sizes_cover_the_cases(sample):
    b = sample["buildings"]
    per = b.groupby("community_code")["households"].sum()
    assert 4000 <= per[LARGE] <= 6000
    assert per[SMALL] < 300  # under_min
    assert b.loc[b["community_code"] == MEDIUM, "households"].max() > 500  # over_max tower
    assert 12_000 <= len(sample["persons"]) <= 16_000


def test_communities_share_edges_and_do_not_overlap(metric):
    geoms = metric["communities"].geometry.tolist()
    assert all(g.is_valid for g in geoms)
    for a, b in combinations(geoms, 2):
        assert a.intersection(b).area < 1e-3
        assert a.boundary.intersection(b.boundary).length > 150  # a shared edge, not a corner


def test_buildings_valid_disjoint_and_well_formed(sample, metric):
    b = metric["buildings"]
    assert b["building_id"].is_unique and b["code"].is_unique
    assert b.is_valid.all() and b.geom_type.eq("Polygon").all()
    pairs = gpd.sjoin(b, b, predicate="intersects")
    assert (pairs.index == pairs["index_right"]).all(), "buildings overlap"
    assert set(b["kind"]) <= set(BUILDING_KINDS)
    assert b["floors"].between(1, 33).all() and b["units"].between(1, 4).all()
    assert b["address"].str.startswith("铜仁市碧江区").all() and b["address"].is_unique
    assert (b.geometry.count_coordinates() > 5).sum() >= 5  # some L-shaped footprints
    zero = b[b["households"] == 0]
    assert len(zero) >= 3 and set(zero["kind"]) <= {"public", "commercial"}


def test_households_follow_units_floors_and_flats_per_floor(sample):
    b = sample["buildings"]
    res = b[b["households"] > 0]
    dwelling_floors = res["floors"] - (res["kind"] == "mixed")
    per_floor = res["households"] / (res["units"] * dwelling_floors)
    assert per_floor.isin([2, 3, 4]).all()
    assert res.loc[res["kind"] == "residential", "floors"].between(5, 33).all()


def test_buildings_inside_their_community_and_off_streets(metric):
    b, c, s = metric["buildings"], metric["communities"], metric["streets"]
    joined = gpd.sjoin(b, c[["community_code", "geometry"]], predicate="within")
    assert joined.index.is_unique and len(joined) == len(b)
    assert (joined["community_code_left"] == joined["community_code_right"]).all()
    assert not gpd.sjoin(b, s, predicate="intersects").shape[0]
    assert b.geometry.distance(s.union_all()).min() > 10


def test_streets_split_communities_into_blocks(metric):
    from shapely.ops import polygonize, unary_union

    c, s = metric["communities"], metric["streets"]
    lines = unary_union([*s.geometry, *c.boundary])
    blocks = [p for p in polygonize(lines) if c.union_all().contains(p.representative_point())]
    assert len(blocks) == 13
    assert abs(sum(p.area for p in blocks) - c.area.sum()) < 1


def test_compounds_contain_their_buildings(metric):
    b, cp = metric["buildings"], metric["compounds"].set_index("compound_id")
    assert cp["name"].str.contains("花园|小区|宿舍|国际").all()
    assert cp["property_company"].notna().all()
    inside = b[b["compound_id"].notna()]
    assert len(inside) > 0.8 * len(b)
    assert all(cp.geometry[r.compound_id].contains(r.geometry) for r in inside.itertuples())
    pairs = gpd.sjoin(cp.reset_index(), cp.reset_index(), predicate="overlaps")
    assert pairs.empty


# ---------------------------------------------------------------- rosters


def test_each_household_has_one_locator_of_each_kind(sample):
    h = sample["households"]
    assert h["household_id"].is_unique
    by_id = h["building_id"].notna()
    by_address = ~by_id & h["address"].notna()
    by_coords = ~by_id & h["address"].isna() & h.geometry.notna()
    assert (by_id | by_address | by_coords).all()
    assert by_address.sum() > 50 and by_coords.sum() > 50
    assert h.loc[by_id, "room"].str.fullmatch(r"\d{3,4}").all()


def test_households_sum_per_building_matches(sample, metric):
    resolved = _resolve_buildings(sample, metric["buildings"])
    assert resolved.notna().all()
    counts = resolved.value_counts()
    b = sample["buildings"].set_index("building_id")["households"]
    pd.testing.assert_series_equal(
        counts.reindex(b.index, fill_value=0).sort_index(), b.sort_index(), check_names=False
    )


def test_dwellings_unique_within_buildings(sample, metric):
    h = sample["households"].assign(building_id=_resolve_buildings(sample, metric["buildings"]))
    assert not h.duplicated(["building_id", "unit", "room"]).any()
    floors = h.merge(sample["buildings"][["building_id", "floors", "units"]], on="building_id")
    assert (floors["floor"] <= floors["floors"]).all() and (floors["unit"] <= floors["units"]).all()


def test_person_ids_are_valid_and_consistent(sample):
    p = sample["persons"]
    assert p["person_id"].is_unique and p["id_number"].is_unique
    assert p["id_number"].map(valid_id_number).all()
    assert (p["id_number"].str[6:14] == p["birth_date"].str.replace("-", "")).all()
    male = p["id_number"].str[16].astype(int) % 2 == 1
    assert ((p["sex"] == "男") == male).all()
    assert p["phone"].dropna().str.match(PHONE).all()
    assert p["phone"].notna().mean() > 0.7
    assert set(p["population_type"]) == set(POPULATION_TYPES)
    assert (p.loc[p["population_type"] != "floating", "id_number"].str[:6] == "520602").all()
    tags = p["tags"].dropna().str.split(";").explode()
    assert {"elderly", "disabled", "low_income"} <= set(tags)
    assert len(p["tags"].dropna()) < 0.2 * len(p)
    births = pd.to_datetime(p["birth_date"])
    assert births.max() <= pd.Timestamp(dt.date(2024, 6, 30)) and births.min().year > 1920


def test_households_and_persons_agree(sample):
    h, p = sample["households"].set_index("household_id"), sample["persons"]
    assert p["household_id"].isin(h.index).all()
    assert (p.groupby("household_id").size().reindex(h.index) == h["size"]).all()
    heads = p[p["relationship"] == "户主"]
    assert heads["household_id"].is_unique and len(heads) == len(h)
    assert (heads.set_index("household_id")["person_id"] == h["head_person_id"]).all()
    assert 2.0 <= len(p) / len(h) <= 2.6


def test_staff_roles_and_liaison_ratio(sample):
    s, h = sample["staff"], sample["households"]
    assert s["staff_id"].is_unique and set(s["role"]) == set(STAFF_ROLES)
    assert s["phone"].str.match(PHONE).all() and s["grid_codes"].isna().all()
    assert set(s["community_code"]) == {LARGE, MEDIUM, SMALL}
    ratio = len(h) / (s["role"] == "liaison_head").sum()
    assert 15 <= ratio <= 30


def test_existing_grids_tile_the_large_community(metric):
    g, c = metric["grids_existing"], metric["communities"].set_index("community_code")
    assert g["grid_code"].str.fullmatch(LARGE + r"\d{3}").all() and g["grid_code"].is_unique
    assert (g["community_code"] == LARGE).all()
    assert g.union_all().symmetric_difference(c.geometry[LARGE]).area < 1e-3
    assert sum(a.intersection(b).area for a, b in combinations(g.geometry, 2)) < 1e-3
    first = g.set_index("grid_code").geometry[LARGE + "001"].centroid
    assert first.x < g.centroid.x.median() and first.y > g.centroid.y.median()  # north-west


# ---------------------------------------------------------------- files


def test_get_path_and_unknown_names():
    for name in geodata.SAMPLE_FILES:
        assert geodata.get_path(name).is_file()
    with pytest.raises(ValueError, match=r"'nope.csv'.*persons\.csv"):
        geodata.get_path("nope.csv")
    total = sum(p.stat().st_size for p in geodata.SAMPLE_DIR.iterdir())
    assert total < 5 * 2**20


@pytest.mark.parametrize("name", ["households", "persons", "staff"])
def test_rosters_have_bom_and_chinese_headers(name):
    raw = geodata.get_path(f"{name}.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].split(b"\n", 1)[0].decode().split(",")
    assert header == list(geodata.HEADERS[name].values())


def test_xlsx_roster_matches_csv():
    csv = pd.read_csv(geodata.get_path("households.csv"), dtype=str, encoding="utf-8-sig")
    xlsx = pd.read_excel(geodata.get_path("households.xlsx"), dtype=str)
    pd.testing.assert_frame_equal(csv, xlsx)


def test_generator_reproduces_the_committed_sample(sample):
    built = build_sample(SEED)
    pd.testing.assert_frame_equal(
        built["persons"].reset_index(drop=True), sample["persons"], check_dtype=False
    )
    assert built["buildings"]["building_id"].tolist() == sample["buildings"]["building_id"].tolist()
    assert built["buildings"].geom_equals_exact(sample["buildings"].geometry, 1e-9).all()


# ---------------------------------------------------------------- planted faults


def _detect(s) -> set[Fault]:
    """Independent simple checks; each planted fault must trip exactly one of them."""
    found: set[Fault] = set()
    m = {k: v.to_crs(METRIC) for k, v in s.items() if isinstance(v, gpd.GeoDataFrame)}
    c, b, st, g = m["communities"], m["buildings"], m["streets"], m["grids_existing"]
    for (_, x), (_, y) in combinations(c.iterrows(), 2):
        if x.geometry.intersection(y.geometry).area > 1:  # blamed on the later-listed one
            found.add(Fault("community", y.community_code, "overlaps_neighbour"))
    for r in b.itertuples():
        if r.geometry is None or r.geometry.is_empty:
            found.add(Fault("building", r.building_id, "missing_geometry"))
        elif not r.geometry.is_valid:
            found.add(Fault("building", r.building_id, "invalid_geometry"))
        elif not c.geometry.intersects(r.geometry).any():
            found.add(Fault("building", r.building_id, "outside_community"))
        elif st.geometry.intersects(r.geometry).any():
            found.add(Fault("building", r.building_id, "crosses_street"))
    for bid in b.loc[b["building_id"].duplicated(), "building_id"]:
        found.add(Fault("building", bid, "duplicate_id"))
    h = s["households"]
    for hid in h.loc[h["household_id"].duplicated(), "household_id"]:
        found.add(Fault("household", hid, "duplicate_id"))
    h = h.drop_duplicates("household_id")
    known = b.drop_duplicates("building_id").set_index("building_id")
    addresses = set(known["address"])
    for r in h.itertuples():
        if pd.notna(r.building_id):
            if r.building_id not in known.index:
                found.add(Fault("household", r.household_id, "unknown_building"))
            elif r.floor > known.at[r.building_id, "floors"]:
                found.add(Fault("household", r.household_id, "floor_out_of_range"))
            elif r.unit > known.at[r.building_id, "units"]:
                found.add(Fault("household", r.household_id, "unit_out_of_range"))
        elif pd.notna(r.address) and re.sub(r"\d+单元\d+室$", "", r.address) not in addresses:
            found.add(Fault("household", r.household_id, "unresolvable_address"))
    pts = h[h["building_id"].isna() & h["address"].isna()].to_crs(METRIC)
    inside = gpd.sjoin(pts, b[b.is_valid], predicate="within").index
    for hid in pts.loc[~pts.index.isin(inside), "household_id"]:
        found.add(Fault("household", hid, "coordinates_outside_building"))
    dwellings = _resolve_buildings({**s, "households": h}, b[b.is_valid]).value_counts()
    for r in known.itertuples():
        if r.households != dwellings.get(r.Index, 0) and r.geometry is not None:
            found.add(Fault("building", r.Index, "households_mismatch"))
    p = s["persons"]
    household_ids = set(h["household_id"])
    for r in p.itertuples():
        if pd.isna(r.id_number):
            found.add(Fault("person", r.person_id, "missing_id_number"))
            continue
        if not valid_id_number(r.id_number):
            found.add(Fault("person", r.person_id, "invalid_id_check_digit"))
        elif r.id_number[6:14] != r.birth_date.replace("-", ""):
            found.add(Fault("person", r.person_id, "birth_date_mismatch"))
        elif (int(r.id_number[16]) % 2 == 1) != (r.sex == "男"):
            found.add(Fault("person", r.person_id, "sex_mismatch"))
        if pd.notna(r.phone) and not PHONE.match(r.phone):
            found.add(Fault("person", r.person_id, "invalid_phone"))
        if r.household_id not in household_ids:
            found.add(Fault("person", r.person_id, "unknown_household"))
    for pid in p.loc[p["id_number"].dropna().duplicated().reindex(p.index, fill_value=False),
                     "person_id"]:  # fmt: skip
        found.add(Fault("person", pid, "duplicate_id_number"))
    for r in s["staff"].itertuples():
        if r.role not in STAFF_ROLES:
            found.add(Fault("staff", r.staff_id, "unknown_role"))
    cover = c.set_index("community_code").geometry[LARGE]
    for r in g.itertuples():
        others = g[g["grid_code"] != r.grid_code].union_all()
        if r.geometry.intersection(others).area > 1 and r.geometry.difference(cover).area > 1:
            found.add(Fault("grid", r.grid_code, "overlap"))  # overlaps and sticks out
        elif r.geometry.distance(others.union(cover.exterior)) > 1:
            found.add(Fault("grid", r.grid_code, "gap"))  # touches nothing: shrunk
    return found


def test_clean_sample_has_no_detected_faults(sample):
    assert _detect(sample) == set()


def test_planted_faults_are_exactly_the_detected_ones(tmp_path):
    faulty = geodata.load_sample(write_faulty_sample(tmp_path))
    assert _detect(faulty) == set(PLANTED_FAULTS)
    assert {f.problem for f in PLANTED_FAULTS} == set(PROBLEMS)
    assert len(set(PLANTED_FAULTS)) == len(PLANTED_FAULTS)


# ---------------------------------------------------------------- real datasets


@pytest.mark.parametrize(("name", "n_buildings"), [("bubenec", 144), ("helsinki", 480)])
def test_real_datasets_load_with_estimated_households(name, n_buildings):
    data = geodata.load_real(name)
    b = data["buildings"]
    assert len(b) == n_buildings and b["building_id"].is_unique
    assert all(frame.crs.to_epsg() == 4326 for frame in data.values())
    assert b.is_valid.all() and (b["households"] >= 0).all() and b["households"].sum() > 1000
    assert len(data["streets"]) > 30 and len(data["communities"]) == 1
    assert b.representative_point().within(data["communities"].geometry[0]).all()
    assert b["kind"].isin(BUILDING_KINDS).all()


def test_unknown_real_dataset_lists_names():
    with pytest.raises(ValueError, match="bubenec, helsinki"):
        geodata.load_real("atlantis")
