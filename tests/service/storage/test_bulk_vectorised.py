"""The column-at-a-time paths of an import give what the one-value-at-a-time paths give, on a
generated roster (``geodata.make_district``) and on edge cases: ciphertexts (same nonces, same
text), search hashes, birth dates, and the CSV read by pyarrow."""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import os
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geodata.make_district import make_district, write_district
from gridmap.crs import to_storage_crs
from gridmap.io import layers, tables
from service.storage import bulk, crypto
from service.storage import values as storage_values
from service.storage.bulk import encrypt_many, search_hashes
from service.storage.crypto import decrypt, derive_keys, encrypt, search_hash
from service.storage.values import as_multipolygon, parse_dates, storage_geometries

KEYS = derive_keys(bytes(range(32)))
# 7 communities, ~19,000 persons
SMALL: dict[str, Any] = {"columns": 3, "rows": 2, "scale": 0.35, "small": 1}
EDGES = [None, "", "   ", "\x00", "52060219900101123x\x00", " 52060219900101123x ",
         "+86 138-0000-1234", "8613800001234", "８６１３８００００１２３４", "é\u3000",
         "\u3000", "x" * 300, 12345,
         "gm1:not-a-real-ciphertext"]  # fmt: skip


@pytest.fixture(scope="module")
def district():
    return make_district(7, **SMALL)


@pytest.fixture(scope="module")
def roster(district, tmp_path_factory) -> dict[str, str]:
    """The texts of a generated district's persons.csv and households.csv."""
    folder = tmp_path_factory.mktemp("district")
    write_district(district, folder)
    return {name: (folder / f"{name}.csv").read_text(encoding="utf-8-sig")
            for name in ("persons", "households")}  # fmt: skip


@pytest.fixture(scope="module")
def persons(roster) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(roster["persons"]), dtype=str)
    assert len(frame) > 3000
    return frame


def _column(persons: pd.DataFrame, header: str) -> list:
    return [*persons[header].astype(object).where(persons[header].notna(), None), *EDGES]


def _counter_urandom(monkeypatch) -> Callable[[], None]:
    """``os.urandom`` as one deterministic byte stream, whether read 12 bytes or 12 × n at once."""

    def reset():
        stream = itertools.cycle(hashlib.sha256(b"nonces").digest())
        monkeypatch.setattr(os, "urandom", lambda n: bytes(itertools.islice(stream, n)))

    reset()
    return reset


@pytest.mark.parametrize(("header", "purpose"), [("身份证号", "id_number"), ("联系电话", "phone"),
                                                 ("标签", "tags")])  # fmt: skip
def test_batch_ciphertexts_are_the_one_value_texts_for_the_same_nonces(
    persons, monkeypatch, header, purpose
):
    values = _column(persons, header)
    reset = _counter_urandom(monkeypatch)
    batch = encrypt_many(values, purpose=purpose, keys=KEYS)
    reset()
    one = [v if v is None or crypto.is_encrypted(v) else encrypt(str(v), purpose=purpose, keys=KEYS)
           for v in values]  # fmt: skip
    assert batch == one
    clear = [decrypt(s, purpose=purpose, keys=KEYS) for s in batch[: len(persons)]]
    assert clear == values[: len(persons)]


def test_batch_ciphertexts_keep_none_and_stored_values_in_place():
    stored = encrypt("13800001234", purpose="phone", keys=KEYS)
    values = [None, "13800001234", stored, None, "0856-5221234"]
    out = encrypt_many(values, purpose="phone", keys=KEYS)
    assert out[0] is None and out[3] is None and out[2] == stored
    assert [decrypt(out[i], purpose="phone", keys=KEYS) for i in (1, 4)] == [values[1], values[4]]
    assert encrypt_many([None, stored], purpose="phone", keys=KEYS) == [None, stored]
    assert encrypt_many([], purpose="phone", keys=KEYS) == []


@pytest.mark.parametrize(("header", "purpose"), [("身份证号", "id_number"), ("联系电话", "phone"),
                                                 ("标签", "tags")])  # fmt: skip
def test_batch_hashes_are_hmac_of_each_value(persons, header, purpose):
    values = _column(persons, header)
    expected = [None if crypto.is_encrypted(v) else search_hash(v, purpose=purpose, keys=KEYS)
                for v in values]  # fmt: skip
    assert search_hashes(values, purpose=purpose, keys=KEYS) == expected
    canonical = {crypto.normalise(str(v), purpose) for v in values
                 if v is not None and str(v).strip() and not crypto.is_encrypted(v)}  # fmt: skip
    assert len({h for h in expected if h}) == len(canonical)  # distinct values hash apart


@pytest.mark.parametrize("size", [0, 1, 32, 63, 64, 65, 200])
def test_precomputed_hmac_states_are_hmac_sha256(size):
    key = bytes(range(size % 256)) * (size // 256) + bytes(range(size % 256))
    inner, outer = bulk._hmac_states(key)
    for message in (b"", b"id_number\x00X", "é".encode() * 100):
        h = inner()
        h.update(message)
        o = outer()
        o.update(h.digest())
        assert o.hexdigest() == hmac.new(key, message, hashlib.sha256).hexdigest()


def _dates_one_at_a_time(values: pd.Series) -> list:
    """parse_dates as it was: the same parsing, each parsed value turned into a date in turn."""
    return storage_values._dates_in_turn(storage_values._parsed(values))


BAD_DATES = ["", "  ", None, "abc", "2024-02-30", "1981-13-01", "19810230", "1981/04/22\x00",
             "\x00", "0000-00-00", "1500-01-01", "9999-12-31", "0001-01-01", "1960-03-04T13:45:00",
             "1969-12-31 23:59:59.999", " 1981.04.22 ", "19810422", "1981/4/2",
             "２０２０-０１-０１"]  # fmt: skip


@pytest.mark.parametrize("edges", [[], BAD_DATES, ["19810422", *BAD_DATES], BAD_DATES[:3]])
def test_birth_dates_at_once_are_those_of_the_loop(persons, edges):
    for values in (pd.concat([persons["出生日期"], pd.Series(edges, dtype="string")],
                             ignore_index=True),
                   pd.Series(edges, dtype=object), pd.Series(edges, dtype="string")):  # fmt: skip
        got = parse_dates(values)
        assert got == _dates_one_at_a_time(values)
        assert all(d is None or type(d).__name__ == "date" for d in got)
    assert parse_dates(persons["出生日期"]).count(None) == persons["出生日期"].isna().sum()


def _c_engine(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str)


@pytest.mark.parametrize("name", ["persons", "households"])
def test_csv_read_by_pyarrow_is_the_c_engine_frame(roster, monkeypatch, name):
    text = roster[name]
    monkeypatch.setattr(tables, "_ARROW_MIN_CHARS", 0)
    read = tables._read_csv_text(text, ",", 0)
    expected = _c_engine(text)
    pd.testing.assert_frame_equal(read, expected)
    assert list(read.dtypes) == list(expected.dtypes)
    # with blank, NUL, quoted and NA-like cells added to the roster
    lines = text.splitlines()
    width = lines[0].count(",")
    extra = ["," * width, '"a,b"' + ",\x00" + "," * (width - 1), '"say ""x"""' + ",NA" * width,
             " " + ", " * width, '"two\nlines"' + ",null" * width]  # fmt: skip
    text = "\n".join([*lines, *extra]) + "\n"
    pd.testing.assert_frame_equal(tables._read_csv_text(text, ",", 0), _c_engine(text))


@pytest.mark.parametrize(
    "text",
    [
        "a,b\n1,2\n3\n",
        'a,b\n1,"open\n2,3\n',
        "a,b\n   \n1,2\n",
        "title\na,b\n1,2\n",
    ],  # fmt: skip
)
def test_csv_pyarrow_refuses_go_to_the_c_engine(monkeypatch, text):
    monkeypatch.setattr(tables, "_ARROW_MIN_CHARS", 0)
    skip = 1 if text.startswith("title") else 0
    try:
        expected = pd.read_csv(io.StringIO(text), dtype=str, skiprows=skip)
    except pd.errors.ParserError:
        with pytest.raises(pd.errors.ParserError):
            tables._read_csv_text(text, ",", skip)
        return
    pd.testing.assert_frame_equal(tables._read_csv_text(text, ",", skip), expected)


def test_csv_rows_longer_than_the_header_are_refused_not_read_as_an_index(monkeypatch):
    monkeypatch.setattr(tables, "_ARROW_MIN_CHARS", 0)  # pyarrow refuses, the C engine shifted
    with pytest.raises(ValueError, match=r"lines \[2\] have more than 2 cells"):
        tables._read_csv_text("a,b\n1,2,3\n4,5\n", ",", 0)


def _multipolygon_by_parts(geom):
    """as_multipolygon as it was: made valid if need be, then its polygon parts."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = shapely.get_parts(geom)
    polys = [p for part in parts for p in shapely.get_parts(part) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(polys) if polys else None


def _wkb(geom):
    return None if geom is None else shapely.to_wkb(geom, include_srid=True)


def test_footprints_as_multipolygons_are_those_made_from_their_parts(district):
    square = shapely.box(0, 0, 1, 1)
    edges = [None, shapely.Polygon(), square, square.difference(shapely.box(0.2, 0.2, 0.4, 0.4)),
             shapely.MultiPolygon([square, shapely.box(2, 2, 3, 3)]),
             shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]),  # bow tie: made valid
             shapely.MultiPolygon([square, shapely.box(0.5, 0.5, 2, 2)]),  # overlapping parts
             shapely.GeometryCollection([square, shapely.Point(5, 5)]),
             shapely.Polygon([(0, 0, 1), (1, 0, 2), (1, 1, 3)]), shapely.Point(1, 1),
             shapely.LineString([(0, 0), (1, 1)]), shapely.MultiPolygon()]  # fmt: skip
    shapes = [*to_storage_crs(district.buildings).geometry, *edges]
    assert sum(s is not None and s.geom_type == "Polygon" for s in shapes) > 500
    assert [_wkb(as_multipolygon(g)) for g in shapes] == [
        _wkb(_multipolygon_by_parts(g)) for g in shapes
    ]


def test_storage_geometries_at_once_are_those_of_the_loop(district):
    frame = district.buildings.copy()
    shapes = list(frame.geometry)
    shapes[3], shapes[7] = None, shapely.Point()
    frame = frame.set_geometry(gpd.GeoSeries(shapes, crs=frame.crs))
    stored = to_storage_crs(frame).geometry
    got = storage_geometries(frame)
    assert got[3] is None and got[7] is None and len(got) == len(frame)
    assert [_wkb(g) for g in got] == [None if g is None or g.is_empty else _wkb(g) for g in stored]
    assert storage_geometries(pd.DataFrame({"a": [1, 2]})) == [None, None]


def _as_text_by_objects(values: pd.Series) -> pd.Series:
    """layers._as_text of a CSV column as it was: through one Python object per cell."""
    stripped = values.str.strip()
    return pd.Series(stripped.mask(stripped.eq("")).to_numpy(), dtype="str")


@pytest.mark.parametrize("dtype", ["str", "string", "string[python]"])
def test_csv_text_cleaned_in_arrow_is_the_object_path_series(persons, dtype):
    odd = ["", " ", "\u3000", "\x00", " a ", None, "\t\n", "é ", "0"]
    for header in persons.columns:
        column = pd.concat([persons[header], pd.Series(odd, dtype="str")], ignore_index=True)
        column = column.astype(dtype).set_axis(pd.RangeIndex(5, 5 + len(column)))
        got = layers._as_text(column, header, layers.Path("p.csv"), [])
        pd.testing.assert_series_equal(got, _as_text_by_objects(column))
