"""Idempotency: every money request carries a key; the first request's outcome, success or
refusal, is stored with a hash of its body in the request's own transaction and replayed for the
same key and body; the same key with another body is refused (`idempotency-mismatch`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Insert, bindparam, insert, true, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.expression import CTE
from sqlmodel import Session, SQLModel

from market.clock import utc_now
from market.errors import DomainError, IdempotencyMismatchError
from market.money.ledger import FollowUp, json_with
from market.money.models import IdempotencyOutcome, IdempotencyRecord

KEYS = SQLModel.metadata.tables[str(IdempotencyRecord.__tablename__)]
_CLAIM = {
    name: dialect_insert(KEYS)
    .on_conflict_do_nothing(index_elements=["user_id", "key"])
    .returning(KEYS.c.id)
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_STORED = core_select(KEYS.c.request_hash, KEYS.c.outcome, KEYS.c.response).where(
    KEYS.c.user_id == bindparam("user_id"), KEYS.c.key == bindparam("key")
)
_SETTLE = update(KEYS).where(KEYS.c.id == bindparam("record_id"))


def request_hash(operation: str, body: dict[str, Any]) -> str:
    canonical = json.dumps({"op": operation, "body": body}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """What a money request answered: stored, and replayed for the same key and body."""

    ok: bool
    response: dict[str, Any]
    replayed: bool


def idempotent(
    session: Session,
    *,
    user_id: int,
    key: str,
    fingerprint: str,
    operation: Callable[[], tuple[dict[str, Any], int | None]],
) -> Outcome:
    """Run `operation` once per (user, key) in the session's transaction, and store its result
    there to be replayed later; the same key with another body is refused. A refusal rolls the
    whole transaction back (nothing the refused operation wrote survives) and is then stored in
    a new one. A concurrent request with the same key waits on the key's row, then replays."""
    claimed = _claim(session, user_id=user_id, key=key, fingerprint=fingerprint)
    if isinstance(claimed, Outcome):
        return claimed
    try:
        response, transfer_id = operation()
    except DomainError as refusal:
        session.rollback()
        claimed = _claim(session, user_id=user_id, key=key, fingerprint=fingerprint)
        if isinstance(claimed, Outcome):
            return claimed  # a twin with this key answered in the meantime
        refused = {
            "code": refusal.code,
            "detail": refusal.detail,
            "errors": [e.as_dict() for e in refusal.errors],
            "extra": refusal.extra,
        }
        return _settle(session, claimed, Outcome(False, refused, replayed=False), None)
    return _settle(session, claimed, Outcome(True, response, replayed=False), transfer_id)


def _claim(session: Session, *, user_id: int, key: str, fingerprint: str) -> int | Outcome:
    """Insert the key's record and return its id, or return the stored outcome when the key
    has one (a concurrent twin's insert is waited for: the unique index holds this insert until
    the twin commits or rolls back)."""
    connection = session.connection()
    record_id: int | None = connection.execute(
        _CLAIM[connection.dialect.name],
        {
            "user_id": user_id,
            "key": key,
            "request_hash": fingerprint,
            "outcome": IdempotencyOutcome.PENDING,
            "response": {},
            "created_at": utc_now(),
        },
    ).scalar_one_or_none()
    if record_id is not None:
        return record_id
    stored = connection.execute(_STORED, {"user_id": user_id, "key": key}).one()
    if stored.request_hash != fingerprint:
        raise IdempotencyMismatchError(
            "Khóa Idempotency-Key này đã dùng cho một yêu cầu khác (key reused with another body)."
        )
    return Outcome(stored.outcome == IdempotencyOutcome.OK, stored.response, replayed=True)


def record_follow_up(
    *, user_id: int, key: str, fingerprint: str, response: dict[str, Any]
) -> FollowUp:
    """The key's record of a transfer's success, stored by the transfer's own statement
    (PostgreSQL) instead of claimed first and settled after: its answer gets the transfer's id
    and the payer's balance from the statement. A twin that stored the key first makes the
    statement fail on the key's unique index, so nothing is written (the caller then replays
    the twin's outcome), exactly once either way."""
    values = {
        "user_id": user_id,
        "key": key,
        "request_hash": fingerprint,
        "outcome": IdempotencyOutcome.OK,
        "response": response,
        "created_at": utc_now(),
    }
    return FollowUp(_record_of_new_transfer, {f"k_{name}": value for name, value in values.items()})


def _record_of_new_transfer(new_transfer: CTE, payer: CTE) -> Insert:
    column = KEYS.c
    return insert(KEYS).from_select(
        ["user_id", "key", "request_hash", "outcome", "response", "transfer_id", "created_at"],
        core_select(
            bindparam("k_user_id", type_=column.user_id.type),
            bindparam("k_key", type_=column.key.type),
            bindparam("k_request_hash", type_=column.request_hash.type),
            bindparam("k_outcome", type_=column.outcome.type),
            json_with(
                bindparam("k_response", type_=JSON()),
                id=new_transfer.c.id,
                balance=payer.c.balance,
            ),
            new_transfer.c.id,
            bindparam("k_created_at", type_=column.created_at.type),
        ).select_from(new_transfer.join(payer, true())),
    )


def _settle(session: Session, record_id: int, outcome: Outcome, transfer_id: int | None) -> Outcome:
    session.connection().execute(
        _SETTLE,
        {
            "record_id": record_id,
            "outcome": IdempotencyOutcome.OK if outcome.ok else IdempotencyOutcome.ERROR,
            "response": outcome.response,
            "transfer_id": transfer_id,
        },
    )
    return outcome
