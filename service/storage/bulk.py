"""Bulk INSERT of many new rows, given column by column, in the caller's transaction.

:func:`bulk_insert` writes what a Core ``INSERT`` of the same rows would write (encrypted
columns encrypted, their ``*_hash`` columns filled, geometries in the store's SRID, each
column's own bind processing), without a Python object or a statement compilation per row:

- values are prepared column by column: ID numbers and phones encrypted with one cipher
  (:func:`encrypt_many`), their search hashes computed in one pass
  (:func:`search_hashes`), geometries turned into WKB by shapely at once;
- PostgreSQL: ``COPY … FROM STDIN`` (psycopg 3), geometries as hexadecimal EWKB;
- SQLite / SpatiaLite: one prepared ``INSERT`` stepped through the rows (``executemany``) with
  ``GeomFromWKB(?, srid)``, and a larger page cache for the transaction (durability unchanged:
  the journal and ``synchronous`` stay as they are).

The rows go through the session's own connection, so they land or roll back with the rest of
the import. A text value holding NUL is refused (:data:`~service.storage.session.NUL_MESSAGE`)
as the engine's statement hook does; database errors come out as SQLAlchemy's ``DBAPIError``
with the parameters hidden (no personal value in a message).
"""

from __future__ import annotations

import binascii
import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
import shapely
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from geoalchemy2 import Geometry
from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gridmap.errors import InputError
from service.storage.crypto import PREFIX, PURPOSES, DataKeys, EncryptedString, keys_of, normalise
from service.storage.revision import mark_changed
from service.storage.session import NUL_MESSAGE
from service.storage.updates import HASH_COLUMNS

__all__ = ["bulk_insert", "can_bulk_insert", "encrypt_many", "search_hashes"]

log = logging.getLogger(__name__)

Columns = dict[str, list[Any]]
"""Column name → one value per row (all lists of one length)."""

_URLSAFE = bytes.maketrans(b"+/", b"-_")
_NOT_DIGIT = re.compile(r"\D")
_NONCE = 12
"""Bytes of an AES-GCM nonce (as :func:`service.storage.crypto.encrypt`)."""
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
"""Byte translations XOR-ing the HMAC key with its inner and outer pad."""
_HASH_SOURCES = {model.__tablename__: pairs for model, pairs in HASH_COLUMNS.items()}
"""Table → hash column → (source column, purpose): the ``hash_default`` columns."""
_PG_IN_TRANSACTION = 2
"""``psycopg.pq.TransactionStatus.INTRANS``: a transaction is open and has not failed."""
_SQLITE_CACHE_KIB = 256 * 1024
"""Page cache of a SQLite connection while it bulk-loads (KiB): index pages stay in memory."""


def encrypt_many(values: Iterable[Any], *, purpose: str, keys: DataKeys) -> list[str | None]:
    """:func:`~service.storage.crypto.encrypt` of many values (one cipher, one call for the
    nonces); ``None`` and values already encrypted are kept, as ``EncryptedString`` binds them.

    The same text as :func:`~service.storage.crypto.encrypt` gives for the same nonce, made
    in one list comprehension over the values to encrypt (no Python call of ours per value).
    """
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown purpose {purpose!r}; use one of {PURPOSES}.")
    aad, urlsafe, b64 = purpose.encode(), _URLSAFE, binascii.b2a_base64
    out = list(values)
    todo = [i for i, v in enumerate(out)
            if v is not None and not (v.__class__ is str and v.startswith(PREFIX))]  # fmt: skip
    if not todo:
        return out
    seal = AESGCM(keys.encryption).encrypt
    pool = os.urandom(_NONCE * len(todo))
    nonces = [pool[i : i + _NONCE] for i in range(0, len(pool), _NONCE)]
    plain = out if len(todo) == len(out) else [out[i] for i in todo]
    tokens = [
        PREFIX + b64(n + seal(n, (v if v.__class__ is str else str(v)).encode(), aad),
                     newline=False).translate(urlsafe).decode("ascii")
        for n, v in zip(nonces, plain, strict=True)
    ]  # fmt: skip
    if plain is out:
        return cast(list[str | None], tokens)
    for i, token in zip(todo, tokens, strict=True):
        out[i] = token
    return out


def search_hashes(values: Iterable[Any], *, purpose: str, keys: DataKeys) -> list[str | None]:
    """:func:`~service.storage.crypto.search_hash` of many values; ``None`` for a value already
    encrypted (what ``hash_default`` gives such a row).

    HMAC-SHA256 as :func:`hmac.new` computes it (RFC 2104), with the key's inner and outer
    SHA-256 states made once and copied per value instead of set up again for every value.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown purpose {purpose!r}; use one of {PURPOSES}.")
    prefix = purpose.encode() + b"\0"
    inner, outer = _hmac_states(keys.search)
    phone, id_number = purpose == "phone", purpose == "id_number"
    out: list[str | None] = []
    append = out.append
    for value in values:
        if value is None or (isinstance(value, str) and value.startswith(PREFIX)):
            append(None)
            continue
        text = (value if value.__class__ is str else str(value)).strip()
        if not text:
            append(None)
            continue
        if phone:  # as crypto.normalise: digits only, a leading 86 of 13 digits dropped
            text = _NOT_DIGIT.sub("", text)
            text = text[2:] if len(text) == 13 and text.startswith("86") else text
        elif id_number:
            text = text.upper()
        else:
            text = normalise(text, purpose)
        h = inner()
        h.update(prefix + text.encode("utf-8"))
        o = outer()
        o.update(h.digest())
        append(o.hexdigest())
    return out


def _hmac_states(key: bytes) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """The ``copy`` methods of HMAC-SHA256's inner and outer hash after the padded key
    (RFC 2104: key longer than the block hashed first, then zero-padded to 64 bytes)."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(key.translate(_IPAD))
    outer = hashlib.sha256(key.translate(_OPAD))
    return inner.copy, outer.copy


def can_bulk_insert(table: Table, columns: Sequence[str]) -> bool:
    """Whether :func:`bulk_insert` fills every column of ``table`` that ``columns`` leave out
    as a Core INSERT would (server defaults, search hashes; not other Python defaults)."""
    given, hashes = set(columns), _HASH_SOURCES.get(table.name, {})
    return all(
        column.name in given or column.default is None
        or (column.name in hashes and hashes[column.name][0] in given)
        for column in table.columns
    )  # fmt: skip


def bulk_insert(
    session: Session,
    table: Table,
    columns: Columns,
    *,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = 20_000,
) -> int:
    """INSERT the rows of ``columns`` into ``table``; the number of rows written.

    ``progress(done, total)`` is called after every ``chunk`` rows.

    Raises
    ------
    InputError
        A text value holds a NUL character.
    ValueError
        ``table`` has a Python default :func:`bulk_insert` cannot fill (see
        :func:`can_bulk_insert`).
    sqlalchemy.exc.DBAPIError
        The database refused a row (constraint, type); parameters are not in the message.
    """
    started = time.process_time()
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    if not n:
        return 0
    if not can_bulk_insert(table, names):
        raise ValueError(f"{table.name}: a Python column default would be skipped")
    connection = session.connection()
    dialect = connection.dialect
    postgres = dialect.name == "postgresql"
    keys = keys_of(session)
    values: Columns = {}
    for name in names:
        column = table.c[name]
        data = list(columns[name])
        if isinstance(column.type, Geometry):
            values[name] = _geometries(data, column.type.srid, postgres)
            continue
        _refuse_nul(data)
        if isinstance(column.type, EncryptedString):
            values[name] = encrypt_many(data, purpose=column.type.purpose, keys=keys)
            continue
        process = column.type.bind_processor(dialect)
        values[name] = [process(v) for v in data] if process else data
    for hash_column, (source, purpose) in _HASH_SOURCES.get(table.name, {}).items():
        if hash_column not in values and source in columns:  # as hash_default fills them
            values[hash_column] = search_hashes(columns[source], purpose=purpose, keys=keys)
    order = list(values)
    rows = list(zip(*(values[c] for c in order), strict=True))
    prepared = time.process_time()
    dbapi_error = dialect.loaded_dbapi.Error
    raw = cast(Any, connection.connection.dbapi_connection)
    quoted = ", ".join(f'"{c}"' for c in order)
    if postgres:
        statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
    else:
        marks = ", ".join(_sqlite_mark(table.c[c]) for c in order)
        statement = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})'
    cursor = raw.cursor()
    try:
        if postgres:  # one COPY; progress after each chunk of rows sent
            with _postgres_build_after(raw, table, n), cursor.copy(statement) as copy:
                for start in range(0, n, chunk):
                    for row in rows[start : start + chunk]:
                        copy.write_row(row)
                    if progress:
                        progress(min(start + chunk, n), n)
        else:
            with (
                _sqlite_cache(raw),
                _sqlite_index_after(raw, table),
                _sqlite_sort_after(raw, table, n),
            ):
                for start in range(0, n, chunk):
                    cursor.executemany(statement, rows[start : start + chunk])
                    if progress:
                        progress(min(start + chunk, n), n)
    except dbapi_error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi_error,
                                  hide_parameters=True) from None  # fmt: skip
    finally:
        cursor.close()
    mark_changed(session, [table.name])  # as a session.execute(insert(…)) would
    log.debug("%s: %d rows, %.2f s CPU preparing, %.2f s CPU writing", table.name, n,
              prepared - started, time.process_time() - prepared)  # fmt: skip
    return n


def _refuse_nul(values: list[Any]) -> None:
    try:  # text columns hold str or None: one join instead of a test per value
        found = "\x00" in "".join(filter(None, values))
    except TypeError:
        found = any(isinstance(v, str) and "\x00" in v for v in values)
    if found:
        raise InputError(NUL_MESSAGE)


def _geometries(shapes: list[Any], srid: int, postgres: bool) -> list[Any]:
    """WKB of each shape (None stays None): hexadecimal EWKB for COPY, bytes for SpatiaLite."""
    array = np.empty(len(shapes), dtype=object)
    array[:] = shapes
    array[shapely.is_empty(array)] = None
    if postgres:
        return list(shapely.to_wkb(shapely.set_srid(array, srid), hex=True, include_srid=True))
    return list(shapely.to_wkb(array))


def _sqlite_mark(column: Any) -> str:
    if isinstance(column.type, Geometry):
        return f"GeomFromWKB(?, {int(column.type.srid)})"
    return "?"


@contextmanager
def _sqlite_index_after(raw: Any, table: Table) -> Iterator[None]:
    """SpatiaLite: fill the R*Tree and the insert time stamp of each geometry column once after
    the block instead of per row by its AFTER INSERT triggers (``gii_…``, ``tmi_…``).

    The triggers are dropped and re-created from their own stored SQL inside the open
    transaction (SQLite DDL is transactional: a failure rolls them back with the rows); the
    geometry type check (``ggi_…``) still runs per row. Outside a transaction nothing changes.
    """
    columns = [c.name for c in table.columns if isinstance(c.type, Geometry)]
    names = [f"{kind}_{table.name}_{c}" for c in columns for kind in ("gii", "tmi")]
    if not names or not raw.in_transaction:
        yield
        return
    marks = ", ".join("?" * len(names))
    triggers = dict(raw.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                f"AND name IN ({marks})", names).fetchall())  # fmt: skip
    if not triggers:
        yield
        return
    last = raw.execute(f'SELECT coalesce(max(ROWID), 0) FROM "{table.name}"').fetchone()[0]
    for name in triggers:
        raw.execute(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:  # rows a failed statement left are indexed too: the caller may go on
        if raw.in_transaction:  # else a RAISE(ROLLBACK) undid the rows and the DROPs already
            _sqlite_index_rows(raw, table, columns, triggers, last)


def _sqlite_index_rows(
    raw: Any, table: Table, columns: list[str], triggers: dict[str, str], last: int
) -> None:
    """What the dropped AFTER INSERT triggers would have done for the rows after ROWID
    ``last``; then the triggers again."""
    for column in columns:
        if f"gii_{table.name}_{column}" in triggers:  # as RTreeAlign: the MBR of each geometry
            raw.execute(
                f'INSERT INTO "idx_{table.name}_{column}" (pkid, xmin, xmax, ymin, ymax) '
                f'SELECT ROWID, MbrMinX("{column}"), MbrMaxX("{column}"), MbrMinY("{column}"), '
                f'MbrMaxY("{column}") FROM "{table.name}" WHERE ROWID > ? '
                f'AND "{column}" IS NOT NULL', (last,),
            )  # fmt: skip
        if f"tmi_{table.name}_{column}" in triggers:
            raw.execute(
                "UPDATE geometry_columns_time SET last_insert = "
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE Lower(f_table_name) = Lower(?) "
                "AND Lower(f_geometry_column) = Lower(?)", (table.name, column),
            )  # fmt: skip
    for sql in triggers.values():
        raw.execute(sql)


@contextmanager
def _sqlite_sort_after(raw: Any, table: Table, n: int) -> Iterator[None]:
    """SQLite: build the table's plain (not UNIQUE) indexes after the block, by one sort each,
    when the block adds more rows than the table holds; else nothing changes.

    Rows arriving in key order cost little, but search hashes are random: a million of them
    inserted one by one into two B-trees touch random pages, more than the page cache holds. The
    indexes are dropped and re-created from their stored SQL inside the open transaction (a
    failure rolls them back with the rows); UNIQUE indexes stay and check every row.
    """
    if not raw.in_transaction:
        yield
        return
    held = raw.execute(f'SELECT coalesce(max(ROWID), 0) FROM "{table.name}"').fetchone()[0]
    plain = ("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
             "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name")  # fmt: skip
    indexes = raw.execute(plain, (table.name,)).fetchall() if n > held else []
    for name, _ in indexes:
        raw.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        if raw.in_transaction:  # else a RAISE(ROLLBACK) undid the rows and the DROPs already
            for _, sql in indexes:
                raw.execute(sql)


@contextmanager
def _postgres_build_after(raw: Any, table: Table, n: int) -> Iterator[None]:
    """PostgreSQL: when the COPY adds more rows than ``table`` holds, build its plain (not
    UNIQUE) indexes and check its foreign keys once after the rows instead of row by row;
    else nothing changes.

    The indexes and foreign-key constraints are dropped and re-created from their own
    definitions (``pg_get_indexdef``, ``pg_get_constraintdef``) inside the open transaction: an
    index is then built by one sort and a foreign key checked by one join, instead of a B-tree
    insert per index and a lookup of the parent (with its row lock) per row. If anything fails,
    the transaction is aborted and its rollback restores them with the rows. Until the import
    commits, the dropped indexes keep other sessions from reading the table (they wait), as a
    SQLite import keeps them from the whole file.
    """
    if raw.info.transaction_status != _PG_IN_TRANSACTION:
        yield
        return
    with raw.cursor() as cursor:
        name = f'"{table.name}"'
        cursor.execute("SELECT pg_has_role(relowner, 'USAGE') FROM pg_class "
                       "WHERE oid = %s::regclass", (name,))  # fmt: skip
        owner = cursor.fetchone()[0]  # only the table's owner may drop its constraints
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {name} LIMIT %s) AS held", (n,))
        if not owner or cursor.fetchone()[0] >= n:
            yield
            return
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
            "AND NOT i.indisunique AND NOT i.indisprimary ORDER BY c.relname", (name,),
        )  # fmt: skip
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname", (name,),
        )  # fmt: skip
        keys = cursor.fetchall()
        for constraint, _ in keys:
            cursor.execute(f'ALTER TABLE {name} DROP CONSTRAINT "{constraint}"')
        for index, _ in indexes:
            cursor.execute(f'DROP INDEX "{index}"')
    yield  # on an error the transaction is aborted: its rollback restores them
    with raw.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        for constraint, definition in keys:
            cursor.execute(f'ALTER TABLE {name} ADD CONSTRAINT "{constraint}" {definition}')
        # The table more than doubled: the planner's statistics (autovacuum's, made later)
        # would still describe the old table, and queries by community would scan it whole.
        cursor.execute(f"ANALYZE {name}")


@contextmanager
def _sqlite_cache(raw: Any) -> Iterator[None]:
    """A bigger page cache on this SQLite connection while the block runs (then the old one)."""
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size = {int(before)}")
