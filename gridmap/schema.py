"""The canonical columns of each entity: one vocabulary for files, frames, the store and the API.

Readers map whatever headers a file has onto these names; everything downstream uses only them.
``PERSONAL_FIELDS`` lists the columns that are personal information and must never reach a
public output (maps, GeoJSON downloads, logs).
"""

from __future__ import annotations

from dataclasses import dataclass

from gridmap.errors import ErrorTexts, InputError

__all__ = [
    "COUNT_COLUMNS",
    "get_entity",
    "Entity",
    "ENTITIES",
    "COMMUNITY",
    "COMPOUND",
    "STREET",
    "BUILDING",
    "HOUSEHOLD",
    "PERSON",
    "STAFF",
    "GRID",
    "PERSONAL_FIELDS",
    "BUILDING_KINDS",
    "STAFF_ROLES",
    "POPULATION_TYPES",
    "SCHEMA_ERRORS",
]


@dataclass(frozen=True)
class Entity:
    """One kind of record: its name, id column, required and optional columns, geometry kind.

    ``required`` columns must be in every file of the entity. An id column that is not required
    (compounds, streets, persons) is generated when a file lacks it (:func:`gridmap.read_layer`);
    so is ``household_id`` of households and persons when the file has the address it is made
    of instead (building and room, :mod:`gridmap.io.addresses`). A person's address and point
    are read only to find the household of a roster without 户号 and are not stored.
    """

    name: str
    id_column: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    geometry: str | None = None  # "polygon", "line", "point-or-polygon" or None
    geometry_required: bool = False
    geometry_for_linking: bool = False
    """The geometry is read only to link the records (persons' 经度/纬度) and never stored; a
    file without any gives a plain DataFrame (:func:`gridmap.read_layer`)."""

    @property
    def columns(self) -> tuple[str, ...]:
        """All known columns, the id first, then the other required ones."""
        rest = tuple(c for c in self.required + self.optional if c != self.id_column)
        return (self.id_column, *rest)


COMMUNITY = Entity(
    "community",
    "community_code",
    required=("community_code", "name"),
    optional=("subdistrict", "code_year"),
    geometry="polygon",
    geometry_required=True,
)
COMPOUND = Entity(
    "compound",
    "compound_id",
    required=(),
    optional=("compound_id", "name", "community_code", "property_company"),
    geometry="polygon",
)
STREET = Entity(
    "street",
    "street_id",
    required=(),
    optional=("street_id", "name"),
    geometry="line",
    geometry_required=True,
)
BUILDING = Entity(
    "building",
    "building_id",
    required=("building_id",),
    optional=(
        "code",
        "address",
        "kind",
        "floors",
        "units",
        "households",
        "compound_id",
        "community_code",
        "name",
    ),
    geometry="point-or-polygon",
)
HOUSEHOLD = Entity(
    "household",
    "household_id",
    required=("household_id",),
    optional=("building_id", "address", "unit", "floor", "room", "head_person_id", "size"),
    geometry="point",
)
PERSON = Entity(
    "person",
    "person_id",
    required=("household_id",),
    optional=(
        "person_id",
        "name",
        "id_number",
        "phone",
        "sex",
        "birth_date",
        "relationship",
        "population_type",
        "tags",
        "building_id",  # the address, read only to find the household when 户号 is missing
        "unit",
        "floor",
        "room",
        "address",  # as text (现住址): read only to find the household, as the point is
    ),
    geometry="point",  # where the person lives (经度/纬度)
    geometry_for_linking=True,
)
STAFF = Entity(
    "staff",
    "staff_id",
    required=("staff_id", "name", "role"),
    optional=("phone", "grid_codes", "community_code"),
)
GRID = Entity(
    "grid",
    "grid_code",
    required=("grid_code", "community_code"),
    optional=("name", "households", "buildings", "persons", "status", "polsby_popper"),
    geometry="polygon",
    geometry_required=True,
)

ENTITIES: dict[str, Entity] = {
    e.name: e for e in (COMMUNITY, COMPOUND, STREET, BUILDING, HOUSEHOLD, PERSON, STAFF, GRID)
}

PERSONAL_FIELDS: frozenset[str] = frozenset(
    {"name", "id_number", "phone", "birth_date", "head_person_id", "tags", "relationship"}
)
"""Columns of households, persons and staff that are personal data (PIPL)."""

BUILDING_KINDS = ("residential", "commercial", "public", "mixed", "industrial", "other")
STAFF_ROLES = ("grid_worker", "grid_head", "party_leader", "liaison_head", "assistant")
POPULATION_TYPES = ("registered", "resident", "floating")

COUNT_COLUMNS = frozenset({"households", "floors", "units", "size", "persons", "buildings"})
"""Columns holding non-negative integer counts."""


SCHEMA_ERRORS = ErrorTexts({
    "unknown_entity": (InputError, lambda entity: (
        f"Unknown entity {entity!r}; choose one of {sorted(ENTITIES)}.",
        f"“{entity}”不是已知的记录类别；请用以下之一：{'、'.join(sorted(ENTITIES))}。")),
})  # fmt: skip
"""The errors of this module in English and Chinese (:class:`~gridmap.errors.ErrorTexts`)."""


def get_entity(entity: str | Entity) -> Entity:
    """Return the :class:`~gridmap.schema.Entity` named ``entity``."""
    if isinstance(entity, Entity):
        return entity
    try:
        return ENTITIES[entity]
    except KeyError:
        raise SCHEMA_ERRORS.error("unknown_entity", entity=entity) from None
