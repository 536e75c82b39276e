"""User administration (admin) and the audit log (admin, managers for their markets)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import AdminActor, ClockDep, ManagerActor, PageDep, SessionDep
from api.problems import problem_responses
from market.inputs import Id
from market.pagination import Page
from market.registry import audit, users
from market.registry.models import AuditEntryPublic, Role, UserCreate, UserPublic, UserUpdate

router = APIRouter(tags=["users"], responses=problem_responses(401, 403, 404, 409, 422))


class RevokedTokens(BaseModel):
    revoked: int


@router.get("/users", response_model=list[UserPublic])
def list_users(
    actor: AdminActor, session: SessionDep, role: Role | None = None
) -> list[UserPublic]:
    return [
        users.public_user(session, u) for u in users.list_users(session, actor=actor, role=role)
    ]


@router.post("/users", response_model=UserPublic, status_code=201, responses=problem_responses(413))
def create_user(actor: AdminActor, session: SessionDep, data: UserCreate) -> UserPublic:
    return users.public_user(session, users.create_user(session, actor=actor, data=data))


@router.get("/users/{user_id}", response_model=UserPublic)
def get_user(_actor: AdminActor, session: SessionDep, user_id: Id) -> UserPublic:
    return users.public_user(session, users.get_user(session, user_id))


@router.patch("/users/{user_id}", response_model=UserPublic, responses=problem_responses(413))
def update_user(
    actor: AdminActor, session: SessionDep, clock: ClockDep, user_id: Id, data: UserUpdate
) -> UserPublic:
    """Change a user; a new password revokes all their tokens."""
    user = users.update_user(session, actor=actor, user_id=user_id, data=data, now=clock())
    return users.public_user(session, user)


@router.delete("/users/{user_id}", response_model=UserPublic)
def deactivate_user(
    actor: AdminActor, session: SessionDep, clock: ClockDep, user_id: Id
) -> UserPublic:
    """Deactivate the user and revoke all their tokens."""
    user = users.deactivate_user(session, actor=actor, user_id=user_id, now=clock())
    return users.public_user(session, user)


@router.post("/users/{user_id}/revoke-tokens", response_model=RevokedTokens)
def revoke_tokens(
    actor: AdminActor, session: SessionDep, clock: ClockDep, user_id: Id
) -> RevokedTokens:
    count = users.revoke_user_tokens(session, actor=actor, user_id=user_id, now=clock())
    return RevokedTokens(revoked=count)


@router.get("/audit", response_model=Page[AuditEntryPublic])
def audit_log(
    actor: ManagerActor,
    session: SessionDep,
    page: PageDep,
    entity: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Id | None = None,
    market_id: Id | None = None,
) -> Page[AuditEntryPublic]:
    """Who changed what and when, newest first (admin; managers see their markets)."""
    rows, cursor = audit.list_entries(
        session,
        actor=actor,
        entity=entity,
        entity_id=entity_id,
        market_id=market_id,
        cursor=page.cursor,
        limit=page.limit,
    )
    return Page(
        items=[AuditEntryPublic.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=cursor,
    )
