"""``gridmap orders`` on both backends: list, show, transition, overdue --escalate, stats."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.storage import orders as o
from service.storage.session import make_engine, session_scope
from tests.service.orders.conftest import POINT_A1, POINT_B1, T0
from tests.service.residents_seed import seed_residents, use_fast_password_hashing

runner = CliRunner()
NAME, PHONE = "欧阳明珠", "13612345678"


@pytest.fixture
def store(store_url, monkeypatch):
    use_fast_password_hashing(monkeypatch)
    seed_residents(store_url)
    engine = make_engine(store_url)
    with session_scope(engine) as s:
        for point, category in ((POINT_A1, "safety"), (POINT_A1, "repairs"), (POINT_B1, "repairs")):
            new = o.NewOrder(category=category, description="楼道灯坏了", lon=point[0],
                             lat=point[1], urgency="urgent" if category == "safety" else "normal",
                             reporter_name=NAME, reporter_phone=PHONE)  # fmt: skip
            o.submit_order(s, new, now=T0)
    engine.dispose()
    return store_url


def _run(*args):
    result = runner.invoke(app, ["orders", *args])
    assert NAME not in result.output and PHONE not in result.output
    return result


def test_list_show_and_scope(store):
    out = _run("list", "--db", store)
    assert out.exit_code == 0, out.output
    assert "事项（共3件）" in out.output and "安全" in out.output
    out = _run("list", "--db", store, "--as", "worker", "--lang", "en")
    assert "work orders (2)" in out.output and "safety" in out.output
    shown = _run("show", "1", "--db", store, "--lang", "en")
    assert shown.exit_code == 0 and "欧*" in shown.output and "136****5678" in shown.output
    assert "→ submitted" in shown.output
    denied = _run("show", "3", "--db", store, "--as", "worker")
    assert denied.exit_code == 2 and "outside the scope of user 'worker'" in denied.output
    assert _run("list", "--db", store, "--lang", "fr").exit_code == 2


def test_transition_and_refusals(store):
    moved = _run("transition", "1", "accepted", "--as", "cadmin", "--db", store)
    assert moved.exit_code == 0 and "事项1：已受理" in moved.output
    illegal = _run("transition", "1", "closed", "--as", "cadmin", "--db", store)
    assert illegal.exit_code == 3
    assert "is 'accepted' and cannot go to 'closed'; allowed next states: merged, declined, " \
           "dispatched" in illegal.output.replace("\n", "")  # fmt: skip
    role = _run("transition", "2", "accepted", "--as", "worker", "--db", store)
    assert role.exit_code == 3 and "cannot move an order" in role.output
    assert _run("transition", "2", "accepted", "--as", "nobody", "--db", store).exit_code == 2


def test_overdue_escalate_and_stats(store, tmp_path):
    at = "2026-03-02T10:00:00+00:00"  # the urgent safety order (1 h to claim) is late
    first = _run("overdue", "--escalate", "--at", at, "--db", store, "--lang", "en")
    assert first.exit_code == 0, first.output
    assert "overdue orders (1)" in first.output and "1 order(s) escalated" in first.output
    again = _run("overdue", "--escalate", "--at", at, "--db", store)
    assert "本次上报社区0件" in again.output
    target = tmp_path / "stats.csv"
    out = _run("stats", "--level", "community", "--csv", str(target), "--db", store)
    assert out.exit_code == 0, out.output
    text = target.read_text(encoding="utf-8-sig")
    assert text.startswith("community_code,orders,open,") and "520602001001,2,2" in text
    table = _run("stats", "--db", store, "--lang", "en")
    assert "work-order statistics" in table.output and "520602001002001" in table.output
