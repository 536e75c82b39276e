"""An account's statement: its entries newest first, each with its transfer and, for a payment
at a stall, the payee as registered (stall, market, vendor)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as wide_select  # more columns than sqlmodel's overloads take
from sqlmodel import Session, col

from market.money.models import Entry, Transfer
from market.money.requests import Payee
from market.registry.models import Board, Market, Stall, Vendor


@dataclass(frozen=True)
class StatementRow:
    entry: Entry
    transfer: Transfer
    payee: Payee | None  # for a payment through a stall's board


def statement(
    session: Session, account_id: int, *, before_id: int | None, limit: int
) -> list[StatementRow]:
    """Entries of an account newest first, keyset-paginated on the entry id (stable while new
    entries arrive: they have larger ids); `limit + 1` rows tell whether a page follows."""
    query: Any = (
        wide_select(
            Entry,
            Transfer,
            col(Stall.code).label("stall"),
            col(Market.name).label("market"),
            col(Vendor.full_name).label("vendor"),
        )
        .join(Transfer, col(Transfer.id) == Entry.transfer_id)
        .outerjoin(Board, col(Board.id) == Transfer.board_id)
        .outerjoin(Stall, col(Stall.id) == Board.stall_id)
        .outerjoin(Market, col(Market.id) == Board.market_id)
        .outerjoin(Vendor, col(Vendor.id) == Board.vendor_id)
        .where(col(Entry.account_id) == account_id)
    )
    if before_id is not None:
        query = query.where(col(Entry.id) < before_id)
    rows = session.execute(query.order_by(col(Entry.id).desc()).limit(limit + 1))
    return [
        StatementRow(
            row.Entry,
            row.Transfer,
            Payee(row.stall, row.market, row.vendor) if row.market is not None else None,
        )
        for row in rows
    ]
