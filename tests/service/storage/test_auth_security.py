"""Passwords, user scope codes, token versions, the store's data key, tags at rest, file mode.

Every store test runs on SpatiaLite and PostGIS.
"""

from __future__ import annotations

import os
import stat
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from gridmap.errors import InputError
from service.cli import app
from service.settings import Settings
from service.storage import crypto
from service.storage import models as m
from service.storage.auth import create_user, principal_for, remove_user, set_password
from service.storage.auth_models import StoreMeta, User
from service.storage.migrate import downgrade_database, upgrade_database
from service.storage.residents import grid_archive
from service.storage.session import make_engine, make_sessionmaker
from tests.service.api.conftest import A
from tests.service.residents_seed import (
    GRID_A1,
    seed_residents,
    use_fast_password_hashing,
)

STRONG = "Tamarind-Kettle-42"
OTHER_KEY = "b3RoZXIta2V5LWdyaWRtYXAtdGVzdHMtb25seS0zMiE="


def _engine_with_key(url: str, *, key: str | None, key_file: str | None = None) -> Engine:
    """An engine on ``url`` with its own data key (``key``, else the file ``key_file``)."""
    extra: dict[str, Any] = {"data_key_file": key_file} if key_file else {}
    settings = Settings(database_url=url, data_key=key, **extra)
    return make_engine(url, settings=settings)


# --------------------------------------------------------------------------- passwords
@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("12345678", "at least 10 characters"),
        ("1234567890", "too easy to guess"),
        ("password123", "too easy to guess"),
        (" " * 12, "only spaces"),
        ("worker9-7f3a9c1e", "user name"),
        ("Tamarind\x00Kettle-42", "control characters"),
        ("qwertyuiopasdf", "too easy to guess"),
        ("x" * 300, "at most 256"),
    ],
)
def test_weak_passwords_are_refused(db, secret, why):
    with pytest.raises(InputError, match=f"'worker9' not created: .*{why}"):
        create_user(session=db, username="worker9", password=secret, role="public")
    assert db.scalar(select(User.id).where(User.username == "worker9")) is None


def test_a_strong_password_is_accepted(db):
    create_user(session=db, username="worker9", password=STRONG, role="public")
    assert db.scalar(select(User.id).where(User.username == "worker9")) is not None


# --------------------------------------------------------------------------- scope codes
@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ({"role": "community_admin", "community_code": A, "grid_codes": [GRID_A1]},
         "only a grid_worker serves grids"),
        ({"role": "public", "grid_codes": [GRID_A1]}, "only a grid_worker serves grids"),
        ({"role": "grid_worker", "grid_codes": ["520602001001099"]},
         "no plan has grid.s. 520602001001099"),
        ({"role": "community_admin", "community_code": "520602001099"},
         "community 520602001099 is not in the store"),
        ({"role": "grid_worker", "grid_codes": [GRID_A1], "district_code": "520602"},
         "only a district_admin has a district"),
    ],
)  # fmt: skip
def test_scope_codes_must_fit_the_role_and_exist(db, spec, why):
    with pytest.raises(InputError, match=why):
        create_user(session=db, username="u9", password=STRONG, **spec)


def test_cli_refuses_grid_for_an_admin_and_weak_passwords(db, store_url):
    run = CliRunner().invoke
    r = run(app, ["user", "add", "c9", "--role", "community_admin", "--community", A, "--grid",
                  GRID_A1, "--db", store_url, "--password-stdin"], input=f"{STRONG}\n")  # fmt: skip
    assert r.exit_code == 1 and "only a grid_worker serves grids" in r.output
    r = run(app, ["user", "add", "c9", "--role", "public", "--db", store_url, "--password-stdin"],
            input="12345678\n")  # fmt: skip
    assert r.exit_code == 1 and "password" in r.output and "12345678" not in r.output
    r = run(app, ["user", "passwd", "worker", "--db", store_url, "--password-stdin"],
            input=f"{STRONG}\n")  # fmt: skip
    assert r.exit_code == 0, r.output


# --------------------------------------------------------------------------- token versions
def test_password_change_and_re_adding_a_user_give_a_new_token_version(db):
    old = principal_for(session=db, username="worker").token_version
    assert len(old) == 32
    set_password(session=db, username="worker", password=STRONG)
    new = principal_for(session=db, username="worker").token_version
    assert new != old
    assert principal_for(session=db, username="worker", token_version=old) is None
    remove_user(session=db, username="worker")
    create_user(session=db, username="worker", password=STRONG, role="grid_worker",
                grid_codes=[GRID_A1])  # fmt: skip
    assert principal_for(session=db, username="worker", token_version=new) is None
    with pytest.raises(InputError, match="too easy"):
        set_password(session=db, username="worker", password="1234567890")


def test_migration_gives_existing_users_distinct_token_versions(make_store, monkeypatch):
    use_fast_password_hashing(monkeypatch)
    url = make_store()
    seed_residents(url)
    engine = make_engine(url)
    try:
        downgrade_database(engine, revision="0002")
        upgrade_database(engine)
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT token_version FROM app_user")).scalars().all()
        assert len(set(versions)) == len(versions) > 1 and all(len(v) == 32 for v in versions)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- tags at rest
def test_person_tags_are_encrypted_at_rest_and_still_counted(db):
    raw = db.execute(text("SELECT id, tags FROM person WHERE tags IS NOT NULL")).all()
    assert raw and all(crypto.is_encrypted(tags) for _, tags in raw)
    stored = " ".join(tags for _, tags in raw)
    assert not any(word in stored for word in ("disabled", "low_income", "留守儿童", "elderly"))
    assert db.get(m.Person, "pB1").tags == "disabled"
    principal = principal_for(session=db, username="cadmin")
    assert grid_archive(db, principal, grid_code=GRID_A1)["by_tag"]["low_income"] == 1


# --------------------------------------------------------------------------- the data key
def test_the_store_records_its_key_fingerprint(db):
    upgrade_database(db.get_bind())  # (PostGIS test stores are emptied, store_meta included)
    recorded = db.get(StoreMeta, "data_key_fingerprint")
    assert recorded is not None and recorded.value == crypto.keys_of(db).fingerprint
    assert len(recorded.value) == 16


def test_a_store_refuses_another_key(store_url):
    seed_residents(store_url)
    engine = make_engine(store_url)
    upgrade_database(engine)  # records the fingerprint of the test key
    engine.dispose()
    engine = _engine_with_key(store_url, key=OTHER_KEY)
    try:
        with pytest.raises(crypto.DataKeyError, match="Wrong data key.*GRIDMAP_DATA_KEY"):
            upgrade_database(engine)
        with pytest.raises(crypto.DataKeyError, match="Wrong data key"):
            crypto.check_engine_key(engine)
    finally:
        engine.dispose()


def test_a_mistyped_key_file_is_not_created_for_a_store_with_data(store_url, tmp_path):
    seed_residents(store_url)
    engine = make_engine(store_url)
    upgrade_database(engine)
    engine.dispose()
    missing = tmp_path / "typo" / "data.key"
    engine = _engine_with_key(store_url, key=None, key_file=str(missing))
    try:
        with pytest.raises(crypto.DataKeyError, match="does not exist.*written with key"):
            upgrade_database(engine)
    finally:
        engine.dispose()
    assert not missing.exists()


def test_a_store_without_fingerprint_checks_the_key_on_its_data(store_url):
    seed_residents(store_url)
    engine = make_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM store_meta"))  # as before migration 0003
    engine.dispose()
    engine = _engine_with_key(store_url, key=OTHER_KEY)
    try:
        with pytest.raises(crypto.DataKeyError, match="cannot be decrypted"):
            upgrade_database(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM store_meta")).scalar() == 0
    finally:
        engine.dispose()


def test_a_new_store_gets_a_new_private_key_file(make_store, tmp_path):
    key_file = tmp_path / "keys" / "data.key"
    engine = _engine_with_key(make_store(migrated=False), key=None, key_file=str(key_file))
    try:
        upgrade_database(engine)
        with engine.connect() as conn:
            recorded = conn.execute(text("SELECT value FROM store_meta")).scalar()
    finally:
        engine.dispose()
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert recorded == crypto.derive_keys(crypto.parse_key(key_file.read_text())).fingerprint


def test_rotate_key_re_encrypts_everything_and_old_key_is_refused(db, store_url, tmp_path):
    def snapshot(session):
        person = session.get(m.Person, "pA1")
        return person.id_number, person.phone, person.tags, session.get(m.Staff, "s1").phone

    before = snapshot(db)
    raw_before = db.execute(text("SELECT id_number, id_number_hash FROM person "
                                 "WHERE id = 'pA1'")).one()  # fmt: skip
    db.rollback()
    new_file = tmp_path / "new.key"
    r = CliRunner().invoke(app, ["user", "rotate-key", "--new-key-file", str(new_file), "--db",
                                 store_url])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(new_file.stat().st_mode) == 0o600
    assert "Re-encrypted 18 value(s)" in r.output  # 6 ID numbers, 6+2 phones, 4 tag lists
    engine = make_engine(store_url)
    with pytest.raises(crypto.DataKeyError, match="Wrong data key"):
        crypto.check_engine_key(engine)  # the old key no longer opens the store
    engine.dispose()
    engine = _engine_with_key(store_url, key=None, key_file=str(new_file))
    try:
        crypto.check_engine_key(engine)
        with make_sessionmaker(engine)() as s:
            assert snapshot(s) == before
            raw = s.execute(text("SELECT id_number, id_number_hash FROM person "
                                 "WHERE id = 'pA1'")).one()  # fmt: skip
            assert raw[0] != raw_before[0] and raw[1] != raw_before[1]
            keys = crypto.keys_of(engine)
            assert raw[1] == crypto.search_hash(before[0], purpose="id_number", keys=keys)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- file mode
@pytest.mark.spatialite
def test_a_new_sqlite_store_is_private(tmp_path):
    path = tmp_path / "new" / "store.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
