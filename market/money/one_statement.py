"""A payment by QR in one statement on PostgreSQL, the hot path's shortcut (issue 14).

On a connection in autocommit, a payment takes three round trips: the caller's token with their
wallet and whether their Idempotency-Key is stored already; the scanned code's board; and one
statement that moves the legs and writes the transfer, its entries, the vendor's event (with its
wake-up and webhook deliveries) and the key's stored answer, committed as one. No BEGIN, no
claim, no settle, no COMMIT.

Everything that decides is the ordinary path's own code (`users`, `payments.resolve_code`,
`payments.payment_posting`, `ledger.move` with the follow-ups of `notifications` and
`idempotency`). What the shortcut does not take, it leaves to the ordinary path with nothing
written: a key seen before (replayed there), any refusal (stored there under the key), a twin
that stored the key first (its statement fails on the key's unique index), a per-sale code, a
vendor or payer without a wallet yet, a wallet with a daily limit, the first fee ever charged
(creating the fees account needs a transaction: its savepoint fails in autocommit)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from market.errors import DomainError
from market.money import idempotency, ledger, payments
from market.money.execute import payee_of
from market.money.ids import user_id_of
from market.money.models import Transfer
from market.money.notifications import event_follow_up
from market.money.requests import PayByQR, Receipt
from market.money.wallets import SIGNED_IN_WITH_WALLET
from market.registry.access import Actor
from market.registry.users import signed_in_with

_USERS = SQLModel.metadata.tables["app_user"]
_SIGNED_IN_TO_PAY = SIGNED_IN_WITH_WALLET.add_columns(
    idempotency.KEYS.c.id.label("stored_key")
).outerjoin(
    idempotency.KEYS,
    and_(
        idempotency.KEYS.c.user_id == _USERS.c.id,
        idempotency.KEYS.c.key == bindparam("key"),
    ),
)

Answer = Callable[[Receipt], dict[str, Any]]  # a receipt → the public answer the key stores


def signed_in_to_pay(
    session: Session, *, raw_token: str, key: str, now: datetime
) -> tuple[Actor, ledger.AccountRow | None, bool]:
    """The caller behind a token (refused as `users.signed_in` refuses), their shopper wallet
    (None while they have none) and whether `key` has a stored outcome, in one round trip."""
    actor, row = signed_in_with(
        session, _SIGNED_IN_TO_PAY, raw_token=raw_token, now=now, parameters={"key": key}
    )
    return actor, ledger.account_of(row, "wallet"), row.stored_key is not None


def pay(
    session: Session,
    *,
    actor: Actor,
    wallet: ledger.AccountRow | None,
    request: PayByQR,
    key: str,
    fingerprint: str,
    now: datetime,
    answer: Answer,
) -> dict[str, Any] | None:
    """The answer to paying `request` under a new `key`, paid and stored in one statement; or
    None, with nothing written, when the ordinary path must take it."""
    if wallet is None or wallet.daily_limit is not None:
        return None
    try:
        code = payments.resolve_code(session, request.payload)
        if code.reference is not None or code.wallet is None:
            return None
        posting = payments.payment_posting(
            session, actor=actor, wallet=wallet, code=code, amount=request.amount
        )
        provisional: dict[str, Any] = {}

        def follow_ups(transfer: Transfer) -> tuple[ledger.FollowUp, ...]:
            # the answer stored with the key: the statement writes in the transfer's id and the
            # payer's balance
            provisional.update(answer(Receipt(transfer, 0, payee_of(code))))
            return (
                event_follow_up(
                    vendor_id=code.vendor_id, type=payments.PAYMENT_RECEIVED, transfer=transfer
                ),
                idempotency.record_follow_up(
                    user_id=user_id_of(actor),
                    key=key,
                    fingerprint=fingerprint,
                    response=provisional,
                ),
            )

        transfer = ledger.move(session, posting, now=now, then=follow_ups)
    except (DomainError, DBAPIError):
        return None  # a refusal to store, a twin to replay, a failure to retry: all ordinary
    paid: dict[str, Any] = _in_jsonb_order(
        provisional | {"id": transfer.id, "balance": wallet.balance}
    )
    return paid


def _in_jsonb_order(value: Any) -> Any:
    """`value` with its objects' keys in PostgreSQL's jsonb order (shorter keys first, then
    bytewise), the order the statement stored the answer in: the first answer and its replays
    read alike, byte for byte."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return {key: _in_jsonb_order(value[key]) for key in keys}
    if isinstance(value, list):
        return [_in_jsonb_order(item) for item in value]
    return value
