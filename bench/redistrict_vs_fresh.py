"""Re-districting vs a fresh partition after a community changes (issue #5 benchmark).

A synthetic Tongren community of about 500 buildings (``bench/synth.py``) is partitioned;
then about 5 % of its households change: some buildings grow, one new building is added and
one is demolished. Both :func:`gridmap.plans.redistrict.redistrict` and a fresh
:func:`gridmap.plans.partition.partition` are run on the changed community and compared with the
original plan: the share of households that change grid (fresh grids are paired with the old
ones by shared households, since their codes are numbered anew) and the share of grids within
the bounds.

Run: ``.venv/bin/python bench/redistrict_vs_fresh.py [--seeds 0 1 2]`` (default seeds 0–9);
``--smoke``: one small community (seconds; the test suite runs it).
Target: re-districting keeps every grid in bounds and moves at most a fifth of the households
the fresh run moves.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).parent))

from synth import tongren_community

from gridmap.plans.compare import MATCH_CODE, MATCH_OVERLAP, compare_plans
from gridmap.plans.partition import partition
from gridmap.plans.redistrict import redistrict

CHANGE_SHARE = 0.05
GROWING = 10  # buildings that grow
MAX_BUILDING = 400  # growth stops here: a building above the 500 maximum is a grid of its own
NEW_BUILDING_HOUSEHOLDS = 120


def change_community(buildings: gpd.GeoDataFrame, community, rng: np.random.Generator):
    """About 5 % of households change: growth, one new building, one demolition."""
    b = buildings.copy()
    total = int(b["households"].sum())
    target = int(CHANGE_SHARE * total)
    residential = b.index[b["households"] > 20]
    demolish = rng.choice(residential)
    removed = int(b.at[demolish, "households"])
    b = b.drop(index=demolish)
    grow = rng.choice(b.index[b["households"] > 20], GROWING, replace=False)
    extra = max(0, target - removed - NEW_BUILDING_HOUSEHOLDS)
    room = (MAX_BUILDING - b.loc[grow, "households"]).clip(lower=0).to_numpy()
    added = np.minimum(np.round(rng.dirichlet(np.ones(GROWING)) * extra), room).astype(int)
    b.loc[grow, "households"] += added
    spot = _free_spot(b, community, rng)
    new = gpd.GeoDataFrame(
        {"building_id": ["NEW1"], "households": [NEW_BUILDING_HOUSEHOLDS], "kind": ["residential"]},
        geometry=[shapely.box(spot.x - 10, spot.y - 10, spot.x + 10, spot.y + 10)],
        crs=b.crs,
    )
    if "compound_id" in b.columns:
        new["compound_id"] = None
    changed = removed + NEW_BUILDING_HOUSEHOLDS + int(added.sum())
    return pd.concat([b, new], ignore_index=True), changed


def _free_spot(b, community, rng):
    area = community.geometry.iloc[0].buffer(-30)
    taken = shapely.union_all(b.geometry.buffer(25).values)
    free = area.difference(taken)
    for _ in range(1000):
        x0, y0, x1, y1 = free.bounds
        p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if free.contains(p):
            return p
    return free.representative_point()


SMOKE_BUILDINGS = 150


def run(seed: int, n_buildings: int = 500) -> dict:
    comm, bld, streets, compounds = tongren_community(seed, n_buildings=n_buildings)
    before = partition(comm, bld, streets=streets, compounds=compounds, seed=seed)
    rng = np.random.default_rng(1000 + seed)
    changed, n_changed = change_community(bld, comm, rng)
    t0, c0 = time.perf_counter(), time.process_time()
    red = redistrict(before.grids, changed, assignments=before.assignments, communities=comm,
                     streets=streets, compounds=compounds, seed=seed)  # fmt: skip
    t_red, c_red = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    fresh = partition(comm, changed, streets=streets, compounds=compounds, seed=seed + 1)
    t_fresh, c_fresh = time.perf_counter() - t0, time.process_time() - c0
    d_red = compare_plans(before, red, buildings=changed, match=MATCH_CODE)
    d_fresh = compare_plans(before, fresh, buildings=changed, match=MATCH_OVERLAP)
    return {
        "seed": seed,
        "buildings": len(changed),
        "households": int(changed["households"].sum()),
        "changed_hh": n_changed,
        "grids_before": len(before.grids),
        "broken_before": int(
            (d_red.grids["households_before"].notna()).sum() - _in_bounds(before, changed)
        ),
        "red_moved_share": round(d_red.share_moved, 4),
        "red_moved_hh": d_red.households_moved,
        "red_in_bounds": round(float((red.grids["status"] == "ok").mean()), 4),
        "red_grids_changed": len(red.changed_grids),
        "red_grids_added": len(red.grids) - len(before.grids),
        "red_compounds_split": _compounds_split(before, red, changed),
        "red_street_crossings": sum(p.kind == "street_crossed" for p in red.problems),
        "red_s": round(t_red, 2),
        "red_cpu_s": round(c_red, 2),
        "fresh_moved_share": round(d_fresh.share_moved, 4),
        "fresh_in_bounds": round(float((fresh.grids["status"] == "ok").mean()), 4),
        "fresh_s": round(t_fresh, 2),
        "fresh_cpu_s": round(c_fresh, 2),
        "fresh_compounds_split": _compounds_split(before, fresh, changed),
    }


def _compounds_split(before, after, buildings) -> int:
    """Compounds whose buildings were all in one grid before and are in several now."""
    compound = buildings.set_index("building_id")["compound_id"].dropna()
    grids = {}
    for name, plan in (("before", before), ("after", after)):
        a = plan.assignments.set_index("building_id")["grid_code"]
        grids[name] = a.reindex(compound.index).groupby(compound).nunique()
    return int(((grids["before"] == 1) & (grids["after"] > 1)).sum())


def _in_bounds(before, changed) -> int:
    hh = changed.set_index("building_id")["households"]
    a = before.assignments.assign(h=before.assignments["building_id"].map(hh).fillna(0))
    totals = a.groupby("grid_code")["h"].sum()
    return int(((totals >= 300) & (totals <= 500)).sum())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--smoke", action="store_true", help="one small community, seconds")
    args = parser.parse_args(argv)
    seeds = [0] if args.smoke else args.seeds
    rows = [run(s, n_buildings=SMOKE_BUILDINGS if args.smoke else 500) for s in seeds]
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.to_string(index=False))
    ratio = table["red_moved_share"].sum() / max(table["fresh_moved_share"].sum(), 1e-9)
    print(f"\nredistrict moves {ratio:.3f} of the households the fresh run moves "
          f"(target <= 0.2); redistrict grids in bounds: {table['red_in_bounds'].min():.3f} "
          "(target 1.0)")  # fmt: skip
    print(f"CPU seconds: redistrict {table['red_cpu_s'].sum():.1f}, fresh partition "
          f"{table['fresh_cpu_s'].sum():.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
