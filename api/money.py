"""The unit of work for money requests: one transaction authenticates the caller and runs the
operation once per Idempotency-Key, retried whole when it hits a serialization failure or a
deadlock."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, Header
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from api.deps import ContextDep, oauth2_scheme, require_token
from api.problems import problem_response
from market.errors import FieldError, IdempotencyKeyMissingError
from market.money import ledger, wallets
from market.money.models import Transfer
from market.registry.access import Actor
from market.registry.users import authenticate

MAX_ATTEMPTS = 12
# serialization failure, deadlock, and a unique row created concurrently (a wallet, say)
RETRYABLE_SQLSTATES = {"40001", "40P01", "23505"}


MoneyToken = Annotated[str | None, Depends(oauth2_scheme)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="unique per request; 1-255 characters"),
]


def _retryable(exc: Exception) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if code in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(getattr(exc, "orig", exc)).lower()


def run_money(
    context: ContextDep,
    *,
    token: str | None,
    key: str | None,
    operation: str,
    body: dict[str, Any],
    work: Callable[[Session, Actor, Any], Transfer],
    balance_of: Literal["debit", "credit"],
) -> JSONResponse:
    """Authenticate, then run `work` once for (caller, key) and answer its stored outcome (201
    with the transfer and the balance of its `balance_of` account, or a problem)."""
    raw_token = require_token(token)
    fingerprint = ledger.request_hash(operation, body)
    for attempt in range(MAX_ATTEMPTS):
        try:
            with Session(context.engine, expire_on_commit=False) as session:
                now = context.clock()
                actor, _token = authenticate(session, raw_token=raw_token, now=now)
                _require_key(key)

                def once(
                    session: Session = session, actor: Actor = actor, now: Any = now
                ) -> tuple[dict[str, Any], int]:
                    transfer = work(session, actor, now)
                    account_id = (
                        transfer.debit_account_id
                        if balance_of == "debit"
                        else transfer.credit_account_id
                    )
                    balance = ledger.balance_after(session, transfer, account_id)
                    return wallets.transfer_view(transfer) | {"balance": balance}, transfer.id or 0

                outcome = ledger.idempotent(
                    session,
                    user_id=actor.user_id or 0,
                    key=key or "",
                    fingerprint=fingerprint,
                    operation=once,
                )
                session.commit()
            break
        except (IntegrityError, OperationalError) as exc:
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
