"""Residents and the grid archive (网格民情档案) for signed-in staff, masked by default.

Scope and masking are enforced by :mod:`service.storage.residents` (in SQL); these routes only
parse input and shape output. Full values: ``POST /residents/{id}/reveal`` with a reason, or
``POST /grids/{g}/residents.csv`` with a reason — both need the ``reveal_personal`` permission
and are audited.

Personal values travel only in request bodies, never in URLs (which end up in access logs and
browser histories): searches are ``POST /grids/{g}/residents/search``; the old query parameters
(``name``, ``id_number``, ``phone``, ``reveal``, ``reason``) are refused with 400. Searching by
ID number or phone needs ``reveal_personal`` and a reason and is audited; every search counts
against the user's rate (:data:`~service.api.limits.SEARCHES_PER_MINUTE`, 429 beyond).
"""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gridmap.spreadsheet import safe_row
from service.api.deps import SessionDep
from service.api.openapi_docs import CSV, media_responses
from service.api.responses import attachment
from service.api.security import StaffDep
from service.storage import residents as store

__all__ = ["router"]

router = APIRouter(tags=["Residents"])

_GRID = r"^\d{15}$"
_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Personal values in the URL (send them in the body)"},
    401: {"description": "Not signed in"},
    403: {"description": "Outside the user's scope or missing permission"},
    404: {"description": "No such grid or person"},
}
_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many searches; retry after Retry-After seconds"}
}
_URL_PERSONAL = ("name", "id_number", "phone", "reason", "reveal")
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


class SearchIn(BaseModel):
    """A resident search: name prefix, or exact ID number or phone (with a reason)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=50, description="Start of the name")
    id_number: str | None = Field(
        None, min_length=1, max_length=18, description="Exact ID number (needs reveal_personal)"
    )
    phone: str | None = Field(
        None, min_length=1, max_length=20, description="Exact phone number (needs reveal_personal)"
    )
    reason: str | None = Field(
        None, max_length=500, description="Why (required with id_number or phone; audited)"
    )
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)  # fmt: skip

    @model_validator(mode="after")
    def _something_to_search(self) -> SearchIn:
        if not (self.name or self.id_number or self.phone):
            raise ValueError("Give name, id_number or phone to search.")
        return self


class ExportIn(BaseModel):
    """Why a full-value export is needed (kept in the audit log)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=4, max_length=500)


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


def _refuse_personal_query(request: Request, grid_code: str) -> None:
    """400 if personal values (or a reveal reason) came in the query string."""
    given = sorted(k for k in _URL_PERSONAL if k in request.query_params)
    if given:
        raise HTTPException(400, detail=(
            f"Query parameters {', '.join(given)} are not accepted: personal values never go in "
            f"URLs. Search with POST /grids/{grid_code}/residents/search, export full values "
            f"with POST /grids/{grid_code}/residents.csv, both with a JSON body."))  # fmt: skip


def _search_quota(request: Request, principal: StaffDep) -> None:
    """429 with Retry-After once the user has used up their searches of the window."""
    wait = request.app.state.search_limiter.hit(principal.username)
    if wait is not None:
        detail = f"Too many resident searches by {principal.username!r}; retry in {wait} s."
        raise HTTPException(429, detail=detail, headers={"Retry-After": str(wait)})


def _page(page: store.ResidentPage) -> Residents:
    return Residents(residents=[Resident(**r) for r in page.residents],
                     numberMatched=page.number_matched,
                     numberReturned=len(page.residents))  # fmt: skip


@router.get("/grids/{grid_code}/residents", response_model=Residents, responses=_ERRORS,
            summary="Residents of a grid (masked)")  # fmt: skip
def residents(
    request: Request,
    session: SessionDep,
    principal: StaffDep,
    grid_code: str = Path(pattern=_GRID),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Residents:
    """Residents of a grid in the user's scope, masked, paged. To search, POST …/search."""
    _refuse_personal_query(request, grid_code)
    return _page(store.list_residents(session, principal, grid_code=grid_code, limit=limit,
                                      offset=offset))  # fmt: skip


@router.post("/grids/{grid_code}/residents/search", response_model=Residents,
             responses={**_ERRORS, **_LIMITED}, dependencies=[Depends(_search_quota)],
             summary="Search a grid's residents (masked; rate-limited)")  # fmt: skip
def search(
    session: SessionDep, principal: StaffDep, body: SearchIn, grid_code: str = Path(pattern=_GRID)
) -> Residents:
    """Residents matching a name prefix, or an exact ID number or phone (needs
    ``reveal_personal`` and a reason; audited like a reveal). Results stay masked."""
    search = store.ResidentSearch(body.name, body.id_number, body.phone, body.reason)
    page = store.list_residents(session, principal, grid_code=grid_code, search=search,
                                limit=body.limit, offset=body.offset)  # fmt: skip
    session.commit()
    return _page(page)


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


def _csv(rows: list[dict], grid_code: str) -> Response:
    text = io.StringIO()
    columns = list(rows[0]) if rows else list(Resident.model_fields)
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(safe_row({k: ";".join(v) if isinstance(v, list) else v
                                  for k, v in row.items()}))  # fmt: skip
    return Response(text.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers=attachment(f"residents-{grid_code}.csv"))  # fmt: skip


@router.get("/grids/{grid_code}/residents.csv", responses={**_ERRORS, **media_responses(CSV)},
            summary="Export a grid's residents (masked)")  # fmt: skip
def export(
    request: Request, session: SessionDep, principal: StaffDep, grid_code: str = Path(pattern=_GRID)
) -> Response:
    """CSV of the grid's residents, masked. Full values: POST with a reason."""
    _refuse_personal_query(request, grid_code)
    return _csv(store.export_residents(session, principal, grid_code=grid_code), grid_code)


@router.post("/grids/{grid_code}/residents.csv", responses={**_ERRORS, **media_responses(CSV)},
             summary="Export a grid's residents with full values (audited)")  # fmt: skip
def export_revealed(
    session: SessionDep, principal: StaffDep, body: ExportIn, grid_code: str = Path(pattern=_GRID)
) -> Response:
    """CSV with full values; needs ``reveal_personal`` and a reason; writes an audit record."""
    rows = store.export_residents(session, principal, grid_code=grid_code, reveal=True,
                                  reason=body.reason)  # fmt: skip
    session.commit()
    return _csv(rows, grid_code)


@router.get("/audit", response_model=list[AuditOut], responses=_ERRORS, summary="Audit log")
def audit(
    session: SessionDep,
    principal: StaffDep,
    record_id: str | None = Query(None, pattern=_ID),
    limit: int = Query(100, ge=1, le=1000),
) -> list[AuditOut]:
    """Newest audit records first (district admins only, rows of their district)."""
    rows = store.list_scoped_audit(session, principal, record_id=record_id, limit=limit)
    return [AuditOut(**{**r, "at": r["at"].isoformat()}) for r in rows]
