"""The ``plan_id`` query parameter, checked: published plans are public, drafts are for staff.

Every route that takes ``plan_id`` declares it as :data:`VisiblePlan`: an anonymous user (or
staff of another community) asking for a draft gets the 404 of a plan that does not exist
(:func:`service.storage.features.require_plan_visible`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from service.api.deps import SessionDep
from service.api.security import PrincipalDep
from service.storage.features import require_plan_visible

__all__ = ["MAX_PLAN_ID", "visible_plan_id", "VisiblePlan"]

MAX_PLAN_ID = 2**31 - 1
"""Largest plan id accepted (the databases' 32-bit integer)."""


def visible_plan_id(
    session: SessionDep,
    principal: PrincipalDep,
    plan_id: int | None = Query(
        None,
        ge=1,
        le=MAX_PLAN_ID,
        description="Plan id; default: the published plan. Unpublished plans only for staff of "
        "the plan's community and district admins (404 otherwise).",
    ),
) -> int | None:
    """``plan_id`` if the request may see that plan (404 otherwise), or None."""
    if plan_id is not None:
        require_plan_visible(session, plan_id=plan_id, principal=principal)
    return plan_id


VisiblePlan = Annotated[int | None, Depends(visible_plan_id)]
