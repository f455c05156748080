"""GeoPackage layers of text, integer and real fields are read through GDAL's Arrow stream
(faster); the frame must be the one the row reader gives: dtypes, missing values, leading zeros,
geometries. Layers with other field types (dates …) keep the row reader."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import box

import gridmap.io.layers as layers
from gridmap.io.layers import read_layer


def _buildings(tmp_path, **extra):
    frame = gpd.GeoDataFrame(
        {"楼栋编号": ["001", "002", None, "004"], "户数": [12, 0, 7, 30],
         "层数": pd.array([6, None, 3, 18], dtype="Int64"), "面积": [1.5, np.nan, 3.0, 4.25],
         "名称": ["=1号楼", None, "３号楼", " 4号楼 "], **extra},
        geometry=[box(106.0, 27.0, 106.001, 27.001), box(106.002, 27.0, 106.003, 27.001),
                  box(106.004, 27.0, 106.005, 27.001), None],
        crs=4490,
    )  # fmt: skip
    path = tmp_path / "b.gpkg"
    frame.to_file(path, layer="楼栋", driver="GPKG")
    return path


def _read_both(path, monkeypatch):
    arrow = read_layer(path, "building", required=["building_id"], keep_extra=True)
    with monkeypatch.context() as m:
        m.setattr(layers, "_arrow_readable", lambda *_: False)
        rows = read_layer(path, "building", required=["building_id"], keep_extra=True)
    return arrow, rows


def test_a_layer_of_text_and_numbers_reads_the_same_through_arrow(tmp_path, monkeypatch):
    path = _buildings(tmp_path)
    assert layers._arrow_readable(path, "楼栋")
    arrow, rows = _read_both(path, monkeypatch)
    pd.testing.assert_frame_equal(arrow.drop(columns="geometry"), rows.drop(columns="geometry"))
    assert list(arrow.dtypes.astype(str)) == list(rows.dtypes.astype(str))
    assert (shapely.to_wkb(arrow.geometry.values) == shapely.to_wkb(rows.geometry.values)).all()
    assert arrow.crs == rows.crs and arrow["building_id"].tolist()[:2] == ["001", "002"]


@pytest.mark.parametrize(
    "extra",
    [{"核实": pd.to_datetime(["2020-01-01 08:00:00"] * 4)}, {"在用": [True, False, True, True]}],
    ids=["datetime", "bool"],
)  # fmt: skip
def test_other_field_types_keep_the_row_reader(tmp_path, extra):
    path = _buildings(tmp_path, **extra)
    assert not layers._arrow_readable(path, "楼栋")
