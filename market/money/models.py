"""The money wing's tables: ledger accounts, transfers and their entries (written only by
`market/money/ledger.py`), idempotency records, closed days, and the notification outbox with its
webhook endpoints and deliveries."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from market.registry.models import Status
from market.types import EnumText, UTCDateTime, created_at_field, status_field

# ---------------------------------------------------------------------------------------------
# Ledger: accounts, transfers and their entries (written only by market/money/ledger.py)


class LedgerAccountKind(enum.StrEnum):
    SHOPPER_WALLET = "shopper_wallet"
    VENDOR_WALLET = "vendor_wallet"  # one per payout account
    CASH_IN = "cash_in"  # system: money entering the mock world (top-ups)
    CASH_OUT = "cash_out"  # system: money leaving it (withdrawals)
    FEES = "fees"  # system: fees charged to vendors


class IdempotencyOutcome(enum.StrEnum):
    PENDING = "pending"  # claimed by a request still running (or rolled back with it)
    OK = "ok"
    ERROR = "error"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class LedgerAccount(SQLModel, table=True):
    __tablename__ = "ledger_account"
    __table_args__ = (
        Index(
            "uq_ledger_system_kind",
            "kind",
            unique=True,
            sqlite_where=text("kind IN ('cash_in', 'cash_out', 'fees')"),
            postgresql_where=text("kind IN ('cash_in', 'cash_out', 'fees')"),
        ),
        CheckConstraint("allow_negative OR balance >= 0", name="ck_ledger_account_no_overdraft"),
        UniqueConstraint("owner_user_id", name="uq_ledger_account_owner_user"),
        UniqueConstraint("payout_account_id", name="uq_ledger_account_payout_account"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: LedgerAccountKind = Field(sa_type=EnumText(LedgerAccountKind), nullable=False, index=True)
    owner_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    payout_account_id: int | None = Field(default=None, foreign_key="payout_account.id")
    balance: int = Field(default=0, sa_type=BigInteger)
    allow_negative: bool = Field(default=False)
    daily_limit: int | None = Field(default=None, sa_type=BigInteger)
    # What left a shopper wallet through capped kinds of transfer in the local month that starts
    # on `capped_month`, kept by the same statement as the debit (the monthly cap's counter).
    capped_month: date | None = None
    capped_used: int = Field(default=0, sa_type=BigInteger)
    created_at: datetime = created_at_field()


class TransferKind(enum.StrEnum):
    TOP_UP = "top_up"
    WITHDRAWAL = "withdrawal"
    TRANSFER = "transfer"
    PAYMENT = "payment"
    REFUND = "refund"
    REVERSAL = "reversal"


class Transfer(SQLModel, table=True):
    """One movement of money. Immutable once written (a database trigger refuses UPDATE and
    DELETE); refunds and reversals are new transfers pointing at the original."""

    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_transfer_amount_positive"),
        CheckConstraint("fee >= 0 AND fee <= amount", name="ck_transfer_fee_bounded"),
        CheckConstraint("debit_account_id <> credit_account_id", name="ck_transfer_two_accounts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: TransferKind = Field(sa_type=EnumText(TransferKind), nullable=False, index=True)
    amount: int = Field(sa_type=BigInteger)
    fee: int = Field(default=0, sa_type=BigInteger)
    debit_account_id: int = Field(foreign_key="ledger_account.id", index=True)
    credit_account_id: int = Field(foreign_key="ledger_account.id", index=True)
    original_id: int | None = Field(default=None, foreign_key="transfer.id", index=True)
    board_id: int | None = Field(default=None, foreign_key="board.id")
    market_id: int | None = Field(default=None, foreign_key="market.id", index=True)
    memo: str | None = Field(default=None, max_length=100)
    source_label: str | None = Field(default=None, max_length=40)
    business_day: date = Field(index=True)
    created_at: datetime = created_at_field()


class Entry(SQLModel, table=True):
    """One leg of a transfer: a signed amount on one account, with the balance it left."""

    __table_args__ = (CheckConstraint("amount <> 0", name="ck_entry_amount_nonzero"),)

    id: int | None = Field(default=None, primary_key=True)
    transfer_id: int = Field(foreign_key="transfer.id", index=True)
    account_id: int = Field(foreign_key="ledger_account.id", index=True)
    amount: int = Field(sa_type=BigInteger)
    balance_after: int = Field(sa_type=BigInteger)
    business_day: date
    created_at: datetime = created_at_field()


class IdempotencyRecord(SQLModel, table=True):
    """The stored outcome of a money request, replayed for the same key and body."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    outcome: IdempotencyOutcome = Field(
        sa_type=EnumText(IdempotencyOutcome, length=8), nullable=False
    )
    response: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    transfer_id: int | None = Field(default=None, foreign_key="transfer.id")
    created_at: datetime = created_at_field()


class DayClose(SQLModel, table=True):
    """A closed business day of a market: per-vendor totals frozen with a content hash."""

    __tablename__ = "day_close"
    __table_args__ = (UniqueConstraint("market_id", "business_day", name="uq_day_close"),)

    id: int | None = Field(default=None, primary_key=True)
    market_id: int = Field(foreign_key="market.id")
    business_day: date
    totals: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64)
    closed_at: datetime = created_at_field()
    closed_by: str = Field(max_length=64)


# ---------------------------------------------------------------------------------------------
# Notifications: the transactional outbox, webhook endpoints and their deliveries


class OutboxEvent(SQLModel, table=True):
    """An event written in the same transaction as the money it announces."""

    __tablename__ = "outbox_event"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36, unique=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    type: str = Field(max_length=40)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = created_at_field()


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    url: str = Field(max_length=500)
    secret: str = Field(max_length=64)
    status: Status = status_field(Status.ACTIVE)
    created_at: datetime = created_at_field()


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="outbox_event.id", index=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True)
    status: DeliveryStatus = Field(
        default=DeliveryStatus.PENDING,
        sa_type=EnumText(DeliveryStatus),
        nullable=False,
        index=True,
    )
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
