"""Footprints drawn twice are found the same in lon/lat as in metres: the lon/lat layer is
searched first and only possible copies are projected, so copies just over and just under
:data:`DUPLICATE_FOOTPRINT_OVERLAP` must come out as they do in a metric CRS."""

from __future__ import annotations

import geopandas as gpd
from shapely import box

from gridmap.attach.validate import DUPLICATE_FOOTPRINT_OVERLAP, drop_duplicate_footprints


def test_copies_near_the_threshold_are_decided_alike_in_lonlat_and_in_metres():
    x, y, w = 500_000.0, 3_067_000.0, 20.0  # Tongren, EPSG:4545
    ids, shapes = [], []
    for k, iou in enumerate((0.85, 0.899, 0.901, 0.95, 1.0)):
        shift = w * (1 - iou) / (1 + iou)  # a copy shifted along x: this intersection over union
        left = x + 100 * k
        ids += [f"B{k}", f"B{k}-copy"]
        shapes += [box(left, y, left + w, y + 10), box(left + shift, y, left + shift + w, y + 10)]
    metric = gpd.GeoDataFrame({"building_id": ids, "households": 10}, geometry=shapes, crs=4545)
    lonlat = metric.to_crs(4326)
    kept_m, issues_m = drop_duplicate_footprints(metric)
    kept_l, issues_l = drop_duplicate_footprints(lonlat)
    assert DUPLICATE_FOOTPRINT_OVERLAP == 0.9
    assert [i.record_id for i in issues_m] == ["B2-copy", "B3-copy", "B4-copy"]
    assert [i.record_id for i in issues_l] == [i.record_id for i in issues_m]
    assert [i.message("en") for i in issues_l] == [i.message("en") for i in issues_m]
    assert kept_l.index.equals(kept_m.index)
