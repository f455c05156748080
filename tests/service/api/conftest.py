"""API fixtures: a toy district written through the ORM, a TestClient and a live server.

Toy district (lon/lat around Tongren), two communities side by side:

    109.180      109.190      109.200   (lon)
    +---+---+---+------+------+  27.730
    | 1 | 2 | 3 |  1   |  2   |
    +---+---+---+------+------+  27.720
     community A   community B
     520602001001  520602001002

A's published plan (plan 1) has grids 001-003 (households 320, 410, 520); A's draft plan
(plan 2) has two grids (600, 650); B's published plan (plan 3) has 001-002 (350, 380).
Two buildings per grid of A (one with a footprint), one per grid of B. Staff with names and
phones, and a person with a name, ID number and phone: none of these may leak into downloads.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from shapely import MultiPolygon, Point, box

from service.api.main import create_app
from service.settings import Settings
from service.storage import models as m
from service.storage.session import make_engine, session_scope

from .browsing import serving

A, B = "520602001001", "520602001002"
Y0, Y1 = 27.720, 27.730
A_STRIPS = [(109.180, 109.18333), (109.18333, 109.18667), (109.18667, 109.190)]
A_DRAFT = [(109.180, 109.185), (109.185, 109.190)]
B_STRIPS = [(109.190, 109.195), (109.195, 109.200)]
PERSONAL_VALUES = ["张三", "李四", "13800001111", "13900002222", "王五", "520602199001011234",
                   "13912345678"]  # fmt: skip


def _mp(x0: float, x1: float) -> object:
    return from_shape(MultiPolygon([box(x0, Y0, x1, Y1)]), srid=4326)


def _grids(plan_id: int, community: str, strips, households) -> list[m.Grid]:
    return [
        m.Grid(plan_id=plan_id, code=f"{community}{i:03d}", community_code=community,
               households=hh, buildings=0, persons=0, geom=_mp(x0, x1))
        for i, ((x0, x1), hh) in enumerate(zip(strips, households, strict=True), start=1)
    ]  # fmt: skip


def _buildings(community: str, strips, per_grid: int) -> list[m.Building]:
    out = []
    for g, (x0, x1) in enumerate(strips, start=1):
        for k in range(per_grid):
            x = x0 + (x1 - x0) * (k + 1) / (per_grid + 1)
            y = (Y0 + Y1) / 2
            footprint = box(x - 0.0003, y - 0.0002, x + 0.0003, y + 0.0002) if k == 0 else None
            out.append(m.Building(
                id=f"B{community[-3:]}{g}{k}", code=f"{community}{g:03d}{k:05d}",
                name=f"{g}号楼", address=f"测试路{g}{k}号", kind="residential", floors=6 + k,
                units=2, households=60 + k, community_code=community,
                geom=from_shape(Point(x, y), srid=4326),
                footprint=from_shape(MultiPolygon([footprint]), srid=4326) if footprint else None,
            ))  # fmt: skip
    return out


def seed_toy_district(url: str, settings: Settings | None = None) -> None:
    """Write the toy district into the migrated store at ``url`` (data key of ``settings``)."""
    engine = make_engine(url, settings=settings)
    with session_scope(engine) as s:
        s.add_all([
            m.Community(code=A, name="测试社区甲", subdistrict="测试街道", code_year=2023,
                        geom=_mp(109.180, 109.190)),
            m.Community(code=B, name="测试社区乙", subdistrict="测试街道", code_year=2023,
                        geom=_mp(109.190, 109.200)),
        ])  # fmt: skip
        s.flush()
        s.add_all([
            m.Plan(id=1, community_code=A, status="published", name="A v1"),
            m.Plan(id=2, community_code=A, status="draft", name="A draft"),
            m.Plan(id=3, community_code=B, status="published", name="B v1"),
        ])  # fmt: skip
        s.flush()
        plan_grids = {
            1: _grids(1, A, A_STRIPS, [320, 410, 520]),
            2: _grids(2, A, A_DRAFT, [600, 650]),
            3: _grids(3, B, B_STRIPS, [350, 380]),
        }
        s.add_all([g for grids in plan_grids.values() for g in grids])
        buildings = _buildings(A, A_STRIPS, 2) + _buildings(B, B_STRIPS, 1)
        s.add_all(buildings)
        s.flush()
        for plan_id, grids in plan_grids.items():
            for b in buildings:
                point = _point_of(b)
                for grid in grids:
                    if grid.community_code == b.community_code and _within(point, grid):
                        s.add(m.GridBuilding(plan_id=plan_id, building_id=b.id, grid_id=grid.id))
        s.add_all([
            m.Staff(id="s1", name="张三", role="grid_worker", phone="13800001111"),
            m.Staff(id="s2", name="李四", role="grid_head", phone="13900002222"),
        ])  # fmt: skip
        s.flush()
        s.add_all([
            m.StaffGrid(staff_id="s1", grid_code=f"{A}001"),
            m.StaffGrid(staff_id="s2", grid_code=f"{A}001"),
            m.StaffGrid(staff_id="s2", grid_code=f"{A}002"),
        ])  # fmt: skip
        s.add(m.Household(id="h1", building_id=buildings[0].id, unit="1", floor="2", room="201",
                          head_person_id="p1", size=1))  # fmt: skip
        s.flush()
        s.add(m.Person(id="p1", household_id="h1", name="王五", id_number="520602199001011234",
                       phone="13912345678", sex="M"))  # fmt: skip
    engine.dispose()


def _point_of(building: m.Building) -> Point:
    from geoalchemy2.shape import to_shape

    assert building.geom is not None
    point = to_shape(building.geom)
    assert isinstance(point, Point)
    return point


def _within(point: Point, grid: m.Grid) -> bool:
    from geoalchemy2.shape import to_shape

    return to_shape(grid.geom).contains(point)


@pytest.fixture
def toy_url(store_url: str) -> str:
    """A fresh store of the current backend holding the toy district."""
    seed_toy_district(store_url)
    return store_url


@pytest.fixture
def client(toy_url: str) -> Iterator[TestClient]:
    """A TestClient on the app over the toy district."""
    with TestClient(create_app(Settings(database_url=toy_url))) as test_client:
        yield test_client


@pytest.fixture
def live_server(toy_url: str) -> Iterator[str]:
    """Base URL of a uvicorn server (in a thread) serving the toy district."""
    with serving(create_app(Settings(database_url=toy_url))) as base:
        yield base
