"""Import the Bijiang sample into a fresh store on each backend and time the stages.

Script, not a test: prints seconds per stage (read, validate/attach, write) per backend, the
median of ``--repeat`` runs. The write stage is :func:`service.storage.imports.import_bundle`.

    .venv/bin/python bench/import_backends.py [--repeat 3] [--pg postgresql://…/gridmap_importbench]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from load_wrk import LAYERS, _fresh_postgis, _sources  # noqa: E402

from service.importer import import_files  # noqa: E402
from service.storage.migrate import upgrade_database  # noqa: E402
from service.storage.session import make_engine  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/gridmap_importbench"


def run_once(url: str) -> dict[str, float]:
    """Import the sample into the (fresh, migrated) store at ``url``; seconds per stage."""
    engine = make_engine(url)
    upgrade_database(engine)
    marks: list[tuple[str, float]] = []
    start = time.perf_counter()
    import_files(_sources(), engine=engine, layers=LAYERS, migrate=False,
                 step=lambda s: marks.append((s, time.perf_counter())))  # fmt: skip
    end = time.perf_counter()
    engine.dispose()
    write_start = next(t for s, t in marks if s == "write to the store")
    return {"total": end - start, "write": end - write_start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=DEFAULT_PG)
    args = parser.parse_args()
    for backend in ("spatialite", "postgis"):
        runs = []
        for _ in range(args.repeat):
            if backend == "postgis":
                _fresh_postgis(args.pg)
                url = args.pg
            else:
                url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
            runs.append(run_once(url))
        total = statistics.median(r["total"] for r in runs)
        write = statistics.median(r["write"] for r in runs)
        print(f"{backend:10s} import total {total:6.2f} s   write (import_bundle) {write:6.2f} s")


if __name__ == "__main__":
    main()
