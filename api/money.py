"""The unit of work for money requests: authenticate in a short transaction of its own, then
run the operation once per Idempotency-Key in one transaction, retried whole when it loses a
race for the key or hits a serialization failure or deadlock."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from api.deps import ContextDep, oauth2_scheme
from api.problems import problem_response
from market import ledger
from market.access import Actor
from market.db import read_only
from market.errors import FieldError, IdempotencyKeyMissingError, UnauthenticatedError
from market.models import Transfer
from market.users import authenticate

MAX_ATTEMPTS = 12
RETRYABLE_SQLSTATES = {"40001", "40P01", "23505"}  # serialization, deadlock, unique (the key)


def get_money_actor(
    context: ContextDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Actor:
    """The caller, read in a transaction that ends before the money transaction begins (on
    SQLite a held transaction would block the writer)."""
    if not token:
        raise UnauthenticatedError("Cần đăng nhập (a bearer token is required).")
    with Session(read_only(context.engine)) as session:
        actor, _token = authenticate(session, raw_token=token, now=context.clock())
    return actor


MoneyActor = Annotated[Actor, Depends(get_money_actor)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="unique per request; 1-255 characters"),
]


def _retryable(exc: Exception) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if code in RETRYABLE_SQLSTATES:
        return True
    message = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in message or (
        isinstance(exc, IntegrityError) and "idempotency_record" in message
    )


def run_money(
    context: ContextDep,
    *,
    actor: Actor,
    key: str | None,
    operation: str,
    body: dict[str, Any],
    work: Callable[[Session, Any], Transfer],
    view: Callable[[Session, Transfer], dict[str, Any]],
) -> JSONResponse:
    """Run `work` once for (caller, key); answer its stored outcome (201 or a problem)."""
    if not key or not 1 <= len(key) <= 255 or not key.isprintable():
        raise IdempotencyKeyMissingError(
            "Thiếu tiêu đề Idempotency-Key (every money request needs one).",
            errors=[FieldError("Idempotency-Key", "required", "1-255 printable characters")],
        )
    fingerprint = ledger.request_hash(operation, body)
    for attempt in range(MAX_ATTEMPTS):
        try:
            with Session(context.engine, expire_on_commit=False) as session:
                now = context.clock()

                def once(session: Session = session, now: Any = now) -> tuple[dict[str, Any], int]:
                    transfer = work(session, now)
                    return view(session, transfer), transfer.id or 0

                outcome = ledger.idempotent(
                    session,
                    user_id=actor.user_id or 0,
                    key=key,
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
