"""The column-at-once checks of ID numbers, phones, text and categories give what the checks of
one value at a time give (gridmap.idnumbers), on a column with every kind of value."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from gridmap.attach.validate import (
    check_categories,
    check_id_numbers,
    check_phones,
    check_text,
    drop_unsafe_ids,
)
from gridmap.idnumbers import gb11643_check_digit, id_number_problem, valid_phone


def _id_numbers(n: int, rng: random.Random) -> list[str | None]:
    out: list[str | None] = []
    for k in range(n):
        body = f"{rng.randint(110000, 659999)}{rng.randint(1600, 2300):04d}"
        body += f"{rng.randint(1, 13):02d}{rng.randint(1, 31):02d}{rng.randint(0, 999):03d}"
        number = body + gb11643_check_digit(body)
        match k % 12:
            case 1:  # wrong check digit
                number = body + ("0" if number[-1] != "0" else "1")
            case 2:
                number = number.lower()
            case 3:
                number = f"  {number}\t"
            case 4:  # full-width digits: Python's isdigit accepts them
                number = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
            case 5:
                number = number[:15] if number[:15].isdigit() else number
            case 6:
                number = number[:17]
            case 7:
                out.append(None)
                continue
            case 8:
                number = body[:6] + "19900230" + body[14:17]
                number += gb11643_check_digit(number)
            case 9:
                number = f"\u3000{number}"  # ideographic space: Python strips it
        out.append(number)
    return out


def test_id_number_check_of_a_column_is_the_check_of_each_value():
    rng = random.Random(7)
    numbers = _id_numbers(3000, rng)
    frame = pd.DataFrame({"person_id": [f"P{i}" for i in range(len(numbers))],
                          "id_number": pd.Series(numbers, dtype="str")})  # fmt: skip
    out, issues = check_id_numbers(frame, "person")
    expected = {f"P{i}": id_number_problem(v.strip())
                for i, v in enumerate(numbers) if isinstance(v, str)}  # fmt: skip
    assert {i.record_id: i.reason for i in issues} == {k: v for k, v in expected.items() if v}
    assert len({i.reason for i in issues}) >= 4  # every kind of problem occurred
    kept = {f"P{i}": v.strip().upper() for i, v in enumerate(numbers)
            if isinstance(v, str) and expected[f"P{i}"] is None}  # fmt: skip
    got = dict(zip(out["person_id"], out["id_number"], strict=True))
    assert {k: got[k] for k in kept} == kept
    assert all(pd.isna(got[k]) for k in got if k not in kept)


@pytest.mark.parametrize("dtype", ["str", object])
def test_phone_check_of_a_column_is_the_check_of_each_value(dtype):
    phones = ["13800001234", "1380000123", "12800001234", " 13800001234", "+8613800001234",
              "0856-5221234", "138 0000 1234", "１３８００００１２３４", None, "abc",
              "19912345678"]  # fmt: skip
    frame = pd.DataFrame({"person_id": [f"P{i}" for i in range(len(phones))],
                          "phone": pd.Series(phones, dtype=dtype)})  # fmt: skip
    out, issues = check_phones(frame, "person")
    bad = {
        f"P{i}" for i, v in enumerate(phones) if isinstance(v, str) and not valid_phone(v.strip())
    }
    assert {i.record_id for i in issues} == bad and bad
    assert out["phone"].isna().sum() == len(bad) + 1


@pytest.mark.parametrize("dtype", ["str", object])
def test_control_characters_and_unsafe_ids_are_found_in_text_columns(dtype):
    frame = pd.DataFrame({
        "building_id": pd.Series(["B1", "B<2", "B3", "B\x7f4", None], dtype=dtype),
        "address": pd.Series(["路\x0012号", "x", "ok\tline", None, "a\x9fb"], dtype=dtype),
    })  # fmt: skip
    kept, issues = drop_unsafe_ids(frame, "building")
    assert [i.record_id for i in issues] == ["row 2", "row 4"]
    out, issues = check_text(kept, "building")
    assert [i.record_id for i in issues] == ["B1", "row 5"]
    assert out["address"].tolist() == ["路12号", "ok\tline", "ab"]


def test_categories_map_each_distinct_value_once():
    sex = pd.Series(["男", "F", " female ", "x", None], dtype="str")
    frame = pd.DataFrame({"person_id": ["P1", "P2", "P3", "P4", "P5"], "sex": sex})
    out, issues = check_categories(frame, "person")
    assert out["sex"].tolist()[:3] == ["M", "F", "F"] and out["sex"].isna().tolist()[3:] == [
        True, True]  # fmt: skip
    assert [(i.record_id, i.reason) for i in issues] == [("P4", "unknown sex")]
