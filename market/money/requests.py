"""Money requests as data: what a caller asks for, frozen, fingerprinted for idempotency, run by
`execute.execute`; and the receipt it answers with."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from market.money.models import Transfer


@dataclass(frozen=True)
class TopUp:
    """Nạp tiền into the caller's wallet."""

    amount: int


@dataclass(frozen=True)
class Withdrawal:
    """Rút tiền from the caller's wallet, or from a payout account's vendor wallet."""

    amount: int
    payout_account_id: int | None = None


@dataclass(frozen=True)
class SendToPhone:
    """Chuyển tiền from the caller's wallet to another wallet by phone number."""

    to_phone: str
    amount: int
    memo: str | None = None


@dataclass(frozen=True)
class PayByQR:
    """Pay a stall by its scanned code (a static code needs the amount)."""

    payload: str
    amount: int | None = None


@dataclass(frozen=True)
class Refund:
    """The vendor gives back part or all of a payment."""

    payment_id: int
    amount: int


@dataclass(frozen=True)
class Reversal:
    """An admin undoes a payment that has not been refunded."""

    payment_id: int


MoneyRequest = TopUp | Withdrawal | SendToPhone | PayByQR | Refund | Reversal


def fingerprint_parts(request: MoneyRequest) -> tuple[str, dict[str, Any]]:
    """The operation name and body an idempotency key is bound to (the same as the HTTP
    request's, so keys stored before requests were data still replay)."""
    match request:
        case TopUp(amount=amount):
            return "top-up", {"amount": amount}
        case Withdrawal(amount=amount, payout_account_id=None):
            return "withdraw", {"amount": amount}
        case Withdrawal(amount=amount, payout_account_id=account_id):
            return f"vendor-withdraw:{account_id}", {"amount": amount}
        case Refund(payment_id=payment_id, amount=amount):
            return f"refund:{payment_id}", {"amount": amount}
        case Reversal(payment_id=payment_id):
            return f"reversal:{payment_id}", {}
        case SendToPhone():
            return "transfer", asdict(request)
        case PayByQR():
            return "pay", asdict(request)


@dataclass(frozen=True)
class Payee:
    """Who a payment went to, as registered: the stall (`B-12`), its market and vendor."""

    stall: str | None
    market: str
    vendor: str


@dataclass(frozen=True)
class Receipt:
    """What a money request did: the transfer, the balance it left on the caller's side (the
    wallet that paid, or that a top-up or reversal credited), and for a payment its payee."""

    transfer: Transfer
    balance: int
    payee: Payee | None = None
