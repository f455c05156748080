"""N districts on a Dask LocalCluster: scaling of the community jobs with workers (issue #14 §3).

``geodata.make_district`` draws ``--districts`` synthetic districts side by side (about 40
communities and 1,000 grids each at ``--scale 1``); all their communities are partitioned in
one :func:`gridmap.plans.partition.partition` call, first in this process (the reference
plan), then with ``scheduler=`` on a ``LocalCluster`` of 1, 2, … worker processes (one thread
each). Every cluster run must give the reference plan (else it stops). Also shown: the largest
task a worker receives (one community's job, pickled) against the province's layers.

Run: ``.venv/bin/python -W ignore bench/dask_districts.py [--districts 10] [--scale 1.0]
[--workers 1 2] [--no-local] [--smoke]``. Wall seconds of the whole call (preparation in this
process included); the workers' CPU is not this process's, so wall time is the measure.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parents[1]))

from geodata.make_district import make_districts
from gridmap.constraints import household_bounds
from gridmap.plans.jobs import prepare_jobs
from gridmap.plans.partition import PartitionResult, partition


def province(n: int, scale: float) -> dict:
    """The layers of ``n`` districts in one frame each (EPSG:4545)."""
    parts: dict[str, list] = {"communities": [], "buildings": [], "streets": [], "compounds": []}
    for d in make_districts(n, scale=scale):
        parts["communities"].append(d.communities[["community_code", "geometry"]])
        parts["buildings"].append(
            d.buildings[["building_id", "households", "compound_id", "geometry"]]
        )
        parts["streets"].append(d.streets)
        parts["compounds"].append(d.compounds[["compound_id", "geometry"]])
    return {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}


def _fingerprint(result) -> tuple:
    a = result.assignments.sort_values("building_id")
    return (tuple(a["grid_code"]), tuple(result.grids.geometry.to_wkb()))


def _run(layers: dict, **kwargs) -> tuple[PartitionResult, float]:
    wall = time.perf_counter()
    out = partition(layers["communities"], layers["buildings"], streets=layers["streets"],
                    compounds=layers["compounds"], seed=0, **kwargs)  # fmt: skip
    return out, time.perf_counter() - wall


def task_sizes(layers: dict) -> tuple[int, int]:
    """Bytes of the largest pickled community job, and of the pickled province layers."""
    jobs, *_ = prepare_jobs(layers["communities"], layers["buildings"], layers["streets"],
                            layers["compounds"], household_bounds(300, 500), 0)  # fmt: skip
    largest = max(len(pickle.dumps(job)) for job in jobs)
    return largest, len(pickle.dumps(layers))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=10)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-local", action="store_true", help="skip the in-process run")
    parser.add_argument("--smoke", action="store_true", help="one small district, 1 worker")
    args = parser.parse_args(argv)
    if args.smoke:
        args.districts, args.scale, args.workers = 1, 0.15, [1]
    from distributed import Client, LocalCluster

    t = time.perf_counter()
    layers = province(args.districts, args.scale)
    n_comm = len(layers["communities"])
    print(f"{args.districts} districts, {n_comm} communities, {len(layers['buildings']):,} "
          f"buildings, {int(layers['buildings']['households'].sum()):,} households "
          f"(generated in {time.perf_counter() - t:.0f} s)", flush=True)  # fmt: skip
    largest, whole = task_sizes(layers)
    print(f"largest task sent to a worker: {largest / 1e6:.2f} MB (one community's job); "
          f"the province's layers: {whole / 1e6:.1f} MB", flush=True)  # fmt: skip
    rows, reference = [], None
    if not args.no_local:
        result, wall = _run(layers)
        reference = _fingerprint(result)
        rows.append({"run": "this process", "workers": 0, "grids": len(result.grids),
                     "wall_s": round(wall, 1)})  # fmt: skip
        print(rows[-1], flush=True)
    for w in args.workers:
        cluster = LocalCluster(
            n_workers=w, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
        )  # no nanny notices at close
        with cluster, Client(cluster) as client:
            result, wall = _run(layers, scheduler=client)
        fp = _fingerprint(result)
        if reference is not None and fp != reference:
            raise SystemExit(f"{w} worker(s): the plan differs from the reference plan")
        reference = reference or fp
        rows.append({"run": "LocalCluster", "workers": w, "grids": len(result.grids),
                     "wall_s": round(wall, 1)})  # fmt: skip
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    one = table.loc[table["workers"] == min(args.workers), "wall_s"].iloc[0]
    table["speed_up_vs_1_worker"] = (one / table["wall_s"]).round(2)
    print(table.to_string(index=False))
    print("every run gave the same plan (grids and assignment)")


if __name__ == "__main__":
    main()
