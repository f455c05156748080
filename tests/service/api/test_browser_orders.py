"""Work-order pages in a real browser (Debian's Chromium, non-local requests blocked).

- ``/staff`` at a phone viewport (390×844, touch): a grid worker signs in, sees their orders on
  the map and in the list, claims one, starts it, adds a note and a photo, finishes it; the
  store then holds exactly that. An order someone else claimed first is refused with a message.
- ``/board?f=html`` (晒单): the published order on the map and in the table, and none of the
  names, phones, ID numbers or addresses planted in the orders anywhere in the page.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator

import pytest

from service.api.main import create_app
from service.settings import Settings
from service.storage import order_photos
from service.storage import orders as store
from service.storage.session import make_engine, session_scope
from tests.service.api.orders_seed import ADMIN_A, PLANTED, PUBLIC_OUTCOME, seed_orders
from tests.service.residents_seed import password, seed_residents, use_fast_password_hashing

from . import browsing
from .browsing import local_context, record, serving
from .conftest import A, B

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium not installed"),
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
         "has_touch": True}  # fmt: skip
# A 1×1 PNG: what the phone's camera input hands over.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def server(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, dict]]:
    use_fast_password_hashing(monkeypatch)
    seed_residents(store_url)
    ids = seed_orders(store_url)
    with serving(create_app(Settings(database_url=store_url))) as base:
        yield base, store_url, ids


@pytest.fixture(scope="module")
def chromium():
    """One Chromium for the module (each test gets its own context)."""
    with browsing.chromium() as browser:
        yield browser


@pytest.fixture
def phone(chromium):
    """A phone-sized page; its requests (URL, Authorization) and errors are recorded."""
    context = local_context(chromium, **PHONE)
    tab = record(context.new_page())
    yield tab
    context.close()


def _card(page, order_id: int):
    return page.locator(f'.order-card[data-order-id="{order_id}"]')


def _wait_state(page, order_id: int, state: str) -> None:
    page.wait_for_selector(f'.order-card[data-order-id="{order_id}"][data-state="{state}"]',
                           timeout=10_000)  # fmt: skip


def _wait(page, script: str, arg: object) -> None:
    page.wait_for_function(script, arg=arg, timeout=10_000)


def _stored(url: str, order_id: int):
    engine = make_engine(url)
    with session_scope(engine) as s:
        view = store.get_order(s, ADMIN_A, order_id=order_id)
        history = store.order_history(s, ADMIN_A, order_id=order_id)
        photos = order_photos.list_photos(s, ADMIN_A, order_id=order_id)
    engine.dispose()
    return view, history, photos


def test_grid_worker_claims_works_and_finishes_an_order_on_a_phone(server, phone):
    base, url, ids = server
    phone.goto(f"{base}/staff")
    form = phone.locator("#staff-signin")
    form.wait_for(state="visible")
    form.locator("input[name=username]").fill("worker")
    form.locator("input[name=password]").fill(password("worker"))
    form.locator("button[type=submit]").tap()
    phone.wait_for_selector("body[data-orders]", timeout=15_000)
    assert phone.locator("#staff-who").inner_text() == "worker"
    # 我的待办: the order open for claiming in A001 and the one dispatched to worker; not the
    # submitted one, nor A002's.
    cards = phone.locator(".order-card")
    assert sorted(int(c) for c in cards.evaluate_all("n => n.map(c => c.dataset.orderId)")) == \
        sorted([ids["open"], ids["assigned"]])  # fmt: skip
    assert phone.locator(".leaflet-interactive").count() >= 2  # markers (and the grid outline)
    phone.wait_for_selector(".leaflet-tile-pane canvas", state="attached")  # the faint base
    card = _card(phone, ids["open"])
    assert card.locator(".order-category").inner_text() == "环境"
    assert card.locator(".order-state").inner_text() == "已派单"
    assert card.locator(".order-grid").inner_text() == "第1网格"
    # 网格内全部未办结 also lists the submitted order of the grid.
    phone.locator("input[name=show][value=open]").check()
    assert _card(phone, ids["submitted"]).count() == 1
    phone.locator("input[name=show][value=mine]").check()
    # The page fits the phone: nothing wider than the viewport.
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390

    card.locator(".order-claim").tap()
    _wait_state(phone, ids["open"], "claimed")
    _card(phone, ids["open"]).locator(".order-start").tap()
    _wait_state(phone, ids["open"], "in_progress")
    card = _card(phone, ids["open"])
    card.locator(".order-open").tap()
    work = card.locator(".order-work")
    work.locator("textarea[name=note]").fill("已联系物业，明早清运")
    work.locator("input[name=photo]").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": PNG})  # fmt: skip
    work.locator("button.order-note").tap()
    _wait(
        phone,
        "(id) => document.querySelector(`.order-card[data-order-id='${id}'] .order-work`).hidden",
        ids["open"],
    )  # reloaded: the form closed
    card = _card(phone, ids["open"])
    card.locator(".order-open").tap()
    card.locator("textarea[name=note]").fill("垃圾已清运完毕")
    card.locator("button.order-done").tap()
    # Finished: no longer among my orders to do.
    _wait(
        phone, "(id) => !document.querySelector(`.order-card[data-order-id='${id}']`)", ids["open"]
    )

    view, history, photos = _stored(url, ids["open"])
    assert (view.state, view.claimed_by, view.outcome) == ("done", "worker", "垃圾已清运完毕")
    moves = [(h.kind, h.to_state, h.actor) for h in history]
    assert ("transition", "claimed", "worker") in moves
    assert ("transition", "in_progress", "worker") in moves
    assert ("note", "in_progress", "worker") in moves
    assert ("photo", "in_progress", "worker") in moves
    assert moves[-1] == ("transition", "done", "worker")
    assert [(p.content_type, p.public) for p in photos] == [("image/png", False)]
    # The token went in the Authorization header, never into a URL, and no cookie was set.
    token = phone.evaluate("() => sessionStorage.getItem('gridmap.token')")
    assert token and all(token not in u for u, _h in phone.requests)
    assert any(h == f"Bearer {token}" for u, h in phone.requests if "/transitions" in u)
    assert phone.context.cookies() == []
    assert phone.errors == []


def test_an_order_claimed_by_someone_else_first_is_refused(server, phone):
    base, url, ids = server
    phone.goto(f"{base}/staff")
    form = phone.locator("#staff-signin")
    form.locator("input[name=username]").fill("worker")
    form.locator("input[name=password]").fill(password("worker"))
    form.locator("button[type=submit]").tap()
    phone.wait_for_selector(f'.order-card[data-order-id="{ids["assigned"]}"]', timeout=15_000)
    engine = make_engine(url)  # the community office claims it on the worker's behalf meanwhile
    with session_scope(engine) as s:
        store.transition_order(s, ADMIN_A, order_id=ids["assigned"], to="claimed")
    engine.dispose()
    _card(phone, ids["assigned"]).locator(".order-claim").tap()
    phone.wait_for_function("() => document.getElementById('staff-status').textContent"
                            ".includes(\"cannot go to 'claimed'\")", timeout=10_000)  # fmt: skip
    view, _history, _photos = _stored(url, ids["assigned"])
    assert (view.state, view.claimed_by) == ("claimed", "cadmin")
    assert _card(phone, ids["assigned"]).count() == 0  # reloaded: no longer the worker's to take
    # Signing out forgets the token and shows the form again.
    phone.locator("#staff-signout").tap()
    assert phone.locator("#staff-signin").is_visible()
    assert phone.evaluate("() => sessionStorage.getItem('gridmap.token')") is None
    phone.goto(f"{base}/staff?lang=en")  # English on request
    assert phone.locator("#staff-signin h1").inner_text() == "Staff sign-in"


def test_public_board_page_shows_published_orders_without_personal_data(server, phone):
    base, _url, ids = server
    response = phone.goto(f"{base}/board?f=html")
    assert response.status == 200 and response.headers["content-type"].startswith("text/html")
    phone.wait_for_selector("body[data-board-count]", timeout=15_000)
    assert phone.locator("body").get_attribute("data-board-count") == "1"
    row = phone.locator(f'#board-list tr[data-order-id="{ids["published"]}"]')
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "维修" and cells[1] == "测试社区甲 第2网格"
    assert cells[4] == PUBLIC_OUTCOME and cells[5] == "★★★★☆"
    assert phone.locator("#board-map path.leaflet-interactive").count() == 1
    html = phone.content()
    for value in PLANTED:
        assert value not in html, value
    # In English on request (Chinese by default).
    phone.locator(".orders-bar a", has_text="English").click()
    phone.wait_for_selector("body[data-board-count]", timeout=15_000)
    cells = phone.locator("#board-list tr").first.locator("td").all_inner_texts()
    assert cells[:2] == ["repairs", "测试社区甲 Grid 002"]
    # A browser asking for /board gets the page too; the data stays GeoJSON for API clients.
    assert phone.goto(f"{base}/board").headers["content-type"].startswith("text/html")
    assert phone.errors == []


def test_district_map_colours_grids_by_open_orders(server, phone):
    base, _url, _ids = server
    data = phone.request.get(f"{base}/maps/data/orders/grids.geojson").json()
    counts = {
        f["id"]: (f["properties"]["open"], f["properties"]["overdue"]) for f in data["features"]
    }
    # A001: submitted, open, assigned (declined and merged are closed); A002: other (the
    # published one is closed); B001: in progress.
    assert counts == {f"{A}001": (3, 0), f"{A}002": (1, 0), f"{A}003": (0, 0),
                      f"{B}001": (1, 0), f"{B}002": (0, 0)}  # fmt: skip
    assert all(set(f["properties"]) == {"grid_code", "community_code", "grid_name", "open",
                                        "overdue"} for f in data["features"])  # fmt: skip
    phone.set_viewport_size({"width": 1000, "height": 700})
    phone.goto(f"{base}/maps?basemap=none")
    phone.wait_for_selector(".folium-map[data-communities-count]", timeout=15_000)
    assert "未办结事项: 3-5 件" in phone.locator(".gridmap-legend").inner_text()
    phone.locator(".leaflet-control-layers label", has_text="网格未办结事项").locator(
        "input"
    ).check()
    phone.wait_for_selector(".folium-map[data-grid_orders-count='5']", timeout=15_000)
    fills = phone.evaluate(
        """() => {
            const map = Object.values(window).find((v) => v instanceof L.Map);
            const out = {};
            map.eachLayer((l) => {
                if (l.options && l.options.pane === "gridmap-grid_orders" && l.feature) {
                    out[l.feature.id] = l.options.fillColor;
                }
            });
            return out;
        }"""
    )
    assert fills == {f"{A}001": "#fdbb84", f"{A}002": "#fee8c8", f"{A}003": "#f7f7f7",
                     f"{B}001": "#fee8c8", f"{B}002": "#f7f7f7"}  # fmt: skip
    assert phone.errors == []
