"""Community jobs on a Dask distributed cluster (issue 14 §3): the same plans as in this process.

One ``LocalCluster`` of two worker processes serves the module (tasks really are pickled and
sent to other processes). A worker that dies in the middle of a community is replaced and the
community is run again.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
import shapely
from distributed import Client, LocalCluster

from gridmap.constraints import household_bounds
from gridmap.plans.cluster import run_on_cluster
from gridmap.plans.jobs import prepare_jobs
from gridmap.plans.partition import _plan_community, partition
from gridmap.plans.redistrict import redistrict
from tests.gridmap.strategies import make_layers

CODES = ["520602001001", "520602001002", "520602001003"]


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as c:  # fmt: skip
        yield c


def _district():
    """Three communities side by side, each with a street across it and 24 buildings."""
    comms, blds, streets = [], [], []
    for i, code in enumerate(CODES):
        x0 = i * 500
        rows = [(x0 + x, y, 40 + (7 * x + 13 * y + 5 * i) % 60)
                for x in range(20, 400, 65) for y in (30, 80, 130, 170)]  # fmt: skip
        c, b, s = make_layers([(x0, 0, x0 + 400, 200)], rows,
                              streets=[(x0 + 200, -10, x0 + 200, 210)], code=code)  # fmt: skip
        b["building_id"] = [f"{code[-1]}-{j}" for j in range(len(b))]
        comms.append(c)
        blds.append(b)
        streets.append(s)
    return (pd.concat(comms, ignore_index=True), pd.concat(blds, ignore_index=True),
            pd.concat(streets, ignore_index=True))  # fmt: skip


def _same(a, b) -> None:
    assert a.assignments.equals(b.assignments)
    assert a.grids.drop(columns="geometry").equals(b.grids.drop(columns="geometry"))
    assert a.grids.geometry.to_wkb().tolist() == b.grids.geometry.to_wkb().tolist()
    assert [p.message for p in a.problems] == [p.message for p in b.problems]


def test_partition_on_the_cluster_equals_the_local_run(client):
    comm, bld, streets = _district()
    local = partition(comm, bld, streets=streets, seed=7)
    done = []
    dask = partition(comm, bld, streets=streets, seed=7, scheduler=client, progress=done.append)
    assert sorted(done) == CODES
    assert len(local.grids) >= 2 * len(CODES)
    _same(local, dask)


def test_layers_with_a_fixed_precision_model_plan_alike_on_the_cluster(client):
    """Pickling drops GEOS's precision model (coordinates stay) and overlays snap to a fixed
    one: planned from the same layers, this process and a worker must still agree (they
    differed in the last digits before every community was planned from its pickled copy)."""
    rows = [(20 + 61.37 * i + 3.1 * (j % 2), 25 + 47.13 * j, 40 + (7 * i + 13 * j) % 60)
            for i in range(6) for j in range(4)]  # fmt: skip
    comm, bld, streets = make_layers([(0, 0, 400, 200)], rows, footprints=True,
                                     streets=[(190.123, -10, 215.77, 210)])  # fmt: skip
    bld = bld.set_geometry(bld.geometry.rotate(7, origin="centroid"))
    comm, bld, streets = (f.set_geometry(shapely.set_precision(f.geometry.values, 0.001))
                          for f in (comm, bld, streets))  # fmt: skip
    assert (shapely.get_precision(bld.geometry.values) == 0.001).all()
    _same(partition(comm, bld, streets=streets, seed=1),
          partition(comm, bld, streets=streets, seed=1, scheduler=client))  # fmt: skip


def test_redistrict_on_the_cluster_equals_the_local_run(client):
    comm, bld, streets = _district()
    before = partition(comm, bld, streets=streets, seed=3)
    grown = bld.copy()
    grown.loc[grown["building_id"].isin(["1-0", "2-5", "3-9"]), "households"] += 150
    args = {"assignments": before.assignments, "communities": comm, "streets": streets, "seed": 3}
    local = redistrict(before.grids, grown, **args)
    dask = redistrict(before.grids, grown, **args, scheduler=client)
    assert local.households_moved > 0 and local.ok
    _same(local, dask)
    assert dask.moved.equals(local.moved)


def test_each_task_carries_one_community(client):
    comm, bld, streets = _district()
    jobs, *_ = prepare_jobs(comm, bld, streets, None, household_bounds(300, 500), seed=0)
    sizes = run_on_cluster(_job_size, jobs, [j.code for j in jobs], client)
    assert sizes == [(j.code, len(j.ids)) for j in jobs] == [(c, 24) for c in CODES]


def _job_size(job):
    """(community, buildings) of the job a worker received."""
    return job.code, len(job.ids)


def test_a_lost_worker_runs_its_community_again(client, tmp_path):
    comm, bld, streets = _district()
    jobs, *_ = prepare_jobs(comm, bld, streets, None, household_bounds(300, 500), seed=0)
    marker = tmp_path / "died"
    tasks = [(job, str(marker)) for job in jobs]
    plans = run_on_cluster(_die_once, tasks, [j.code for j in jobs], client)
    assert marker.exists()  # a worker process did die
    local = [_plan_community(job) for job in jobs]
    assert [p.codes for p in plans] == [p.codes for p in local]
    assert [p.building_grid.tolist() for p in plans] == [p.building_grid.tolist() for p in local]


def _die_once(task):
    """Plan the community, but kill the worker process the first time (a lost worker)."""
    job, marker = task
    if job.code == CODES[1] and not Path(marker).exists():
        Path(marker).touch()
        os._exit(1)
    return _plan_community(job)
