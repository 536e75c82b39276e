"""Mock wallets: open and sign in, top-up, withdraw, transfer by phone, pay a stall by QR,
refunds and reversals, statements, the vendor's daily slip, closing a market's day, the audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.deps import ClockDep, CurrentUser, SessionDep, SettingsDep
from api.money import (
    MONEY_PROBLEMS,
    PAYER,
    PAYOUT_READER,
    REFUNDER,
    REVERSER,
    WALLET_OWNER,
    PayeePublic,
    money_post,
    payee_public,
)
from api.problems import problem_responses
from market.clock import business_day
from market.db import require_id
from market.errors import InvalidCredentialsError
from market.inputs import Id, IsoDate, WholeNumber
from market.money import days, ledger, statements, wallets
from market.money.models import LedgerAccount, LedgerAccountKind, TransferKind
from market.money.requests import (
    MoneyRequest,
    PayByQR,
    Refund,
    Reversal,
    SendToPhone,
    TopUp,
    Withdrawal,
)
from market.pagination import decode_cursor, encode_cursor
from market.registry.access import Actor, require_role

router = APIRouter(tags=["wallets"], responses=problem_responses(401, 403, 404, 409, 422))
# the money routes, which the app matches before every other route (a payment is the hot path)
money_router = APIRouter(tags=["wallets"], responses=problem_responses(401, 403, 404, 409, 422))
MONEY = MONEY_PROBLEMS

Amount = Annotated[int, Field(gt=0, le=10**12, strict=True, description="whole đồng")]


class OpenWallet(BaseModel):
    phone: str = Field(max_length=32)
    pin: str = Field(max_length=6, description="6 digits")
    full_name: str = Field(min_length=1, max_length=120)


class WalletLogin(BaseModel):
    phone: str = Field(max_length=32)
    pin: str = Field(max_length=128, description="the wallet's PIN (or the user's password)")


class WalletToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    wallet_id: int
    balance: int


class WalletPublic(BaseModel):
    id: int
    kind: str
    balance: int
    monthly_used: int
    monthly_cap: int | None
    daily_limit: int | None


class AmountBody(BaseModel):
    amount: Amount


class TransferBody(BaseModel):
    to_phone: str = Field(max_length=32)
    amount: Amount
    memo: str | None = Field(default=None, max_length=100)


class PayBody(BaseModel):
    payload: str = Field(max_length=2000, description="the scanned VietQR text")
    amount: Amount | None = Field(default=None, description="required for a static code")


class RecipientPublic(BaseModel):
    phone_masked: str
    name_masked: str


class StatementLine(BaseModel):
    entry_id: int
    transfer_id: int
    kind: TransferKind
    amount: int
    balance_after: int
    memo: str | None
    payee: PayeePublic | None = Field(default=None, description="for a payment at a stall")
    business_day: date
    created_at: datetime


class Statement(BaseModel):
    items: list[StatementLine]
    next_cursor: str | None


class SourceTotal(BaseModel):
    count: int
    total: int


class DailySlip(BaseModel):
    """QR payments a vendor received on a business day, by source (masked payer)."""

    vendor_id: int
    business_day: str
    count: int
    total: int
    fees: int
    refunds: int
    net: int
    by_source: dict[str, SourceTotal]
    first_at: str | None
    last_at: str | None
    cash: int | None
    cashless_share: float | None


class ClosedDay(BaseModel):
    market_id: int
    business_day: str
    totals: dict[str, Any] = Field(description="per vendor wallet: count, gross, fees, net")
    content_hash: str
    closed_at: str


class Violation(BaseModel):
    invariant: str
    detail: str


def _wallet_public(wallet: LedgerAccount, now: datetime) -> WalletPublic:
    capped = wallet.kind == LedgerAccountKind.SHOPPER_WALLET
    return WalletPublic(
        id=require_id(wallet),
        kind=wallet.kind,
        balance=wallet.balance,
        monthly_used=ledger.month_used(wallet, ledger.month_start(now).date()) if capped else 0,
        monthly_cap=ledger.CUSTOMER_MONTHLY_CAP if capped else None,
        daily_limit=wallet.daily_limit,
    )


@router.post("/wallets", response_model=WalletToken, status_code=201, responses=MONEY)
def open_wallet(
    data: OpenWallet, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> WalletToken:
    """Open a shopper wallet with a mobile number and a 6-digit PIN (mock KYC); signs in."""
    raw, _user, wallet = wallets.open_wallet(
        session,
        phone=data.phone,
        pin=data.pin,
        full_name=data.full_name,
        settings=settings,
        now=clock(),
    )
    return WalletToken(access_token=raw, wallet_id=require_id(wallet), balance=wallet.balance)


@router.post("/wallets/token", response_model=WalletToken, responses=problem_responses(429))
def wallet_token(
    data: WalletLogin, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> WalletToken:
    """Sign in to a wallet with phone and PIN (throttled like every login)."""
    client = request.client.host if request.client else "unknown"
    try:
        raw, user = wallets.wallet_login(
            session, phone=data.phone, pin=data.pin, client=client, settings=settings, now=clock()
        )
    except InvalidCredentialsError:
        session.commit()
        raise
    wallet = ledger.shopper_wallet(session, require_id(user))
    return WalletToken(access_token=raw, wallet_id=require_id(wallet), balance=wallet.balance)


@router.get("/wallets/me", response_model=WalletPublic)
def my_wallet(actor: CurrentUser, session: SessionDep, clock: ClockDep) -> WalletPublic:
    return _wallet_public(wallets.own_wallet(session, actor), clock())


@money_post(money_router, "/wallets/me/top-ups", WALLET_OWNER)
def top_up(data: AmountBody) -> MoneyRequest:
    """Nạp tiền into the caller's wallet."""
    return TopUp(data.amount)


@money_post(money_router, "/wallets/me/withdrawals", WALLET_OWNER)
def withdraw(data: AmountBody) -> MoneyRequest:
    """Rút tiền from the caller's wallet."""
    return Withdrawal(data.amount)


@router.get("/wallets/lookup", response_model=RecipientPublic)
def lookup(
    actor: CurrentUser, session: SessionDep, phone: Annotated[str, Query(max_length=32)]
) -> RecipientPublic:
    """Whose wallet a phone number is (masked), to confirm before transferring."""
    wallets.own_wallet(session, actor)
    found = wallets.lookup(session, phone=phone)
    return RecipientPublic(phone_masked=found.phone_masked, name_masked=found.name_masked)


@money_post(money_router, "/wallets/me/transfers", WALLET_OWNER)
def transfer(data: TransferBody) -> MoneyRequest:
    """Chuyển tiền to another wallet by phone number."""
    return SendToPhone(data.to_phone, data.amount, data.memo)


@money_post(money_router, "/wallets/me/payments", PAYER)
def pay(data: PayBody) -> MoneyRequest:
    """Pay a stall by its scanned VietQR (a static code needs `amount`; a dynamic code fixes it)."""
    return PayByQR(data.payload, data.amount)


def _statement(
    session: Session, actor: Actor, wallet: LedgerAccount, cursor: str | None, limit: int
) -> Statement:
    parsed = decode_cursor(cursor)
    rows = statements.statement(
        session, require_id(wallet), before_id=parsed.last_id if parsed else None, limit=limit
    )
    items = [
        StatementLine(
            entry_id=require_id(row.entry),
            transfer_id=require_id(row.transfer),
            kind=row.transfer.kind,
            amount=row.entry.amount,
            balance_after=row.entry.balance_after,
            memo=row.transfer.memo,
            payee=payee_public(row.payee, actor) if row.payee else None,
            business_day=row.entry.business_day,
            created_at=row.entry.created_at,
        )
        for row in rows[:limit]
    ]
    more = len(rows) > limit
    return Statement(items=items, next_cursor=encode_cursor(items[-1].entry_id) if more else None)


@router.get("/wallets/me/statement", response_model=Statement)
def my_statement(
    actor: CurrentUser,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[WholeNumber, Query(ge=1, le=200)] = 50,
) -> Statement:
    """Entries newest first; pages neither repeat nor skip rows while payments arrive."""
    return _statement(session, actor, wallets.own_wallet(session, actor), cursor, limit)


@router.get("/payout-accounts/{account_id}/wallet", response_model=WalletPublic)
def vendor_wallet(
    actor: CurrentUser, session: SessionDep, clock: ClockDep, account_id: Id
) -> WalletPublic:
    return _wallet_public(wallets.vendor_wallet_for(session, actor, account_id), clock())


@router.get("/payout-accounts/{account_id}/statement", response_model=Statement)
def vendor_statement(
    actor: CurrentUser,
    session: SessionDep,
    account_id: Id,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[WholeNumber, Query(ge=1, le=200)] = 50,
) -> Statement:
    wallet = wallets.vendor_wallet_for(session, actor, account_id)
    return _statement(session, actor, wallet, cursor, limit)


@money_post(money_router, "/payout-accounts/{account_id}/withdrawals", PAYOUT_READER)
def vendor_withdraw(account_id: Id, data: AmountBody) -> MoneyRequest:
    """Rút tiền from a vendor wallet."""
    return Withdrawal(data.amount, account_id)


@money_post(money_router, "/payments/{payment_id}/refunds", REFUNDER)
def refund(payment_id: Id, data: AmountBody) -> MoneyRequest:
    """The vendor refunds part or all of a payment (never more than the payment in total)."""
    return Refund(payment_id, data.amount)


@money_post(money_router, "/payments/{payment_id}/reversal", REVERSER)
def reversal(payment_id: Id) -> MoneyRequest:
    """An admin reverses a payment that has not been refunded."""
    return Reversal(payment_id)


@router.get("/vendors/{vendor_id}/slip", response_model=DailySlip)
def daily_slip(
    actor: CurrentUser,
    session: SessionDep,
    clock: ClockDep,
    vendor_id: Id,
    day: IsoDate | None = None,
    cash: Annotated[WholeNumber | None, Query(ge=0, le=10**12)] = None,
) -> DailySlip:
    """The end-of-day slip for a business day (Asia/Ho_Chi_Minh; default today)."""
    slip = days.daily_slip(
        session, actor=actor, vendor_id=vendor_id, day=day or business_day(clock()), cash=cash
    )
    return DailySlip.model_validate(slip)


@router.post("/markets/{market_id}/days/{day}/close", response_model=ClosedDay)
def close_day(
    actor: CurrentUser, session: SessionDep, clock: ClockDep, market_id: Id, day: IsoDate
) -> ClosedDay:
    """Freeze the market's per-vendor totals for a day that is over; its hash never changes."""
    closed = days.close_day(session, actor=actor, market_id=market_id, day=day, now=clock())
    return ClosedDay(
        market_id=market_id,
        business_day=day.isoformat(),
        totals=closed.totals,
        content_hash=closed.content_hash,
        closed_at=closed.closed_at.isoformat(),
    )


@router.get("/ledger/audit", response_model=list[Violation])
def ledger_audit(actor: CurrentUser, session: SessionDep) -> list[Violation]:
    """Every violated ledger invariant (admin); an empty list means all hold."""
    require_role(actor)
    return [Violation(invariant=v.invariant, detail=v.detail) for v in ledger.audit(session)]
