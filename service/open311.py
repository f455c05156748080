"""Open311 GeoReport v2 for work orders: the state table and the request parameters.

Our work-order states map onto GeoReport v2's two statuses (``open``, ``closed``) and onto
FixMyStreet's extended states (its ``Problem`` states, which its Open311 clients and the
mySociety Open311 extensions understand). This table is the only place the mapping is written;
``docs/open311.md`` shows it to people.

Nothing here touches the web or the database: :mod:`service.api.routes.open311` uses these
helpers to read a request's parameters and to describe a state.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = [
    "STATES",
    "OPEN",
    "CLOSED",
    "StateMapping",
    "Open311InputError",
    "MAX_RANGE_DAYS",
    "MAX_REQUESTS",
    "status_of",
    "states_for_status",
    "parse_datetime",
    "parse_ids",
    "parse_codes",
    "w3c",
]

OPEN, CLOSED = "open", "closed"
MAX_RANGE_DAYS = 90
"""GeoReport v2: a date range may span at most 90 days; without one, the last 90 days."""
MAX_REQUESTS = 1000
"""At most this many requests in one answer (newest first), as GeoReport servers cap them."""


@dataclass(frozen=True)
class StateMapping:
    """How one of our states reads in Open311: its ``status`` and its FixMyStreet state."""

    status: str
    fixmystreet: str


STATES: dict[str, StateMapping] = {
    # 待社区受理: FixMyStreet "for triage" (reports a body reviews before acting on them)
    "submitted": StateMapping(OPEN, "for triage"),
    "accepted": StateMapping(OPEN, "confirmed"),
    "dispatched": StateMapping(OPEN, "action scheduled"),
    "claimed": StateMapping(OPEN, "action scheduled"),
    "in_progress": StateMapping(OPEN, "in progress"),
    "done": StateMapping(CLOSED, "fixed"),
    "verified": StateMapping(CLOSED, "fixed"),
    "closed": StateMapping(CLOSED, "fixed"),
    "rated": StateMapping(CLOSED, "fixed"),
    "published": StateMapping(CLOSED, "fixed"),
    "declined": StateMapping(CLOSED, "not responsible"),
    "merged": StateMapping(CLOSED, "duplicate"),
}
"""Our state (:data:`gridmap.orders.STATES`) → Open311 ``status`` and FixMyStreet state."""


class Open311InputError(ValueError):
    """A request parameter GeoReport v2 cannot take (answered as ``[{code: 400, …}]``)."""


def status_of(state: str) -> StateMapping:
    """The Open311 reading of our ``state`` (``KeyError`` for a state not in the table)."""
    return STATES[state]


def _normalised(word: str) -> str:
    return re.sub(r"[\s_-]+", " ", word.strip().lower())


def states_for_status(value: str) -> set[str]:
    """Our states matching a GeoReport ``status`` filter: ``open``, ``closed``, a FixMyStreet
    state (``action scheduled`` or ``action_scheduled``), or several, comma separated.

    >>> sorted(states_for_status("closed")) == sorted(s for s, m in STATES.items()
    ...                                               if m.status == "closed")
    True
    >>> sorted(states_for_status("duplicate,in_progress"))
    ['in_progress', 'merged']
    """
    wanted = {_normalised(v) for v in value.split(",") if v.strip()}
    known = {OPEN, CLOSED} | {_normalised(m.fixmystreet) for m in STATES.values()}
    unknown = sorted(wanted - known)
    if unknown:
        raise Open311InputError(
            f"status {', '.join(unknown)!s} is not known: use open or closed, or a FixMyStreet "
            f"state ({', '.join(sorted({m.fixmystreet for m in STATES.values()}))})."
        )
    return {
        state
        for state, m in STATES.items()
        if m.status in wanted or _normalised(m.fixmystreet) in wanted
    }


def parse_datetime(value: str, name: str) -> dt.datetime:
    """A W3C date-time (``2026-01-01T00:00:00Z``, with an offset, or a date) as aware UTC."""
    # An unencoded "+" of the offset arrives as a space: 2026-01-01T08:00:00 08:00.
    text = re.sub(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$", r"\1+\2", value.strip())
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Open311InputError(
            f"{name} {value!r} is not a W3C date-time such as 2026-01-01T00:00:00Z."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse_ids(value: str) -> list[int]:
    """Comma-separated ``service_request_id`` values as order ids."""
    out = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or len(part) > 18:
            raise Open311InputError(f"service_request_id {part!r} is not a request id.")
        out.append(int(part))
    if len(out) > MAX_REQUESTS:
        raise Open311InputError(f"At most {MAX_REQUESTS} service_request_id values at once.")
    return out


def parse_codes(value: str) -> list[str]:
    """Comma-separated ``service_code`` values."""
    return [c.strip() for c in value.split(",") if c.strip()]


def w3c(moment: dt.datetime | None) -> str | None:
    """A moment as GeoReport's W3C date-time in UTC (``2026-01-01T08:00:00Z``)."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # stored as UTC without zone (SQLite)
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
