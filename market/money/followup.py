"""What a market manager reads every morning: coverage (stalls occupied, with a live board, with
QR payments this week), the QR share by zone and goods category for today and the last seven
days, the day-close state, and the follow-up list (stalls without a live code, vendors with no
payment for N days, boards revoked and not reprinted). Also the records a manager browses: closed
days with per-vendor totals, a vendor's recent payments and webhook deliveries.

Read-only. Every function takes a session and the actor and checks the actor manages the market
first (a market outside their reach is not found). No personal data beyond what the registry
pages already show a manager of the market.

"QR share" here is the share of occupied stalls that received at least one QR payment in the
period: the service knows QR takings but not cash, so this is the acceptance measure the
programme follows (a vendor's own cash/QR split is on their daily slip)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as wide_select  # more columns than sqlmodel's overloads take
from sqlmodel import Session, col, select

from market.db import require_id
from market.errors import NotFoundError
from market.money.models import (
    DayClose,
    LedgerAccount,
    OutboxEvent,
    Transfer,
    TransferKind,
    WebhookDelivery,
    WebhookEndpoint,
)
from market.registry.access import Actor, require_market_manager
from market.registry.models import (
    CATEGORY_LABELS,
    Board,
    BoardStatus,
    GoodsCategory,
    PayoutAccount,
    Stall,
    StallAssignment,
    StallStatus,
    Vendor,
    Zone,
)
from market.registry.stalls import occupied_on
from market.registry.vendors import readable_vendor
from market.text import fold, natural_key

WEEK_DAYS = 7
IDLE_DAYS = 7


@dataclass
class Share:
    """One row of the share table: a zone or a goods category."""

    key: str
    label: str
    occupied: int = 0
    paid_today: int = 0
    paid_week: int = 0
    amount_today: int = 0
    amount_week: int = 0

    @property
    def share_today(self) -> float | None:
        return self.paid_today / self.occupied if self.occupied else None

    @property
    def share_week(self) -> float | None:
        return self.paid_week / self.occupied if self.occupied else None


@dataclass
class Coverage:
    day: date
    week_start: date
    stalls: int
    occupied: int
    live_boards: int
    paid_week: int
    total: Share
    by_zone: list[Share] = field(default_factory=list)
    by_category: list[Share] = field(default_factory=list)


def _open_stalls(session: Session, market_id: int) -> list[Stall]:
    return list(
        session.exec(
            select(Stall)
            .where(Stall.market_id == market_id, Stall.status != StallStatus.CLOSED)
            .order_by(col(Stall.code_key))
        )
    )


def _payments_by_stall(
    session: Session, market_id: int, since: date, until: date
) -> dict[int, dict[date, int]]:
    """stall id → business day → total of QR payments received on its boards."""
    rows = session.execute(
        wide_select(col(Board.stall_id), col(Transfer.business_day), func.sum(Transfer.amount))
        .join(Board, col(Board.id) == Transfer.board_id)
        .where(
            col(Transfer.market_id) == market_id,
            col(Transfer.kind) == TransferKind.PAYMENT,
            col(Transfer.business_day) >= since,
            col(Transfer.business_day) <= until,
        )
        .group_by(col(Board.stall_id), col(Transfer.business_day))
    ).all()
    out: dict[int, dict[date, int]] = {}
    for stall_id, day, total in rows:
        out.setdefault(stall_id, {})[day] = int(total or 0)
    return out


def coverage(session: Session, *, actor: Actor, market_id: int, today: date) -> Coverage:
    """Coverage and QR share of a market for `today` and the seven days ending today."""
    require_market_manager(actor, market_id)
    week_start = today - timedelta(days=WEEK_DAYS - 1)
    stalls = _open_stalls(session, market_id)
    live = set(
        session.exec(
            select(Board.stall_id).where(
                Board.market_id == market_id, Board.status == BoardStatus.LIVE
            )
        ).all()
    )
    paid = _payments_by_stall(session, market_id, week_start, today)
    zones = {z.id: z for z in session.exec(select(Zone).where(Zone.market_id == market_id)).all()}
    total = Share("all", "")
    by_zone: dict[str, Share] = {}
    by_category: dict[str, Share] = {}
    for stall in stalls:
        zone = zones.get(stall.zone_id) if stall.zone_id else None
        zone_share = by_zone.setdefault(
            zone.code if zone else "-", Share(zone.code if zone else "-", zone.name if zone else "")
        )
        category = GoodsCategory(stall.category)
        category_share = by_category.setdefault(
            category.value, Share(category.value, CATEGORY_LABELS[category])
        )
        if stall.status != StallStatus.OCCUPIED:
            continue
        days = paid.get(require_id(stall), {})
        for share in (total, zone_share, category_share):
            share.occupied += 1
            if days:
                share.paid_week += 1
                share.amount_week += sum(days.values())
            if today in days:
                share.paid_today += 1
                share.amount_today += days[today]
    return Coverage(
        day=today,
        week_start=week_start,
        stalls=len(stalls),
        occupied=total.occupied,
        live_boards=sum(1 for s in stalls if s.id in live),
        paid_week=total.paid_week,
        total=total,
        by_zone=sorted(by_zone.values(), key=lambda s: natural_key(s.key)),
        # as a Vietnamese reader looks a word up: "Gạo" before "Giày dép", "Ăn uống" with A
        by_category=sorted(by_category.values(), key=lambda s: fold(s.label)),
    )


# ---------------------------------------------------------------------------------------------
# Follow-up list


@dataclass(frozen=True)
class FollowUp:
    """One line of the follow-up list; `kind` says what is wrong and so which fix to link."""

    kind: str  # no-code | idle | revoked
    stall_id: int | None
    stall_code: str | None
    vendor_id: int | None
    vendor_name: str | None
    phone: str | None = None
    since: date | None = None  # idle: last payment day (None = never); revoked: when
    reason: str | None = None


def _current_vendors(session: Session, market_id: int) -> dict[int, Vendor]:
    """stall id → its current vendor."""
    rows = session.exec(
        select(StallAssignment.stall_id, Vendor)
        .join(Vendor, col(Vendor.id) == StallAssignment.vendor_id)
        .join(Stall, col(Stall.id) == StallAssignment.stall_id)
        .where(Stall.market_id == market_id, col(StallAssignment.end_date).is_(None))
    ).all()
    return dict(rows)


def follow_up(
    session: Session, *, actor: Actor, market_id: int, today: date, idle_days: int = IDLE_DAYS
) -> list[FollowUp]:
    """Stalls without a live code, vendors with no QR payment for `idle_days`, and boards
    revoked whose stall has no live board again, in that order."""
    require_market_manager(actor, market_id)
    stalls = _open_stalls(session, market_id)
    current = _current_vendors(session, market_id)
    boards = list(
        session.exec(select(Board).where(Board.market_id == market_id).order_by(col(Board.id)))
    )
    live = {b.stall_id: b for b in boards if b.status == BoardStatus.LIVE}
    last_board: dict[int, Board] = {}
    for board in boards:
        last_board[board.stall_id] = board
    last_paid: dict[int, date] = dict(
        session.exec(
            select(Board.vendor_id, func.max(Transfer.business_day))
            .join(Board, col(Board.id) == Transfer.board_id)
            .where(Transfer.market_id == market_id, Transfer.kind == TransferKind.PAYMENT)
            .group_by(col(Board.vendor_id))
        ).all()
    )
    no_code: list[FollowUp] = []
    revoked: list[FollowUp] = []
    idle: dict[int, FollowUp] = {}
    for stall in stalls:
        vendor = current.get(require_id(stall))
        latest = last_board.get(require_id(stall))
        if stall.status == StallStatus.OCCUPIED and stall.id not in live and vendor is not None:
            if latest is not None and latest.status == BoardStatus.REVOKED:
                revoked.append(
                    FollowUp(
                        "revoked",
                        stall.id,
                        stall.code,
                        vendor.id,
                        vendor.full_name,
                        vendor.phone,
                        latest.ended_at.date() if latest.ended_at else None,
                        latest.end_reason,
                    )
                )
            else:
                no_code.append(
                    FollowUp("no-code", stall.id, stall.code, vendor.id, vendor.full_name)
                )
        if stall.id in live and vendor is not None and vendor.id not in idle:
            last = last_paid.get(require_id(vendor))
            if last is None or (today - last).days >= idle_days:
                idle[require_id(vendor)] = FollowUp(
                    "idle", stall.id, stall.code, vendor.id, vendor.full_name, vendor.phone, last
                )
    return no_code + list(idle.values()) + revoked


# ---------------------------------------------------------------------------------------------
# Closed days


@dataclass(frozen=True)
class VendorDayTotal:
    vendor_id: int | None
    vendor_name: str
    stall_codes: list[str]
    count: int
    gross: int
    fees: int
    net: int


@dataclass(frozen=True)
class DayReport:
    closed: DayClose
    rows: list[VendorDayTotal]
    occupied: int
    paid_stalls: int

    @property
    def totals(self) -> dict[str, int]:
        return {
            "count": sum(r.count for r in self.rows),
            "gross": sum(r.gross for r in self.rows),
            "fees": sum(r.fees for r in self.rows),
            "net": sum(r.net for r in self.rows),
        }

    @property
    def share(self) -> float | None:
        return self.paid_stalls / self.occupied if self.occupied else None


def closed_days(session: Session, *, actor: Actor, market_id: int) -> list[DayClose]:
    """The market's closed days, newest first."""
    require_market_manager(actor, market_id)
    return list(
        session.exec(
            select(DayClose)
            .where(DayClose.market_id == market_id)
            .order_by(col(DayClose.business_day).desc())
        )
    )


def day_report(session: Session, *, actor: Actor, market_id: int, day: date) -> DayReport:
    """A closed day's frozen totals, with vendor names and the codes of the stalls whose boards
    took the payments put beside each wallet."""
    require_market_manager(actor, market_id)
    closed = session.exec(
        select(DayClose).where(DayClose.market_id == market_id, DayClose.business_day == day)
    ).first()
    if closed is None:
        raise NotFoundError("Ngày này chưa được chốt (day not closed).")
    wallets: dict[str, Any] = closed.totals.get("vendor_wallets", {})
    ids = [int(k) for k in wallets]
    owners: dict[int, Vendor] = {}
    if ids:
        for wallet_id, vendor in session.exec(
            select(LedgerAccount.id, Vendor)
            .join(PayoutAccount, col(PayoutAccount.id) == LedgerAccount.payout_account_id)
            .join(Vendor, col(Vendor.id) == PayoutAccount.vendor_id)
            .where(col(LedgerAccount.id).in_(ids))
        ).all():
            owners[wallet_id or 0] = vendor
    stall_codes: dict[int, set[str]] = {}
    for vendor_id, code in session.exec(
        select(Board.vendor_id, Stall.code)
        .select_from(Transfer)
        .join(Board, col(Board.id) == Transfer.board_id)
        .join(Stall, col(Stall.id) == Board.stall_id)
        .where(Transfer.market_id == market_id, Transfer.business_day == day)
    ).all():
        stall_codes.setdefault(vendor_id, set()).add(code)
    merged: dict[int | None, VendorDayTotal] = {}
    for key, bucket in wallets.items():
        owner = owners.get(int(key))
        vid = owner.id if owner else None
        old = merged.get(vid)
        merged[vid] = VendorDayTotal(
            vid,
            owner.full_name if owner else f"#{key}",
            sorted(stall_codes.get(vid or 0, []), key=natural_key),
            (old.count if old else 0) + int(bucket["count"]),
            (old.gross if old else 0) + int(bucket["gross"]),
            (old.fees if old else 0) + int(bucket["fees"]),
            (old.net if old else 0) + int(bucket["net"]),
        )
    rows = sorted(
        merged.values(),
        key=lambda r: ([natural_key(c) for c in r.stall_codes[:1]], fold(r.vendor_name)),
    )
    coverage = closed.totals.get("stalls") or day_coverage(session, market_id, day)
    return DayReport(closed, rows, int(coverage["occupied"]), int(coverage["paid"]))


def day_coverage(session: Session, market_id: int, day: date) -> dict[str, int]:
    """How many stalls a vendor held on `day` and how many of those took a QR payment: frozen
    with the day when it is closed (days closed before this was kept read it from the stall
    assignments of that day, not from today's occupancy)."""
    occupied = occupied_on(session, market_id, day)
    paid = _payments_by_stall(session, market_id, day, day)
    return {"occupied": len(occupied), "paid": len(occupied & paid.keys())}


# ---------------------------------------------------------------------------------------------
# A vendor's records


def recent_payments(
    session: Session, *, actor: Actor, vendor_id: int, limit: int = 20
) -> list[Transfer]:
    """The vendor's latest QR payments received, newest first."""
    vendor = readable_vendor(session, actor=actor, vendor_id=vendor_id)
    require_market_manager(actor, vendor.market_id)
    return list(
        session.exec(
            select(Transfer)
            .join(LedgerAccount, col(LedgerAccount.id) == Transfer.credit_account_id)
            .join(PayoutAccount, col(PayoutAccount.id) == LedgerAccount.payout_account_id)
            .where(PayoutAccount.vendor_id == vendor_id, Transfer.kind == TransferKind.PAYMENT)
            .order_by(col(Transfer.id).desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class DeliveryRow:
    delivery: WebhookDelivery
    endpoint_url: str
    event_type: str
    event_created_at: datetime


def webhook_deliveries(
    session: Session, *, actor: Actor, vendor_id: int, limit: int = 50
) -> tuple[list[WebhookEndpoint], list[DeliveryRow]]:
    """The vendor's webhook endpoints and their latest deliveries, newest first."""
    vendor = readable_vendor(session, actor=actor, vendor_id=vendor_id)
    require_market_manager(actor, vendor.market_id)
    endpoints = list(
        session.exec(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.vendor_id == vendor_id)
            .order_by(col(WebhookEndpoint.id))
        )
    )
    rows = session.exec(
        select(WebhookDelivery, WebhookEndpoint.url, OutboxEvent.type, OutboxEvent.created_at)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookDelivery.endpoint_id)
        .join(OutboxEvent, col(OutboxEvent.id) == WebhookDelivery.event_id)
        .where(WebhookEndpoint.vendor_id == vendor_id)
        .order_by(col(WebhookDelivery.id).desc())
        .limit(limit)
    ).all()
    return endpoints, [DeliveryRow(d, url, kind, at) for d, url, kind, at in rows]
