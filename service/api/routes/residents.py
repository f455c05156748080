"""Residents and the grid archive (网格民情档案) for signed-in staff, masked by default.

Scope and masking are enforced by :mod:`service.storage.residents` (in SQL); these routes only
parse input and shape output. Full values: ``POST /residents/{id}/reveal`` with a reason, or a
CSV export with ``reveal=true`` — both need the ``reveal_personal`` permission and are audited.
"""

from __future__ import annotations

import csv
import io
from typing import Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from service.api.deps import SessionDep
from service.api.openapi_docs import CSV, media_responses
from service.api.responses import attachment
from service.api.security import StaffDep
from service.storage import residents as store
from service.storage.auth import list_audit

__all__ = ["router"]

router = APIRouter(tags=["Residents"])

_GRID = r"^\d{15}$"
_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
_ERRORS = {
    401: {"description": "Not signed in"},
    403: {"description": "Outside the user's scope or missing permission"},
    404: {"description": "No such grid or person"},
}
RevealField = Literal["name", "id_number", "phone", "birth_date", "tags"]


class Resident(BaseModel):
    """A resident as staff see it: masked name, ID number and phone; age band; public tags."""

    person_id: str
    household_id: str | None
    building_id: str | None
    grid_code: str
    unit: str | None
    floor: str | None
    room: str | None
    name: str | None
    id_number: str | None
    phone: str | None
    sex: str | None
    age_band: str | None
    relationship: str | None
    population_type: str | None
    tags: list[str]
    has_sensitive_tags: bool


class RevealedResident(Resident):
    """A resident with the revealed fields in full."""

    birth_date: str | None = None


class Residents(BaseModel):
    """A page of residents."""

    residents: list[Resident]
    numberMatched: int
    numberReturned: int


class Archive(BaseModel):
    """Counts of a grid's households and persons by population type, sex, age band and tag."""

    grid_code: str
    community_code: str
    households_planned: int
    buildings: int
    households: int
    persons: int
    by_population_type: dict[str, int]
    by_sex: dict[str, int]
    by_age_band: dict[str, int]
    by_tag: dict[str, int]
    sensitive_tag_persons: int


class RevealIn(BaseModel):
    """Why full values are needed (kept in the audit log) and which fields."""

    reason: str = Field(min_length=4, max_length=500)
    fields: list[RevealField] = Field(default=["name", "id_number", "phone"], min_length=1)


class AuditOut(BaseModel):
    """One audit record."""

    at: str
    username: str
    action: str
    record_type: str
    record_id: str
    fields: str | None
    reason: str


@router.get("/grids/{grid_code}/residents", response_model=Residents, responses=_ERRORS,
            summary="Residents of a grid (masked)")  # fmt: skip
def residents(
    session: SessionDep,
    principal: StaffDep,
    grid_code: str = Path(pattern=_GRID),
    name: str | None = Query(None, max_length=50, description="Start of the name"),
    id_number: str | None = Query(None, max_length=18, description="Exact ID number"),
    phone: str | None = Query(None, max_length=20, description="Exact phone number"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Residents:
    """Residents of a grid in the user's scope, masked; search by name, ID number or phone."""
    page = store.list_residents(
        session, principal, grid_code=grid_code, name=name, id_number=id_number, phone=phone,
        limit=limit, offset=offset,
    )  # fmt: skip
    return Residents(
        residents=[Resident(**r) for r in page.residents],
        numberMatched=page.number_matched,
        numberReturned=len(page.residents),
    )


@router.get("/grids/{grid_code}/archive", response_model=Archive, responses=_ERRORS,
            summary="Grid archive (网格民情档案)")  # fmt: skip
def archive(
    session: SessionDep, principal: StaffDep, grid_code: str = Path(pattern=_GRID)
) -> Archive:
    """Households and persons of a grid by population type, sex, age band and tag."""
    return Archive(**store.grid_archive(session, principal, grid_code=grid_code))


@router.post("/residents/{person_id}/reveal", response_model=RevealedResident,
             responses=_ERRORS, summary="Show full values (audited)")  # fmt: skip
def reveal(
    session: SessionDep, principal: StaffDep, body: RevealIn,
    person_id: str = Path(pattern=_ID),
) -> RevealedResident:  # fmt: skip
    """Full values of one resident; needs ``reveal_personal`` and a reason; writes an audit."""
    out = store.reveal_person(session, principal, person_id=person_id, reason=body.reason,
                              fields=tuple(dict.fromkeys(body.fields)))  # fmt: skip
    session.commit()
    if out.get("birth_date") is not None:
        out["birth_date"] = out["birth_date"].isoformat()
    return RevealedResident(**out)


@router.get("/grids/{grid_code}/residents.csv", responses={**_ERRORS, **media_responses(CSV)},
            summary="Export a grid's residents (masked unless revealed)")  # fmt: skip
def export(
    session: SessionDep,
    principal: StaffDep,
    grid_code: str = Path(pattern=_GRID),
    reveal: bool = Query(False, description="Full values (needs reveal_personal, audited)"),
    reason: str | None = Query(None, max_length=500, description="Why (required to reveal)"),
) -> Response:
    """CSV of the grid's residents: masked, or full values with ``reveal=true&reason=…``."""
    rows = store.export_residents(session, principal, grid_code=grid_code, reveal=reveal,
                                  reason=reason)  # fmt: skip
    session.commit()
    text = io.StringIO()
    columns = list(rows[0]) if rows else list(Resident.model_fields)
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ";".join(v) if isinstance(v, list) else v for k, v in row.items()})
    return Response(text.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers=attachment(f"residents-{grid_code}.csv"))  # fmt: skip


@router.get("/audit", response_model=list[AuditOut], responses=_ERRORS, summary="Audit log")
def audit(
    session: SessionDep,
    principal: StaffDep,
    record_id: str | None = Query(None, pattern=_ID),
    limit: int = Query(100, ge=1, le=1000),
) -> list[AuditOut]:
    """Newest audit records first (district admins only)."""
    if principal.role != "district_admin":
        raise HTTPException(403, detail="Only district admins may read the audit log.")
    return [AuditOut(**{**r, "at": r["at"].isoformat()})
            for r in list_audit(session=session, record_id=record_id, limit=limit)]  # fmt: skip
