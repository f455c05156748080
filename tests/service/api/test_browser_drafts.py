"""Draft plans on the map pages, in a real browser (Debian's Chromium, non-local requests blocked).

The toy district's plan 2 is a draft of community A with two grids (600 and 650 households); the
published plan 1 has three. Page navigations carry no token, so a page asked for a draft is
built from public data and its layers fetch the draft with the token the sign-in control keeps
in the tab's sessionStorage: anonymous visitors are told to sign in as staff, staff of A see the
draft's grids, staff of another community see nothing.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.main import create_app
from service.api.security import issue_token
from service.settings import Settings
from service.storage.auth import create_user
from service.storage.session import make_engine, session_scope
from tests.service.residents_seed import GRID_B1, password, seed_residents
from tests.service.residents_seed import use_fast_password_hashing as _fast

from .browsing import local_page, record, serving
from .conftest import A

_NO_CHROMIUM = shutil.which("chromium") is None


def browser(test):
    """Mark a test as needing Debian's Chromium."""
    test = pytest.mark.browser(test)
    return pytest.mark.skipif(_NO_CHROMIUM, reason="Debian's chromium not installed")(test)


DRAFT, ABSENT = 2, 99
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
DRAFT_PAGE = f"/maps/communities/{A}?plan_id={DRAFT}&basemap=none"
DRAFT_HOUSEHOLDS = ["600", "650"]
OUTSIDER = "bworker"  # grid worker of a grid of community B only
SIGN_IN_ZH = "请以工作人员身份登录后查看此草稿方案"
SIGN_IN_EN = "sign in as staff to see this draft plan"
HIDDEN_ZH = "此方案不存在，或您的账号无权查看"
EXPIRED_ZH = "登录已过期"


@pytest.fixture
def server(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A uvicorn server over the toy district with residents and one user per role."""
    _fast(monkeypatch)
    seed_residents(store_url)
    engine = make_engine(store_url)
    with session_scope(engine) as s:
        create_user(session=s, username=OUTSIDER, password=password(OUTSIDER),
                    role="grid_worker", grid_codes=[GRID_B1])  # fmt: skip
    engine.dispose()
    with serving(create_app(Settings(database_url=store_url))) as base:
        yield base


@pytest.fixture
def page():
    """A page whose every request (URL and Authorization header) is recorded."""
    with local_page(viewport={"width": 1000, "height": 700}) as tab:
        yield record(tab)


@pytest.fixture
def client(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    _fast(monkeypatch)
    seed_residents(store_url)
    with TestClient(create_app(Settings(database_url=store_url))) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "path", [f"/maps/communities/{A}?plan_id={{p}}", f"/maps/grids/{A}002?plan_id={{p}}"]
)
def test_a_browser_gets_the_same_public_page_for_a_draft_and_an_absent_plan(client, path):
    draft = client.get(path.format(p=DRAFT), headers=HTML)
    absent = client.get(path.format(p=ABSENT), headers=HTML)
    assert draft.status_code == absent.status_code == 404
    assert draft.headers["content-type"].startswith("text/html")
    # The page depends on the Accept header and on who asks (the draft's staff get its page).
    assert [v.strip() for v in draft.headers["vary"].split(",")] == ["Accept", "Authorization"]
    # Nothing of the draft is in its page: it differs from the absent plan's only by the id
    # (and folium's random element names).
    assert _normalised(draft.text, DRAFT) == _normalised(absent.text, ABSENT)
    # API clients get the plain 404 of a plan that does not exist.
    plain = client.get(path.format(p=DRAFT))
    assert plain.status_code == 404 and plain.json() == {"detail": f"Plan {DRAFT} not found."}


def _normalised(page: str, plan_id: int) -> str:
    page = page.replace(f"plan_id={plan_id}", "plan_id=#")
    return re.sub(r"_[0-9a-f]{32}", "_#", page)


def test_a_draft_grid_page_needs_a_public_place(client):
    # A grid code of no published grid and no community: the missing plan's 404, as JSON.
    r = client.get(f"/maps/grids/999999999999001?plan_id={DRAFT}", headers=HTML)
    assert r.status_code == 404 and r.json() == {"detail": f"Plan {DRAFT} not found."}


def _open(page, url: str, ready: str) -> None:
    page.goto(url)
    page.wait_for_selector(f".folium-map[{ready}]", timeout=20_000)
    page.wait_for_timeout(200)


def _grid_paths(page) -> int:
    return page.locator(".leaflet-gridmap-grids-pane path.leaflet-interactive").count()


def _tooltips(page, pane: str) -> list[str]:
    """The tooltip HTML of every layer drawn in ``pane`` (read from Leaflet, no mouse needed)."""
    return page.evaluate(
        """(pane) => {
            const map = Object.values(window).find((v) => v instanceof L.Map);
            const out = [];
            map.eachLayer((layer) => {
                if (layer.options && layer.options.pane === pane && layer.getTooltip()) {
                    out.push(String(layer.getTooltip().getContent()));
                }
            });
            return out;
        }""",
        pane,
    )


def _sign_in(page, user: str, secret: str | None = None) -> None:
    form = page.locator("form.gridmap-signin")
    if form.is_hidden():
        page.locator("button.gridmap-signin-open").click()
    form.locator("input[name=username]").fill(user)
    form.locator("input[name=password]").fill(secret or password(user))
    with page.expect_navigation():  # signed in, the page reloads (same URL) with the token
        form.locator("button[type=submit]").click()


def _token(page) -> str | None:
    return page.evaluate("() => sessionStorage.getItem('gridmap.token')")


@browser
def test_anonymous_visitor_is_told_to_sign_in_and_sees_no_draft(server, page):
    response = page.goto(f"{server}{DRAFT_PAGE}")
    assert response.status == 404  # like a plan that does not exist, but a page to sign in on
    page.wait_for_selector(".folium-map[data-grids-hidden][data-base-count]", timeout=20_000)
    notice = page.locator(".gridmap-notice")
    assert SIGN_IN_ZH in notice.inner_text()
    assert _grid_paths(page) == 0
    assert page.locator(".gridmap-label").count() == 0
    assert page.locator("form.gridmap-signin").is_visible()  # opened for the visitor
    assert page.evaluate("() => document.body.innerText").count(SIGN_IN_ZH) == 1
    assert page.errors == []


@browser
def test_english_message(server, page):
    _open(page, f"{server}{DRAFT_PAGE}&lang=en", "data-grids-hidden")
    assert SIGN_IN_EN in page.locator(".gridmap-notice").inner_text().lower()
    assert page.locator("form.gridmap-signin button[type=submit]").inner_text() == "Sign in"


@browser
def test_community_admin_signs_in_and_sees_the_draft_grids(server, page):
    _open(page, f"{server}{DRAFT_PAGE}", "data-grids-hidden")
    _sign_in(page, "cadmin")
    page.wait_for_selector(".folium-map[data-grids-drawn]", timeout=20_000)
    page.wait_for_selector(".gridmap-signed-in b:has-text('cadmin')", timeout=10_000)
    assert page.locator(".folium-map").get_attribute("data-grids-count") == "2"
    assert _grid_paths(page) == 2
    labels = sorted(page.locator(".gridmap-label").all_inner_texts())
    assert labels == ["第1网格", "第2网格"]
    tips = _tooltips(page, "gridmap-grids")
    assert len(tips) == 2
    assert sorted(h for h in DRAFT_HOUSEHOLDS for tip in tips if h in tip) == DRAFT_HOUSEHOLDS
    assert page.locator(".gridmap-notice").count() == 0
    token = _token(page)
    assert token and token.count(".") == 2
    # The token goes in the Authorization header of the data requests, never into a URL.
    grid_requests = [(u, h) for u, h in page.requests if "/grids.geojson" in u]
    assert any(h == f"Bearer {token}" for _, h in grid_requests)
    assert all(token not in url for url, _ in page.requests)
    assert page.context.cookies() == []
    # The language link keeps the plan: the draft in English, still signed in.
    page.locator(".gridmap-bar a", has_text="English").click()
    page.wait_for_selector(".folium-map[data-grids-drawn]", timeout=20_000)
    assert f"plan_id={DRAFT}" in page.url and "lang=en" in page.url
    assert page.locator(".folium-map").get_attribute("data-grids-count") == "2"
    # Signing out forgets the token: the draft is hidden again.
    page.locator("button.gridmap-signout").click()
    page.wait_for_selector(".folium-map[data-grids-hidden]", timeout=20_000)
    assert _token(page) is None and _grid_paths(page) == 0
    assert all(token not in url for url, _ in page.requests)
    assert page.errors == []


@browser
def test_grid_worker_of_another_community_still_sees_nothing(server, page):
    _open(page, f"{server}{DRAFT_PAGE}", "data-grids-hidden")
    _sign_in(page, OUTSIDER)
    page.wait_for_selector(".folium-map[data-grids-hidden]", timeout=20_000)
    assert page.locator(".gridmap-signed-in").is_visible()
    assert HIDDEN_ZH in page.locator(".gridmap-notice").inner_text()
    assert SIGN_IN_ZH not in page.locator(".gridmap-notice").inner_text()
    assert _grid_paths(page) == 0 and page.locator(".gridmap-label").count() == 0
    # The published plan still draws for them, as for everyone.
    _open(page, f"{server}/maps/communities/{A}?basemap=none", "data-grids-drawn")
    assert _grid_paths(page) == 3


@browser
def test_wrong_password_is_said_and_nothing_is_stored(server, page):
    _open(page, f"{server}{DRAFT_PAGE}", "data-grids-hidden")
    form = page.locator("form.gridmap-signin")
    form.locator("input[name=username]").fill("cadmin")
    form.locator("input[name=password]").fill("not-the-password-1")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".gridmap-signin-error:has-text('用户名或密码错误')", timeout=10_000)
    assert _token(page) is None
    assert form.locator("input[name=password]").input_value() == ""
    assert all("not-the-password" not in url for url, _ in page.requests)


@browser
def test_expired_token_clears_itself_and_says_so(server, page):
    _open(page, f"{server}/maps/communities/{A}?basemap=none", "data-grids-drawn")
    expired = issue_token(Settings(), "cadmin", -5).access_token  # the server's key: the test key
    page.evaluate("(t) => sessionStorage.setItem('gridmap.token', t)", expired)
    _open(page, f"{server}{DRAFT_PAGE}", "data-grids-hidden")
    page.wait_for_selector(".gridmap-notice [data-kind=expired]", timeout=10_000)
    text = page.locator(".gridmap-notice").inner_text()
    assert EXPIRED_ZH in text and SIGN_IN_ZH in text  # retried anonymously: the draft is hidden
    assert _token(page) is None
    assert page.locator("button.gridmap-signin-open").count() == 1
    assert _grid_paths(page) == 0


@browser
def test_grid_page_of_a_draft_grid(server, page):
    url = f"{server}/maps/grids/{A}002?plan_id={DRAFT}&basemap=none"
    _open(page, url, "data-outline-hidden")
    assert SIGN_IN_ZH in page.locator(".gridmap-notice").inner_text()
    assert page.locator(".leaflet-gridmap-outline-pane path").count() == 0
    _sign_in(page, "dadmin")  # district admin of the district
    page.wait_for_selector(".folium-map[data-outline-drawn][data-buildings-drawn]", timeout=20_000)
    tip_path = page.locator(".leaflet-gridmap-outline-pane path.leaflet-interactive")
    assert tip_path.count() == 1
    box = page.locator(".folium-map")
    # Draft grid 002 is the east half of A (x 109.185-109.190): the three buildings there.
    assert box.get_attribute("data-buildings-count") == "3"
    [tip] = _tooltips(page, "gridmap-outline")
    assert f"{A}002" in tip and ">650<" in tip


@browser
def test_signed_in_download_of_the_draft(server, page):
    _open(page, f"{server}{DRAFT_PAGE}", "data-grids-hidden")
    _sign_in(page, "cadmin")
    page.wait_for_selector(".folium-map[data-grids-drawn]", timeout=20_000)
    with page.expect_download() as info:
        page.locator(".gridmap-bar a[download]", has_text="网格").click()
    body = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert sorted(str(f["properties"]["households"]) for f in body["features"]) == DRAFT_HOUSEHOLDS
