"""Bulk writing of an import (service.storage.bulk) stores what Core INSERTs store, on both
backends: encrypted ID numbers and phones that decrypt, their search hashes, geometries, dates;
and the batch helpers agree with crypto's one-value functions."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely
from sqlalchemy import insert, select, text

from gridmap.errors import InputError
from service.storage import models as m
from service.storage.bulk import bulk_insert, can_bulk_insert, encrypt_many, search_hashes
from service.storage.crypto import decrypt, derive_keys, encrypt, keys_of, search_hash
from service.storage.values import to_wkb

KEYS = derive_keys(bytes(range(32)))
VALUES = ["52060219900101123x", " 52060219900101123X ", "+86 138-0000-1234", "0856-5221234",
          "", "   ", None, "８６１３８００００１２３４", "8613800001234"]  # fmt: skip


@pytest.mark.parametrize("purpose", ["id_number", "phone"])
def test_batch_hashes_and_ciphertexts_are_those_of_one_value_at_a_time(purpose):
    assert search_hashes(VALUES, purpose=purpose, keys=KEYS) == [
        search_hash(v, purpose=purpose, keys=KEYS) for v in VALUES
    ]
    sealed = encrypt_many(VALUES, purpose=purpose, keys=KEYS)
    assert [decrypt(s, purpose=purpose, keys=KEYS) for s in sealed] == VALUES
    assert len({s for s in sealed if s}) == len([v for v in VALUES if v is not None])  # nonces
    already = encrypt("x", purpose=purpose, keys=KEYS)
    assert encrypt_many([already], purpose=purpose, keys=KEYS) == [already]
    assert search_hashes([already], purpose=purpose, keys=KEYS) == [None]  # as hash_default


def _parents(session):
    square = shapely.box(106.0, 27.0, 106.01, 27.01)
    session.execute(insert(m.Community), [{"code": "520602001001", "name": "C", "geom":
                                           to_wkb(shapely.MultiPolygon([square]))}])  # fmt: skip
    session.execute(insert(m.Building), [{"id": "B1", "geom": to_wkb(shapely.Point(106, 27))}])


def _people(prefix: str) -> dict[str, list]:
    return {
        "id": [f"{prefix}1", f"{prefix}2", f"{prefix}3"],
        "household_id": [f"{prefix}H1", f"{prefix}H1", f"{prefix}H2"],
        "name": ["张三", None, "李四"],
        "id_number": ["52060219900101123X", None, "520602199001011234"],
        "phone": ["13800001234", "+86 138 0000 5678", None],
        "birth_date": [dt.date(1990, 1, 1), None, dt.date(2001, 12, 31)],
        "tags": ["elderly_alone", None, None],
    }


def test_bulk_insert_stores_what_a_core_insert_stores(session):
    _parents(session)
    homes = {"id": ["aH1", "aH2", "bH1", "bH2"], "building_id": ["B1"] * 4,
             "geom": [shapely.Point(106.001, 27.002), None] * 2}  # fmt: skip
    bulk_insert(session, m.Household.__table__, {k: v[:2] for k, v in homes.items()})
    rows = [dict(zip(homes, r, strict=True)) for r in zip(*homes.values(), strict=True)][2:]
    session.execute(insert(m.Household), [{**r, "geom": to_wkb(r["geom"]) if r["geom"] else None}
                                          for r in rows])  # fmt: skip
    done = []
    assert bulk_insert(session, m.Person.__table__, _people("a"),
                       progress=lambda d, t: done.append((d, t)), chunk=2) == 3  # fmt: skip
    assert done == [(2, 3), (3, 3)]
    core = _people("b")
    session.execute(insert(m.Person), [dict(zip(core, r, strict=True))
                                       for r in zip(*core.values(), strict=True)])  # fmt: skip
    people = {p.id: p for p in session.scalars(select(m.Person))}
    for k in ("1", "2", "3"):
        a, b = people[f"a{k}"], people[f"b{k}"]
        for column in ("name", "id_number", "id_number_hash", "phone", "phone_hash", "birth_date",
                       "tags"):  # fmt: skip
            assert getattr(a, column) == getattr(b, column), column
        assert a.household_id[1:] == b.household_id[1:]
    assert people["a2"].phone_hash == search_hash("13800005678", purpose="phone",
                                                  keys=keys_of(session))  # fmt: skip
    raw = session.execute(text("SELECT id_number FROM person WHERE id = 'a1'")).scalar()
    assert raw.startswith("gm1:") and "1990" not in raw  # encrypted at rest
    shapes = dict(session.execute(select(m.Household.id, m.Household.geom.ST_AsBinary())).all())
    geoms = {k: None if v is None else shapely.from_wkb(bytes(v)) for k, v in shapes.items()}
    assert geoms["aH1"].equals_exact(geoms["bH1"], 0) and geoms["aH2"] is geoms["bH2"] is None
    srid = session.execute(select(m.Household.geom.ST_SRID()).where(m.Household.id == "aH1"))
    assert srid.scalar() == m.SRID


def test_bulk_insert_refuses_nul_and_names_the_table_of_a_failed_row(session):
    _parents(session)
    with pytest.raises(InputError, match="NUL"):
        bulk_insert(session, m.Building.__table__, {"id": ["B2"], "address": ["a\x00b"]})
    session.rollback()
    _parents(session)
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError) as err:  # a duplicate key: the database's own check
        bulk_insert(session, m.Building.__table__, {"id": ["B1"], "address": ["路12号"]})
    assert "building" in str(err.value) and "路12号" not in str(err.value)


def test_tables_with_other_python_defaults_are_left_to_core_inserts():
    assert can_bulk_insert(m.Person.__table__, ["id", "id_number", "phone"])
    assert not can_bulk_insert(m.Plan.__table__, ["community_code"])  # status, created_at …


def _schema(session) -> list[tuple]:
    return session.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                "ORDER BY type, name")).all()  # fmt: skip


_INDEXED = [("building", "geom"), ("building", "footprint"), ("household", "geom")]


_SPATIALITE_ONLY = pytest.mark.parametrize(
    "backend", [pytest.param("spatialite", marks=pytest.mark.spatialite)]
)
"""SpatiaLite's R*Tree triggers: PostGIS has no counterpart (a skip fails under CI=true)."""


def _rtree(session, table: str, column: str) -> list[tuple]:
    return session.execute(text(f"SELECT pkid, xmin, xmax, ymin, ymax FROM idx_{table}_{column} "
                                "ORDER BY pkid")).all()  # fmt: skip


@_SPATIALITE_ONLY
def test_spatialite_bulk_load_fills_the_spatial_index_once_as_its_triggers_would(session):
    from service.storage.paging import bbox_clause

    schema = _schema(session)
    _parents(session)  # B1 goes through the per-row triggers
    points = [shapely.Point(106 + i * 0.0003, 27 + (i % 7) * 0.0002) for i in range(60)]
    ids = [f"N{i}" for i in range(60)]
    rings = [shapely.MultiPolygon([p.buffer(0.0001, 4)]) if i % 3 else None
             for i, p in enumerate(points)]  # fmt: skip
    bulk_insert(session, m.Building.__table__, {
        "id": ids, "geom": [None if i == 5 else p for i, p in enumerate(points)],
        "footprint": rings,
    })  # fmt: skip
    bulk_insert(session, m.Household.__table__, {
        "id": [f"H{i}" for i in range(60)], "building_id": ids,
        "geom": [p if i % 4 else None for i, p in enumerate(points)],
    })  # fmt: skip
    people = _people("a") | {"household_id": ["H1", "H1", "H2"]}
    bulk_insert(session, m.Person.__table__, people)  # its plain indexes built after
    session.commit()
    assert _schema(session) == schema  # the AFTER INSERT triggers and indexes are back, unchanged
    assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    wanted = search_hash("520602199001011234", purpose="id_number", keys=keys_of(session))
    assert session.execute(
        text("SELECT id FROM person INDEXED BY ix_person_id_number_hash WHERE id_number_hash = :h"),
        {"h": wanted},
    ).all() == [("a3",)]
    box = (106.004, 27.0003, 106.011, 27.0009)
    area = shapely.box(*box)
    for model, column, shapes, names in [
        (m.Building, "geom", [shapely.Point(106, 27)] + points, ["B1", *ids]),
        (m.Building, "footprint", [None, *rings], ["B1", *ids]),
        (m.Household, "geom", [p if i % 4 else None for i, p in enumerate(points)],
         [f"H{i}" for i in range(60)]),
    ]:  # fmt: skip
        if model is m.Building and column == "geom":
            shapes[6] = None  # N5 has none
        want = {n for n, s in zip(names, shapes, strict=True) if s is not None
                and s.intersects(area)}  # fmt: skip
        found = set(session.scalars(select(model.id).where(
            bbox_clause(session, getattr(model, column), box))))  # fmt: skip
        assert found == want and len(want) > 3, (model.__tablename__, column)
    stored = {c: _rtree(session, *c) for c in _INDEXED}
    assert len(stored[("building", "geom")]) == 60  # B1 and the 59 new points
    for table, column in _INDEXED:  # what RTreeAlign per row (the triggers) writes
        session.execute(text(f"DELETE FROM idx_{table}_{column}"))
        session.execute(text(f"SELECT RTreeAlign('idx_{table}_{column}', ROWID, {column}) "
                             f"FROM {table} WHERE {column} IS NOT NULL")).all()  # fmt: skip
        assert _rtree(session, table, column) == stored[(table, column)], (table, column)
    session.rollback()
    last = session.execute(text("SELECT last_insert FROM geometry_columns_time "
                                "WHERE f_table_name = 'household'")).scalar()  # fmt: skip
    assert last and not last.startswith("1970")


@_SPATIALITE_ONLY
def test_spatialite_bulk_load_that_fails_leaves_the_triggers_and_index_as_they_were(session):
    from sqlalchemy.exc import DBAPIError

    schema = _schema(session)
    _parents(session)
    session.commit()
    before = {c: _rtree(session, *c) for c in _INDEXED}
    points = [shapely.Point(106.001, 27.001), shapely.Point(106.002, 27.002)]
    with pytest.raises(DBAPIError):  # duplicate id: the statement fails, the transaction stays
        bulk_insert(session, m.Building.__table__, {"id": ["N1", "B1"], "geom": points})
    assert _schema(session) == schema  # triggers re-created within the transaction
    session.rollback()
    with pytest.raises(DBAPIError):  # a polygon where a point belongs: RAISE(ROLLBACK)
        bulk_insert(session, m.Building.__table__,
                    {"id": ["N1", "N2"], "geom": [points[0], points[1].buffer(1)]})  # fmt: skip
    session.rollback()
    assert _schema(session) == schema
    assert {c: _rtree(session, *c) for c in _INDEXED} == before
    assert session.scalars(select(m.Building.id)).all() == ["B1"]


_POSTGIS_ONLY = pytest.mark.parametrize(
    "backend", [pytest.param("postgis", marks=pytest.mark.postgis)]
)
"""PostgreSQL's index and foreign-key rebuild after a COPY (a skip fails under CI=true)."""


def _pg_schema(session) -> list[tuple]:
    """Every index and constraint definition of the import tables, and the index OIDs."""
    tables = "('building', 'household', 'person')"
    indexes = session.execute(text(
        "SELECT tablename, indexname, indexdef, (quote_ident(indexname))::regclass::oid "
        f"FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN {tables} "
        "ORDER BY 1, 2")).all()  # fmt: skip
    constraints = session.execute(text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE conrelid::regclass::text IN {tables} ORDER BY 1, 2")).all()  # fmt: skip
    return [*indexes, *constraints]


def _without_oids(schema: list[tuple]) -> list[tuple]:
    return [row[:3] for row in schema]


@_POSTGIS_ONLY
def test_postgis_bulk_load_builds_indexes_and_checks_keys_after_the_rows(session):
    from sqlalchemy.exc import DBAPIError

    _parents(session)
    session.commit()
    schema = _pg_schema(session)
    points = [shapely.Point(106 + i * 0.0003, 27 + (i % 7) * 0.0002) for i in range(60)]
    ids = [f"N{i}" for i in range(60)]
    bulk_insert(session, m.Building.__table__, {"id": ids, "geom": points})
    bulk_insert(session, m.Household.__table__, {
        "id": [f"H{i}" for i in range(60)], "building_id": ids, "geom": points,
    })  # fmt: skip
    bulk_insert(session, m.Person.__table__, _people("a") | {"household_id": ["H1", "H1", "H2"]})
    session.commit()
    after = _pg_schema(session)
    assert _without_oids(after) == _without_oids(schema)  # same definitions, all back
    rebuilt = {row[1] for row, old in zip(after, schema, strict=True) if len(row) == 4
               and row[3] != old[3]}  # fmt: skip
    assert {"ix_person_id_number_hash", "ix_person_phone_hash", "ix_household_building_id",
            "idx_building_geom"} <= rebuilt  # fmt: skip
    assert not {"person_pkey", "building_pkey"} & rebuilt  # unique indexes check every row
    analysed = session.execute(text(
        "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema() "
        "AND tablename IN ('building', 'household', 'person')")).scalars()  # fmt: skip
    assert sorted(analysed) == ["building", "household", "person"]  # statistics of the new rows
    wanted = search_hash("520602199001011234", purpose="id_number", keys=keys_of(session))
    found = session.execute(text("SELECT id FROM person WHERE id_number_hash = :h"), {"h": wanted})
    assert found.all() == [("a3",)]
    with pytest.raises(DBAPIError, match="household_id_fkey"):  # the key is enforced again
        session.execute(insert(m.Person), [{"id": "x", "household_id": "nowhere"}])
    session.rollback()
    # a load whose rows break a foreign key fails when the key is added back: nothing stays
    people = _people("b") | {"household_id": ["H1", "nowhere", "H2"]}
    with pytest.raises(DBAPIError, match="household_id_fkey"):
        bulk_insert(session, m.Person.__table__, {k: v * 2 for k, v in people.items()} | {
            "id": [f"b{i}" for i in range(6)]})  # fmt: skip
    session.rollback()
    assert _without_oids(_pg_schema(session)) == _without_oids(schema)
    assert sorted(session.scalars(select(m.Person.id))) == ["a1", "a2", "a3"]
