"""Field encryption at rest and keyed search hashes for ID numbers and phones.

One master key (``GRIDMAP_DATA_KEY``: 32 bytes, base64; else the file ``GRIDMAP_DATA_KEY_FILE``,
created with mode 0600 on first use) is stretched with HKDF-SHA256 into three independent keys:

- **encryption**: AES-256-GCM with a random 96-bit nonce per value; the purpose (``id_number``,
  ``phone``) is the associated data, so a ciphertext moved to another column does not decrypt.
  Stored as ``gm1:`` + URL-safe base64 of nonce ‖ ciphertext ‖ tag.
- **search**: HMAC-SHA256 of the normalised value (``*_hash`` columns), so exact-match search
  works without decrypting, and equal values can be found without storing them in clear.
- **tokens**: the HMAC key of the service's access tokens.

The key belongs to an engine, not to the process: :func:`use_settings` gives an engine the data
key of a :class:`~service.settings.Settings` (``make_engine(url, settings=…)`` does it), and
everything done through that engine (its connections, sessions and column types) uses that key
(:func:`keys_of`). Two apps made with different settings in one process keep their keys apart.

A fourth derivation, the key's **fingerprint**, is recorded in the store (table ``store_meta``)
by :func:`check_store_key`, which every entry point runs (``upgrade_database``, ``create_app``):
a store refuses a key whose fingerprint is not the recorded one, and a missing key file is only
created for a store that holds no personal data yet (a mistyped ``GRIDMAP_DATA_KEY_FILE`` is an
error, not a new key).

:class:`EncryptedString` makes this transparent to SQLAlchemy: values are encrypted when bound
and decrypted when read, in ORM and Core statements alike. :func:`hash_default` fills the
``*_hash`` column on INSERT from the value in the same row.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple
from weakref import WeakKeyDictionary

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, String, Text, inspect, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from service.settings import Settings
from service.storage.keys import (
    DataKeyError,
    DataKeys,
    derive_keys,
    generate_key,
    load_master_key,
    parse_key,
)

__all__ = [
    "PREFIX",
    "PURPOSES",
    "DataKeyError",
    "DataKeys",
    "generate_key",
    "parse_key",
    "derive_keys",
    "load_master_key",
    "forget_keys",
    "keys_for",
    "use_settings",
    "settings_of",
    "keys_of",
    "check_store_key",
    "KeyState",
    "StoreKey",
    "store_key_state",
    "store_has_key",
    "check_engine_key",
    "rotate_store_key",
    "encrypt",
    "decrypt",
    "is_encrypted",
    "normalise",
    "search_hash",
    "hash_default",
    "EncryptedString",
    "EncryptedText",
    "sync_hashes_on_update",
]

log = logging.getLogger(__name__)

PREFIX = "gm1:"
"""Marks an encrypted value (version 1: AES-256-GCM, 12-byte nonce)."""
PURPOSES = ("id_number", "phone", "tags", "name")
_NONCE = 12
_NOT_DIGIT = re.compile(r"\D")
_META_TABLE = "store_meta"
_FINGERPRINT = "data_key_fingerprint"
_ENCRYPTED_COLUMNS = (("person", "id_number", "id_number"), ("person", "phone", "phone"),
                      ("staff", "phone", "phone"), ("person", "tags", "tags"),
                      ("work_order", "reporter_name", "name"),
                      ("work_order", "reporter_phone", "phone"))  # fmt: skip
_HASH_COLUMNS = {("person", "id_number"): "id_number_hash", ("person", "phone"): "phone_hash",
                 ("staff", "phone"): "phone_hash"}  # fmt: skip


@lru_cache(maxsize=16)
def _keys_for(data_key: str | None, data_key_file: str) -> DataKeys:
    settings = Settings(data_key=data_key, data_key_file=data_key_file)
    return derive_keys(load_master_key(settings))


def keys_for(settings: Settings) -> DataKeys:
    """The keys of ``settings`` (``data_key``, else ``data_key_file``), derived once.

    Raises
    ------
    DataKeyError
        No key is set and the key file does not exist, or the key is malformed.
    """
    return _keys_for(settings.data_key, settings.data_key_file)


def forget_keys() -> None:
    """Forget the keys derived so far: a key file removed (a refused or dry-run import that
    made it) must not be used again by a later import in this process."""
    _keys_for.cache_clear()


_ENGINE_SETTINGS: WeakKeyDictionary[Dialect, Settings] = WeakKeyDictionary()
"""The settings of each engine, by its dialect (one per engine; column types see only it)."""

Bind = Engine | Connection | Session | Dialect


def use_settings(engine: Engine, settings: Settings) -> None:
    """Use the data key of ``settings`` for everything done through ``engine``."""
    _ENGINE_SETTINGS[engine.dialect] = settings


def settings_of(bind: Bind) -> Settings:
    """The settings given to the engine behind ``bind`` (:func:`use_settings`).

    Raises
    ------
    DataKeyError
        The engine was given no settings.
    """
    if isinstance(bind, Session):
        bind = bind.get_bind()
    dialect = bind if isinstance(bind, Dialect) else bind.dialect
    settings = _ENGINE_SETTINGS.get(dialect)
    if settings is None:
        raise DataKeyError("This database engine has no data key: make it with "
                           "make_engine(url, settings=...).")  # fmt: skip
    return settings


def keys_of(bind: Bind) -> DataKeys:
    """The keys of the engine behind ``bind`` (an engine, connection, session or dialect)."""
    return keys_for(settings_of(bind))


def _key_source(settings: Settings) -> str:
    if settings.data_key:
        return "GRIDMAP_DATA_KEY"
    return f"the key file {Path(settings.data_key_file).expanduser()} (GRIDMAP_DATA_KEY_FILE)"


def _encrypted_columns(connection: Connection) -> list[tuple[str, str, str]]:
    """The encrypted (table, column, purpose) of the tables this store has (older revisions
    lack the later ones, e.g. ``work_order`` before 0005)."""
    tables = set(inspect(connection).get_table_names())
    return [entry for entry in _ENCRYPTED_COLUMNS if entry[0] in tables]


def _sample_ciphertext(connection: Connection) -> tuple[str, str] | None:
    """One stored ciphertext and its purpose, or None when the store holds no personal data."""
    for table, column, purpose in _encrypted_columns(connection):
        query = text(f"SELECT {column} FROM {table} WHERE {column} LIKE 'gm1:%' LIMIT 1")
        value = connection.execute(query).scalar()
        if value is not None:
            return value, purpose
    return None


def _recorded_fingerprint(connection: Connection) -> str | None:
    query = text(f"SELECT value FROM {_META_TABLE} WHERE name = :n")
    value = connection.execute(query, {"n": _FINGERPRINT}).scalar()
    return None if value is None else str(value)


KeyState = Literal["matches", "wrong", "missing", "unbound"]
"""The data key in use is the store's; is not; no key is set (for a store bound to one); the
store is bound to no key yet (no fingerprint, no personal data: the next command records the
key in use)."""


class StoreKey(NamedTuple):
    """The data key of a store against the key in use (:func:`store_key_state`)."""

    state: KeyState
    in_use: str | None
    """The fingerprint of the key in use (``None``: no key set)."""
    recorded: str | None
    """The fingerprint the store records (``None``: none recorded)."""


def store_key_state(connection: Connection) -> StoreKey:
    """Whether the engine's data key is the store's, decided as :func:`check_store_key` does
    (the recorded fingerprint, else a stored ciphertext tried) but only read: nothing is
    recorded and no key file is made."""
    try:
        keys = keys_of(connection)  # no key file is made here
    except DataKeyError:
        keys = None
    mine = keys.fingerprint if keys else None
    recorded = None
    if inspect(connection).has_table(_META_TABLE):
        recorded = _recorded_fingerprint(connection)
    if recorded:
        state: KeyState = "missing" if mine is None else "matches" if recorded == mine else "wrong"
        return StoreKey(state, mine, recorded)
    sample = _sample_ciphertext(connection)
    if sample is None:
        return StoreKey("unbound", mine, None)
    if keys is None:
        return StoreKey("missing", None, None)
    try:
        decrypt(sample[0], purpose=sample[1], keys=keys)
    except DataKeyError:
        return StoreKey("wrong", mine, None)
    return StoreKey("matches", mine, None)


def store_has_key(connection: Connection) -> bool:
    """Whether the store is bound to a key: it records a fingerprint or holds encrypted values
    (False for a store without schema or personal data: :func:`check_store_key` would let it
    take any key, and make the key file if need be)."""
    if not inspect(connection).has_table(_META_TABLE):
        return False
    return store_key_state(connection).state != "unbound"


def check_store_key(connection: Connection) -> None:
    """Check that the engine's data key (:func:`settings_of`) is the key of the store.

    The store records the fingerprint of its key (``store_meta``). With a fingerprint, the key
    must match it and a missing key file stays missing. Without one, the key must decrypt the
    store's encrypted values (if any); it is then created if need be (only for a store without
    personal data) and its fingerprint recorded. A store without ``store_meta`` (not migrated)
    is left alone.

    Raises
    ------
    DataKeyError
        The key is not the store's, or no key is set for a store that has data.
    """
    if not inspect(connection).has_table(_META_TABLE):
        return
    settings = settings_of(connection)
    recorded = _recorded_fingerprint(connection)
    sample = None if recorded else _sample_ciphertext(connection)
    try:
        keys = keys_for(settings)
    except DataKeyError as exc:
        if recorded or sample:
            written = recorded or "(fingerprint not recorded)"
            raise DataKeyError(f"{exc} This store holds data written with key {written}; point "
                               "GRIDMAP_DATA_KEY(_FILE) at that key.") from None  # fmt: skip
        keys = derive_keys(load_master_key(settings, create=True))
    if recorded and recorded != keys.fingerprint:
        raise DataKeyError(
            f"Wrong data key: {_key_source(settings)} has fingerprint {keys.fingerprint}, but this "
            f"store was written with key {recorded}. Use the store's key; nothing was changed."
        )
    if sample:
        decrypt(sample[0], purpose=sample[1], keys=keys)  # DataKeyError if it is another key
    if not recorded:
        connection.execute(text(f"INSERT INTO {_META_TABLE} (name, value) VALUES (:n, :v)"),
                           {"n": _FINGERPRINT, "v": keys.fingerprint})  # fmt: skip


def _check_purpose(purpose: str) -> bytes:
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown purpose {purpose!r}; use one of {PURPOSES}.")
    return purpose.encode()


def is_encrypted(value: object) -> bool:
    """Whether ``value`` is a stored ciphertext (starts with :data:`PREFIX`)."""
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt(value: str | None, *, purpose: str, keys: DataKeys) -> str | None:
    """Encrypt ``value`` for the ``purpose`` column; ``None`` stays ``None``."""
    aad = _check_purpose(purpose)
    if value is None:
        return None
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(keys.encryption).encrypt(nonce, str(value).encode("utf-8"), aad)
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt(token: str | None, *, purpose: str, keys: DataKeys) -> str | None:
    """Decrypt a value made by :func:`encrypt` for the same ``purpose``.

    Raises
    ------
    DataKeyError
        The value was encrypted with another key or for another purpose, or is damaged.
    """
    aad = _check_purpose(purpose)
    if token is None:
        return None
    if not is_encrypted(token):
        raise DataKeyError(f"A stored {purpose} is not an encrypted value; run the migrations.")
    try:
        raw = base64.urlsafe_b64decode(token[len(PREFIX) :].encode("ascii"))
        plain = AESGCM(keys.encryption).decrypt(raw[:_NONCE], raw[_NONCE:], aad)
    except (InvalidTag, ValueError, binascii.Error):
        raise DataKeyError(
            f"A stored {purpose} cannot be decrypted: GRIDMAP_DATA_KEY is not the key the data "
            "was written with (or the value is damaged)."
        ) from None
    return plain.decode("utf-8")


def normalise(value: str, purpose: str) -> str:
    """The canonical form hashed for search: ID numbers upper-case, phones digits only.

    >>> normalise(" 52060219900101123x ", "id_number"), normalise("+86 138-1234-5678", "phone")
    ('52060219900101123X', '13812345678')
    """
    _check_purpose(purpose)
    text = str(value).strip()
    if purpose == "id_number":
        return text.upper()
    digits = _NOT_DIGIT.sub("", text)
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def search_hash(value: str | None, *, purpose: str, keys: DataKeys) -> str | None:
    """Keyed hash (HMAC-SHA256, hex) of the normalised ``value``, for exact-match search."""
    if value is None or not str(value).strip():
        return None
    message = _check_purpose(purpose) + b"\0" + normalise(value, purpose).encode("utf-8")
    return hmac.new(keys.search, message, hashlib.sha256).hexdigest()


def hash_default(source: str, purpose: str) -> Any:
    """A column default computing :func:`search_hash` of column ``source`` of the same row."""
    _check_purpose(purpose)

    def _default(context: Any) -> str | None:
        value = context.get_current_parameters().get(source)
        if is_encrypted(value):  # already encrypted by the caller: cannot hash it here
            return None
        return search_hash(value, purpose=purpose, keys=keys_of(context.dialect))

    return _default


def rotate_store_key(connection: Connection, old: DataKeys, new: DataKeys) -> int:
    """Re-encrypt the store's values and recompute its search hashes from ``old`` to ``new``.

    Runs in the caller's transaction and records the new key's fingerprint, so the store is
    either wholly under the old key or wholly under the new one. Access tokens signed with the
    old key stop working. Returns the number of values re-encrypted.

    Raises
    ------
    DataKeyError
        ``old`` is not the store's key.
    """
    recorded = _recorded_fingerprint(connection)
    if recorded and recorded != old.fingerprint:
        raise DataKeyError(f"The current key ({old.fingerprint}) is not this store's key "
                           f"({recorded}); nothing was changed.")  # fmt: skip
    done = 0
    for table, column, purpose in _encrypted_columns(connection):
        hash_column = _HASH_COLUMNS.get((table, column))
        rows = connection.execute(
            text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")
        ).all()
        for row_id, stored in rows:
            clear = decrypt(stored, purpose=purpose, keys=old) if is_encrypted(stored) else stored
            values = {"v": encrypt(clear, purpose=purpose, keys=new), "id": row_id}
            assignments = f"{column} = :v"
            if hash_column:
                values["h"] = search_hash(clear, purpose=purpose, keys=new)
                assignments += f", {hash_column} = :h"
            connection.execute(text(f"UPDATE {table} SET {assignments} WHERE id = :id"), values)
            done += 1
    connection.execute(text(f"DELETE FROM {_META_TABLE} WHERE name = :n"), {"n": _FINGERPRINT})
    connection.execute(text(f"INSERT INTO {_META_TABLE} (name, value) VALUES (:n, :v)"),
                       {"n": _FINGERPRINT, "v": new.fingerprint})  # fmt: skip
    log.info("Re-encrypted %d value(s) under key %s", done, new.fingerprint)
    return done


def check_engine_key(engine: Engine) -> None:
    """:func:`check_store_key` on ``engine``; a database that cannot be reached is left for later.

    Raises
    ------
    DataKeyError
        The key is not the store's (see :func:`check_store_key`).
    """
    try:
        with engine.begin() as connection:
            check_store_key(connection)
    except OperationalError as exc:
        log.warning("Data key not checked: the database is unavailable (%s)", type(exc).__name__)


class EncryptedString(TypeDecorator[str]):
    """A string column stored encrypted (:func:`encrypt`), read back in clear.

    Stored values that are not encrypted (a store not yet migrated) are returned as they are.
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int | None, purpose: str) -> None:
        _check_purpose(purpose)
        super().__init__(length)
        self.purpose = purpose

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or is_encrypted(value):
            return value
        return encrypt(str(value), purpose=self.purpose, keys=keys_of(dialect))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or not is_encrypted(value):
            return value
        return decrypt(value, purpose=self.purpose, keys=keys_of(dialect))


class EncryptedText(EncryptedString):
    """A text column of any length stored encrypted (``person.tags``)."""

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__(None, purpose)


def sync_hashes_on_update(model: type, pairs: dict[str, tuple[str, str]]) -> None:
    """Recompute ``*_hash`` attributes of ``model`` when the ORM updates their source.

    ``pairs`` maps hash attribute → (source attribute, purpose). Core ``UPDATE`` statements
    that change a source value must set its hash themselves (:func:`search_hash`).
    """
    from sqlalchemy import event, inspect

    def _before_update(_mapper: Any, connection: Connection, target: Any) -> None:
        state = inspect(target)
        for hash_attr, (source, purpose) in pairs.items():
            if state.attrs[source].history.has_changes():
                value = search_hash(getattr(target, source), purpose=purpose,
                                    keys=keys_of(connection))  # fmt: skip
                setattr(target, hash_attr, value)

    event.listen(model, "before_update", _before_update)
