"""gridmap.privacy: masks keep only what the rules allow, age bands, sensitive tags, de-identify."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridmap.idnumbers import gb11643_check_digit
from gridmap.privacy import (
    AGE_BANDS,
    IDENTIFYING_FIELDS,
    SENSITIVE_TAGS,
    age,
    age_band,
    deidentify,
    is_minor_under_14,
    is_sensitive_tag,
    mask_id_number,
    mask_name,
    mask_phone,
    public_tags,
    split_tags,
)
from gridmap.schema import PERSONAL_FIELDS

DAY = dt.date(2025, 6, 15)


def test_masks_match_the_documented_examples():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("520602199001011234") == "520602********1234"
    assert mask_name("张三") == "张*"


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobile_mask_hides_the_middle_four_digits(phone):
    masked = mask_phone(phone)
    assert masked == phone[:3] + "****" + phone[-4:]


@given(
    st.from_regex(r"[1-6][0-9]{5}(19[0-9]{2}|20[01][0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])"
                  r"[0-9]{3}", fullmatch=True)
)  # fmt: skip
def test_id_mask_hides_the_birth_date_and_keeps_region_and_tail(id17):
    number = id17 + gb11643_check_digit(id17)
    masked = mask_id_number(number)
    assert len(masked) == 18
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
    assert masked[6:14] == "*" * 8  # the birth date is gone


def test_masks_of_odd_values_never_return_the_value():
    for value in ["12345", "abc", "李", "0"]:
        for mask in (mask_phone, mask_id_number, mask_name):
            out = mask(value)
            assert out != value and "*" in out and len(out) == len(value)
    assert mask_phone(None) is None and mask_id_number(float("nan")) is None
    assert mask_name(pd.NA) is None


def test_age_counts_whole_years_and_birthdays():
    assert age("2011-06-15", on=DAY) == 14
    assert age("2011-06-16", on=DAY) == 13
    assert age("20110616", on=DAY) == 13  # compact form
    assert age("not a date", on=DAY) is None
    assert age("2030-01-01", on=DAY) is None  # born in the future: no age


@pytest.mark.parametrize(
    ("birth", "band"),
    [("2024-01-01", "0-13"), ("2011-06-16", "0-13"), ("2011-06-15", "14-17"),
     ("2007-06-15", "18-34"), ("1990-01-01", "35-59"), ("1965-06-15", "60-79"),
     ("1945-06-15", "80+"), ("1900-01-01", "80+")],
)  # fmt: skip
def test_age_bands(birth, band):
    assert age_band(birth, on=DAY) == band


def test_age_bands_cover_all_ages_without_overlap():
    for years in range(0, 120):
        labels = [lab for lo, hi, lab in AGE_BANDS if years >= lo and (hi is None or years < hi)]
        assert len(labels) == 1, years


def test_under_14_boundary():
    assert is_minor_under_14(dt.date(2011, 6, 16), on=DAY)
    assert not is_minor_under_14(dt.date(2011, 6, 15), on=DAY)
    assert not is_minor_under_14(None, on=DAY)


def test_tags_split_and_sensitivity():
    assert split_tags("elderly;low_income, 残疾、党员") == ["elderly", "low_income", "残疾", "党员"]
    assert split_tags(["a", " b "]) == ["a", "b"]
    assert is_sensitive_tag("LOW_INCOME") and is_sensitive_tag("社区矫正")
    assert not is_sensitive_tag("elderly")
    assert public_tags("elderly;disabled;veteran;刑满释放") == ["elderly", "veteran"]
    assert {"disabled", "mental_illness", "community_correction"} <= SENSITIVE_TAGS


def test_deidentify_drops_every_personal_column_of_the_sample_roster():
    from geodata import get_path
    from gridmap.io.layers import read_layer

    roster = pd.read_csv(get_path("persons.csv"), dtype=str)
    persons = read_layer(get_path("persons.csv"), "person")
    out = deidentify(persons, on=DAY)
    assert not set(out.columns) & IDENTIFYING_FIELDS
    assert not set(out.columns) & PERSONAL_FIELDS
    assert "age_band" in out.columns and out["age_band"].notna().mean() > 0.9
    # No cell of the output equals a name, ID number or phone of the roster.
    secrets = set(roster.iloc[:, 2].dropna()) | set(roster.iloc[:, 3].dropna())
    secrets |= set(roster.iloc[:, 6].dropna())
    cells = {str(v) for v in out.astype(str).to_numpy().ravel()}
    assert not cells & secrets
    assert len(out) == len(persons) and out.index.equals(persons.index)


def test_deidentify_keeps_children_in_the_youngest_band_only():
    frame = pd.DataFrame({"person_id": ["a", "b"], "birth_date": ["2015-01-01", "1980-01-01"],
                          "population_type": ["resident", "floating"]})  # fmt: skip
    out = deidentify(frame, on=DAY)
    assert out.to_dict("records") == [
        {"population_type": "resident", "age_band": "0-13"},
        {"population_type": "floating", "age_band": "35-59"},
    ]
    assert "birth_date" in frame.columns  # the input is not changed
