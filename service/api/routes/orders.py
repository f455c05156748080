"""Work orders (事项): submit, follow by receipt code, handle (scoped staff), statistics.

Anyone submits (``POST /orders``) and gets a receipt code, shown once, to follow the order
(``GET /orders/receipt/{code}``) and rate it once closed. Staff see and move the orders of their
scope (grid worker: their grids; community admin: their community; district admin: their
district). Scope and the rules of the flow are enforced by :mod:`service.storage.orders`; these
routes parse input and shape output. An illegal move is 409 with the current and allowed states,
a move the role may not make (or out of scope) 403.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gridmap.orders import (
    STATE_LABELS,
    STATES,
    IllegalTransition,
    RoleNotAllowed,
    TimeLimits,
)
from gridmap.spreadsheet import safe_frame
from service.api.deps import SessionDep
from service.api.limits import RateLimiter
from service.api.openapi_docs import CSV, GEOJSON, media_responses
from service.api.responses import GeoJSONResponse, attachment
from service.api.security import PrincipalDep, StaffDep
from service.settings import load_order_limits
from service.storage import order_photos, order_stats
from service.storage import orders as store
from service.storage.auth import PermissionDenied

__all__ = ["router", "order_limits"]

router = APIRouter(tags=["Work orders"])

State = Literal[STATES]  # type: ignore[valid-type]
_RECEIPT = r"^[0-9A-Za-z -]{16,24}$"
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Outside the user's scope, or not for this role"},
    404: {"description": "No such order"},
}
MAX_ID = 2**31 - 1
"""Largest order or photo id (a 32-bit integer column)."""
_PHOTO = media_responses("image/jpeg", "image/png", "image/webp", description="The photo")
SUBMISSIONS_PER_HOUR = 30
"""Orders one client address may submit per hour (429 beyond)."""
_MOVE_ERRORS = {**_ERRORS, 409: {"description": "Not a move from the order's current state"}}


def order_limits(request: Request) -> TimeLimits:
    """The app's categories and time limits (``order_categories_file``, else the defaults)."""
    limits = getattr(request.app.state, "order_limits", None)
    if limits is None:
        path = request.app.state.settings.order_categories_file
        limits = request.app.state.order_limits = load_order_limits(path)
    return limits


class _Body(BaseModel):
    """A request body: an unknown field is refused (422), not ignored."""

    model_config = ConfigDict(extra="forbid")


class OrderIn(_Body):
    """A new work order: where (lon/lat or a building), what, and optionally who reports it."""

    lon: float | None = Field(None, ge=-180, le=180, description="Longitude (WGS 84 / CGCS2000)")
    lat: float | None = Field(None, ge=-90, le=90, description="Latitude")
    building_id: str | None = Field(None, min_length=1, max_length=64)
    category: str = Field(min_length=1, max_length=32, description="See GET /orders/categories")
    description: str = Field(min_length=1, max_length=2000)
    urgency: Literal["low", "normal", "urgent"] = "normal"
    reporter_name: str | None = Field(None, max_length=100)
    reporter_phone: str | None = Field(None, max_length=30)

    @model_validator(mode="after")
    def _place(self) -> OrderIn:
        if self.building_id is None and (self.lon is None or self.lat is None):
            raise ValueError("Give the place: lon and lat, or building_id.")
        return self


class SubmittedOut(BaseModel):
    """The new order: keep the receipt code, it is shown only this once."""

    id: int
    receipt_code: str
    state: str
    community_code: str
    community_name: str
    grid_code: str | None
    claim_due_at: dt.datetime
    close_due_at: dt.datetime


@dataclass(frozen=True)
class HistoryOut(store.HistoryEntry):
    """One history entry."""


@dataclass(frozen=True)
class OrderOut(store.OrderView):
    """An order as staff see it (reporter masked)."""

    history: list[HistoryOut] | None = None


class OrdersOut(BaseModel):
    """A page of orders."""

    orders: list[OrderOut]
    numberMatched: int
    numberReturned: int


@dataclass(frozen=True)
class ReceiptOut(store.ReceiptView):
    """What the reporter sees: state and dates, the outcome once closed; no staff details."""


class TransitionIn(_Body):
    """A move: the new state, a note, the assignee (dispatching), the duplicate (merging)."""

    to: State
    note: str | None = Field(None, max_length=2000)
    assignee: str | None = Field(None, max_length=64, description="User name or unit (dispatch)")
    merged_into: int | None = Field(
        None, ge=1, le=2**31 - 1, description="The order this one duplicates"
    )


class NoteIn(_Body):
    """A note added to the history."""

    note: str = Field(min_length=1, max_length=2000)


class RatingIn(_Body):
    """The reporter's rating of their closed order."""

    rating: int = Field(ge=1, le=5)
    note: str | None = Field(None, max_length=500)


class RevealIn(_Body):
    """Why the reporter's full contact is needed (kept in the audit log)."""

    reason: str = Field(min_length=4, max_length=500)


class ReporterOut(BaseModel):
    """The reporter's full name and phone."""

    reporter_name: str | None
    reporter_phone: str | None


@dataclass(frozen=True)
class PhotoOut(order_photos.PhotoInfo):
    """A photo's metadata."""


class PublicIn(BaseModel):
    """Whether a photo may be shown on the public board."""

    public: bool


def _out(view: store.OrderView, history: list[store.HistoryEntry] | None = None) -> OrderOut:
    entries = None if history is None else [HistoryOut(**vars(h)) for h in history]
    return OrderOut(**vars(view), history=entries)


def _move(call: Any, **kwargs: Any) -> Any:
    """Run a storage move, mapping its refusals to 409 (illegal) and 403 (role)."""
    try:
        return call(**kwargs)
    except IllegalTransition as exc:
        raise HTTPException(409, detail=str(exc)) from None
    except RoleNotAllowed as exc:
        raise HTTPException(403, detail=str(exc)) from None


# --------------------------------------------------------------------------- public
@router.get("/orders/categories", summary="Work-order categories and time limits")
def categories(request: Request) -> list[dict[str, Any]]:
    """Categories (code, Chinese and English names) and their hours to claim and to close."""
    return [c.__dict__ for c in order_limits(request).categories]


def _submit_quota(request: Request) -> None:
    """429 with Retry-After once a client has submitted :data:`SUBMISSIONS_PER_HOUR` orders."""
    limiter = getattr(request.app.state, "order_limiter", None)
    if limiter is None:
        limiter = request.app.state.order_limiter = RateLimiter(SUBMISSIONS_PER_HOUR, 3600.0)
    client = request.client.host if request.client else "unknown"
    wait = limiter.hit(client)
    if wait is not None:
        raise HTTPException(429, detail=f"Too many orders from this address; retry in {wait} s.",
                            headers={"Retry-After": str(wait)})  # fmt: skip


@router.post("/orders", response_model=SubmittedOut, status_code=201,
             dependencies=[Depends(_submit_quota)],
             responses={422: {"description": "Unknown category, or a point outside every "
                                             "community"},
                        429: {"description": "Too many orders from this address"}},
             summary="Submit a work order (群众点单)")  # fmt: skip
def submit(request: Request, session: SessionDep, principal: PrincipalDep,
           body: OrderIn) -> SubmittedOut:  # fmt: skip
    """Anyone submits; the answer's receipt code is the only way back to the order."""
    done = store.submit_order(session, store.NewOrder(**body.model_dump()),
                              submitted_by=principal, limits=order_limits(request))  # fmt: skip
    session.commit()
    o = done.order
    return SubmittedOut(id=o.id, receipt_code=done.receipt_code, state=o.state,
                        community_code=o.community_code, community_name=done.community_name,
                        grid_code=o.grid_code, claim_due_at=o.claim_due_at,
                        close_due_at=o.close_due_at)  # fmt: skip


@router.get("/orders/receipt/{code}", response_model=ReceiptOut,
            responses={404: {"description": "Unknown receipt code"}},
            summary="Follow my order by its receipt code")  # fmt: skip
def by_receipt(session: SessionDep, code: str = Path(pattern=_RECEIPT)) -> ReceiptOut:
    """State, dates and (once closed) the outcome of the order with this receipt code."""
    return ReceiptOut(**vars(store.get_order_by_receipt(session, receipt_code=code)))


@router.post("/orders/receipt/{code}/rating", response_model=ReceiptOut,
             responses={404: {"description": "Unknown receipt code"},
                        409: {"description": "The order is not closed"}},
             summary="Rate my closed order")  # fmt: skip
def rate(session: SessionDep, body: RatingIn, code: str = Path(pattern=_RECEIPT)) -> ReceiptOut:
    """Rate the closed order with this receipt code (1-5)."""
    out = _move(store.rate_order, session=session, receipt_code=code, rating=body.rating,
                note=body.note)  # fmt: skip
    session.commit()
    return ReceiptOut(**vars(out))


# --------------------------------------------------------------------------- statistics
def _district_admin(principal: StaffDep) -> None:
    if principal.role != "district_admin":
        raise PermissionDenied("Work-order statistics are for district admins.")


def _csv(frame: Any, name: str) -> Response:
    text = safe_frame(frame).to_csv(index=False)
    return Response(text.encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers=attachment(name))  # fmt: skip


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


@router.get("/orders/statistics", responses={**_ERRORS, **media_responses(CSV)},
            summary="Work-order statistics (district admins)")  # fmt: skip
def statistics(
    session: SessionDep,
    principal: StaffDep,
    request: Request,
    level: Literal["grid", "community", "subdistrict", "staff"] = Query("grid"),
    f: Literal["json", "csv"] = Query("json"),
) -> Any:
    """Orders by state and category, median hours to claim and close, overdue share and mean
    rating per grid, community or sub-district; or orders taken and done per staff member."""
    _district_admin(principal)
    if level == "staff":
        frame = order_stats.staff_frame(session, principal)
    else:
        codes = [c.code for c in order_limits(request).categories]
        frame = order_stats.statistics_frame(session, principal, level=level, categories=codes)
    if f == "csv":
        return _csv(frame, f"orders-{level}.csv")
    rows = [{k: (None if _missing(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]  # fmt: skip
    labels = {s: {"zh": zh, "en": en} for s, (zh, en) in STATE_LABELS.items()}
    return {"level": level, "generated_at": dt.datetime.now(dt.UTC).isoformat(), "rows": rows,
            "state_labels": labels}  # fmt: skip


@router.get("/orders/statistics/grids", response_class=GeoJSONResponse,
            responses={**_ERRORS, **media_responses(GEOJSON)},
            summary="Orders per grid as GeoJSON (district admins)")  # fmt: skip
def grid_statistics(session: SessionDep, principal: StaffDep) -> GeoJSONResponse:
    """The published grids with their orders: total, open, overdue, published (no personal
    fields)."""
    _district_admin(principal)
    features = order_stats.grid_aggregates(session, principal)
    return GeoJSONResponse({"type": "FeatureCollection", "features": features})


# --------------------------------------------------------------------------- staff
@router.get("/orders", response_model=OrdersOut, responses=_ERRORS, summary="Orders in my scope")
def list_(
    session: SessionDep,
    principal: StaffDep,
    state: list[State] = Query([], description="Repeat for several states"),
    category: str | None = Query(None, max_length=32),
    community: str | None = Query(None, pattern=r"^\d{12}$"),
    grid: str | None = Query(None, pattern=r"^\d{15}$"),
    overdue: bool | None = Query(None),
    escalated: bool | None = Query(None),
    mine: bool = Query(False, description="Assigned to or claimed by me, or open for claiming"),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> OrdersOut:
    """Orders of the user's grids, community or district, newest first."""
    page = store.list_orders(session, principal, states=state, category=category,
                             community_code=community, grid_code=grid, overdue=overdue,
                             escalated=escalated, mine=mine, limit=limit,
                             offset=offset)  # fmt: skip
    return OrdersOut(orders=[_out(v) for v in page.orders], numberMatched=page.number_matched,
                     numberReturned=len(page.orders))  # fmt: skip


@router.get("/orders/{order_id}", response_model=OrderOut, responses=_ERRORS,
            summary="One order with its history")  # fmt: skip
def get(
    session: SessionDep, principal: StaffDep, order_id: int = Path(ge=1, le=MAX_ID)
) -> OrderOut:
    """One order of the user's scope and its history."""
    view = store.get_order(session, principal, order_id=order_id)
    return _out(view, store.order_history(session, principal, order_id=order_id))


@router.post("/orders/{order_id}/transitions", response_model=OrderOut,
             responses=_MOVE_ERRORS, summary="Move an order to its next state")  # fmt: skip
def transition(session: SessionDep, principal: StaffDep, body: TransitionIn,
               order_id: int = Path(ge=1, le=MAX_ID)) -> OrderOut:  # fmt: skip
    """Accept, merge, decline, dispatch, claim, start, finish, verify, close or publish."""
    view = _move(store.transition_order, session=session, principal=principal,
                 order_id=order_id, to=body.to, note=body.note, assignee=body.assignee,
                 merged_into=body.merged_into)  # fmt: skip
    session.commit()
    return _out(view, store.order_history(session, principal, order_id=order_id))


@router.post("/orders/{order_id}/reporter", response_model=ReporterOut, responses=_ERRORS,
             summary="The reporter's full name and phone (audited)")  # fmt: skip
def reporter(session: SessionDep, principal: StaffDep, body: RevealIn, response: Response,
             order_id: int = Path(ge=1, le=MAX_ID)) -> ReporterOut:  # fmt: skip
    """Full contact of the reporter, to call them back; needs reveal_personal and a reason."""
    name, phone = store.reveal_reporter(session, principal, order_id=order_id, reason=body.reason)
    session.commit()
    response.headers["Cache-Control"] = "no-store"
    return ReporterOut(reporter_name=name, reporter_phone=phone)


@router.post("/orders/{order_id}/notes", response_model=HistoryOut, status_code=201,
             responses=_ERRORS, summary="Add a note to an order")  # fmt: skip
def note(session: SessionDep, principal: StaffDep, body: NoteIn,
         order_id: int = Path(ge=1, le=MAX_ID)) -> HistoryOut:  # fmt: skip
    """Add a note to the order's history (its state does not change)."""
    entry = store.add_note(session, principal, order_id=order_id, note=body.note)
    session.commit()
    return HistoryOut(**vars(entry))


@router.post("/orders/{order_id}/photos", response_model=PhotoOut, status_code=201,
             responses={**_ERRORS, 413: {"description": "Too large"}},
             summary="Add a photo (JPEG, PNG or WebP, at most 5 MB)")  # fmt: skip
async def upload(session: SessionDep, principal: StaffDep, order_id: int = Path(ge=1, le=MAX_ID),
                 photo: UploadFile = File(...)) -> PhotoOut:  # fmt: skip
    """Store a photo of the order (not public until an admin marks it)."""
    data = await photo.read(order_photos.MAX_PHOTO_BYTES + 1)
    if len(data) > order_photos.MAX_PHOTO_BYTES:
        raise HTTPException(413, detail=f"A photo may have at most "
                                        f"{order_photos.MAX_PHOTO_BYTES} bytes.")  # fmt: skip
    info = order_photos.add_photo(session, principal, order_id=order_id, data=data)
    session.commit()
    return PhotoOut(**vars(info))


@router.get("/orders/{order_id}/photos", response_model=list[PhotoOut], responses=_ERRORS,
            summary="An order's photos")  # fmt: skip
def photos(
    session: SessionDep, principal: StaffDep, order_id: int = Path(ge=1, le=MAX_ID)
) -> list[PhotoOut]:
    """Metadata of the order's photos."""
    return [PhotoOut(**vars(p)) for p in
            order_photos.list_photos(session, principal, order_id=order_id)]  # fmt: skip


@router.get("/orders/{order_id}/photos/{photo_id}", responses={**_ERRORS, **_PHOTO},
            response_class=Response, summary="One photo")  # fmt: skip
def photo(session: SessionDep, principal: StaffDep, order_id: int = Path(ge=1, le=MAX_ID),
          photo_id: int = Path(ge=1, le=MAX_ID)) -> Response:  # fmt: skip
    """The photo's bytes."""
    info, data = order_photos.get_photo(session, principal, order_id=order_id, photo_id=photo_id)
    return Response(data, media_type=info.content_type, headers={"Cache-Control": "private"})


@router.put("/orders/{order_id}/photos/{photo_id}/public", response_model=PhotoOut,
            responses=_ERRORS, summary="Show a photo on the public board, or not")  # fmt: skip
def publish_photo(
    session: SessionDep,
    principal: StaffDep,
    body: PublicIn,
    order_id: int = Path(ge=1, le=MAX_ID),
    photo_id: int = Path(ge=1, le=MAX_ID),
) -> PhotoOut:
    """Community and district admins decide which photos the public board may show."""
    info = order_photos.set_photo_public(session, principal, order_id=order_id,
                                         photo_id=photo_id, public=body.public)  # fmt: skip
    session.commit()
    return PhotoOut(**vars(info))
