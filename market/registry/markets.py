"""Markets and their zones: create, update, deactivate, list, and the coverage figures a manager
or planner follows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from market.errors import DuplicateError, FieldError, InvalidStateError, NotFoundError
from market.pagination import Cursor, apply_keyset, next_cursor
from market.registry import audit
from market.registry.access import Actor, managed_market_ids, require_market_manager, require_role
from market.registry.models import (
    Market,
    MarketCreate,
    MarketUpdate,
    PayoutAccount,
    Role,
    Stall,
    StallAssignment,
    StallStatus,
    Status,
    Zone,
    ZoneCreate,
    ZoneUpdate,
)
from market.text import fold, natural_key


def get_market(session: Session, market_id: int) -> Market:
    market = session.get(Market, market_id)
    if market is None:
        raise NotFoundError("Không tìm thấy chợ (market not found).")
    return market


def get_market_by_code(session: Session, code: str) -> Market:
    market = session.exec(select(Market).where(Market.code == code)).first()
    if market is None:
        raise NotFoundError(f"Không có chợ mã '{code}' (no market with this code).")
    return market


def list_markets(
    session: Session, *, q: str | None = None, cursor: Cursor | None = None, limit: int = 50
) -> tuple[list[Market], str | None]:
    """The market directory (any signed-in user may read it)."""
    query = select(Market)
    if q:
        query = query.where(col(Market.name_key).contains(fold(q)))
    rows = list(session.exec(apply_keyset(query, Market.id, cursor, limit)))
    return rows[:limit], next_cursor(rows, limit)


def create_market(session: Session, *, actor: Actor, data: MarketCreate) -> Market:
    require_role(actor)  # admin only
    if session.exec(select(Market).where(Market.code == data.code)).first() is not None:
        raise DuplicateError(
            f"Mã chợ '{data.code}' đã tồn tại (market code already exists).",
            errors=[FieldError("code", "duplicate", "market code already exists")],
        )
    market = Market(**data.model_dump(), name_key=fold(data.name))
    session.add(market)
    session.flush()  # the new market's id is its own audit scope
    audit.save(session, market, actor=actor, action="create", entity="market", market_id=market.id)
    return market


def update_market(session: Session, *, actor: Actor, market_id: int, data: MarketUpdate) -> Market:
    require_market_manager(actor, market_id)
    market = get_market(session, market_id)
    before = audit.snapshot(market)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        setattr(market, name, value)
    market.name_key = fold(market.name)
    audit.save(
        session,
        market,
        actor=actor,
        action="update",
        entity="market",
        market_id=market_id,
        before=before,
    )
    return market


def deactivate_market(session: Session, *, actor: Actor, market_id: int) -> Market:
    require_role(actor)  # admin only
    market = get_market(session, market_id)
    before = audit.snapshot(market)
    market.status = Status.INACTIVE
    audit.save(
        session,
        market,
        actor=actor,
        action="deactivate",
        entity="market",
        market_id=market_id,
        before=before,
    )
    return market


def require_active_market(session: Session, market_id: int) -> Market:
    market = get_market(session, market_id)
    if market.status != Status.ACTIVE:
        raise InvalidStateError("Chợ đã ngừng hoạt động (market is deactivated).")
    return market


# ---------------------------------------------------------------------------------------------
# Zones


def get_zone(session: Session, *, market_id: int, zone_id: int) -> Zone:
    zone = session.get(Zone, zone_id)
    if zone is None or zone.market_id != market_id:
        raise NotFoundError(
            "Không tìm thấy khu (zone not found in this market).",
            errors=[FieldError("zone_id", "not-found", "no such zone in this market")],
        )
    return zone


def open_zone(session: Session, *, market_id: int, zone_id: int) -> Zone:
    """A zone of the market that stalls may be placed in: a stopped zone takes no more."""
    zone = get_zone(session, market_id=market_id, zone_id=zone_id)
    if zone.status != Status.ACTIVE:
        raise InvalidStateError(
            f"Khu {zone.code} đã ngừng: không xếp thêm ki-ốt vào khu này (the zone is stopped).",
            errors=[FieldError("zone_id", "inactive", "the zone is stopped")],
        )
    return zone


def find_zone_by_code(session: Session, *, market_id: int, code: str) -> Zone | None:
    return session.exec(
        select(Zone).where(Zone.market_id == market_id, func.upper(Zone.code) == code.upper())
    ).first()


def list_zones(session: Session, *, actor: Actor, market_id: int) -> list[Zone]:
    require_market_manager(actor, market_id)
    zones = session.exec(select(Zone).where(Zone.market_id == market_id))
    return sorted(zones, key=lambda zone: (natural_key(zone.code), zone.code))  # Z2 before Z10


def create_zone(session: Session, *, actor: Actor, market_id: int, data: ZoneCreate) -> Zone:
    require_market_manager(actor, market_id)
    require_active_market(session, market_id)
    if find_zone_by_code(session, market_id=market_id, code=data.code) is not None:
        raise DuplicateError(
            f"Khu '{data.code}' đã có trong chợ (zone code already exists).",
            errors=[FieldError("code", "duplicate", "zone code already exists in this market")],
        )
    zone = Zone(market_id=market_id, code=data.code.upper(), name=data.name)
    audit.save(session, zone, actor=actor, action="create", entity="zone", market_id=market_id)
    return zone


def update_zone(
    session: Session, *, actor: Actor, market_id: int, zone_id: int, data: ZoneUpdate
) -> Zone:
    require_market_manager(actor, market_id)
    zone = get_zone(session, market_id=market_id, zone_id=zone_id)
    before = audit.snapshot(zone)
    if data.name is not None:
        zone.name = data.name
    audit.save(
        session,
        zone,
        actor=actor,
        action="update",
        entity="zone",
        market_id=market_id,
        before=before,
    )
    return zone


def deactivate_zone(session: Session, *, actor: Actor, market_id: int, zone_id: int) -> Zone:
    require_market_manager(actor, market_id)
    zone = get_zone(session, market_id=market_id, zone_id=zone_id)
    before = audit.snapshot(zone)
    zone.status = Status.INACTIVE
    audit.save(
        session,
        zone,
        actor=actor,
        action="deactivate",
        entity="zone",
        market_id=market_id,
        before=before,
    )
    return zone


# ---------------------------------------------------------------------------------------------
# Coverage figures


@dataclass(frozen=True)
class MarketStats:
    market_id: int
    stalls: int
    occupied_stalls: int
    stalls_with_payout_account: int
    payout_coverage: float
    vendors_holding_stalls: int  # a vendor may hold more than one stall
    by_category: dict[str, int]
    by_zone: dict[str, int]


def market_stats(session: Session, *, actor: Actor, market_id: int) -> MarketStats:
    """How many stalls are occupied and how many of those can be paid by QR (their current vendor
    has an active default payout account), by zone and category. No personal data."""
    require_role(actor, Role.MANAGER, Role.PLANNER)
    scope = managed_market_ids(actor)
    if actor.role is Role.MANAGER and scope is not None and market_id not in scope:
        raise NotFoundError("Không tìm thấy chợ (market not found).")
    get_market(session, market_id)
    open_statuses = [StallStatus.VACANT, StallStatus.OCCUPIED, StallStatus.SUSPENDED]
    stalls = list(
        session.exec(
            select(Stall).where(Stall.market_id == market_id, col(Stall.status).in_(open_statuses))
        )
    )
    covered = set(
        session.exec(
            select(StallAssignment.stall_id)
            .join(PayoutAccount, col(PayoutAccount.vendor_id) == StallAssignment.vendor_id)
            .join(Stall, col(Stall.id) == StallAssignment.stall_id)
            .where(
                Stall.market_id == market_id,
                col(StallAssignment.end_date).is_(None),
                col(PayoutAccount.is_default).is_(True),
                PayoutAccount.status == Status.ACTIVE,
            )
        )
    )
    zones = {z.id: z.code for z in session.exec(select(Zone).where(Zone.market_id == market_id))}
    by_category: dict[str, int] = {}
    by_zone: dict[str, int] = {}
    for stall in stalls:
        by_category[stall.category] = by_category.get(stall.category, 0) + 1
        zone_code = zones.get(stall.zone_id, "") if stall.zone_id else ""
        by_zone[zone_code or "-"] = by_zone.get(zone_code or "-", 0) + 1
    occupied = sum(1 for s in stalls if s.status == StallStatus.OCCUPIED)
    with_account = sum(1 for s in stalls if s.id in covered)
    holders = session.exec(
        select(func.count(distinct(col(StallAssignment.vendor_id))))
        .join(Stall, col(Stall.id) == StallAssignment.stall_id)
        .where(Stall.market_id == market_id, col(StallAssignment.end_date).is_(None))
    ).one()
    return MarketStats(
        market_id=market_id,
        stalls=len(stalls),
        occupied_stalls=occupied,
        stalls_with_payout_account=with_account,
        payout_coverage=round(with_account / occupied, 4) if occupied else 0.0,
        vendors_holding_stalls=int(holders),
        by_category=by_category,
        by_zone=by_zone,
    )
