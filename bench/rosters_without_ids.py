"""`gridmap import` of a whole district from rosters without 户号 against the same with ids.

Script, not a test. The generated district (``geodata.make_district``; scale 1: ~400,000
households, ~1,000,000 persons) is written once to ``--folder`` (as ``import_backends.py
--district`` writes it: ``district.gpkg``, ``households.csv``, ``persons.csv``, ``staff.csv``,
with 户号), then the same rosters as an office without household numbers keeps them:

* ``households_noid.csv`` (and ``.xlsx`` with ``--formats csv xlsx``): no 户号 column; the
  address columns 楼栋编号/单元/楼层/房号/地址; ``--share`` of the households (every tenth by
  default, chosen with ``--seed``) without 楼栋编号 but with 经度/纬度 (a point inside their
  building), half of them with the 地址 blanked too, so the import places them by address or by
  location and then gives them their id;
* ``persons_noid.csv``: no 户号 column, the household's 楼栋编号/单元/楼层/房号 instead (an
  office's population roster names the building of everyone).

Each roster set is imported by ``gridmap import`` (a new process, a new store per backend and
set); the script prints its CPU seconds (user + system of the command, from ``wait4``), its
peak RSS (MB), wall seconds and the load average before, the rows stored and the persons left
without a household. On PostGIS ``server cpu`` is the CPU of the database's server processes,
sampled every 0.2 s while the command runs (a connection's last sample once it has closed).

    PYTHONPATH=. .venv/bin/python bench/rosters_without_ids.py --scale 1 --folder /tmp/d1 \\
        [--formats csv xlsx] [--backends spatialite postgis] [--pg postgresql+psycopg://…/db] \\
        [--profile DIR]

``--profile DIR`` runs each import under cProfile (CPU clock) and writes
``DIR/<backend>_<set>.prof``. ``--smoke`` writes a district of scale 0.15 and imports both
sets once into SpatiaLite (the test suite runs it; no results file is written).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import serving  # noqa: E402
from bench.import_backends import district_sources  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/gridmap_rosterbench"
_ADDRESS = ["楼栋编号", "单元", "楼层", "房号"]
_PROFILED = """
import cProfile, sys, time
from service.cli import main
sys.argv = ["gridmap", *sys.argv[2:]]
profiler = cProfile.Profile(time.process_time)
try:
    code = profiler.runcall(main)
finally:
    profiler.dump_stats(OUT)
sys.exit(code)
"""
"""``gridmap`` under cProfile (CPU clock), writing to ``OUT``."""


def write_rosters_without_ids(
    folder: Path, share: float, seed: int, formats: list[str]
) -> dict[str, Path]:
    """Write the households (one file per format) and persons of ``folder`` without 户号;
    format → households file, and ``"persons"`` → the persons file."""
    out = {fmt: folder / f"households_noid.{fmt}" for fmt in formats}
    out["persons"] = folder / "persons_noid.csv"
    marker = folder / "noid.txt"  # the district written (its scale), share and seed
    written = f"{(folder / 'scale.txt').read_text()} {share} {seed}"
    if marker.exists() and marker.read_text() == written and all(p.exists() for p in out.values()):
        print(f"rosters without 户号 in {folder} (reused)", flush=True)
        return out
    rng = np.random.default_rng(seed)
    households = pd.read_csv(folder / "households.csv", dtype=str, encoding="utf-8-sig")
    address = households.set_index("户号")[_ADDRESS]
    points = _points_in_buildings(folder, households["楼栋编号"])
    moved = rng.random(len(households)) < share
    households["经度"] = np.where(moved, points.x.round(7).astype(str), None)
    households["纬度"] = np.where(moved, points.y.round(7).astype(str), None)
    households.loc[moved, "楼栋编号"] = None
    no_address = moved & (rng.random(len(households)) < 0.5)
    households.loc[no_address, "地址"] = None
    households = households.drop(columns="户号")
    for fmt in formats:
        if fmt == "csv":
            households.to_csv(out[fmt], index=False, encoding="utf-8-sig")
        else:
            households.to_excel(out[fmt], index=False, sheet_name="住户")
    # Arrow strings: a million persons as Python objects would keep this process at ~2 GB
    persons = pd.read_csv(folder / "persons.csv", dtype=str, encoding="utf-8-sig",
                          engine="pyarrow", dtype_backend="pyarrow")  # fmt: skip
    persons = persons.join(address.astype("string[pyarrow]"), on="户号").drop(columns="户号")
    persons.to_csv(out["persons"], index=False, encoding="utf-8-sig")
    marker.write_text(written)
    print(f"{len(households):,} households ({int(moved.sum()):,} without 楼栋编号, "
          f"{int(no_address.sum()):,} of them without 地址), {len(persons):,} persons "
          f"without 户号", flush=True)  # fmt: skip
    return out


def _points_in_buildings(folder: Path, building_ids: pd.Series):
    """A point inside each household's building (EPSG:4490, the file's CRS)."""
    import pyogrio

    buildings = pyogrio.read_dataframe(folder / "district.gpkg", layer="buildings",
                                       columns=["building_id"])  # fmt: skip
    inside = buildings.set_index("building_id").geometry.representative_point()
    return inside.reindex(building_ids.to_numpy()).reset_index(drop=True)


def import_command(url: str, sources: dict[str, Path], layers: dict[str, str]) -> list[str]:
    """The ``gridmap import`` arguments for ``sources`` (entity → file) into ``url``."""
    from gridmap.io.layers import plural

    args = ["import", "--db", url, "--lang", "en"]
    for entity, path in sources.items():
        args += [f"--{plural(entity)}", str(path)]
    for entity, layer in layers.items():
        args += ["--layer", f"{entity}={layer}"]
    return args


def run_import(args: list[str], url: str, profile: Path | None) -> dict[str, float]:
    """Run ``gridmap <args>``: CPU (user + system), peak RSS, wall, and on PostGIS the server's
    CPU while it ran."""
    if profile:
        cmd = [sys.executable, "-c", _PROFILED.replace("OUT", repr(str(profile))), "-",
               *args]  # fmt: skip
    else:
        cmd = [str(Path(sys.executable).with_name("gridmap")), *args]
    engine = _watch_engine(url)
    load = serving.load_average()
    t = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(cmd, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
        server: dict[int, tuple[int, int]] = {}  # pid → (first, last) ticks seen
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if engine is not None:
                for spid, ticks in serving.cpu_ticks(
                    serving.database_pids(engine, own=False)
                ).items():
                    server[spid] = (server.get(spid, (ticks, 0))[0], ticks)
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        printed = output.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"gridmap import failed ({proc.returncode}):\n{printed[-3000:]}")
    out = {"cpu s": usage.ru_utime + usage.ru_stime, "peak rss MB": usage.ru_maxrss / 1024,
           "wall s": time.perf_counter() - t, "load before": load}  # fmt: skip
    if engine is not None:
        out["server cpu s"] = (
            sum(last - first for first, last in server.values()) / serving.CLOCK_TICKS
        )
        engine.dispose()
    return out


def _watch_engine(url: str):
    if not url.startswith("postgresql"):
        return None
    from service.storage.session import make_engine

    return make_engine(url)


def stored_counts(url: str) -> dict[str, float]:
    """Households and persons stored, and persons without a household."""
    from sqlalchemy import text

    from service.storage.session import make_engine

    engine = make_engine(url)
    queries = {"households": "SELECT count(*) FROM household",
               "persons": "SELECT count(*) FROM person",
               "persons without household":
                   "SELECT count(*) FROM person WHERE household_id IS NULL"}  # fmt: skip
    with engine.connect() as conn:
        counts = {k: float(conn.execute(text(q)).scalar_one()) for k, q in queries.items()}
    engine.dispose()
    return counts


def _check_same_rows(results: dict[str, dict[str, float]]) -> None:
    """Every roster set stored as many households and persons as the set with ids, each person
    in a household (else the run fails, naming the set)."""
    rows = ("households", "persons", "persons without household")
    for backend in {name.split(",")[0] for name in results}:
        expected = [results[f"{backend}, with ids"][k] for k in rows]
        for name, got in results.items():
            if name.startswith(f"{backend},") and [got[k] for k in rows] != expected:
                raise SystemExit(f"{name}: stored {[got[k] for k in rows]}, with ids {expected}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--folder", type=Path, help="write the district there once and reuse it")
    parser.add_argument("--share", type=float, default=0.1, help="households without 楼栋编号")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--formats", nargs="+", default=["csv"], choices=["csv", "xlsx"])
    parser.add_argument("--backends", nargs="+", default=["spatialite"])
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--profile", type=Path, help="cProfile each import into this folder")
    parser.add_argument("--smoke", action="store_true", help="scale 0.15, SpatiaLite, no file")
    args = parser.parse_args()
    if args.smoke:
        args.scale, args.backends, args.formats = 0.15, ["spatialite"], ["csv", "xlsx"]
    os.environ.setdefault("GRIDMAP_DATA_KEY_FILE", str(Path(tempfile.gettempdir()) / "bench.key"))
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp) / "district"
        folder.mkdir(parents=True, exist_ok=True)
        sources, layers = district_sources(args.scale, folder)
        without = write_rosters_without_ids(folder, args.share, args.seed, args.formats)
        sets = {"with ids": sources} | {
            f"without ids ({fmt})": sources | {"household": without[fmt],
                                               "person": without["persons"]}
            for fmt in args.formats
        }  # fmt: skip
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
        for backend in args.backends:
            for name, files in sets.items():
                url = serving.new_store_url(backend, args.pg, tmp)
                profile = None
                if args.profile:
                    stem = re.sub(r"\W+", "_", f"{backend} {name}").strip("_")
                    profile = args.profile / f"{stem}.prof"
                run = run_import(import_command(url, files, layers), url, profile)
                results[f"{backend}, {name}"] = run | stored_counts(url)
                print(f"{backend}, {name}:", flush=True)
                for key, value in results[f"{backend}, {name}"].items():
                    print(f"  {key:30s} {value:12,.2f}", flush=True)
    _check_same_rows(results)
    if not args.smoke:
        serving.write_results(f"rosters_without_ids_{args.scale:g}", results)


if __name__ == "__main__":
    main()
