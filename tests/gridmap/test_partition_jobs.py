"""Planning communities in worker processes (gridmap.plans.jobs.run_jobs)."""

from __future__ import annotations

import gc
import multiprocessing
import pickle

import geopandas as gpd
import numpy as np
import shapely

from gridmap.plans.jobs import CommunityJob, run_jobs
from gridmap.plans.partition import partition


def _frozen_in_worker(_task: int) -> int:
    return gc.get_freeze_count()


def test_forked_workers_see_the_parents_objects_frozen_and_the_parent_is_unfrozen_after():
    before = gc.get_freeze_count()
    seen = run_jobs(_frozen_in_worker, [1, 2, 3, 4], ["a", "b", "c", "d"], 2, None)
    assert gc.get_freeze_count() == before
    if multiprocessing.get_start_method() == "fork":
        # the collector in a worker leaves the pages it shares with this process alone
        assert min(seen) > 0
    else:  # a fresh interpreter shares nothing to protect
        assert seen == [0, 0, 0, 0]


def test_two_processes_give_the_plan_of_one():
    comm = gpd.GeoDataFrame(
        {"community_code": ["520602001001", "520602001002"]},
        geometry=[shapely.box(0, 0, 200, 100), shapely.box(200, 0, 400, 100)],
        crs=4545,
    )
    xs = [20, 60, 100, 140, 180, 220, 260, 300, 340, 380]
    bld = gpd.GeoDataFrame(
        {"building_id": [f"b{i}" for i in range(10)], "households": [150, 90] * 5},
        geometry=shapely.points([(x, 50) for x in xs]),
        crs=4545,
    )
    before = gc.get_freeze_count()
    one = partition(comm, bld, n_jobs=1)
    two = partition(comm, bld, n_jobs=2)
    assert one.assignments.equals(two.assignments)
    assert one.grids.geometry.geom_equals_exact(two.grids.geometry, 0).all()
    assert gc.get_freeze_count() == before


def test_a_job_sent_to_a_worker_keeps_its_geometries_and_fields():
    footprints = np.array(
        [shapely.box(0, 0, 10, 10), shapely.Point(5, 5), None, shapely.Polygon()], dtype=object
    )
    job = CommunityJob(
        code="520602001001",
        boundary=shapely.box(0, 0, 100, 100),
        geoms=footprints,
        ids=np.array(["a", "b", "c", "d"], dtype=object),
        households=np.array([1, 2, 3, 4]),
        compound_ids=None,
        streets=np.array([shapely.LineString([(0, 50), (100, 50)])], dtype=object),
        compounds=np.empty(0, dtype=object),
        compound_polygon_ids=np.empty(0, dtype=object),
        lo=300,
        hi=500,
        seed=7,
    )
    sent = pickle.loads(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
    for name in ("geoms", "streets", "compounds"):
        got, want = getattr(sent, name), getattr(job, name)
        assert got.dtype == object and got.shape == want.shape
        assert shapely.to_wkb(got).tolist() == shapely.to_wkb(want).tolist()
    assert sent.geoms[2] is None and sent.compound_ids is None
    assert (sent.ids == job.ids).all() and sent.seed == 7 and sent.street_names is None
    assert job.geoms[0] is footprints[0]  # the job itself is left as it was
