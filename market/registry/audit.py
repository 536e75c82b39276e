"""The audit log: who changed what, when, with the record before and after. Every service that
writes calls `record` in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, SQLModel, col, select

from market.db import require_id
from market.pagination import Cursor, apply_keyset, next_cursor
from market.registry.access import Actor, managed_market_ids
from market.registry.models import AuditEntry
from market.text import mask_digits

_HIDDEN_FIELDS = {"password_hash", "name_key", "phone_keys", "code_key", "token_hash"}
_MASKED_FIELDS = {"national_id", "account_number"}


def snapshot(row: SQLModel | None) -> dict[str, Any] | None:
    """A JSON-ready picture of a row for the log, secrets dropped and personal numbers masked."""
    if row is None:
        return None
    data = row.model_dump(mode="json")
    for name in _HIDDEN_FIELDS & data.keys():
        del data[name]
    for name in _MASKED_FIELDS & data.keys():
        if data[name]:
            data[name] = mask_digits(str(data[name]))
    return data


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int,
    market_id: int | None,
    before: dict[str, Any] | None = None,
    after: SQLModel | None = None,
) -> None:
    """Append one entry; `before` is a `snapshot` taken before the change."""
    after_snapshot = snapshot(after)
    if action == "update" and before == after_snapshot:
        return
    session.add(
        AuditEntry(
            actor_id=actor.user_id,
            actor=actor.username,
            action=action,
            entity=entity,
            entity_id=entity_id,
            market_id=market_id,
            before=before,
            after=after_snapshot,
        )
    )


def list_entries(
    session: Session,
    *,
    actor: Actor,
    entity: str | None = None,
    entity_id: int | None = None,
    market_id: int | None = None,
    cursor: Cursor | None = None,
    limit: int = 50,
) -> tuple[list[AuditEntry], str | None]:
    """Entries newest first, within the markets the actor manages."""
    query = select(AuditEntry)
    scope = managed_market_ids(actor)
    if scope is not None:
        query = query.where(col(AuditEntry.market_id).in_(scope))
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if market_id is not None:
        query = query.where(AuditEntry.market_id == market_id)
    rows = list(session.exec(apply_keyset(query, AuditEntry.id, cursor, limit, newest_first=True)))
    return rows[:limit], next_cursor(rows, limit)


def save(
    session: Session,
    row: SQLModel,
    *,
    actor: Actor,
    action: str,
    entity: str,
    market_id: int | None,
    before: dict[str, Any] | None = None,
) -> None:
    """Write `row` and append its audit entry in the same transaction."""
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=require_id(row),
        market_id=market_id,
        before=before,
        after=row,
    )
