"""Validation: GB 11643 ID numbers, phones, counts, categories, ids and geometry repair."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely import Point, Polygon, box

from gridmap.attach.geomrepair import repair_geometries
from gridmap.attach.validate import (
    check_categories,
    check_counts,
    check_id_numbers,
    check_phones,
    check_unique_ids,
    drop_missing_ids,
    validate_layer,
)
from gridmap.errors import DuplicateIdError, InvalidGeometryError
from gridmap.idnumbers import gb11643_check_digit, id_number_problem, valid_id_number, valid_phone

# A small square near Tongren in lon/lat, about 100 m a side.
LON, LAT, D = 109.18, 27.72, 0.001


def _square(dx: float = 0.0) -> Polygon:
    return box(LON + dx, LAT, LON + dx + D, LAT + D)


# --- GB 11643 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id17", "check"),
    [("11010519491231002", "X"), ("44052418800101001", "4")],  # the standard's own examples
)
def test_check_digit_of_the_standard_examples(id17, check):
    assert gb11643_check_digit(id17) == check
    assert valid_id_number(id17 + check)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_satisfies_iso_7064_mod_11_2(id17):
    check = gb11643_check_digit(id17)
    value = 10 if check == "X" else int(check)
    # ISO 7064 MOD 11-2: weights 2^(17-i) mod 11 over all 18 positions; the sum is ≡ 1 (mod 11).
    weights = [pow(2, 17 - i, 11) for i in range(18)]
    digits = [int(d) for d in id17] + [value]
    assert sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 == 1


@given(st.sampled_from("0123456789X"))
def test_only_one_check_character_is_valid(check):
    id17 = "52060219900101123"
    assert valid_id_number(id17 + check) == (check == gb11643_check_digit(id17))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("11010519491231002x", None),  # lower-case x accepted
        ("110105194912310021", "invalid ID number check digit"),
        ("110105491231002", "obsolete 15-digit ID number"),
        ("11010519491231002", "invalid ID number format"),
        ("1101051949123100AX", "invalid ID number format"),
        ("110105194902300026", "invalid ID number birth date"),  # 30 February
    ],
)
def test_id_number_problems(value, problem):
    assert id_number_problem(value) == problem


def test_check_id_numbers_clears_values_and_reports_without_them():
    bad = "110105194912310021"
    persons = pd.DataFrame(
        {"person_id": ["P1", "P2", "P3"], "id_number": ["11010519491231002x", bad, None]},
        dtype="str",
    )
    out, issues = check_id_numbers(persons, "person")
    assert out["id_number"].tolist()[0] == "11010519491231002X"
    assert out["id_number"].isna().tolist() == [False, True, True]
    assert [(i.record_id, i.reason) for i in issues] == [("P2", "invalid ID number check digit")]
    assert all(bad not in str(i) for i in issues)


# --- phones, counts, categories -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("13800001234", True),
        ("+86 138 0000 1234", True),
        ("138-0000-1234", True),
        ("0856-5221234", True),
        ("5221234", True),
        ("12800001234", False),  # no mobile prefix 12
        ("1380000123", False),
        ("电话未知", False),
    ],
)
def test_valid_phone(phone, ok):
    assert valid_phone(phone) is ok


def test_check_phones_reports_by_id():
    staff = pd.DataFrame({"staff_id": ["S1", "S2"], "phone": ["13800001234", "110"]}, dtype="str")
    out, issues = check_phones(staff, "staff")
    assert out["phone"].isna().tolist() == [False, True]
    assert [(i.entity, i.record_id, i.reason) for i in issues] == [
        ("staff", "S2", "invalid phone format")
    ]


def test_check_counts_types_int64_and_reports_bad_values():
    values = ["12", 7, "3.0", " 4 ", "-1", "2.5", "十二", None]
    buildings = pd.DataFrame(
        {"building_id": [f"B{i}" for i in range(len(values))], "households": values}
    )
    out, issues = check_counts(buildings, "building")
    assert str(out["households"].dtype) == "Int64"
    assert out["households"].tolist() == [12, 7, 3, 4, pd.NA, pd.NA, pd.NA, pd.NA]
    assert [i.record_id for i in issues] == ["B4", "B5", "B6"]
    assert {i.reason for i in issues} == {"invalid households"}
    assert "'-1' is not a non-negative integer" in issues[0].detail


def test_check_categories_maps_office_wording():
    persons = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3"],
            "population_type": ["户籍人口", "floating", "外地"],
            "sex": ["男", "女", None],
        },
        dtype="str",
    )
    out, issues = check_categories(persons, "person")
    assert out["population_type"].tolist()[:2] == ["registered", "floating"]
    assert out["sex"].tolist()[:2] == ["M", "F"]
    assert [(i.record_id, i.reason) for i in issues] == [("P3", "unknown population_type")]


# --- ids ----------------------------------------------------------------------------------------


def test_duplicate_ids_are_fatal_and_named():
    frame = pd.DataFrame({"household_id": ["001", "002", "001", "003", "003", "003"]})
    with pytest.raises(DuplicateIdError, match=r"2 duplicate household household_id\(s\)") as err:
        check_unique_ids(frame, "household")
    assert "'001' ×2" in str(err.value) and "'003' ×3" in str(err.value)
    assert "'002'" not in str(err.value)


def test_records_without_id_are_skipped_and_named_by_row():
    frame = pd.DataFrame({"household_id": ["H1", None, "H3"]}, dtype="str")
    out, issues = drop_missing_ids(frame, "household")
    assert out["household_id"].tolist() == ["H1", "H3"]
    assert [(i.record_id, i.reason) for i in issues] == [("row 2", "missing id")]


# --- geometry -----------------------------------------------------------------------------------


def _grids(*geoms) -> gpd.GeoDataFrame:
    codes = [f"G{i}" for i in range(1, len(geoms) + 1)]
    return gpd.GeoDataFrame(
        {"grid_code": codes, "community_code": "520602001001"}, geometry=list(geoms), crs=4326
    )


def test_small_self_intersection_is_repaired_with_a_warning():
    x, y = LON, LAT
    # A square whose closing edge overshoots the first vertex: a tiny loop at one corner.
    loop = Polygon([(x, y), (x + D, y), (x + D, y + D), (x, y + D), (x + D / 100, y - D / 100)])
    assert not loop.is_valid
    with pytest.warns(UserWarning, match="Repaired invalid geometry of grid.*G2"):
        out, issues = repair_geometries(_grids(_square(), loop), "grid")
    assert out.geometry.is_valid.all()
    assert [(i.record_id, i.reason) for i in issues] == [("G2", "geometry repaired")]
    assert "Self-intersection" in issues[0].detail
    assert out.geometry.iloc[1].area == pytest.approx(D * D, rel=0.01)


def test_bow_tie_record_is_left_out_and_named():
    x, y = LON, LAT
    bow_tie = Polygon([(x, y), (x + D, y + D), (x + D, y), (x, y + D)])
    out, issues = repair_geometries(_grids(_square(), bow_tie, _square(2 * D)), "grid")
    assert out["grid_code"].tolist() == ["G1", "G3"]
    assert [(i.record_id, i.reason) for i in issues] == [("G2", "invalid geometry")]
    assert "record left out" in issues[0].detail and "Self-intersection" in issues[0].detail


def test_missing_geometry_is_left_out_where_required_only():
    out, issues = repair_geometries(_grids(_square(), None, Polygon()), "grid")
    assert out["grid_code"].tolist() == ["G1"]
    assert [(i.record_id, i.reason) for i in issues] == [
        ("G2", "missing geometry"),
        ("G3", "missing geometry"),
    ]
    buildings = gpd.GeoDataFrame({"building_id": ["B1", "B2"]}, geometry=[None, Point(LON, LAT)])
    out, issues = repair_geometries(buildings.set_crs(4326), "building")
    assert issues == [] and len(out) == 2


def test_wrong_geometry_kind_is_fatal():
    with pytest.raises(InvalidGeometryError, match=r"grid\(s\) G2 have geometries of the wrong"):
        repair_geometries(_grids(_square(), Point(LON, LAT)), "grid")


def test_validate_layer_runs_every_check_and_never_reports_personal_values():
    persons = pd.DataFrame(
        {
            "person_id": ["P1", None, "P3"],
            "household_id": ["H1", "H1", "H2"],
            "name": ["张三", "李四", "王五"],
            "id_number": ["110105194912310021", None, "11010519491231002X"],
            "phone": ["13800001234", None, "999"],
        },
        dtype="str",
    )
    out, issues = validate_layer(persons, "person")
    assert out["person_id"].tolist() == ["P1", "P3"]
    assert [(i.record_id, i.reason) for i in issues] == [
        ("row 2", "missing id"),
        ("P1", "invalid ID number check digit"),
        ("P3", "invalid phone format"),
    ]
    text = " ".join(str(i) for i in issues)
    for personal in ("张三", "李四", "110105194912310021", "999"):
        assert personal not in text


def test_person_consistency_with_the_id_number():
    man, woman = "110105194912310011", "110105195001010020"  # digit 17: odd = man
    persons = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P4", "P5"],
            "id_number": [man, woman, man, None, "110105194912310021"],
            "sex": ["男", "男", "男", "女", "女"],
            "birth_date": ["1949-12-31", "1950-01-01", "1949/12/30", None, None],
        },
        dtype="str",
    )
    _, issues = validate_layer(persons, "person")
    assert [(i.record_id, i.reason) for i in issues] == [
        ("P5", "invalid ID number check digit"),  # cleared, not reported again as missing
        ("P4", "missing ID number"),
        ("P3", "duplicate ID number"),
        ("P3", "birth date differs from ID number"),
        ("P2", "sex differs from ID number"),
    ]
    assert issues[2].detail == "same ID number as person P1"
