"""Small factories for unit tests: the few rows a test needs, made through the registry and money
services (so their rules apply) with defaults a test overrides by keyword. A test that needs only a
market and two stalls makes only those, instead of the whole `world` the API tests share."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from market.db import require_id
from market.money import ledger, wallets
from market.money.models import LedgerAccount
from market.registry import boards, markets, payouts, stalls, vendors
from market.registry.access import SYSTEM, Actor
from market.registry.models import (
    AssignmentCreate,
    Market,
    MarketCreate,
    PayoutAccount,
    PayoutAccountCreate,
    Role,
    Stall,
    StallCreate,
    User,
    Vendor,
    VendorCreate,
)

_serial = itertools.count(1)


def market(session: Session, *, code: str | None = None, name: str = "Chợ thử") -> Market:
    n = next(_serial)
    return markets.create_market(
        session, actor=SYSTEM, data=MarketCreate(code=code or f"cho-{n}", name=f"{name} {n}")
    )


def stall(session: Session, market_id: int, code: str, *, zone_id: int | None = None) -> Stall:
    return stalls.create_stall(
        session, actor=SYSTEM, market_id=market_id, data=StallCreate(code=code, zone_id=zone_id)
    )


def vendor(session: Session, market_id: int, *, full_name: str = "Nguyễn Thị Hường") -> Vendor:
    """A vendor with a fresh mobile number (0912 000 001, 0912 000 002, …)."""
    phone = f"0912{next(_serial):06d}"
    return vendors.create_vendor(
        session,
        actor=SYSTEM,
        market_id=market_id,
        data=VendorCreate(full_name=full_name, phone=phone),
    )


def payout_account(session: Session, vendor_id: int, *, bin_code: str = "970405") -> PayoutAccount:
    number = f"1{next(_serial):012d}"
    return payouts.add_account(
        session,
        actor=SYSTEM,
        vendor_id=vendor_id,
        data=PayoutAccountCreate(bin=bin_code, account_number=number),
    )


def assign(session: Session, stall_id: int, vendor_id: int) -> None:
    stalls.assign_vendor(
        session, actor=SYSTEM, stall_id=stall_id, data=AssignmentCreate(vendor_id=vendor_id)
    )


@dataclass(frozen=True)
class Seller:
    """A vendor trading at one stall with a payout account, so the stall has a live board."""

    stall: Stall
    vendor: Vendor
    account: PayoutAccount
    payload: str


def seller(session: Session, market_id: int, code: str = "B-12") -> Seller:
    the_vendor = vendor(session, market_id)
    account = payout_account(session, require_id(the_vendor))
    the_stall = stall(session, market_id, code)
    assign(session, require_id(the_stall), require_id(the_vendor))
    board = boards.live_board(session, require_id(the_stall))
    assert board is not None, "a stall with a vendor and an account has a live board"
    return Seller(the_stall, the_vendor, account, board.payload)


def user(
    session: Session, role: Role, *, vendor_id: int | None = None, phone: str | None = None
) -> tuple[User, Actor]:
    n = next(_serial)
    row = User(
        username=f"{role.value}.{n}",
        password_hash="not-a-hash",  # unit tests act as the user; nobody signs in
        role=role,
        vendor_id=vendor_id,
        phone=phone,
        full_name=f"Người thử {n}",
    )
    session.add(row)
    session.flush()
    actor = Actor(
        user_id=row.id, username=row.username, role=role, vendor_id=vendor_id, phone=phone
    )
    return row, actor


def shopper(session: Session, *, balance: int, now: datetime) -> tuple[Actor, LedgerAccount]:
    """A shopper with a wallet holding `balance` đồng (topped up once)."""
    _row, actor = user(session, Role.SHOPPER, phone=f"+8490{next(_serial):07d}")
    wallet = ledger.shopper_wallet(session, require_id(_row))
    if balance:
        wallets.top_up(session, wallet=wallet, amount=balance, now=now)
    return actor, wallet
