"""The vendor's live payment feed (Server-Sent Events, for the "loa báo tiền" page) and webhook
receivers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.deps import (
    BearerToken,
    ContextDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    require_token,
)
from api.problems import problem_responses
from market.db import read_only, require_id
from market.inputs import Boolean, Id, WholeNumber
from market.money import feed, notifications, wakeups
from market.money.models import WebhookEndpoint
from market.registry import vendors
from market.registry.models import Status
from market.registry.users import signed_in

router = APIRouter(tags=["notifications"], responses=problem_responses(401, 403, 404, 422))


class WebhookCreate(BaseModel):
    url: str = Field(max_length=500, description="http(s) URL that receives signed POSTs")


class WebhookPublic(BaseModel):
    id: int
    url: str
    status: str
    secret: str | None = Field(default=None, description="shown once, when created")


@router.post("/vendors/{vendor_id}/webhooks", response_model=WebhookPublic, status_code=201)
def add_webhook(
    actor: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    vendor_id: Id,
    data: WebhookCreate,
) -> WebhookPublic:
    """Register a receiver for the vendor's payment events; keep the secret to check the
    `Cho-Signature` header (HMAC-SHA256 over "<t>.<body>")."""
    endpoint = notifications.add_endpoint(
        session,
        actor=actor,
        vendor_id=vendor_id,
        url=data.url,
        allowed_hosts=settings.webhook_allowed,
    )
    return WebhookPublic(
        id=require_id(endpoint), url=endpoint.url, status=endpoint.status, secret=endpoint.secret
    )


@router.get("/vendors/{vendor_id}/webhooks", response_model=list[WebhookPublic])
def list_webhooks(actor: CurrentUser, session: SessionDep, vendor_id: Id) -> list[WebhookPublic]:
    vendors.readable_vendor(session, actor=actor, vendor_id=vendor_id)
    return [
        WebhookPublic(id=require_id(e), url=e.url, status=e.status)
        for e in session.exec(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.vendor_id == vendor_id, WebhookEndpoint.status == Status.ACTIVE)
            .order_by(col(WebhookEndpoint.id))
        )
    ]


@router.get(
    "/vendors/{vendor_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "payment events as Server-Sent Events",
        }
    },
)
async def payment_events(
    context: ContextDep,
    token: BearerToken,
    vendor_id: Id,
    last_event_id: Annotated[WholeNumber | None, Header(alias="Last-Event-ID", ge=0)] = None,
    after: Annotated[WholeNumber, Query(ge=0, description="resume after this event id")] = 0,
    follow: Annotated[Boolean, Query(description="keep the stream open for new events")] = True,
) -> StreamingResponse:
    """Each incoming payment as it lands: amount in digits and in Vietnamese words, for the
    vendor's soundbox page. Reconnecting with Last-Event-ID resumes without gaps. A payment's
    commit wakes the feed (on any instance, through PostgreSQL LISTEN/NOTIFY; on SQLite in the
    committing process), and the feed also polls as a safety net. Each read checks the token
    again in a short transaction of its own (a stream holds no pooled connection, nor on SQLite
    a lock, while it waits)."""
    raw_token = require_token(token)

    def fetch(cursor: int) -> feed.Batch:
        """The next events, the token checked again each time: revoked, expired, its user
        deactivated or the vendor no longer theirs, it raises (and an open stream ends)."""
        with Session(read_only(context.engine)) as session:
            actor = signed_in(session, raw_token=raw_token, now=context.clock())
            events = notifications.events_after(
                session, actor=actor, vendor_id=vendor_id, after_id=cursor
            )
            return [(require_id(e), e.type, notifications.event_body(e)) for e in events]

    start = max(after, last_event_id or 0)
    waiter = wakeups.HUB.subscribe(context.engine, vendor_id) if follow else None
    try:
        first = await run_in_threadpool(fetch, start)  # access is checked before streaming
    except BaseException:
        if waiter is not None:
            waiter.close()
        raise

    async def read(cursor: int) -> feed.Batch:
        return await run_in_threadpool(fetch, cursor)

    return StreamingResponse(
        feed.follow(context.engine, context.settings, waiter, read, start, first),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
