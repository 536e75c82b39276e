"""Stalls of a market and their vendor assignments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ManagerActor, PageDep, RegistryReader, SessionDep
from api.problems import problem_responses
from market.inputs import Boolean, Id
from market.pagination import Page
from market.registry import stalls
from market.registry.models import (
    AssignmentCreate,
    AssignmentEnd,
    AssignmentPublic,
    GoodsCategory,
    StallCreate,
    StallPublic,
    StallStatus,
    StallUpdate,
)

router = APIRouter(tags=["stalls"], responses=problem_responses(401, 403, 404, 409, 422))


@router.get("/markets/{market_id}/stalls", response_model=Page[StallPublic])
def list_stalls(
    actor: RegistryReader,
    session: SessionDep,
    page: PageDep,
    market_id: Id,
    q: Annotated[
        str | None,
        Query(max_length=100, description="stall code, vendor name or phone; no diacritics needed"),
    ] = None,
    zone_id: Id | None = None,
    category: GoodsCategory | None = None,
    status: StallStatus | None = None,
    has_payout_account: Boolean | None = None,
    vendor_id: Id | None = None,
) -> Page[StallPublic]:
    rows, cursor = stalls.list_stalls(
        session,
        actor=actor,
        market_id=market_id,
        q=q,
        zone_id=zone_id,
        category=category,
        status=status,
        has_payout_account=has_payout_account,
        vendor_id=vendor_id,
        cursor=page.cursor,
        limit=page.limit,
    )
    return Page(items=stalls.public_stalls(session, rows), next_cursor=cursor)


@router.post(
    "/markets/{market_id}/stalls",
    response_model=StallPublic,
    status_code=201,
    responses=problem_responses(413),
)
def create_stall(
    actor: ManagerActor, session: SessionDep, market_id: Id, data: StallCreate
) -> StallPublic:
    stall = stalls.create_stall(session, actor=actor, market_id=market_id, data=data)
    return stalls.public_stalls(session, [stall])[0]


@router.get("/stalls/{stall_id}", response_model=StallPublic)
def get_stall(actor: RegistryReader, session: SessionDep, stall_id: Id) -> StallPublic:
    stall = stalls.readable_stall(session, actor=actor, stall_id=stall_id)
    return stalls.public_stalls(session, [stall])[0]


@router.patch("/stalls/{stall_id}", response_model=StallPublic, responses=problem_responses(413))
def update_stall(
    actor: ManagerActor, session: SessionDep, stall_id: Id, data: StallUpdate
) -> StallPublic:
    stall = stalls.update_stall(session, actor=actor, stall_id=stall_id, data=data)
    return stalls.public_stalls(session, [stall])[0]


@router.delete("/stalls/{stall_id}", response_model=StallPublic)
def close_stall(actor: ManagerActor, session: SessionDep, stall_id: Id) -> StallPublic:
    """Deactivate (status closed); the stall must have no current vendor."""
    stall = stalls.close_stall(session, actor=actor, stall_id=stall_id)
    return stalls.public_stalls(session, [stall])[0]


@router.get("/stalls/{stall_id}/assignments", response_model=list[AssignmentPublic])
def assignment_history(
    actor: RegistryReader, session: SessionDep, stall_id: Id
) -> list[AssignmentPublic]:
    return [
        AssignmentPublic.model_validate(a, from_attributes=True)
        for a in stalls.assignment_history(session, actor=actor, stall_id=stall_id)
    ]


@router.post(
    "/stalls/{stall_id}/assignments",
    response_model=AssignmentPublic,
    status_code=201,
    responses=problem_responses(413),
)
def assign_vendor(
    actor: ManagerActor, session: SessionDep, stall_id: Id, data: AssignmentCreate
) -> AssignmentPublic:
    """Give the stall a current vendor (refused while it has one)."""
    assignment = stalls.assign_vendor(session, actor=actor, stall_id=stall_id, data=data)
    return AssignmentPublic.model_validate(assignment, from_attributes=True)


@router.post(
    "/stalls/{stall_id}/assignments/current/end",
    response_model=AssignmentPublic,
    responses=problem_responses(413),
)
def end_assignment(
    actor: ManagerActor, session: SessionDep, stall_id: Id, data: AssignmentEnd
) -> AssignmentPublic:
    """The current vendor leaves the stall."""
    assignment = stalls.end_assignment(
        session, actor=actor, stall_id=stall_id, end_date=data.end_date
    )
    return AssignmentPublic.model_validate(assignment, from_attributes=True)
