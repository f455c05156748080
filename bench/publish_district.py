"""Save a whole district's plans as drafts and publish them, on SpatiaLite and PostGIS.

Script, not a test (issue 14 §2: "publish a district's plans in under 5 s"). A generated
district (``geodata.make_district``; scale 1: 43 communities, 35,063 buildings, 398,508
households) is imported into a fresh store per backend (layers and households; no persons),
partitioned once, and then, ``--repeat`` times:

- ``save drafts``: :meth:`service.analyst.Store.save_drafts` of every community's plan (grids
  and building → grid links; one transaction per community);
- ``save again``: the same call as ``save drafts`` once more, which finds every draft already
  saved (a re-run after a failure) and writes nothing;
- ``publish``: :meth:`~service.analyst.Store.publish_many` of those drafts (one transaction
  for the district); from the second round on it supersedes the previous round's plans.

Each step prints wall seconds, the CPU seconds of this process (``getrusage``) and, on
PostGIS, of the database's server processes (``/proc``; the machine's other load hardly
changes CPU seconds, it changes wall seconds a lot).

Partitioning the full district costs 60-110 s of CPU and is not what is measured: the result
is kept in ``--plans`` (default ``bench/results/publish_district_plans_<scale>.pkl``, gitignored)
and reused by later runs of the same scale (``--fresh-plans`` partitions again).

    .venv/bin/python bench/publish_district.py [--scale 1] [--repeat 3] \
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/gridmap_publishbench]

``--smoke``: a 7-community district at scale 0.2 on SpatiaLite, one round, no files kept
(the test suite runs it).
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, func, select  # noqa: E402

from bench.serving import new_store_url, process_cpu, timed, write_results  # noqa: E402
from service.storage import models as m  # noqa: E402
from service.storage.session import session_scope  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/gridmap_publishbench"
SMOKE = {"columns": 3, "rows": 2, "scale": 0.2, "small": 1}


def district_files(district_kwargs: dict[str, Any], folder: Path) -> dict[str, Path]:
    """Write the generated district (no persons) to ``folder``; the import sources."""
    from geodata.make_district import make_district, write_district
    from service.district_demo import DISTRICT_LAYERS

    district = make_district(**district_kwargs)
    write_district(district, folder, persons=False)
    counts = district.summary()
    counts.pop("persons", None)
    print(f"district {district.code}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    sources = dict.fromkeys(DISTRICT_LAYERS, folder / "district.gpkg")
    return sources | {"household": folder / "households.csv"}


def fresh_store(backend: str, pg: str, tmp: Path, sources: dict[str, Path]) -> Engine:
    """A new store on ``backend`` with the district imported (layers and households)."""
    from service.district_demo import DISTRICT_LAYERS
    from service.importer import import_files
    from service.storage.migrate import upgrade_database
    from service.storage.session import make_engine

    engine = make_engine(new_store_url(backend, pg, tmp))
    upgrade_database(engine)
    t = time.perf_counter()
    import_files(sources, engine=engine, layers=DISTRICT_LAYERS, migrate=False)
    print(f"{backend}: imported in {time.perf_counter() - t:.1f} s (not measured)", flush=True)
    return engine


def district_plans(engine: Engine, cache: Path | None, key: dict[str, Any], jobs: int) -> Any:
    """The partition of every stored community: from ``cache`` when it was made for ``key``."""
    from service.analyst import Store

    if cache is not None and cache.exists():
        with cache.open("rb") as f:
            kept = pickle.load(f)  # our own file, written below
        if kept["key"] == key:
            print(f"plans from {cache}", flush=True)
            return kept["result"]
    t, cpu = time.perf_counter(), process_cpu()
    result = Store(engine).partition_many(n_jobs=jobs)
    print(f"partitioned in {time.perf_counter() - t:.0f} s wall (not measured; this process "
          f"{process_cpu() - cpu:.0f} s CPU, workers not counted)", flush=True)  # fmt: skip
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with cache.open("wb") as f:
            pickle.dump({"key": key, "result": result}, f)
    return result


def rounds(engine: Engine, plans: Any, repeat: int) -> list[dict[str, float]]:
    """``repeat`` rounds of save, save again, publish; seconds of each step per round."""
    from service.analyst import Store

    store = Store(engine)
    codes = sorted(set(plans.grids["community_code"].astype(str)))
    params = dict.fromkeys(codes, {"min_households": 300, "max_households": 500, "seed": 0})
    drafts = dict.fromkeys(codes, plans)
    out = []
    for i in range(repeat):
        save = partial(store.save_drafts, drafts, name=f"bench round {i + 1}", params=params)
        ids, saved = timed(engine, save)
        again_ids, again = timed(engine, save)
        _, published = timed(engine, partial(store.publish_many, ids.values()))
        row = {f"save drafts {k}": v for k, v in saved.items()}
        row["new plans on saving again"] = float(again_ids != ids)
        row |= {f"publish {k}": v for k, v in published.items()}
        row |= {f"save again {k}": v for k, v in again.items()}
        out.append(row)
        with session_scope(engine) as session:
            n_pub = session.scalar(select(func.count()).where(m.Plan.status == "published"))
            n_grids = session.scalar(
                select(func.count(m.Grid.id))
                .join(m.Plan, m.Plan.id == m.Grid.plan_id)
                .where(m.Plan.status == "published")
            )  # fmt: skip
            n_links = session.scalar(
                select(func.count())
                .select_from(m.GridBuilding)
                .where(m.GridBuilding.plan_id.in_(list(ids.values())))
            )  # fmt: skip
        assert n_pub == len(codes), (n_pub, len(codes))
        steps = ", ".join(f"{k} {row[f'{k} wall']:.2f} s wall / {row[f'{k} cpu']:.2f} s CPU"
                          for k in ("save drafts", "save again", "publish"))  # fmt: skip
        dup = "; SAVING AGAIN MADE NEW PLANS" if again_ids != ids else ""
        print(f"  round {i + 1}: {len(codes)} plans, {n_grids:,} grids published, "
              f"{n_links:,} building links; {steps}{dup}", flush=True)  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--backends", nargs="+", default=["spatialite", "postgis"])
    parser.add_argument("--jobs", type=int, default=2, help="partition processes")
    parser.add_argument("--plans", type=Path, help="partition cache (a pickle)")
    parser.add_argument("--fresh-plans", action="store_true", help="partition again")
    parser.add_argument("--smoke", action="store_true", help="tiny district, SpatiaLite, once")
    args = parser.parse_args()
    kwargs: dict[str, Any] = {"scale": args.scale}
    cache: Path | None = args.plans or ROOT / "bench/results" / (
        f"publish_district_plans_{args.scale:g}.pkl"
    )
    if args.smoke:
        kwargs, args.repeat, args.backends, cache = SMOKE, 1, ["spatialite"], None
    if args.fresh_plans and cache is not None:
        cache.unlink(missing_ok=True)
    os.environ.setdefault("GRIDMAP_DATA_KEY_FILE", str(Path(tempfile.gettempdir()) / "bench.key"))
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sources = district_files(kwargs, Path(tmp) / "district")
        plans = None
        for backend in args.backends:
            engine = fresh_store(backend, args.pg, Path(tmp), sources)
            try:
                if plans is None:
                    key = {**kwargs, "seed": 0}
                    plans = district_plans(engine, cache, key, args.jobs)
                print(f"{backend}:", flush=True)
                runs = rounds(engine, plans, args.repeat)
            finally:
                engine.dispose()
            results[backend] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print("\nmedian of the rounds (seconds):")
    print("| backend | step | wall | process CPU | server CPU |")
    print("| --- | --- | ---: | ---: | ---: |")
    for backend, row in results.items():
        for step in ("save drafts", "save again", "publish"):
            server = row[f"{step} server cpu"] if backend == "postgis" else float("nan")
            print(f"| {backend} | {step} | {row[f'{step} wall']:.2f} | "
                  f"{row[f'{step} cpu']:.2f} | {server:.2f} |")  # fmt: skip
    if not args.smoke:
        print(f"results: {write_results(f'publish_district_{args.scale:g}', results)}")


if __name__ == "__main__":
    main()
