"""Markets, their zones and coverage figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminActor, CurrentUser, ManagerActor, PageDep, SessionDep, StatsReader
from api.problems import problem_responses
from market.inputs import Id
from market.pagination import Page
from market.registry import markets
from market.registry.markets import MarketStats
from market.registry.models import (
    MarketCreate,
    MarketPublic,
    MarketUpdate,
    ZoneCreate,
    ZonePublic,
    ZoneUpdate,
)

router = APIRouter(tags=["markets"], responses=problem_responses(401, 403, 404, 422))


@router.get("/markets", response_model=Page[MarketPublic])
def list_markets(
    _actor: CurrentUser,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[MarketPublic]:
    """The market directory: every signed-in user may read it."""
    rows, cursor = markets.list_markets(session, q=q, cursor=page.cursor, limit=page.limit)
    return Page(
        items=[MarketPublic.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=cursor,
    )


@router.post(
    "/markets", response_model=MarketPublic, status_code=201, responses=problem_responses(409, 413)
)
def create_market(actor: AdminActor, session: SessionDep, data: MarketCreate) -> MarketPublic:
    market = markets.create_market(session, actor=actor, data=data)
    return MarketPublic.model_validate(market, from_attributes=True)


@router.get("/markets/{market_id}", response_model=MarketPublic)
def get_market(_actor: CurrentUser, session: SessionDep, market_id: Id) -> MarketPublic:
    return MarketPublic.model_validate(markets.get_market(session, market_id), from_attributes=True)


@router.patch("/markets/{market_id}", response_model=MarketPublic, responses=problem_responses(413))
def update_market(
    actor: ManagerActor, session: SessionDep, market_id: Id, data: MarketUpdate
) -> MarketPublic:
    market = markets.update_market(session, actor=actor, market_id=market_id, data=data)
    return MarketPublic.model_validate(market, from_attributes=True)


@router.delete("/markets/{market_id}", response_model=MarketPublic)
def deactivate_market(actor: AdminActor, session: SessionDep, market_id: Id) -> MarketPublic:
    """Deactivate (nothing with history is deleted)."""
    market = markets.deactivate_market(session, actor=actor, market_id=market_id)
    return MarketPublic.model_validate(market, from_attributes=True)


@router.get("/markets/{market_id}/stats", response_model=MarketStats)
def market_stats(actor: StatsReader, session: SessionDep, market_id: Id) -> MarketStats:
    """Stalls, occupancy and QR coverage by zone and category (managers and planners)."""
    return markets.market_stats(session, actor=actor, market_id=market_id)


@router.get("/markets/{market_id}/zones", response_model=list[ZonePublic])
def list_zones(actor: ManagerActor, session: SessionDep, market_id: Id) -> list[ZonePublic]:
    return [
        ZonePublic.model_validate(z, from_attributes=True)
        for z in markets.list_zones(session, actor=actor, market_id=market_id)
    ]


@router.post(
    "/markets/{market_id}/zones",
    response_model=ZonePublic,
    status_code=201,
    responses=problem_responses(409, 413),
)
def create_zone(
    actor: ManagerActor, session: SessionDep, market_id: Id, data: ZoneCreate
) -> ZonePublic:
    zone = markets.create_zone(session, actor=actor, market_id=market_id, data=data)
    return ZonePublic.model_validate(zone, from_attributes=True)


@router.patch(
    "/markets/{market_id}/zones/{zone_id}",
    response_model=ZonePublic,
    responses=problem_responses(413),
)
def update_zone(
    actor: ManagerActor, session: SessionDep, market_id: Id, zone_id: Id, data: ZoneUpdate
) -> ZonePublic:
    zone = markets.update_zone(
        session, actor=actor, market_id=market_id, zone_id=zone_id, data=data
    )
    return ZonePublic.model_validate(zone, from_attributes=True)


@router.delete("/markets/{market_id}/zones/{zone_id}", response_model=ZonePublic)
def deactivate_zone(
    actor: ManagerActor, session: SessionDep, market_id: Id, zone_id: Id
) -> ZonePublic:
    zone = markets.deactivate_zone(session, actor=actor, market_id=market_id, zone_id=zone_id)
    return ZonePublic.model_validate(zone, from_attributes=True)
