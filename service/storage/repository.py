"""Write side of the store and the loads the library and notebooks need, in one namespace.

The functions live in modules by concept; this module re-exports them so that
``from service.storage.repository import …`` and ``repository.save_plan(...)`` keep working:

- :mod:`service.storage.imports`: :func:`import_bundle` (one transaction), :class:`ImportBundle`,
  :class:`ImportSummary`.
- :mod:`service.storage.plans`: :func:`save_plan`, :func:`publish_plan`, :func:`load_plan`,
  :func:`list_plans`, :func:`number_grids`.
- :mod:`service.storage.loads`: :func:`load_community`, :func:`list_communities`,
  :func:`load_buildings`, :func:`load_assignment`, :func:`table_counts`, :class:`NotFoundError`.

Every function is keyword-only and takes an open :class:`~sqlalchemy.orm.Session`; frames go
out as GeoDataFrames in EPSG:4326. No function logs or returns personal values.
"""

from __future__ import annotations

from service.storage.imports import ImportBundle, ImportSummary, ProgressCallback, import_bundle
from service.storage.loads import (
    NotFoundError,
    list_communities,
    load_assignment,
    load_buildings,
    load_community,
    load_compounds,
    load_streets,
    table_counts,
)
from service.storage.plans import list_plans, load_plan, number_grids, publish_plan, save_plan

__all__ = [
    "ImportBundle",
    "ImportSummary",
    "ProgressCallback",
    "NotFoundError",
    "import_bundle",
    "save_plan",
    "publish_plan",
    "load_plan",
    "list_plans",
    "load_assignment",
    "load_streets",
    "load_compounds",
    "load_community",
    "list_communities",
    "load_buildings",
    "table_counts",
    "number_grids",
]
