"""``import --update`` with a file lacking optional columns keeps their stored values.

Next month's office file often carries fewer columns than the first one (a 楼栋 table of
household counts only, a 住户 roster without 单元/楼层/房号, a street layer without 是否边界,
a staff roster without 联系电话 or 负责网格). The update changes what the file says and keeps
what it does not: the columns the file lacks, or leaves empty in every record (a template
column), are neither compared nor written. A column the file fills for some records says each
record's value, blank included.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import box
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.analyst import open_store
from service.importer import import_files
from service.storage import models as m
from service.storage.crypto import DataKeys, keys_of, search_hash
from service.storage.session import make_engine, session_scope
from tests.service.test_street_boundary import UNDER, office_files, stored_flags, write_streets

CODE = "520602001001"
SPOTS = {"B1": (109.001, 27.701), "B2": (109.004, 27.705), "B3": (109.008, 27.708)}


def _buildings(path: Path, columns: dict[str, list]) -> Path:
    """A 楼栋 GeoJSON with Chinese headers: 楼栋编号 and ``columns``."""
    squares = [box(x - 1e-4, y - 1e-4, x + 1e-4, y + 1e-4) for x, y in SPOTS.values()]
    frame = gpd.GeoDataFrame({"楼栋编号": list(SPOTS), **columns}, geometry=squares, crs=4326)
    frame.to_file(path, driver="GeoJSON")
    return path


def _table(path: Path, columns: dict[str, list]) -> Path:
    pd.DataFrame(columns).to_csv(path, index=False, encoding="gbk")
    return path


def _in_store(url: str, read: Callable[[Session], Any]) -> tuple[Any, DataKeys]:
    """What ``read`` finds in the store at ``url``, and the store's data keys."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return read(session), keys_of(engine)
    finally:
        engine.dispose()


def _rows(url: str, *columns) -> dict[str, tuple]:
    key = columns[0].class_.id
    rows, _ = _in_store(url, lambda s: s.execute(select(key, *columns).order_by(key)).all())
    return {r[0]: tuple(r[1:]) for r in rows}


def _update(url: str, entity: str, file: Path) -> tuple[int, int, int]:
    """Import ``file`` as ``entity`` with ``update=True``: (added, updated, unchanged)."""
    change = import_files({entity: file}, url=url, update=True).changes[entity]
    return change.added, change.updated, change.unchanged


def _first_import(url: str, tmp_path: Path) -> None:
    communities = tmp_path / "社区.geojson"
    gpd.GeoDataFrame({"社区代码": [CODE], "社区名称": ["示例社区"]},
                     geometry=[box(109.0, 27.7, 109.01, 27.71)],
                     crs=4326).to_file(communities, driver="GeoJSON")  # fmt: skip
    buildings = _buildings(tmp_path / "楼栋.geojson", {
        "户数": [40, 60, 80], "建筑类型": ["住宅", "商住", "住宅"], "层数": [6, 18, 11],
        "单元数": [2, 3, 2]})  # fmt: skip
    households = _table(tmp_path / "住户.csv", {
        "户号": ["H1", "H2", "H3"], "楼栋编号": ["B1", "B1", "B2"], "单元": ["1", "2", "1"],
        "楼层": ["3", "5", "12"], "房号": ["301", "502", "1201"], "人口数": [3, 2, 4]})  # fmt: skip
    staff = _table(tmp_path / "网格员.csv", {
        "人员编号": ["S1", "S2"], "姓名": ["王芳", "李强"], "职务": ["网格员", "网格员"],
        "联系电话": ["13800000001", "13800000002"], "负责网格": [f"{CODE}001", f"{CODE}002"],
        "社区代码": [CODE, CODE]})  # fmt: skip
    persons = _table(tmp_path / "人口.csv", {
        "人员编号": ["P1", "P2"], "户号": ["H1", "H1"], "与户主关系": ["户主", "配偶"],
        "联系电话": ["13900000001", "13900000002"]})  # fmt: skip
    import_files({"community": communities, "building": buildings, "household": households,
                  "person": persons, "staff": staff}, url=url)  # fmt: skip


def test_buildings_without_kind_floors_and_units_keep_them(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    counts = _buildings(tmp_path / "楼栋_7月.geojson", {"户数": [40, 66, 80],
                                                        "层数": [None, None, None]})  # fmt: skip
    assert _update(store_url, "building", counts) == (0, 1, 2)  # B2's count, nothing else
    stored = _rows(store_url, m.Building.households, m.Building.kind, m.Building.floors,
                   m.Building.units, m.Building.community_code)  # fmt: skip
    assert stored == {"B1": (40, "residential", 6, 2, CODE), "B2": (66, "mixed", 18, 3, CODE),
                      "B3": (80, "residential", 11, 2, CODE)}  # fmt: skip


def test_a_column_the_file_has_still_says_each_value_even_blank(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    kinds = _buildings(tmp_path / "楼栋_8月.geojson", {"建筑类型": ["住宅", None, "商业"]})
    assert _update(store_url, "building", kinds)[1] == 2
    stored = _rows(store_url, m.Building.kind, m.Building.households, m.Building.floors)
    assert stored == {"B1": ("residential", 40, 6), "B2": (None, 60, 18),
                      "B3": ("commercial", 80, 11)}  # fmt: skip


def test_households_without_unit_floor_room_and_size_keep_them(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    moved = _table(tmp_path / "住户_7月.csv", {"户号": ["H1", "H2", "H3"],
                                              "楼栋编号": ["B1", "B3", "B2"]})  # fmt: skip
    assert _update(store_url, "household", moved) == (0, 1, 2)
    stored = _rows(store_url, m.Household.building_id, m.Household.unit, m.Household.floor,
                   m.Household.room, m.Household.size)  # fmt: skip
    assert stored == {"H1": ("B1", "1", "3", "301", 3), "H2": ("B3", "2", "5", "502", 2),
                      "H3": ("B2", "1", "12", "1201", 4)}  # fmt: skip


def test_persons_without_phones_keep_them_and_their_search_hash(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    moved = _table(tmp_path / "人口_7月.csv", {"人员编号": ["P1", "P2"], "户号": ["H1", "H2"],
                                              "与户主关系": ["户主", "户主"]})  # fmt: skip
    assert _update(store_url, "person", moved) == (0, 1, 1)
    person = select(m.Person.id, m.Person.household_id, m.Person.phone, m.Person.phone_hash)
    rows, keys = _in_store(store_url, lambda s: s.execute(person).all())
    wanted = search_hash("13900000002", purpose="phone", keys=keys)
    stored = {r.id: (r.household_id, r.phone) for r in rows}
    assert stored == {"P1": ("H1", "13900000001"), "P2": ("H2", "13900000002")}
    assert {r.id: r.phone_hash for r in rows}["P2"] == wanted


def test_staff_without_phones_and_grids_keep_them(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    roles = _table(tmp_path / "网格员_7月.csv", {"人员编号": ["S1", "S2"], "姓名": ["王芳", "李强"],
                                                 "职务": ["网格员", "网格长"]})  # fmt: skip
    assert _update(store_url, "staff", roles) == (0, 1, 1)

    def read(session: Session) -> tuple[dict, set]:
        staff = {r.id: (r.role, r.phone, r.phone_hash) for r in session.scalars(select(m.Staff))}
        return staff, set(session.execute(select(m.StaffGrid.staff_id, m.StaffGrid.grid_code)))

    (staff, links), keys = _in_store(store_url, read)
    wanted = search_hash("13800000002", purpose="phone", keys=keys)
    assert staff["S2"] == ("grid_head", "13800000002", wanted)  # 网格长 now, the phone kept
    assert staff["S1"][:2] == ("grid_worker", "13800000001")
    assert links == {("S1", f"{CODE}001"), ("S2", f"{CODE}002")}


def test_streets_without_the_boundary_column_keep_their_flags(store_url, tmp_path):
    files = office_files(tmp_path / "files", {UNDER: "否", "S02": "false"})
    assert files.streets is not None
    with open_store(store_url) as store:
        store.import_files(files.sources())
        write_streets(files.streets, None)  # 道路编号 and 道路名称 only: says nothing of it
        again = store.import_files({"street": files.streets}, update=True)
    assert (again.changes["street"].updated, again.changes["street"].unchanged) == (0, 11)
    assert {s for s, ok in stored_flags(store_url).items() if not ok} == {UNDER, "S02"}
