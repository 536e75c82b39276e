"""A vendor's daily slip and closing a market's business day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from market.clock import business_day
from market.errors import (
    DayClosedError,
    DayNotOverError,
    FieldError,
    InvalidInputError,
    NotFoundError,
)
from market.money import followup, ledger
from market.money.models import DayClose, LedgerAccount, Transfer, TransferKind
from market.registry import audit
from market.registry.access import Actor, require_market_manager
from market.registry.models import (
    Market,
    PayoutAccount,
)
from market.registry.vendors import readable_vendor

# The first business day that may be closed. Not the market's own created_at: that is when the
# market was entered here, and its records (imported, or the demo's) may start days before.
EARLIEST_DAY = date(2000, 1, 1)


def daily_slip(
    session: Session, *, actor: Actor, vendor_id: int, day: date, cash: int | None
) -> dict[str, Any]:
    """The vendor's end-of-day slip: QR payments received on a business day, by source, with
    the cashless share when the vendor enters the day's cash takings."""
    readable_vendor(session, actor=actor, vendor_id=vendor_id)
    wallet_ids = [
        w.id
        for w in session.exec(
            select(LedgerAccount)
            .join(PayoutAccount, col(PayoutAccount.id) == LedgerAccount.payout_account_id)
            .where(PayoutAccount.vendor_id == vendor_id)
        )
    ]
    payments = (
        session.exec(
            select(Transfer)
            .where(
                col(Transfer.credit_account_id).in_(wallet_ids),
                Transfer.kind == TransferKind.PAYMENT,
                Transfer.business_day == day,
            )
            .order_by(col(Transfer.created_at))
        ).all()
        if wallet_ids
        else []
    )
    refunds = (
        session.exec(
            select(Transfer).where(
                col(Transfer.debit_account_id).in_(wallet_ids),
                col(Transfer.kind).in_([TransferKind.REFUND, TransferKind.REVERSAL]),
                Transfer.business_day == day,
            )
        ).all()
        if wallet_ids
        else []
    )
    by_source: dict[str, dict[str, int]] = {}
    for payment in payments:
        bucket = by_source.setdefault(payment.source_label or "ví", {"count": 0, "total": 0})
        bucket["count"] += 1
        bucket["total"] += payment.amount
    total = sum(p.amount for p in payments)
    refunded = sum(r.amount for r in refunds)
    slip: dict[str, Any] = {
        "vendor_id": vendor_id,
        "business_day": day.isoformat(),
        "count": len(payments),
        "total": total,
        "fees": sum(p.fee for p in payments),
        "refunds": refunded,
        "net": total - sum(p.fee for p in payments) - refunded,
        "by_source": by_source,
        "first_at": payments[0].created_at.isoformat() if payments else None,
        "last_at": payments[-1].created_at.isoformat() if payments else None,
        "cash": cash,
        "cashless_share": None,
    }
    if cash is not None and total + cash > 0:
        slip["cashless_share"] = round(total / (total + cash), 4)
    return slip


def close_day(
    session: Session, *, actor: Actor, market_id: int, day: date, now: datetime
) -> DayClose:
    """Freeze a market's per-vendor totals for a business day that is over."""
    require_market_manager(actor, market_id)
    if session.get(Market, market_id) is None:  # an admin passes the check for any id
        raise NotFoundError("Không tìm thấy chợ (market not found).")
    if day < EARLIEST_DAY:
        raise InvalidInputError(
            "Chỉ chốt được ngày từ 01/01/2000 đến hôm qua (a day from 2000-01-01 to yesterday).",
            errors=[FieldError("day", "out-of-range", "before 2000-01-01")],
        )
    if day >= business_day(now):
        raise DayNotOverError(
            "Chỉ chốt được ngày đã qua nửa đêm giờ Việt Nam (the day is not over yet).",
            errors=[FieldError("day", "day-not-over", "close after local midnight")],
        )
    if session.exec(
        select(DayClose).where(DayClose.market_id == market_id, DayClose.business_day == day)
    ).first():
        raise DayClosedError("Ngày này đã được chốt (already closed).")
    totals = ledger.close_totals(session, market_id, day)
    closed = DayClose(
        market_id=market_id,
        business_day=day,
        # the hash covers the money (the audit recomputes it from the journal); the stalls
        # held and paid that day are frozen beside it
        totals=totals | {"stalls": followup.day_coverage(session, market_id, day)},
        content_hash=ledger.content_hash(totals),
        closed_at=now,
        closed_by=actor.username,
    )
    audit.save(
        session, closed, actor=actor, action="close", entity="day_close", market_id=market_id
    )
    return closed
