"""The HTTP side of money requests: one transaction authenticates the caller (whose role is
checked before the body is read) and executes the request (data, `market.money.requests`) once
per Idempotency-Key, retried whole when it hits a serialization failure or a deadlock; the
receipt's public shape; outcomes mapped to HTTP."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from api.deps import ContextDep, oauth2_scheme, require_token
from api.problems import problem_response
from market.db import require_id
from market.errors import FieldError, ForbiddenError, IdempotencyKeyMissingError
from market.money import idempotency
from market.money.execute import execute
from market.money.ids import user_id_of
from market.money.models import TransferKind
from market.money.requests import MoneyRequest, Payee, Receipt, fingerprint_parts
from market.money.wallets import masked_name
from market.registry.access import Actor, require_role
from market.registry.models import Role
from market.registry.users import authenticate

MAX_ATTEMPTS = 12
# serialization failure, deadlock, and a unique row created concurrently (a wallet, say)
RETRYABLE_SQLSTATES = {"40001", "40P01", "23505"}


MoneyToken = Annotated[str | None, Depends(oauth2_scheme)]


@dataclass(frozen=True)
class MoneyCall:
    """A money request's caller, authenticated and role-checked before its body is read, and
    the session whose transaction authenticated it and will run the request."""

    session: Session
    actor: Actor


def money_caller(*roles: Role, wallet_owner: bool = False) -> Callable[..., Iterator[MoneyCall]]:
    """A dependency: the caller of a money route open to `roles` (and the admin, unless the
    route acts on the caller's own wallet, which an admin does not have). A forbidden caller is
    refused (403) before the request's body is validated."""

    def caller(context: ContextDep, token: MoneyToken) -> Iterator[MoneyCall]:
        raw_token = require_token(token)
        with Session(context.engine, expire_on_commit=False) as session:
            actor, _token = authenticate(session, raw_token=raw_token, now=context.clock())
            if wallet_owner and actor.is_admin:
                raise ForbiddenError("Quản trị viên không có ví (admins have no wallet).")
            require_role(actor, *roles)
            yield MoneyCall(session, actor)

    return caller


WalletOwner = Annotated[
    MoneyCall, Depends(money_caller(Role.SHOPPER, wallet_owner=True), scope="function")
]
PayoutReader = Annotated[
    MoneyCall, Depends(money_caller(Role.MANAGER, Role.VENDOR), scope="function")
]
Refunder = Annotated[MoneyCall, Depends(money_caller(Role.VENDOR), scope="function")]
Reverser = Annotated[MoneyCall, Depends(money_caller(), scope="function")]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="unique per request; 1-255 characters"),
]


def _retryable(exc: Exception) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if code in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(getattr(exc, "orig", exc)).lower()


class PayeePublic(BaseModel):
    """Who a payment went to, as registered (the vendor's name masked for shoppers)."""

    stall: str | None = Field(description="the stall's code, e.g. B-12")
    market: str
    vendor: str


class TransferPublic(BaseModel):
    id: int
    kind: TransferKind
    amount: int
    fee: int
    net: int
    memo: str | None
    original_id: int | None
    business_day: str
    created_at: str
    balance: int = Field(description="the caller's side after the transfer")
    payee: PayeePublic | None = None


def receipt_public(receipt: Receipt, reader: Actor) -> TransferPublic:
    transfer = receipt.transfer
    return TransferPublic(
        id=require_id(transfer),
        kind=transfer.kind,
        amount=transfer.amount,
        fee=transfer.fee,
        net=transfer.amount - transfer.fee,
        memo=transfer.memo,
        original_id=transfer.original_id,
        business_day=transfer.business_day.isoformat(),
        created_at=transfer.created_at.isoformat(),
        balance=receipt.balance,
        payee=payee_public(receipt.payee, reader) if receipt.payee else None,
    )


def payee_public(payee: Payee, reader: Actor) -> PayeePublic:
    """A payee as a reader may see it: a shopper sees the vendor's name masked."""
    vendor = masked_name(payee.vendor) if reader.role is Role.SHOPPER else payee.vendor
    return PayeePublic(stall=payee.stall, market=payee.market, vendor=vendor)


def run_money(
    context: ContextDep, call: MoneyCall, *, key: str | None, request: MoneyRequest
) -> JSONResponse:
    """Execute `request` once for (caller, key) in the caller's transaction and answer its
    stored outcome: 201 with the transfer, or a problem. Retried whole on a serialization
    failure, a deadlock or a locked SQLite file."""
    _require_key(key)
    session, actor = call.session, call.actor
    fingerprint = idempotency.request_hash(*fingerprint_parts(request))

    def once(now: Any) -> tuple[dict[str, Any], int]:
        receipt = execute(session, actor, request, now)
        public = receipt_public(receipt, actor).model_dump(mode="json")
        return public, require_id(receipt.transfer)

    for attempt in range(MAX_ATTEMPTS):
        try:
            now = context.clock()
            outcome = idempotency.idempotent(
                session,
                user_id=user_id_of(actor),
                key=key or "",
                fingerprint=fingerprint,
                operation=partial(once, now),
            )
            session.commit()
            break
        except (IntegrityError, OperationalError) as exc:
            session.rollback()
            if not _retryable(exc) or attempt == MAX_ATTEMPTS - 1:
                raise
            time.sleep(min(0.2, 0.005 * 2**attempt) * (1 + random.random()))  # noqa: S311
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    if outcome.ok:
        return JSONResponse(outcome.response, status_code=201, headers=headers)
    stored = outcome.response
    return problem_response(
        stored["code"],
        stored["detail"],
        errors=[FieldError(**e) for e in stored.get("errors", [])],
        extra=stored.get("extra") or None,
        headers=headers,
    )


def _require_key(key: str | None) -> None:
    if not key or not 1 <= len(key) <= 255 or not key.isprintable():
        raise IdempotencyKeyMissingError(
            "Thiếu tiêu đề Idempotency-Key (every money request needs one).",
            errors=[FieldError("Idempotency-Key", "required", "1-255 printable characters")],
        )
