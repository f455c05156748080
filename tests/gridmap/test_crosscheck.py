"""Cross-checks: streets through footprints, household counts explained by reported records."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely import LineString, Point, box

from gridmap.attach.crosscheck import buildings_crossing_streets, household_count_mismatches

GK = "EPSG:4545"
X0, Y0 = 500_000.0, 3_067_000.0


def _line(*xy: tuple[float, float]) -> LineString:
    return LineString([(X0 + x, Y0 + y) for x, y in xy])


def test_only_streets_through_a_footprint_interior_count():
    buildings = gpd.GeoDataFrame(
        {"building_id": ["B1", "B2", "B3", "B4"]},
        geometry=[box(X0, Y0, X0 + 20, Y0 + 20),  # crossed by S1 and S2
                  box(X0 + 40, Y0, X0 + 60, Y0 + 20),  # S1 runs along its edge only
                  Point(X0 + 10, Y0 + 50),  # a point on S3: not a footprint
                  None],
        crs=GK,
    ).to_crs(4326)  # fmt: skip
    streets = gpd.GeoDataFrame(
        {"street_id": ["S1", "S2", "S3"], "name": ["东太平街", None, "人民路"]},
        geometry=[_line((10, -10), (10, 30), (40, 30), (40, 0)), _line((-5, 5), (25, 5)),
                  _line((0, 50), (20, 50))],
        crs=GK,
    ).to_crs(4326)  # fmt: skip
    issues = buildings_crossing_streets(buildings, streets)
    assert [(i.record_id, i.reason, i.detail) for i in issues] == [
        ("B1", "crosses street", "footprint crossed by street S2, 东太平街")
    ]


def test_count_mismatch_is_silent_when_reported_households_explain_it():
    buildings = pd.DataFrame({"building_id": ["B1", "B2", "B3"], "households": [2, 1, 5]})
    households = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4", "H5", "H6"],
            "building_id": ["B1", "B1", "B1", "B2", "B3", None],
        }  # fmt: skip
    )
    given = buildings["households"]
    # H3 is already reported (e.g. attached to the nearest building): B1 says 2, has 2 + H3.
    issues = household_count_mismatches(given, buildings, households, reported={"H3", "H5"})
    assert [(i.record_id, i.detail) for i in issues] == [
        ("B3", "households says 5 but 1 household record(s) attached")  # H5 cannot explain 4
    ]
    issues = household_count_mismatches(given, buildings, households)
    assert [i.record_id for i in issues] == ["B1", "B3"]
