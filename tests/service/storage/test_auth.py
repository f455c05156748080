"""Users, scope in SQL, masking, reveal + audit, encryption at rest and keyed-hash search.

Every test runs on SpatiaLite and PostGIS.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from gridmap.errors import DuplicateIdError, InputError
from service.storage import crypto
from service.storage import models as m
from service.storage.auth import (
    PermissionDenied,
    authenticate,
    create_user,
    list_audit,
    list_users,
    principal_for,
    remove_user,
)
from service.storage.auth_models import AuditRecord, User
from service.storage.errors import NotFoundError
from service.storage.residents import (
    ResidentSearch,
    export_residents,
    grid_archive,
    list_residents,
    reveal_person,
)
from service.storage.session import make_engine, make_sessionmaker
from tests.service.api.conftest import seed_toy_district
from tests.service.residents_seed import (
    GRID_A1,
    GRID_A2,
    GRID_A3,
    GRID_B1,
    SECRETS,
    password,
    use_fast_password_hashing,
)

STRONG = "Tamarind-Kettle-42"


def _who(session, name):
    principal = authenticate(session=session, username=name, password=password(name))
    assert principal is not None
    return principal


def _ids(page):
    return sorted(r["person_id"] for r in page.residents)


# --------------------------------------------------------------------------- users
def test_passwords_are_hashed_and_checked(db):
    stored = db.scalar(select(User.password_hash).where(User.username == "worker"))
    assert stored.startswith("$argon2id$") and "password-worker" not in stored
    assert authenticate(session=db, username="worker", password="wrong-password") is None
    assert authenticate(session=db, username="nobody", password="password-nobody") is None
    assert _who(db, "worker").grid_codes == (GRID_A1,)


def test_user_input_is_checked_and_names_the_user(db):
    with pytest.raises(InputError, match="'x1'.*at least 10 characters"):
        create_user(session=db, username="x1", password="short", role="public")
    with pytest.raises(InputError, match="needs at least one grid code"):
        create_user(session=db, username="x2", password="long-enough", role="grid_worker")
    with pytest.raises(InputError, match="12-digit community code"):
        create_user(session=db, username="x3", password="long-enough", role="community_admin",
                    community_code="5206")  # fmt: skip
    with pytest.raises(InputError, match="role 'boss'"):
        create_user(session=db, username="x4", password="long-enough", role="boss")
    with pytest.raises(DuplicateIdError, match="'worker' already exists"):
        create_user(session=db, username="worker", password=STRONG, role="public")


def test_list_and_remove_users(db):
    names = [u.username for u in list_users(session=db)]
    assert names == sorted(names) and {"worker", "dadmin", "citizen"} <= set(names)
    remove_user(session=db, username="worker")
    db.commit()
    assert principal_for(session=db, username="worker") is None
    with pytest.raises(NotFoundError, match="'worker' not found"):
        remove_user(session=db, username="worker")


# --------------------------------------------------------------------------- scope
@pytest.mark.parametrize(
    ("user", "grid", "expected"),
    [
        ("worker", GRID_A1, ["p1", "pA1", "pA2", "pA3"]),
        ("worker2", GRID_A2, ["pA4", "pA5"]),
        ("worker2", GRID_B1, ["pB1"]),
        ("cadmin", GRID_A2, ["pA4", "pA5"]),
        ("dadmin", GRID_B1, ["pB1"]),
        ("dadmin", GRID_A3, []),
    ],
)
def test_each_role_sees_the_residents_of_its_scope(db, user, grid, expected):
    assert _ids(list_residents(db, _who(db, user), grid_code=grid)) == expected


@pytest.mark.parametrize(
    ("user", "grid"),
    [("worker", GRID_A2), ("worker", GRID_B1), ("cadmin", GRID_B1), ("otherdistrict", GRID_A1),
     ("citizen", GRID_A1)],
)  # fmt: skip
def test_grids_outside_the_scope_are_refused(db, user, grid):
    principal = _who(db, user)
    with pytest.raises(PermissionDenied, match=f"Grid {grid} is outside the scope"):
        list_residents(db, principal, grid_code=grid)
    with pytest.raises(PermissionDenied):
        grid_archive(db, principal, grid_code=grid)


def test_unknown_grid_is_not_found(db):
    with pytest.raises(NotFoundError, match="'520602001001099'"):
        list_residents(db, _who(db, "dadmin"), grid_code="520602001001099")


def test_scope_is_in_the_query_itself(db):
    """Even a person id from another grid is unreachable: reveal filters by scope in SQL."""
    with pytest.raises(NotFoundError, match="'pB1'"):
        reveal_person(db, _who(db, "revealer"), person_id="pB1", reason="home visit")
    assert db.scalar(select(AuditRecord.id)) is None  # nothing was audited


# --------------------------------------------------------------------------- masking, search
def test_residents_are_masked_and_sensitive_tags_hidden(db):
    page = list_residents(db, _who(db, "worker"), grid_code=GRID_A1)
    by_id = {r["person_id"]: r for r in page.residents}
    assert by_id["pA1"]["name"] == "赵*"
    assert by_id["pA1"]["id_number"] == "520602********1235"
    assert by_id["pA1"]["phone"] == "137****1111"
    assert by_id["pA1"]["tags"] == ["elderly"] and by_id["pA1"]["has_sensitive_tags"]
    assert by_id["pA3"]["age_band"] == "0-13" and by_id["pA3"]["tags"] == []
    values = {str(v) for r in page.residents for v in r.values()}
    assert not values & SECRETS


def test_exact_search_through_keyed_hashes(db):
    # Searching by ID number or phone needs the reveal permission and a reason (audited).
    user = _who(db, "revealer")
    why = {"reason": "核对住户信息"}

    def search(**criteria):
        return list_residents(db, user, grid_code=GRID_A1, search=ResidentSearch(**criteria))

    found = search(id_number="520602198001011235", **why)
    assert _ids(found) == ["pA1"]
    phone = "+86 137-0000-2222"
    assert _ids(search(phone=phone, **why)) == ["pA2"]
    assert _ids(search(name="赵")) == ["pA1", "pA2", "pA3"]
    # The phone of a person in another grid is not found in this one.
    other = search(phone="13700006666", **why)
    assert other.number_matched == 0


def test_paging(db):
    worker = _who(db, "worker")
    first = list_residents(db, worker, grid_code=GRID_A1, limit=3)
    rest = list_residents(db, worker, grid_code=GRID_A1, limit=3, offset=3)
    assert first.number_matched == rest.number_matched == 4
    assert len(first.residents) == 3 and len(rest.residents) == 1


def test_grid_archive_counts(db):
    archive = grid_archive(db, _who(db, "cadmin"), grid_code=GRID_A1)
    assert archive["households"] == 2 and archive["persons"] == 4
    assert archive["by_population_type"] == {"registered": 3, "unknown": 1}
    assert archive["by_age_band"]["0-13"] == 1
    assert archive["by_tag"] == {"elderly": 1, "low_income": 1, "留守儿童": 1}
    assert archive["sensitive_tag_persons"] == 2


# --------------------------------------------------------------------------- reveal + audit
def test_reveal_needs_the_permission(db):
    with pytest.raises(PermissionDenied, match="reveal_personal"):
        reveal_person(db, _who(db, "cadmin"), person_id="pA1", reason="home visit")


def test_reveal_needs_a_reason(db):
    with pytest.raises(InputError, match="reason"):
        reveal_person(db, _who(db, "revealer"), person_id="pA1", reason=" ")


def test_reveal_returns_full_values_and_is_audited(db):
    out = reveal_person(db, _who(db, "revealer"), person_id="pA1", reason="入户走访核实",
                        fields=("name", "phone"))  # fmt: skip
    db.commit()
    assert out["name"] == "赵一" and out["phone"] == "13700001111"
    assert out["id_number"] == "520602********1235"  # not asked for: still masked
    [record] = list_audit(session=db)
    assert record["username"] == "revealer" and record["record_id"] == "pA1"
    assert record["action"] == "reveal" and record["fields"] == "name,phone"
    assert record["reason"] == "入户走访核实" and record["at"] is not None


def test_export_is_masked_unless_revealed_with_audit(db):
    masked = export_residents(db, _who(db, "dadmin"), grid_code=GRID_A2)
    assert {r["name"] for r in masked} == {"钱*"}
    assert list_audit(session=db) == []
    with pytest.raises(PermissionDenied):
        export_residents(db, _who(db, "cadmin"), grid_code=GRID_A2, reveal=True, reason="x" * 9)
    full = export_residents(db, _who(db, "dadmin"), grid_code=GRID_A2, reveal=True,
                            reason="annual census check")  # fmt: skip
    db.commit()
    assert {r["id_number"] for r in full} == {"520602197003031230", "520602197104041231"}
    assert [a["record_id"] for a in list_audit(session=db)] == [GRID_A2]


# --------------------------------------------------------------------------- at rest
def test_id_numbers_and_phones_are_encrypted_at_rest(db):
    rows = db.execute(text("SELECT id, id_number, phone, id_number_hash FROM person")).all()
    staff = db.execute(text("SELECT phone FROM staff")).scalars().all()
    stored = {str(v) for r in rows for v in r[1:]} | set(staff)
    assert not stored & SECRETS
    assert all(crypto.is_encrypted(v) for r in rows for v in r[1:3] if v is not None)
    by_id = {r[0]: r for r in rows}
    wanted = crypto.search_hash("520602198001011235", purpose="id_number", keys=crypto.keys_of(db))
    assert by_id["pA1"][3] == wanted
    assert by_id["pA3"][1] is None and by_id["pA3"][3] is None
    # ...and read back in clear through the ORM.
    assert db.get(m.Person, "pA4").id_number == "520602197003031230"


def test_orm_update_refreshes_the_hash(db):
    person = db.get(m.Person, "pA2")
    person.phone = "13800009999"
    db.commit()
    user, why = _who(db, "revealer"), "核对住户信息"
    new = ResidentSearch(phone="13800009999", reason=why)
    assert _ids(list_residents(db, user, grid_code=GRID_A1, search=new)) == ["pA2"]
    old = ResidentSearch(phone="13700002222", reason=why)
    stale = list_residents(db, user, grid_code=GRID_A1, search=old)
    assert stale.number_matched == 0


# --------------------------------------------------------------------------- CLI
def test_user_cli_add_list_remove(store_url, monkeypatch):
    from typer.testing import CliRunner

    from service.cli import app

    use_fast_password_hashing(monkeypatch)
    seed_toy_district(store_url)  # grid codes must exist
    run = CliRunner().invoke
    r = run(app, ["user", "add", "w1", "--role", "grid_worker", "--grid", GRID_A1, "--db",
                  store_url, "--password-stdin"], input=f"{STRONG}\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    r = run(app, ["user", "add", "w2", "--role", "grid_worker", "--db", store_url,
                  "--password-stdin"], input=f"{STRONG}\n")  # fmt: skip
    assert r.exit_code == 1 and "needs at least one grid code" in r.output
    r = run(app, ["user", "list", "--db", store_url])
    assert r.exit_code == 0 and r.output.splitlines() == [f"w1\tgrid_worker\t{GRID_A1}\t-"]
    assert STRONG not in r.output
    engine = make_engine(store_url)
    with make_sessionmaker(engine)() as s:
        assert authenticate(session=s, username="w1", password=STRONG) is not None
    engine.dispose()
    assert run(app, ["user", "remove", "w1", "--db", store_url]).exit_code == 0
    r = run(app, ["user", "remove", "w1", "--db", store_url])
    assert r.exit_code == 1 and "'w1' not found" in r.output
    key = run(app, ["user", "genkey"]).output.strip()
    assert len(crypto.parse_key(key)) == 32
