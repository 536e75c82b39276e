"""The adoption simulator's metrics as observed in this service, by date, for calibrating the
model to a market's own data (`cho simulate observed`, GET /simulations/observed):

- weekly, on each seventh day from `start`: vendors with a live QR board (`vendors_accepting`)
  and vendors with at least one QR payment in the 7 days ending that day (`vendors_active`),
  and shopper wallets opened in those 7 days (`new_wallets`, all markets: wallets are not tied
  to one);
- monthly (calendar months, cut to the range): QR payments (`qr_tx`) and their value in đồng
  (`qr_value`) at the market.

Rows follow the simulator's observed-points format: `date`, `day` (days since `start`, which is
day 0), `metric`, `value`, `window` (days the value sums over, or 1 for a count on the day).
Read-only; the caller owns the session."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from market.clock import business_day
from market.money.models import LedgerAccount, LedgerAccountKind, Transfer, TransferKind
from market.registry.models import Board

WEEK = 7


def _month_ends(start: date, end: date) -> list[tuple[date, date]]:
    """(first, last) day of each calendar month overlapping [start, end], cut to the range."""
    spans = []
    first = start
    while first <= end:
        following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = min(following - timedelta(days=1), end)
        spans.append((first, last))
        first = following
    return spans


def observed_series(
    session: Session, *, market_id: int, start: date, end: date
) -> list[dict[str, Any]]:
    """The observed points of one market from `start` to `end` (business days, inclusive)."""
    boards = session.exec(
        select(Board.vendor_id, Board.printed_at, Board.ended_at).where(
            Board.market_id == market_id
        )
    ).all()
    payments = session.exec(
        select(col(Transfer.business_day), col(Transfer.amount), col(Board.vendor_id))
        .join(Board, col(Board.id) == col(Transfer.board_id))
        .where(
            Transfer.kind == TransferKind.PAYMENT,
            Transfer.market_id == market_id,
            col(Transfer.business_day) >= start - timedelta(days=WEEK - 1),
            col(Transfer.business_day) <= end,
        )
    ).all()
    wallets = session.exec(
        select(LedgerAccount.created_at).where(
            LedgerAccount.kind == LedgerAccountKind.SHOPPER_WALLET
        )
    ).all()
    payers_by_day: dict[date, set[int]] = defaultdict(set)
    for day, _, vendor in payments:
        payers_by_day[day].add(vendor)
    opened_by_day: dict[date, int] = defaultdict(int)
    for created in wallets:
        opened_by_day[business_day(created)] += 1
    live = [
        (vendor, business_day(printed), business_day(ended) if ended else None)
        for vendor, printed, ended in boards
    ]
    rows: list[dict[str, Any]] = []

    def add(on: date, metric: str, value: float, window: int) -> None:
        rows.append(
            {
                "date": on.isoformat(),
                "day": (on - start).days,
                "metric": metric,
                "value": value,
                "window": window,
            }
        )

    week_end = start + timedelta(days=WEEK - 1)
    while week_end <= end:
        days = [week_end - timedelta(days=k) for k in range(WEEK)]
        accepting = {
            v
            for v, printed, ended in live
            if printed <= week_end and (ended is None or ended > week_end)
        }
        active = set().union(*(payers_by_day[d] for d in days))
        add(week_end, "vendors_accepting", len(accepting), 1)
        add(week_end, "vendors_active", len(active), 1)
        add(week_end, "new_wallets", sum(opened_by_day[d] for d in days), WEEK)
        week_end += timedelta(days=WEEK)
    for first, last in _month_ends(start, end):
        month = [amount for day, amount, _ in payments if first <= day <= last]
        window = (last - first).days + 1
        add(last, "qr_tx", len(month), window)
        add(last, "qr_value", sum(month), window)
    rows.sort(key=lambda row: (row["day"], row["metric"]))
    return rows
