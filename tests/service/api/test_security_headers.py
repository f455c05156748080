"""Security headers, no caching of personal answers, Swagger UI without a CDN (both backends)."""

from __future__ import annotations

import re

import pytest

from service.api.headers import inline_script_hashes

from .conftest import A


@pytest.mark.parametrize("path", ["/collections", "/downloads/communities.geojson", "/maps",
                                  f"/maps/communities/{A}", "/docs", "/openapi.json",
                                  "/no-such-page"])  # fmt: skip
def test_every_answer_has_the_security_headers(client, path):
    r = client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    policy = r.headers["content-security-policy"]
    assert re.search(r"frame-ancestors '(none|self)'", policy)
    assert "'unsafe-inline'" not in policy.split("script-src")[-1].split(";")[0]
    assert "'unsafe-eval'" not in policy


@pytest.mark.parametrize("path", ["/docs", f"/maps/communities/{A}"])
def test_pages_allow_exactly_their_own_inline_scripts(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    script_src = r.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    hashes = inline_script_hashes(r.content)
    assert hashes and all(h in script_src for h in hashes)
    assert set(script_src.split()) == {"'self'", *hashes}


def test_swagger_ui_is_served_by_the_app(client):
    page = client.get("/docs").text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert client.get("/redoc").status_code == 404


def test_tokens_and_personal_answers_are_not_cached(client):
    r = client.post("/auth/token", data={"username": "nobody", "password": "x" * 12})
    assert r.headers["cache-control"] == "no-store"
    assert client.get("/grids/520602001001001/residents").headers["cache-control"] == "no-store"
    assert client.get("/audit").headers["cache-control"] == "no-store"
    signed = client.get("/collections", headers={"Authorization": "Bearer x"})
    assert signed.headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/collections").headers.get("cache-control", "")
