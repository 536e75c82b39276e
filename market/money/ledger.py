"""The ledger: the only code that writes transfers and entries (mock money, real guarantees).

Design, stated up front:

- Double entry. Every transfer writes entries that sum to zero; each account's cached balance
  moves in the same transaction, and each entry records the balance it left (`balance_after`).
- Only system accounts (cash-in, cash-out, fees) may go below zero; a database CHECK refuses a
  negative wallet, and the debit itself is conditional (`UPDATE … WHERE balance >= amount`).
- Writers move balances in ascending account id order, each UPDATE locking its row on
  PostgreSQL (SQLite runs one writer at a time with `BEGIN IMMEDIATE`), so concurrent requests
  can neither overdraw nor deadlock; the caller retries the whole transaction on a serialization
  failure. A refusal found after some rows moved rolls the whole transaction back.
- Limits: one transfer stays below the NAPAS cap; a shopper wallet's transfers and payments stay
  under the monthly cap, kept as a counter that the capped debit moves in the same statement;
  a wallet's optional daily limit is checked against the day's journal under the row lock.
- Posted rows are never updated or deleted (database triggers refuse it). Refunds and reversals
  are new transfers pointing at the original; refunds of a payment never exceed it.
- Every money request carries an idempotency key (`idempotency.py`).
- On PostgreSQL a transfer's writes are one statement, which may carry follow-ups written from
  the new transfer's row (`FollowUp`: its event, its key's stored answer) and then be committed
  on its own (`one_statement.py`): a refused leg then fails the whole statement.
- Each transfer belongs to the business day (Asia/Ho_Chi_Minh) of its instant; a closed day's
  per-vendor totals are frozen with a content hash.

`audit()` checks the invariants I1–I12 (conservation, balanced transfers, balances equal to
the journal, …; listed in README "Mock wallets on a real ledger", after TigerBeetle's published
account and transfer rules) and returns the violations.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, NoReturn

from sqlalchemy import (
    JSON,
    Connection,
    Insert,
    Update,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    true,
    union_all,
    update,
)
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import CTE, BindParameter, ColumnElement, FromClause
from sqlmodel import Session, SQLModel, col, select

from market.clock import MARKET_TZ, business_day
from market.db import require_id
from market.errors import (
    InsufficientFundsError,
    LimitExceededError,
    RefundExceedsPaymentError,
)
from market.money.models import (
    DayClose,
    Entry,
    IdempotencyRecord,
    LedgerAccount,
    LedgerAccountKind,
    Transfer,
    TransferKind,
)
from qr.amounts import format_vnd

NAPAS_TRANSFER_CAP = 499_999_999  # one transfer is below 500,000,000 ₫
CUSTOMER_MONTHLY_CAP = 100_000_000  # Circular 40/2024/TT-NHNN art. 26, customer e-wallets
SYSTEM_KINDS = (LedgerAccountKind.CASH_IN, LedgerAccountKind.CASH_OUT, LedgerAccountKind.FEES)
# Outgoing kinds that count against a customer wallet's monthly cap (withdrawal to one's own
# account does not, per the Vietnamese text of the circular).
CAPPED_KINDS = (TransferKind.TRANSFER, TransferKind.PAYMENT)

# ---------------------------------------------------------------------------------------------
# Statements of the hot path, built once: SQLAlchemy Core with bound parameters (no per-call
# statement building, no unit-of-work flush), the same text on SQLite and PostgreSQL.

ACCOUNTS = SQLModel.metadata.tables["ledger_account"]
TRANSFERS = SQLModel.metadata.tables["transfer"]
ENTRIES = SQLModel.metadata.tables["entry"]

_ACCOUNT_BY = {
    "kind": select(LedgerAccount).where(LedgerAccount.kind == bindparam("value")),
    "owner_user_id": select(LedgerAccount).where(LedgerAccount.owner_user_id == bindparam("value")),
    "payout_account_id": select(LedgerAccount).where(
        LedgerAccount.payout_account_id == bindparam("value")
    ),
}
_LOCK = (
    core_select(ACCOUNTS.c.id)
    .where(ACCOUNTS.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(ACCOUNTS.c.id)
    .with_for_update()
)


class Move(StrEnum):
    """How one leg moves its account's balance (the rules of a debit live in `leg_update`)."""

    CREDIT = "credit"
    DEBIT = "debit"  # refused if it would overdraw an account that may not go negative
    CAPPED_DEBIT = "capped-debit"  # also refused past a shopper wallet's monthly cap


def leg_update(move: Move, n: int = 0) -> Update:
    """The UPDATE that moves one leg's balance and returns the new balance, with its parameters
    named `amount_<n>` and `account_<n>` (so several legs fit in one statement). A refused
    debit updates no row and returns nothing.

    A shopper wallet's capped debit also moves its monthly counter, and is refused with the
    debit when the month's total would pass the cap (the counter restarts when the month
    changes)."""
    amount: BindParameter[int] = bindparam(f"amount_{n}")
    account: BindParameter[int] = bindparam(f"account_{n}")
    statement = update(ACCOUNTS).where(ACCOUNTS.c.id == account)
    balance = ACCOUNTS.c.balance + amount
    if move is Move.CREDIT:
        return statement.values(balance=balance).returning(ACCOUNTS.c.balance)
    if move is Move.DEBIT:
        return (
            statement.where(ACCOUNTS.c.allow_negative | (balance >= 0))
            .values(balance=balance)
            .returning(ACCOUNTS.c.balance)
        )
    month_used = (
        case((ACCOUNTS.c.capped_month == bindparam("month"), ACCOUNTS.c.capped_used), else_=0)
        - amount
    )
    return (
        statement.where(balance >= 0, month_used <= CUSTOMER_MONTHLY_CAP)
        .values(balance=balance, capped_used=month_used, capped_month=bindparam("month"))
        .returning(ACCOUNTS.c.balance)
    )


_LEG = {move: leg_update(move) for move in Move}
_INSERT_TRANSFER = insert(TRANSFERS).returning(TRANSFERS.c.id)
_INSERT_ENTRY = insert(ENTRIES)
_OUTGOING = core_select(func.coalesce(func.sum(TRANSFERS.c.amount), 0)).where(
    TRANSFERS.c.debit_account_id == bindparam("account_id"),
    TRANSFERS.c.kind.in_(bindparam("kinds", expanding=True)),
    TRANSFERS.c.created_at >= bindparam("since"),
)


# ---------------------------------------------------------------------------------------------
# Accounts


def _get_or_create(
    session: Session, by: str, value: Any, make: Callable[[], LedgerAccount]
) -> LedgerAccount:
    query = _ACCOUNT_BY[by]
    found: LedgerAccount | None = session.exec(query, params={"value": value}).first()
    if found is not None:
        return found
    savepoint = session.begin_nested()
    try:
        account = make()
        session.add(account)
        session.flush()
    except IntegrityError:
        savepoint.rollback()  # created concurrently: use that one
        existing: LedgerAccount = session.exec(query, params={"value": value}).one()
        return existing
    savepoint.commit()
    return account


def system_account(session: Session, kind: LedgerAccountKind) -> LedgerAccount:
    if kind not in SYSTEM_KINDS:
        raise ValueError(f"{kind} is not a system account")
    return _get_or_create(
        session, "kind", kind, lambda: LedgerAccount(kind=kind, allow_negative=True)
    )


def shopper_wallet(session: Session, user_id: int) -> LedgerAccount:
    return _get_or_create(
        session,
        "owner_user_id",
        user_id,
        lambda: LedgerAccount(kind=LedgerAccountKind.SHOPPER_WALLET, owner_user_id=user_id),
    )


def vendor_wallet(session: Session, payout_account_id: int) -> LedgerAccount:
    """Every registered payout account is a vendor wallet in the mock world."""
    return _get_or_create(
        session,
        "payout_account_id",
        payout_account_id,
        lambda: LedgerAccount(
            kind=LedgerAccountKind.VENDOR_WALLET, payout_account_id=payout_account_id
        ),
    )


# ---------------------------------------------------------------------------------------------
# Posting


_ROW_FIELDS = ("id", "kind", "daily_limit", "balance")


@dataclass
class AccountRow:
    """An account as a Core read gives it, without an ORM object (a payment's hot path reads its
    two wallets joined to other rows): what a transfer needs of it. Its `balance` is set to the
    new one when a transfer moves it."""

    id: int
    kind: str
    daily_limit: int | None
    balance: int


Account = LedgerAccount | AccountRow


def account_columns(prefix: str) -> tuple[ColumnElement[Any], ...]:
    """An account's `AccountRow` columns, labelled `<prefix>_<name>`, to join into a read."""
    return tuple(ACCOUNTS.c[name].label(f"{prefix}_{name}") for name in _ROW_FIELDS)


def account_of(row: Any, prefix: str) -> AccountRow | None:
    """The account a read joined with `account_columns(prefix)` (None: no such account)."""
    values = {name: getattr(row, f"{prefix}_{name}") for name in _ROW_FIELDS}
    return None if values["id"] is None else AccountRow(**values)


@dataclass(frozen=True)
class Leg:
    account_id: int
    amount: int  # signed: negative debits, positive credits


def _lock(session: Session, account_ids: list[int]) -> None:
    """Lock the accounts in ascending id order before `checks` reads history (PostgreSQL; SQLite
    already runs one writer at a time)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK, {"ids": account_ids}).all()


def _move_of(leg: Leg, capped_month: date | None) -> Move:
    if leg.amount > 0:
        return Move.CREDIT
    return Move.DEBIT if capped_month is None else Move.CAPPED_DEBIT


def _apply(session: Session, leg: Leg, *, capped_month: date | None) -> int:
    """Move one account's balance; a debit is refused if it would overdraw (or, for a capped
    debit, pass the monthly cap). Returns the new balance."""
    parameters: dict[str, Any] = {"amount_0": leg.amount, "account_0": leg.account_id}
    if capped_month is not None:
        parameters["month"] = capped_month
    statement = _LEG[_move_of(leg, capped_month)]
    balance = session.connection().execute(statement, parameters).scalar()
    if balance is None:
        _refuse(session, leg, capped_month)
    return int(balance)


def _refuse(session: Session, leg: Leg, capped_month: date | None) -> NoReturn:
    """Raise the refusal of a debit that moved nothing: the monthly cap, or the funds."""
    if capped_month is not None:
        _refuse_over_cap(session, leg, capped_month)
    raise InsufficientFundsError(
        "Số dư không đủ để thực hiện giao dịch (insufficient funds).",
        extra={"needed": -leg.amount},
    )


def _refuse_over_cap(session: Session, leg: Leg, month: date) -> None:
    """Raise the monthly cap refusal when that is why a capped debit was refused."""
    account = session.get(LedgerAccount, leg.account_id)
    assert account is not None
    session.refresh(account)
    used = month_used(account, month)
    if used - leg.amount > CUSTOMER_MONTHLY_CAP:
        raise LimitExceededError(
            f"Vượt hạn mức {format_vnd(CUSTOMER_MONTHLY_CAP)}/tháng của ví cá nhân "
            "(monthly e-wallet cap).",
            extra={"limit": CUSTOMER_MONTHLY_CAP, "used": used},
        )


def month_used(account: LedgerAccount, month: date) -> int:
    """What the monthly cap has counted on a shopper wallet in the local month starting on
    `month` (its counter restarts when a new month's first capped debit lands)."""
    return account.capped_used if account.capped_month == month else 0


@dataclass(frozen=True)
class Posting:
    """One transfer to write, as data: `amount` leaves `debit` for `credit`, `fee` of it kept by
    the fees account; what it links to and says. `post` writes it with its legs."""

    kind: TransferKind
    debit: Account
    credit: Account
    amount: int
    fee: int = 0
    fees_account: Account | None = None
    original_id: int | None = None
    board_id: int | None = None
    market_id: int | None = None
    memo: str | None = None
    source_label: str | None = None


def legs_of(posting: Posting) -> list[Leg]:
    """The ordinary legs: the whole amount leaves `debit`, `amount - fee` reaches `credit` and
    `fee` the fees account."""
    legs = [
        Leg(require_id(posting.debit), -posting.amount),
        Leg(require_id(posting.credit), posting.amount - posting.fee),
    ]
    if posting.fee and posting.fees_account is not None:
        legs.append(Leg(require_id(posting.fees_account), posting.fee))
    return legs


@dataclass(frozen=True)
class FollowUp:
    """A write that joins a transfer's own statement on PostgreSQL, so that the transfer, its
    entries and what announces or records it are one statement (committed alone, in
    autocommit, they need no BEGIN or COMMIT): `build(new_transfer, payer)` makes it from the
    new transfer's row (a CTE with its `id`) and the debited account's leg (a CTE with its new
    `balance`); `parameters` holds its values, named apart from the ledger's."""

    build: Callable[[CTE, CTE], Insert]
    parameters: dict[str, Any]


# the transfer about to be written (its id 0 until the statement writes it) → its follow-ups
FollowUps = Callable[[Transfer], tuple[FollowUp, ...]]


def json_with(value: BindParameter[Any], **written: ColumnElement[Any]) -> ColumnElement[Any]:
    """A JSON parameter with keys set from the statement's own rows (PostgreSQL): the id of a
    row it inserts, a balance it moves."""
    pairs = [part for key, column in written.items() for part in (literal(key), column)]
    merged = cast(value, JSONB).op("||", return_type=JSONB)(func.jsonb_build_object(*pairs))
    return cast(merged, JSON)


def move(
    session: Session,
    posting: Posting,
    *,
    now: datetime,
    checks: Callable[[], None] | None = None,
    then: FollowUps | None = None,
) -> Transfer:
    """Write an ordinary transfer (top-up, withdrawal, transfer, payment, refund): its legs are
    `legs_of(posting)`."""
    return post(session, posting, legs_of(posting), now=now, checks=checks, then=then)


def reverse(
    session: Session, posting: Posting, *, now: datetime, checks: Callable[[], None]
) -> Transfer:
    """Write a reversal of a payment: `posting.credit` (the payer) gets the whole amount back,
    `posting.debit` (the payee) gives back `amount - fee` and the fees account gives back
    `fee`: the payment's legs with their signs turned."""
    legs = [
        Leg(require_id(posting.debit), -(posting.amount - posting.fee)),
        Leg(require_id(posting.credit), posting.amount),
    ]
    if posting.fee and posting.fees_account is not None:
        legs.append(Leg(require_id(posting.fees_account), -posting.fee))
    return post(session, posting, legs, now=now, checks=checks)


def post(
    session: Session,
    posting: Posting,
    legs: list[Leg],
    *,
    now: datetime,
    checks: Callable[[], None] | None = None,
    then: FollowUps | None = None,
) -> Transfer:
    """Write one transfer and its legs (signed amounts that sum to zero).

    Balances move in ascending account id order (each UPDATE locks its row, so concurrent
    transfers cannot deadlock) and the wallet limits are enforced here on `posting.debit`.
    `checks` (rules that read history, such as refunds not exceeding the payment) runs first,
    once the rows are locked in the same order. A refusal may leave the transaction
    half-written: the caller rolls it back. `then` adds follow-ups to the transfer's one
    statement (PostgreSQL, no daily limit: refused elsewhere)."""
    amount, fee, debit = posting.amount, posting.fee, posting.debit
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive int of đồng")
    if amount > NAPAS_TRANSFER_CAP:
        raise LimitExceededError(
            f"Một giao dịch phải dưới {format_vnd(NAPAS_TRANSFER_CAP + 1)} "
            f"(one transfer must be below {format_vnd(NAPAS_TRANSFER_CAP + 1)}).",
            extra={"limit": NAPAS_TRANSFER_CAP},
        )
    if not 0 <= fee <= amount or (fee and posting.fees_account is None):
        raise ValueError("fee must be between 0 and the amount, with a fees account")
    if sum(leg.amount for leg in legs) != 0:
        raise ValueError("a transfer's legs must sum to zero")
    legs = sorted((leg for leg in legs if leg.amount != 0), key=_by_account)
    if checks is not None:
        _lock(session, [leg.account_id for leg in legs])
        checks()
    capped = posting.kind in CAPPED_KINDS and debit.kind == LedgerAccountKind.SHOPPER_WALLET
    month = month_start(now).date() if capped else None
    moves = [(leg, month if leg.account_id == debit.id else None) for leg in legs]
    fields: dict[str, Any] = {
        "kind": posting.kind,
        "amount": amount,
        "fee": fee,
        "debit_account_id": require_id(debit),
        "credit_account_id": require_id(posting.credit),
        "original_id": posting.original_id,
        "board_id": posting.board_id,
        "market_id": posting.market_id,
        "memo": posting.memo,
        "source_label": posting.source_label,
        "business_day": business_day(now),
        "created_at": now,
    }
    connection = session.connection()
    transfer = Transfer(id=0, **fields)  # its id once written
    if debit.daily_limit is None and _in_one_statement(connection):
        follow_ups = then(transfer) if then is not None else ()
        transfer_id, balances = _write_chained(session, moves, fields, month, follow_ups)
    elif then is not None:
        raise ValueError("follow-ups join only a transfer written in one statement")
    else:
        transfer_id, balances = _write_step_by_step(session, moves, fields, debit, now)
    # the accounts the caller holds (and the session's identity map) now show the balances the
    # database holds: a caller reads a balance after the transfer from its account object
    for account in (debit, posting.credit, posting.fees_account):
        if isinstance(account, AccountRow) and account.id in balances:
            account.balance = balances[account.id]
        elif account is not None and account.id in balances:
            set_committed_value(account, "balance", balances[account.id])
    transfer.id = transfer_id
    return transfer


Moves = list[tuple[Leg, date | None]]  # each leg with the month it is capped in (None: uncapped)


def _in_one_statement(connection: Connection) -> bool:
    """Whether this connection writes a transfer in one statement: on PostgreSQL, unless its
    execution options ask for `ledger_step_by_step` (the test comparing both paths does)."""
    return connection.dialect.name == "postgresql" and not connection.get_execution_options().get(
        "ledger_step_by_step", False
    )


def _write_step_by_step(
    session: Session, moves: Moves, fields: dict[str, Any], debit: Account, now: datetime
) -> tuple[int, dict[int, int]]:
    """Each leg's UPDATE in turn (a refusal raises at once), the daily limit checked under the
    row lock, then the transfer and its entries: the SQLite path, and PostgreSQL's when the
    debited wallet has a daily limit."""
    balances = {leg.account_id: _apply(session, leg, capped_month=month) for leg, month in moves}
    if debit.daily_limit is not None:
        _check_daily_limit(session, debit, fields["amount"], now)
    connection = session.connection()
    transfer_id = connection.execute(_INSERT_TRANSFER, fields).scalar_one()
    connection.execute(
        _INSERT_ENTRY, [_entry(transfer_id, leg, balances, fields) for leg, _ in moves]
    )
    return transfer_id, balances


def _entry(
    transfer_id: int, leg: Leg, balances: dict[int, int], fields: dict[str, Any]
) -> dict[str, Any]:
    return {
        "transfer_id": transfer_id,
        "account_id": leg.account_id,
        "amount": leg.amount,
        "balance_after": balances[leg.account_id],
        "business_day": fields["business_day"],
        "created_at": fields["created_at"],
    }


def _write_chained(
    session: Session,
    moves: Moves,
    fields: dict[str, Any],
    month: date | None,
    follow_ups: tuple[FollowUp, ...] = (),
) -> tuple[int, dict[int, int]]:
    """The same writes as `_write_step_by_step` in one round trip (PostgreSQL): the legs'
    UPDATEs (`leg_update`, the same rules) chained in account id order, each running only if
    the one before moved its row, then the transfer and its entries only if the last did. A
    refused debit leaves the statement without a row; the refusal is then named as the step
    path names it (the caller rolls the transaction back)."""
    shape = tuple(_move_of(leg, capped) for leg, capped in moves)
    parameters: dict[str, Any] = {
        f"{name}_{n}": value
        for n, (leg, _) in enumerate(moves)
        for name, value in (("amount", leg.amount), ("account", leg.account_id))
    }
    parameters |= {f"t_{name}": value for name, value in fields.items()} | {"month": month}
    for follow_up in follow_ups:
        parameters |= follow_up.parameters
    debit = fields["debit_account_id"]
    payer = next(n for n, (leg, _) in enumerate(moves) if leg.account_id == debit)
    statement = _chained(shape, tuple(f.build for f in follow_ups), payer)
    row = session.connection().execute(statement, parameters).first()
    if row is None:
        refused = next(
            (leg, capped) for leg, capped in moves if leg.account_id == fields["debit_account_id"]
        )
        _refuse(session, *refused)
    balances = {leg.account_id: int(row[n + 1]) for n, (leg, _) in enumerate(moves)}
    return int(row[0]), balances


@lru_cache(maxsize=32)
def _chained(
    shape: tuple[Move, ...],
    follow_ups: tuple[Callable[[CTE, CTE], Insert], ...] = (),
    payer: int = 0,
) -> Any:
    """The one statement for legs of these moves, in this order (built once per shape). With
    follow-ups (given the debited leg's position) it writes everything or fails: it may be
    committed on its own."""
    legs: list[CTE] = []
    for n, move in enumerate(shape):
        statement = leg_update(move, n)
        if legs:
            statement = statement.where(core_select(legs[-1].c.balance).exists())
        legs.append(statement.cte(f"leg_{n}"))
    columns = [c.name for c in TRANSFERS.c if c.name != "id"]
    transfer = (
        insert(TRANSFERS)
        .from_select(
            columns,
            core_select(*(bindparam(f"t_{c}", type_=TRANSFERS.c[c].type) for c in columns)).where(
                core_select(legs[-1].c.balance).exists()
            ),
        )
        .returning(TRANSFERS.c.id)
        .cte("new_transfer")
    )
    entries = insert(ENTRIES).from_select(
        ["transfer_id", "account_id", "amount", "balance_after", "business_day", "created_at"],
        union_all(
            *(
                core_select(
                    transfer.c.id,
                    bindparam(f"account_{n}", type_=ENTRIES.c.account_id.type),
                    bindparam(f"amount_{n}", type_=ENTRIES.c.amount.type),
                    leg.c.balance,
                    bindparam("t_business_day", type_=TRANSFERS.c.business_day.type),
                    bindparam("t_created_at", type_=TRANSFERS.c.created_at.type),
                ).select_from(transfer.join(leg, true()))
                for n, leg in enumerate(legs)
            )
        ),
    )
    if not follow_ups:
        joined: FromClause = transfer
        for leg in legs:
            joined = joined.join(leg, true())
        return (
            core_select(transfer.c.id, *(leg.c.balance for leg in legs))
            .select_from(joined)
            .add_cte(entries.cte("new_entries"))
        )
    # Committed alone, a refused leg must undo the legs before it: the statement then fails
    # (division by zero: no transfer was written) rather than answer no row.
    whole = literal(1) / core_select(func.count()).select_from(transfer).scalar_subquery()
    chained = core_select(
        core_select(transfer.c.id).scalar_subquery(),
        *(core_select(leg.c.balance).scalar_subquery() for leg in legs),
        whole.label("whole"),
    ).add_cte(entries.cte("new_entries"))
    for n, build in enumerate(follow_ups):
        chained = chained.add_cte(build(transfer, legs[payer]).cte(f"then_{n}"))
    return chained


def _by_account(leg: Leg) -> int:
    return leg.account_id


def outgoing_total(
    session: Session, account_id: int, since: datetime, kinds: tuple[str, ...]
) -> int:
    """What left an account through `kinds` of transfer since an instant."""
    total = (
        session.connection()
        .execute(_OUTGOING, {"account_id": account_id, "kinds": list(kinds), "since": since})
        .scalar_one()
    )
    return int(total)


def month_start(now: datetime) -> datetime:
    local = now.astimezone(MARKET_TZ)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def day_start(now: datetime) -> datetime:
    return now.astimezone(MARKET_TZ).replace(hour=0, minute=0, second=0, microsecond=0)


def _check_daily_limit(session: Session, wallet: Account, amount: int, now: datetime) -> None:
    """Refuse what would take the wallet's outgoing total for the local day past its own daily
    limit (this transfer is not in the journal yet)."""
    assert wallet.daily_limit is not None
    used = outgoing_total(
        session, require_id(wallet), day_start(now), tuple(k.value for k in TransferKind)
    )
    if used + amount > wallet.daily_limit:
        raise LimitExceededError(
            "Vượt hạn mức trong ngày của ví (the wallet's daily limit).",
            extra={"limit": wallet.daily_limit, "used": used},
        )


def refunded_total(session: Session, payment_id: int) -> int:
    total = session.exec(
        select(func.coalesce(func.sum(Transfer.amount), 0)).where(
            Transfer.original_id == payment_id,
            col(Transfer.kind).in_([TransferKind.REFUND, TransferKind.REVERSAL]),
        )
    ).one()
    return int(total)


def check_refundable(session: Session, payment: Transfer, amount: int) -> None:
    already = refunded_total(session, require_id(payment))
    if already + amount > payment.amount:
        raise RefundExceedsPaymentError(
            f"Đã hoàn {format_vnd(already)} trên {format_vnd(payment.amount)}; "
            f"không thể hoàn thêm {format_vnd(amount)} "
            "(refunds would exceed the payment).",
            extra={"refunded": already, "payment": payment.amount},
        )


# ---------------------------------------------------------------------------------------------
# Closing days


def close_totals(session: Session, market_id: int, day: date) -> dict[str, Any]:
    """Per vendor wallet totals of a market's payments, refunds and reversals for one day."""
    rows = session.exec(
        select(Transfer)
        .where(Transfer.market_id == market_id, Transfer.business_day == day)
        .order_by(col(Transfer.id))
    ).all()
    return _totals(market_id, day, rows)


def _totals(market_id: int, day: date, rows: Sequence[Transfer]) -> dict[str, Any]:
    """`close_totals` of a day's transfers (in id order)."""
    totals: dict[str, dict[str, int]] = {}
    for transfer in rows:
        if transfer.kind == TransferKind.PAYMENT:
            account, sign = transfer.credit_account_id, 1
        elif transfer.kind in (TransferKind.REFUND, TransferKind.REVERSAL):
            account, sign = transfer.debit_account_id, -1
        else:
            continue
        bucket = totals.setdefault(str(account), {"count": 0, "gross": 0, "fees": 0, "net": 0})
        bucket["count"] += 1 if sign > 0 else 0
        bucket["gross"] += sign * transfer.amount
        bucket["fees"] += sign * transfer.fee if sign > 0 else 0
        bucket["net"] += sign * (transfer.amount - (transfer.fee if sign > 0 else 0))
    return {
        "market_id": market_id,
        "business_day": day.isoformat(),
        "transfers": len(rows),
        "vendor_wallets": totals,
    }


def content_hash(totals: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(totals, sort_keys=True).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Audit


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str


def _balances_sum_to_zero(session: Session) -> list[Violation]:
    total = session.exec(select(func.coalesce(func.sum(LedgerAccount.balance), 0))).one()
    return [] if int(total) == 0 else [Violation("I1", f"sum of all balances is {total}, not 0")]


def _transfers_balance(session: Session) -> list[Violation]:
    unbalanced = session.exec(
        select(Entry.transfer_id, func.sum(Entry.amount))
        .group_by(col(Entry.transfer_id))
        .having(func.sum(Entry.amount) != 0)
    ).all()
    return [Violation("I2", f"transfer {t} entries sum to {s}") for t, s in unbalanced]


def _transfers_have_entries(session: Session) -> list[Violation]:
    empty = session.exec(
        select(Transfer.id).where(
            ~select(Entry.id).where(Entry.transfer_id == Transfer.id).exists()
        )
    ).all()
    return [Violation("I2", f"transfer {t} has no entries") for t in empty]


def _balances_match_journal(session: Session) -> list[Violation]:
    journal = (
        select(Entry.account_id, func.sum(Entry.amount).label("total"))
        .group_by(col(Entry.account_id))
        .subquery()
    )
    rows = session.exec(
        select(LedgerAccount.id, LedgerAccount.balance, journal.c.total).outerjoin(
            journal, journal.c.account_id == LedgerAccount.id
        )
    ).all()
    return [
        Violation("I3", f"account {a} balance {balance} but journal {int(total or 0)}")
        for a, balance, total in rows
        if balance != int(total or 0)
    ]


def _no_overdraft(session: Session) -> list[Violation]:
    negative = session.exec(
        select(LedgerAccount.id, LedgerAccount.balance).where(
            LedgerAccount.balance < 0, ~col(LedgerAccount.allow_negative)
        )
    ).all()
    return [Violation("I4", f"account {a} is negative: {balance}") for a, balance in negative]


def _cap_counters_match_journal(session: Session) -> list[Violation]:
    """Each shopper wallet's monthly counter equals its capped transfers of that month."""
    rows = session.exec(
        select(LedgerAccount, Transfer.amount, Transfer.created_at)
        .outerjoin(
            Transfer,
            (col(Transfer.debit_account_id) == LedgerAccount.id)
            & col(Transfer.kind).in_(CAPPED_KINDS),
        )
        .where(col(LedgerAccount.capped_month).is_not(None))
    ).all()
    counted: dict[int, int] = {}
    accounts: dict[int, LedgerAccount] = {}
    for account, amount, created_at in rows:
        key = require_id(account)
        accounts[key] = account
        in_month = created_at is not None and month_start(created_at).date() == account.capped_month
        counted[key] = counted.get(key, 0) + (amount if in_month else 0)
    return [
        Violation(
            "I3",
            f"account {a} monthly cap counter {account.capped_used}"
            f" but journal {counted[a]} for {account.capped_month:%Y-%m}",
        )
        for a, account in accounts.items()
        if account.capped_used != counted[a]
    ]


def _running_balances(session: Session) -> list[Violation]:
    found = []
    running: dict[int, int] = {}
    for entry in session.exec(select(Entry).order_by(col(Entry.id))).all():
        running[entry.account_id] = running.get(entry.account_id, 0) + entry.amount
        if running[entry.account_id] != entry.balance_after:
            found.append(
                Violation(
                    "I7",
                    f"entry {entry.id} balance_after {entry.balance_after}"
                    f" but running sum {running[entry.account_id]}",
                )
            )
    return found


def _one_key_per_transfer(session: Session) -> list[Violation]:
    per_transfer = session.exec(
        select(IdempotencyRecord.transfer_id, func.count(col(IdempotencyRecord.id)))
        .where(col(IdempotencyRecord.transfer_id).is_not(None))
        .group_by(col(IdempotencyRecord.transfer_id))
        .having(func.count(col(IdempotencyRecord.id)) > 1)
    ).all()
    return [Violation("I5", f"transfer {t} claimed by {n} keys") for t, n in per_transfer]


def _refunds_within_payment(session: Session) -> list[Violation]:
    back = aliased(Transfer)
    refunded = func.sum(back.amount)
    over = session.exec(
        select(Transfer.id, Transfer.amount, refunded)
        .join(back, col(back.original_id) == Transfer.id)
        .where(
            Transfer.kind == TransferKind.PAYMENT,
            col(back.kind).in_([TransferKind.REFUND, TransferKind.REVERSAL]),
        )
        .group_by(col(Transfer.id), col(Transfer.amount))
        .having(refunded > Transfer.amount)
    ).all()
    return [Violation("I8", f"payment {p} refunded {r} > {amount}") for p, amount, r in over]


def _days_and_fees(session: Session) -> list[Violation]:
    found = []
    for transfer in session.exec(select(Transfer)).all():
        if transfer.business_day != business_day(transfer.created_at):
            found.append(Violation("I11", f"transfer {transfer.id} on the wrong business day"))
        if not 0 <= transfer.fee <= transfer.amount:
            found.append(Violation("I12", f"transfer {transfer.id} fee out of bounds"))
    return found


def _closed_days_unchanged(session: Session) -> list[Violation]:
    rows = session.exec(
        select(DayClose, Transfer)
        .outerjoin(
            Transfer,
            (col(Transfer.market_id) == DayClose.market_id)
            & (col(Transfer.business_day) == DayClose.business_day),
        )
        .order_by(col(DayClose.id), col(Transfer.id))
    ).all()
    days: dict[int, tuple[DayClose, list[Transfer]]] = {}
    for closed, transfer in rows:
        _day, transfers = days.setdefault(require_id(closed), (closed, []))
        if transfer is not None:
            transfers.append(transfer)
    return [
        Violation("I11", f"closed day {closed.business_day} of market {closed.market_id} changed")
        for closed, transfers in days.values()
        if content_hash(_totals(closed.market_id, closed.business_day, transfers))
        != closed.content_hash
    ]


CHECKS: tuple[Callable[[Session], list[Violation]], ...] = (
    _balances_sum_to_zero,
    _transfers_balance,
    _transfers_have_entries,
    _balances_match_journal,
    _no_overdraft,
    _cap_counters_match_journal,
    _running_balances,
    _one_key_per_transfer,
    _refunds_within_payment,
    _days_and_fees,
    _closed_days_unchanged,
)  # each one query, returning what it found (beancount's validations, one invariant each)


def audit(session: Session) -> list[Violation]:
    """Every violated invariant (I1–I5, I7, I8, I11, I12); empty when all hold."""
    return [violation for check in CHECKS for violation in check(session)]
