"""Import into a fresh store on each backend and time every stage; optionally publish plans.

Script, not a test: prints seconds per stage (reading each file, checking and attaching, writing)
per backend, the median of ``--repeat`` runs: wall seconds, and the CPU seconds this process used
(``cpu …`` lines; on PostGIS the server's CPU is not in them), with the load average before.
The write stage is :func:`service.storage.imports.import_bundle`; ID numbers and phones are
encrypted on the way (the data key comes from ``GRIDMAP_DATA_KEY_FILE``, a temporary key unless
set).

Without ``--district`` the Bijiang sample is imported. ``--district SCALE`` imports a generated
district (``geodata.make_district``; scale 1: ~400,000 households and ~1,000,000 persons),
written once to a temporary folder. ``--publish`` then partitions every community (``--jobs``
processes), saves the drafts and times saving and publishing them (one transaction each).

    .venv/bin/python bench/import_backends.py [--repeat 3] [--pg postgresql+psycopg://…/gridmap_importbench]
    .venv/bin/python bench/import_backends.py --district 1 --repeat 1 --publish
    .venv/bin/python bench/import_backends.py --district 1 --folder /tmp/d1 --profile /tmp/imp

``--folder`` keeps the written district there and reuses it on the next run (same scale);
``--profile PREFIX`` writes a cProfile (CPU seconds) of each import to ``PREFIX_<backend>.prof``.
On PostGIS the ``server cpu`` line is the CPU of the database's server processes (read from
``/proc`` before and after the import: the import's connections stay in the pool until it ends).

``--smoke`` imports the sample once into SpatiaLite and publishes its plans (the test suite runs
it; no results file is written).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_wrk import LAYERS, _sources  # noqa: E402
from bench.serving import new_store_url, process_cpu, timed  # noqa: E402
from service.importer import ImportResult, import_files  # noqa: E402
from service.storage.migrate import upgrade_database  # noqa: E402
from service.storage.session import make_engine  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/gridmap_importbench"
RESULTS = ROOT / "bench" / "results"


def district_sources(scale: float, folder: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Write a generated district (with persons) to ``folder`` (unless a district of this scale
    is already there); its sources and layers."""
    from service.district_demo import DISTRICT_LAYERS

    sources = dict.fromkeys(DISTRICT_LAYERS, folder / "district.gpkg")
    sources |= {"household": folder / "households.csv", "person": folder / "persons.csv",
                "staff": folder / "staff.csv"}  # fmt: skip
    written = folder / "scale.txt"
    if written.exists() and written.read_text() == str(scale):
        print(f"district of scale {scale} in {folder} (reused)", flush=True)
        return sources, DISTRICT_LAYERS
    from geodata.make_district import make_district, write_district

    district = make_district(scale=scale)
    write_district(district, folder, persons=True)
    written.write_text(str(scale))
    counts = ", ".join(f"{v:,} {k}" for k, v in district.summary().items())
    print(f"district {district.code}: {counts}", flush=True)
    return sources, DISTRICT_LAYERS


def run_once(
    url: str, sources: dict, layers: dict, publish: bool, jobs: int, profile: str | None = None
) -> dict[str, float]:
    """Import into the (fresh) store at ``url``; wall and CPU seconds per stage (and publishing),
    and on PostGIS the server processes' CPU. ``profile``: write a cProfile of the import there."""
    engine = make_engine(url)
    upgrade_database(engine)
    marks: list[tuple[str, float, float]] = []
    stages = {"load average (1 min) before": os.getloadavg()[0]}

    def step(name: str) -> None:
        marks.append((name, time.perf_counter(), process_cpu()))

    profiler = cProfile.Profile(time.process_time) if profile else None  # CPU, not wall

    def run_import() -> ImportResult:
        if profiler:
            profiler.enable()
        result = import_files(sources, engine=engine, layers=layers, migrate=False, step=step)
        step("end")  # where the last stage ends
        if profiler:
            profiler.disable()
        return result

    result, spent = timed(engine, run_import)
    if profiler and profile:
        profiler.dump_stats(profile)
    stages |= {"total": spent["wall"], "cpu total": spent["cpu"]}
    if engine.dialect.name == "postgresql":
        stages["server cpu total"] = spent["server cpu"]
    for (name, t0, c0), (_, t1, c1) in zip(marks, marks[1:], strict=False):
        stages[name] = stages.get(name, 0.0) + t1 - t0
        stages[f"cpu {name}"] = stages.get(f"cpu {name}", 0.0) + c1 - c0
    stages["rows"] = sum(result.counts.values())
    if publish:
        stages |= _publish(engine, jobs)
    engine.dispose()
    return stages


def _publish(engine, jobs: int) -> dict[str, float]:
    from service.analyst import Store

    store = Store(engine)
    t = time.perf_counter()
    plans = store.partition_many(n_jobs=jobs)
    out = {"partition (not the target)": time.perf_counter() - t}
    codes = sorted(set(plans.grids["community_code"].astype(str)))
    t = time.perf_counter()
    ids = store.save_drafts(dict.fromkeys(codes, plans))
    out["save drafts"] = time.perf_counter() - t
    t = time.perf_counter()
    store.publish_many(ids.values())
    out["publish"] = time.perf_counter() - t
    out["grids published"] = len(plans.grids)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--backends", nargs="+", default=["spatialite", "postgis"])
    parser.add_argument("--district", type=float, help="scale of a generated district")
    parser.add_argument("--publish", action="store_true", help="partition, save and publish")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--folder", type=Path, help="write the district there once and reuse it")
    parser.add_argument("--profile", help="cProfile each import to PROFILE_<backend>.prof")
    parser.add_argument(
        "--smoke", action="store_true", help="once, SpatiaLite, the sample, publishing; no file"
    )
    args = parser.parse_args()
    if args.smoke:
        args.repeat, args.backends, args.district, args.publish = 1, ["spatialite"], None, True
    os.environ.setdefault("GRIDMAP_DATA_KEY_FILE", str(Path(tempfile.gettempdir()) / "bench.key"))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.district:
            folder = args.folder or Path(tmp) / "district"
            folder.mkdir(parents=True, exist_ok=True)
            sources, layers = district_sources(args.district, folder)
        else:
            sources, layers = _sources(), LAYERS
        for backend in args.backends:
            runs = []
            for _ in range(args.repeat):
                url = new_store_url(backend, args.pg, tmp)
                profile = f"{args.profile}_{backend}.prof" if args.profile else None
                runs.append(run_once(url, sources, layers, args.publish, args.jobs, profile))
            results[backend] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{backend}:", flush=True)
            for stage, seconds in results[backend].items():
                print(f"  {stage:40s} {seconds:10.2f}", flush=True)
    if args.smoke:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"import_backends{'_district' if args.district else ''}.json"
    (RESULTS / name).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
