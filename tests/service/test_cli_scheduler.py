"""``--scheduler``: ``gridmap partition`` and ``gridmap plan partition`` on a Dask cluster.

A ``LocalCluster`` of two worker processes stands in for ``tcp://host:8786``; its address is
passed on the command line. The files written and the drafts stored equal those of a run
with local processes (``--jobs 1``), on both backends.
"""

from __future__ import annotations

import json

import pytest
from distributed import LocalCluster

from tests.service.test_cli_plan import (
    _sample_files,
    assert_drafts_are_the_files,
    import_sample,
    partition_sample_files,
    run,
)


@pytest.fixture(scope="module")
def scheduler():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:  # fmt: skip
        yield cluster.scheduler_address


@pytest.fixture
def sample(store_url: str) -> str:
    """A store (of the current backend) holding the Bijiang sample."""
    import_sample(store_url)
    return store_url


def test_partition_on_a_scheduler_writes_the_files_of_a_local_run(scheduler, tmp_path):
    files = _sample_files(tmp_path)
    local, dask = tmp_path / "local", tmp_path / "dask"
    run("partition", *files, "--seed", 3, "--jobs", 1, "--out", f"{local}.geojson",
        "--assignments", f"{local}.csv")  # fmt: skip
    printed = run("partition", *files, "--seed", 3, "--scheduler", scheduler, "--lang", "en",
                  "--out", f"{dask}.geojson", "--assignments", f"{dask}.csv")  # fmt: skip
    assert "grids written" in printed
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    features = [json.loads((tmp_path / f"{n}.geojson").read_text())["features"]
                for n in ("dask", "local")]  # fmt: skip
    assert len(features[0]) >= 13 and features[0] == features[1]  # every grid, every vertex


def test_plan_partition_on_a_scheduler_stores_the_plans_of_a_local_run(scheduler, sample, tmp_path):
    out, csv = partition_sample_files(tmp_path)
    run("plan", "partition", "--db", sample, "--seed", 3, "--scheduler", scheduler)
    assert_drafts_are_the_files(sample, out, csv)
