"""Build the district demo store: a whole generated district, imported, partitioned, published.

``build_district_demo(url)`` generates a Bijiang-scale district (:mod:`geodata.make_district`),
writes its files to a temporary folder and imports them as an office's files are imported,
partitions every community in one call (one process per core), saves each community's draft in
its own transaction, publishes them all in one and gives the grids staff. Persons are left out
unless asked for (a million rows, most of the import time).
``gridmap serve --demo --district`` calls it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from geodata.make_district import make_district, write_district
from service.analyst import Store
from service.demo import DemoSummary, assign_staff
from service.importer import import_files
from service.storage.migrate import upgrade_database
from service.storage.session import make_engine, session_scope

__all__ = ["DEMO_DISTRICT", "DISTRICT_LAYERS", "build_district_demo"]

DEMO_DISTRICT: dict[str, Any] = {}
"""Keyword arguments of :func:`geodata.make_district.make_district` for the demo (full size)."""

DISTRICT_LAYERS = {"community": "communities", "compound": "compounds", "street": "streets",
                   "building": "buildings"}  # fmt: skip
"""Entity → layer of the generated ``district.gpkg``."""

_ROSTERS = {"household": "households.csv", "staff": "staff.csv", "person": "persons.csv"}


def build_district_demo(
    url: str,
    *,
    seed: int = 0,
    persons: bool = False,
    jobs: int | None = None,
    district: Mapping[str, Any] | None = None,
    step: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Build the district demo into the (empty) store at ``url`` and return a summary.

    Parameters
    ----------
    seed
        Seed of the partition (the district itself is generated from its default seed).
    persons
        Also generate and import the district's persons (~1,000,000 at full size).
    jobs
        Processes for the partition (default: one per core).
    district
        Keyword arguments of :func:`geodata.make_district.make_district` (default
        :data:`DEMO_DISTRICT`; e.g. a smaller ``scale`` or lattice for tests).
    """
    engine = make_engine(url)
    summary = DemoSummary()
    try:
        upgrade_database(engine)
        _step(step, "generate the district")
        generated = make_district(**(DEMO_DISTRICT if district is None else district))
        with tempfile.TemporaryDirectory(prefix="gridmap-district-") as tmp:
            write_district(generated, Path(tmp), persons=persons)
            sources: dict[str, str | Path] = dict.fromkeys(
                DISTRICT_LAYERS, Path(tmp) / "district.gpkg"
            )
            sources |= {e: Path(tmp) / f for e, f in _ROSTERS.items() if e != "person" or persons}
            _step(step, f"import {generated.name} ({len(generated.households):,} households)")
            result = import_files(sources, engine=engine, layers=DISTRICT_LAYERS, migrate=False)
        summary.counts = dict(result.counts)
        summary.plans, summary.grids = _partition_and_publish(Store(engine), seed, jobs, step)
        _step(step, "assign staff to grids")
        with session_scope(engine) as session:
            summary.staff_links = assign_staff(session)
    finally:
        engine.dispose()
    return summary


def _partition_and_publish(
    store: Store, seed: int, jobs: int | None, step: Callable[[str], None] | None
) -> tuple[dict[str, int], int]:
    """Partition every stored community in one call; save each community's draft in its own
    transaction and publish them all in one."""
    total = len(store.communities())
    done: list[str] = []

    def progress(code: str) -> None:
        done.append(code)
        _step(step, f"partition: {len(done)} of {total} communities")

    _step(step, f"partition {total} communities")
    result = store.partition_many(n_jobs=jobs or os.cpu_count() or 1, progress=progress, seed=seed)
    planned = sorted(set(result.grids["community_code"].astype(str)))
    params = {"min_households": 300, "max_households": 500, "seed": seed}
    _step(step, f"publish {len(planned)} plans ({len(result.grids):,} grids)")
    ids = store.save_drafts(dict.fromkeys(planned, result), publish=True, name="demo partition",
                            params=dict.fromkeys(planned, params))  # fmt: skip
    return ids, len(result.grids)


def _step(step: Callable[[str], None] | None, text: str) -> None:
    if step is not None:
        step(text)
