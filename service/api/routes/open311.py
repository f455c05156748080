"""Open311 GeoReport v2 (JSON): our categories as services, our work orders as requests.

- ``GET /open311/v2/services.json``: the categories (code, Chinese name, time limits).
- ``GET /open311/v2/requests.json``: public, de-identified requests
  (:mod:`service.storage.open311`); filters ``service_request_id`` (comma separated; overrides
  the others, as the standard says), ``service_code``, ``status`` (``open``, ``closed`` or
  FixMyStreet states), ``start_date`` / ``end_date`` (at most 90 days apart; without them the
  last 90 days).
- ``POST /open311/v2/requests.json``: submit a matter, form-encoded (as the standard and most
  clients send it) or JSON; ``lat`` + ``long`` or ``address_id`` (a building id). Anyone may
  submit, as with ``POST /orders``: ``api_key`` is accepted but not required (a signed-in staff
  member's bearer token records them as the one entering it), within the same hourly quota per
  client address as ``POST /orders`` (429 beyond). The answer has the request id
  and, as an extension, the receipt code the reporter follows the order with.
- ``GET /open311/v2/requests/{id}.json``: one request.

Our states map onto ``status`` and FixMyStreet's states by :data:`service.open311.STATES`
(``extended_status``). Errors are GeoReport's list ``[{"code": 400, "description": …}]``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from gridmap.errors import InputError
from gridmap.orders import TimeLimits, label
from service import open311 as o311
from service.api.deps import SessionDep
from service.api.routes.orders import _submit_quota, order_limits
from service.api.security import PrincipalDep
from service.maps import grid_title
from service.storage import open311 as public
from service.storage import orders as store

__all__ = ["router"]

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])

_MAX_FIELD = 4000
_FIELDS = ("service_code", "lat", "long", "address_id", "address_string", "description",
           "first_name", "last_name", "phone", "email", "api_key", "jurisdiction_id",
           "device_id", "account_id", "media_url", "attribute[urgency]")  # fmt: skip


class ServiceOut(BaseModel):
    """A GeoReport service: one of our work-order categories."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class RequestOut(BaseModel):
    """A GeoReport service request, de-identified; ``extended_status`` is FixMyStreet's state."""

    service_request_id: str
    status: str
    extended_status: str
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None
    community_code: str
    grid_code: str | None
    duplicate_of: str | None


class PostedOut(BaseModel):
    """The answer to a new request; ``receipt_code`` is shown this once only."""

    service_request_id: str
    service_notice: str
    account_id: str | None
    receipt_code: str


_ERROR_LIST = {
    "type": "array",
    "items": {"type": "object", "required": ["code", "description"],
              "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}},
}  # fmt: skip
# The app's own checks (control characters, body size) answer {"detail": …} before the route.
_DETAIL = {"type": "object", "properties": {"detail": {}}, "required": ["detail"]}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad parameter (GeoReport error list)",
          "content": {"application/json": {"schema": {"anyOf": [_ERROR_LIST, _DETAIL]}}}},
    404: {"description": "No such request (GeoReport error list)",
          "content": {"application/json": {"schema": _ERROR_LIST}}},
}  # fmt: skip


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": message}], status_code=status)


def _services(limits: TimeLimits) -> list[ServiceOut]:
    return [
        ServiceOut(
            service_code=c.code, service_name=c.zh, keywords=c.en, group="社区事项", metadata=False,
            type="realtime",
            description=f"{c.zh}（{c.en}）：{c.claim_hours:g} 小时内接单，"
            f"{c.close_hours:g} 小时内办结",
        )
        for c in limits.categories
    ]  # fmt: skip


def _place(r: public.PublicRequest) -> str:
    """Where, said without any personal address: community and grid (第1网格)."""
    name = r.community_name or r.community_code
    return name + (grid_title(r.grid_code, r.community_code, "zh") if r.grid_code else "")


def _request(r: public.PublicRequest, names: dict[str, str]) -> RequestOut:
    mapping = o311.status_of(r.state)
    category = names.get(r.category, r.category)
    notes = label(r.state) + (f"：{r.outcome}" if r.outcome else "")
    open_ = mapping.status == o311.OPEN
    return RequestOut(
        service_request_id=str(r.id), status=mapping.status, extended_status=mapping.fixmystreet,
        status_notes=notes, service_name=category, service_code=r.category,
        description=f"{category}事项", agency_responsible=r.community_name or r.community_code,
        service_notice=None, requested_datetime=o311.w3c(r.submitted_at) or "",
        updated_datetime=o311.w3c(r.updated_at) or "",
        expected_datetime=o311.w3c(r.close_due_at) if open_ else None, address=_place(r),
        address_id=None, zipcode=None, lat=r.lat, long=r.lon, media_url=None,
        community_code=r.community_code, grid_code=r.grid_code,
        duplicate_of=str(r.merged_into) if r.merged_into is not None else None,
    )  # fmt: skip


def _category_names(limits: TimeLimits) -> dict[str, str]:
    return {c.code: c.zh for c in limits.categories}


@router.get("/services.json", response_model=list[ServiceOut], summary="Open311: services")
def services(request: Request) -> list[ServiceOut]:
    """Our work-order categories as GeoReport services."""
    return _services(order_limits(request))


def _date_range(start_date: str | None, end_date: str | None,
                now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:  # fmt: skip
    """``[start, end)`` of submission times: at most 90 days; by default the last 90 days."""
    span = dt.timedelta(days=o311.MAX_RANGE_DAYS)
    start = o311.parse_datetime(start_date, "start_date") if start_date else None
    end = o311.parse_datetime(end_date, "end_date") if end_date else None
    if end is None:
        end = start + span if start is not None else now + dt.timedelta(seconds=1)
    if start is None:
        start = end - span
    if end < start:
        raise o311.Open311InputError("end_date is before start_date.")
    if end - start > span:
        raise o311.Open311InputError(
            f"start_date and end_date may be at most {o311.MAX_RANGE_DAYS} days apart."
        )
    return start, end


@router.get("/requests.json", response_model=list[RequestOut], responses=_ERRORS,
            summary="Open311: service requests (de-identified)")  # fmt: skip
def requests_(
    request: Request,
    session: SessionDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    status: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    jurisdiction_id: str | None = None,
) -> Any:
    """Requests, newest first (at most 1000): every state, no personal fields."""
    del jurisdiction_id  # one jurisdiction: the district this service runs for
    limits = order_limits(request)
    try:
        if service_request_id:
            found = public.public_requests(session, ids=o311.parse_ids(service_request_id),
                                           limit=o311.MAX_REQUESTS)  # fmt: skip
        else:
            start, end = _date_range(start_date, end_date, dt.datetime.now(dt.UTC))
            states = o311.states_for_status(status) if status else None
            codes = o311.parse_codes(service_code) if service_code else ()
            found = public.public_requests(session, categories=codes, states=states, start=start,
                                           end=end, limit=o311.MAX_REQUESTS)  # fmt: skip
    except o311.Open311InputError as exc:
        return _error(400, str(exc))
    names = _category_names(limits)
    return [_request(r, names) for r in found]


@router.get("/requests/{service_request_id}.json", response_model=list[RequestOut],
            responses=_ERRORS, summary="Open311: one service request")  # fmt: skip
def one_request(request: Request, session: SessionDep, service_request_id: str) -> Any:
    """One request (a list of one, as the standard says)."""
    try:
        ids = o311.parse_ids(service_request_id)
    except o311.Open311InputError as exc:
        return _error(404, str(exc))
    found = public.public_requests(session, ids=ids[:1], limit=1) if len(ids) == 1 else []
    if not found:
        return _error(404, f"Service request {service_request_id!r} not found.")
    return [_request(found[0], _category_names(order_limits(request)))]


async def _fields(request: Request) -> dict[str, str] | str:
    """The POST fields, form-encoded, multipart or JSON; a message when unreadable."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "application/json":
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                return "The JSON body must be an object of GeoReport fields."
            items = list(body.items())
        elif kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
            items = list((await request.form()).multi_items())
        else:
            return "Send the request form-encoded (or as JSON)."
    except (ValueError, UnicodeDecodeError, AssertionError):
        return "The request body cannot be read."
    fields: dict[str, str] = {}
    for key, value in items:
        if key not in _FIELDS or value is None or isinstance(value, UploadFile):
            continue  # media uploads and unknown attributes are not kept
        if isinstance(value, dict | list):
            return f"Field {key} must be a single value."
        text = str(value)
        if len(text) > _MAX_FIELD:
            return f"Field {key} is longer than {_MAX_FIELD} characters."
        fields[key] = text
    return fields


_POST_BODY = {
    "required": True,
    "content": {
        media: {
            "schema": {
                "type": "object",
                "required": ["service_code"],
                "properties": {
                    "service_code": {"type": "string"},
                    "lat": {"type": "number"},
                    "long": {"type": "number"},
                    "address_id": {"type": "string"},
                    "description": {"type": "string"},
                    "first_name": {"type": "string"},
                    "last_name": {"type": "string"},
                    "phone": {"type": "string"},
                    "email": {"type": "string"},
                    "api_key": {"type": "string"},
                    "attribute[urgency]": {"type": "string", "enum": ["low", "normal", "urgent"]},
                },
            }
        }  # fmt: skip
        for media in ("application/x-www-form-urlencoded", "application/json")
    },
}


def _reporter_name(first: str | None, last: str | None) -> str | None:
    """``first_name`` + ``last_name`` as one name (Chinese order, family name first, for
    names in Chinese characters)."""
    first, last = (first or "").strip(), (last or "").strip()
    if not (first or last):
        return None
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return last + first
    return f"{first} {last}".strip()


def _coordinate(fields: dict[str, str], key: str) -> float | None:
    text = fields.get(key, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{key} {text!r} is not a number.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"{key} {text!r} is not a number.")
    return value


_TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many submissions from this address (shared with POST /orders); "
        "retry after Retry-After seconds",
        "content": {"application/json": {"schema": _DETAIL}},
    }
}


@router.post("/requests.json", response_model=list[PostedOut], status_code=201,
             dependencies=[Depends(_submit_quota)], responses={**_ERRORS, **_TOO_MANY},
             openapi_extra={"requestBody": _POST_BODY},
             summary="Open311: submit a service request (anyone)")  # fmt: skip
def post_request(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    fields: Annotated[dict[str, str] | str, Depends(_fields)],
) -> Any:
    """Submit a matter at lat/long or a building (address_id); answers its id and receipt."""
    if isinstance(fields, str):
        return _error(400, fields)
    code = fields.get("service_code", "").strip()
    if not code:
        return _error(400, "service_code is required (see services.json).")
    try:
        lat, lon = _coordinate(fields, "lat"), _coordinate(fields, "long")
        building = fields.get("address_id", "").strip() or None
        if building is None and (lat is None or lon is None):
            raise InputError("Give the place: lat and long, or address_id (a building id); "
                             "address_string alone cannot be placed.")  # fmt: skip
        new = store.NewOrder(
            category=code, description=fields.get("description", ""),
            lon=None if building else lon, lat=None if building else lat, building_id=building,
            urgency=fields.get("attribute[urgency]", "normal") or "normal",
            reporter_name=_reporter_name(fields.get("first_name"), fields.get("last_name")),
            reporter_phone=fields.get("phone") or None,
        )  # fmt: skip
        done = store.submit_order(session, new, submitted_by=principal,
                                  limits=order_limits(request))  # fmt: skip
    except InputError as exc:
        session.rollback()
        return _error(400, str(exc))
    session.commit()
    order = done.order
    due = order.claim_due_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    notice = (f"已提交至{done.community_name}社区，{due:%m月%d日%H:%M}前安排接单。"
              f"请保存回执码 {done.receipt_code}，凭此查询进度并评价。")  # fmt: skip
    return [PostedOut(service_request_id=str(order.id), service_notice=notice, account_id=None,
                      receipt_code=done.receipt_code)]  # fmt: skip
