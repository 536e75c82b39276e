"""Telling vendors that money arrived: events written to a transactional outbox in the same
transaction as the payment, a live feed read from it, and signed webhooks delivered from it by a
background worker with retries and back-off, so a slow or failing receiver never delays or undoes
a payment.

Signature (Stripe's scheme): header `Cho-Signature: t=<unix seconds>,v1=<hex>` where the hex is
HMAC-SHA256 with the endpoint's secret over `"<t>.<raw body>"`; `Cho-Event-Id` lets receivers
drop duplicates (delivery is at least once)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import JSON, Engine, Insert, Text, bindparam, cast, func, insert, literal, true
from sqlalchemy import select as core_select
from sqlalchemy.sql.expression import CTE, ColumnElement, FromClause
from sqlmodel import Session, SQLModel, col, select

from market.money import wakeups, webhook_targets
from market.money.ledger import FollowUp, json_with
from market.money.models import (
    DeliveryStatus,
    OutboxEvent,
    Transfer,
    WebhookDelivery,
    WebhookEndpoint,
)
from market.registry import vendors
from market.registry.access import Actor
from market.registry.models import Status
from market.types import UTCDateTime
from qr.amounts import amount_in_words, format_vnd

# Payments write their events through statements built once (no unit-of-work flush on the hot
# path): the event, then one pending delivery per active endpoint of the vendor.
EVENTS = SQLModel.metadata.tables["outbox_event"]
DELIVERIES = SQLModel.metadata.tables["webhook_delivery"]
ENDPOINTS = SQLModel.metadata.tables["webhook_endpoint"]
VENDORS = SQLModel.metadata.tables["vendor"]
_WAKE_UP = func.pg_notify(wakeups.CHANNEL, cast(EVENTS.c.vendor_id, Text))
_INSERT_EVENT = {
    "sqlite": insert(EVENTS).returning(EVENTS.c.id),
    # the same round trip queues the wake-up, which PostgreSQL sends when the payment commits
    "postgresql": insert(EVENTS).returning(EVENTS.c.id, _WAKE_UP),
}
ACTIVE_WEBHOOKS = (
    core_select(ENDPOINTS.c.id)
    .where(ENDPOINTS.c.vendor_id == VENDORS.c.id, ENDPOINTS.c.status == Status.ACTIVE)
    .exists()
)  # whether a vendor (in the caller's FROM clause) has any active webhook


def _fan_out(
    event_id: ColumnElement[Any],
    vendor_id: ColumnElement[Any],
    next_attempt_at: ColumnElement[Any],
    events: CTE | None = None,
) -> Insert:
    """One pending delivery per active webhook of the vendor for the event `event_id` (a column
    of `events` when the event is written by the same statement)."""
    endpoints: FromClause = ENDPOINTS if events is None else events.join(ENDPOINTS, true())
    return insert(DELIVERIES).from_select(
        ["event_id", "endpoint_id", "status", "attempts", "next_attempt_at"],
        core_select(
            event_id,
            ENDPOINTS.c.id,
            literal(DeliveryStatus.PENDING.value),
            literal(0),
            next_attempt_at,
        )
        .select_from(endpoints)
        .where(ENDPOINTS.c.vendor_id == vendor_id, ENDPOINTS.c.status == Status.ACTIVE),
    )


_FAN_OUT = _fan_out(
    bindparam("event_id"), bindparam("vendor_id"), bindparam("next_attempt_at", type_=UTCDateTime())
)

MAX_ATTEMPTS = 8
SIGNATURE_TOLERANCE = timedelta(minutes=5)
LEASE = timedelta(seconds=60)


def record_event(
    session: Session,
    *,
    vendor_id: int,
    type: str,
    transfer: Transfer,
    has_webhooks: bool | None = None,
) -> None:
    """Write the event (and one pending delivery per active webhook) in the caller's transaction,
    and wake the vendor's open feeds when it commits (`wakeups`). A caller that has just read
    `has_webhooks` for the vendor in this transaction passes it, so a vendor without webhooks
    costs no fan-out statement."""
    connection = session.connection()
    event_id = connection.execute(
        _INSERT_EVENT[connection.dialect.name], _event_row(vendor_id, type, transfer)
    ).one()[0]
    wakeups.mark(session, vendor_id)
    if has_webhooks is False:
        return
    connection.execute(
        _FAN_OUT,
        {"event_id": event_id, "vendor_id": vendor_id, "next_attempt_at": transfer.created_at},
    )


def _event_row(vendor_id: int, type: str, transfer: Transfer) -> dict[str, Any]:
    """The event's column values announcing `transfer` to its vendor."""
    data = {
        "transfer_id": transfer.id,
        "kind": transfer.kind,
        "amount": transfer.amount,
        "fee": transfer.fee,
        "net": transfer.amount - transfer.fee,
        "amount_text": format_vnd(transfer.amount),
        "amount_words": amount_in_words(transfer.amount),
        "memo": transfer.memo,
        "business_day": transfer.business_day.isoformat(),
        "created_at": transfer.created_at.isoformat(),
    }
    return {
        "event_id": str(uuid.uuid4()),
        "vendor_id": vendor_id,
        "type": type,
        "data": data,
        "created_at": transfer.created_at,
    }


def event_follow_up(*, vendor_id: int, type: str, transfer: Transfer) -> FollowUp:
    """`record_event` for a transfer about to be written, as a follow-up of its one statement
    (PostgreSQL): the same event (its `transfer_id` set by the statement), its wake-up queued and
    one pending delivery per active webhook of the vendor."""
    row = _event_row(vendor_id, type, transfer)
    return FollowUp(_event_of_new_transfer, {f"e_{name}": value for name, value in row.items()})


def _event_of_new_transfer(new_transfer: CTE, _payer: CTE) -> Insert:
    created_at = bindparam("e_created_at", type_=UTCDateTime())
    vendor_id = bindparam("e_vendor_id", type_=EVENTS.c.vendor_id.type)
    event = (
        insert(EVENTS)
        .from_select(
            ["event_id", "vendor_id", "type", "data", "created_at"],
            core_select(
                bindparam("e_event_id", type_=EVENTS.c.event_id.type),
                vendor_id,
                bindparam("e_type", type_=EVENTS.c.type.type),
                json_with(bindparam("e_data", type_=JSON()), transfer_id=new_transfer.c.id),
                created_at,
            ).select_from(new_transfer),
        )
        .returning(EVENTS.c.id, _WAKE_UP)
        .cte("new_event")
    )
    return _fan_out(event.c.id, vendor_id, created_at, events=event)


def event_body(event: OutboxEvent) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "type": event.type,
        "vendor_id": event.vendor_id,
        "created_at": event.created_at.isoformat(),
        "data": event.data,
    }


def events_after(
    session: Session, *, actor: Actor, vendor_id: int, after_id: int, limit: int = 100
) -> list[OutboxEvent]:
    """The vendor's events with a sequence number above `after_id`, oldest first."""
    vendors.readable_vendor(session, actor=actor, vendor_id=vendor_id)
    return list(
        session.exec(
            select(OutboxEvent)
            .where(OutboxEvent.vendor_id == vendor_id, col(OutboxEvent.id) > after_id)
            .order_by(col(OutboxEvent.id))
            .limit(limit)
        )
    )


def last_event_id(session: Session, *, actor: Actor, vendor_id: int) -> int:
    """The vendor's latest event sequence number (0 when none): where a feed opened now starts,
    so it brings only what arrives from then on."""
    vendors.readable_vendor(session, actor=actor, vendor_id=vendor_id)
    last = session.exec(
        select(func.max(OutboxEvent.id)).where(OutboxEvent.vendor_id == vendor_id)
    ).one()
    return int(last or 0)


# ---------------------------------------------------------------------------------------------
# Webhook endpoints


def add_endpoint(
    session: Session, *, actor: Actor, vendor_id: int, url: str, allowed_hosts: frozenset[str]
) -> WebhookEndpoint:
    """Register a receiver (a public http(s) address, see `webhook_targets`); its secret is
    shown once, in the answer."""
    vendors.readable_vendor(session, actor=actor, vendor_id=vendor_id)
    webhook_targets.check_url(url, allowed_hosts=allowed_hosts)
    endpoint = WebhookEndpoint(vendor_id=vendor_id, url=url, secret=secrets.token_hex(24))
    session.add(endpoint)
    session.flush()
    return endpoint


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: datetime) -> bool:
    """Whether a `Cho-Signature` header is valid for `body` and recent (within 5 minutes)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now.timestamp() - timestamp) > SIGNATURE_TOLERANCE.total_seconds():
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, 3600))


def deliver_due(
    engine: Engine,
    *,
    now: datetime,
    client: httpx.Client,
    allowed_hosts: frozenset[str],
    limit: int = 20,
) -> int:
    """Send the deliveries that are due; returns how many were attempted. Each is leased in a
    short transaction first (so several workers never send the same one at once), its host
    resolved and refused if not public (a failed attempt, nothing sent), sent with no
    transaction open, then marked delivered or rescheduled with exponential back-off."""
    with Session(engine, expire_on_commit=False) as session:
        query = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(col(WebhookDelivery.id))
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        due = list(session.exec(query))
        jobs = []
        for delivery in due:
            delivery.next_attempt_at = now + LEASE
            session.add(delivery)
            event = session.get(OutboxEvent, delivery.event_id)
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
            assert event is not None
            assert endpoint is not None
            jobs.append(
                (delivery.id, event.event_id, event_body(event), endpoint.url, endpoint.secret)
            )
        session.commit()
    for delivery_id, event_id, body, url, secret in jobs:
        raw = json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
        status: int | None = None
        error: str | None = None
        try:
            webhook_targets.check_target(httpx.URL(url), allowed_hosts=allowed_hosts)
            response = client.post(
                url,
                content=raw,
                headers={
                    "Content-Type": "application/json",
                    "Cho-Event-Id": event_id,
                    "Cho-Signature": sign(secret, raw, int(now.timestamp())),
                },
            )
            status = response.status_code
        except (httpx.HTTPError, webhook_targets.BlockedTargetError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        with Session(engine) as session:
            sent = session.get(WebhookDelivery, delivery_id)
            assert sent is not None
            delivery = sent
            delivery.attempts += 1
            delivery.last_status = status
            delivery.last_error = error
            if status is not None and 200 <= status < 300:
                delivery.status = DeliveryStatus.DELIVERED
            elif delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.FAILED
            else:
                delivery.next_attempt_at = now + _backoff(delivery.attempts)
            session.add(delivery)
            session.commit()
    return len(jobs)
