"""One entry for every money request: `execute(session, actor, request, now) -> Receipt`, in the
caller's transaction (the idempotency layer and the HTTP retries wrap it, never re-enter it)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from market.money import ledger, payments, wallets
from market.money.models import LedgerAccount
from market.money.requests import (
    MoneyRequest,
    PayByQR,
    Payee,
    Receipt,
    Refund,
    Reversal,
    SendToPhone,
    TopUp,
    Withdrawal,
)
from market.registry.access import Actor


def execute(
    session: Session,
    actor: Actor,
    request: MoneyRequest,
    now: datetime,
    own: ledger.Account | None = None,
) -> Receipt:
    """Run one money request; a refusal raises a `DomainError` (the transaction is then the
    caller's to roll back). `own`: the caller's wallet, when already read with the token."""
    match request:
        case TopUp(amount=amount):
            wallet = _own(session, actor, own)
            transfer = wallets.top_up(session, wallet=wallet, amount=amount, now=now)
        case Withdrawal(amount=amount, payout_account_id=account_id):
            wallet = (
                _own(session, actor, own)
                if account_id is None
                else wallets.vendor_wallet_for(session, actor, account_id)
            )
            transfer = wallets.withdraw(session, wallet=wallet, amount=amount, now=now)
        case SendToPhone(to_phone=to_phone, amount=amount, memo=memo):
            wallet = _own(session, actor, own)
            transfer = wallets.transfer_to_phone(
                session,
                actor=actor,
                wallet=wallet,
                to_phone=to_phone,
                amount=amount,
                memo=memo,
                now=now,
            )
        case PayByQR(payload=payload, amount=amount):
            wallet = _own(session, actor, own)
            code = payments.resolve_code(session, payload)
            transfer = payments.pay(
                session, actor=actor, wallet=wallet, code=code, amount=amount, now=now
            )
            return Receipt(transfer, wallet.balance, payee_of(code))
        case Refund(payment_id=payment_id, amount=amount):
            transfer = payments.refund(
                session, actor=actor, payment_id=payment_id, amount=amount, now=now
            )
            wallet = _account(session, transfer.debit_account_id)
        case Reversal(payment_id=payment_id):
            transfer = payments.reverse(session, actor=actor, payment_id=payment_id, now=now)
            wallet = _account(session, transfer.credit_account_id)
    return Receipt(transfer, wallet.balance)


def _own(session: Session, actor: Actor, known: ledger.Account | None) -> ledger.Account:
    """The caller's own wallet: `known` when the caller's token was read with it (the route's
    gate then admitted only its owner)."""
    return known if known is not None else wallets.own_wallet(session, actor)


def _account(session: Session, account_id: int) -> LedgerAccount:
    """An account the transfer just moved: already in the session, with its new balance."""
    account = session.get(LedgerAccount, account_id)
    if account is None:
        raise ValueError(f"ledger account {account_id} vanished")
    return account


def payee_of(code: payments.ScannedCode) -> Payee:
    """Who a code pays, as registered."""
    return Payee(stall=code.stall_code, market=code.market_name, vendor=code.vendor_name)
