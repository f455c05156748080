"""redistrict() on real OpenStreetMap footprints (Bubeneč, Prague, bundled with momepy)."""

from __future__ import annotations

import numpy as np
import pytest

from gridmap.plans.compare import MATCH_OVERLAP, compare_plans
from gridmap.plans.partition import partition
from gridmap.plans.redistrict import redistrict

pytest.importorskip("momepy")

CODE = "110105001001"


@pytest.fixture(scope="module")
def bubenec():
    from geodata.real import load_real

    data = load_real("bubenec")
    community = data["communities"].assign(community_code=CODE)
    buildings = data["buildings"].assign(community_code=CODE)
    before = partition(community, buildings, streets=data["streets"], seed=0)
    changed = buildings.copy()
    rng = np.random.default_rng(4)
    residential = changed.index[changed["households"] > 20]
    grow = rng.choice(residential, 8, replace=False)
    changed.loc[grow, "households"] += rng.integers(20, 120, len(grow))
    return community, changed, data["streets"], before


@pytest.mark.slow
def test_real_community_is_repaired_the_same_way_on_every_run(bubenec):
    community, changed, streets, before = bubenec
    runs = [
        redistrict(before, changed, communities=community, streets=streets, seed=0)
        for _ in range(2)
    ]
    assert runs[0].assignments.equals(runs[1].assignments)
    assert runs[0].grids.drop(columns="geometry").equals(runs[1].grids.drop(columns="geometry"))
    first = runs[0]
    in_bounds = first.grids["status"] == "ok"
    flagged = first.grids[~in_bounds]
    assert (flagged["status"] == "over_max").all()  # only lone buildings above the maximum
    # Far fewer households change grid than with a fresh plan of the changed community.
    fresh = partition(community, changed, streets=streets, seed=1)
    moved_fresh = compare_plans(before, fresh, buildings=changed, match=MATCH_OVERLAP)
    assert 0 < first.households_moved < 0.5 * moved_fresh.households_moved
