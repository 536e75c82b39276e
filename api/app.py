"""The FastAPI application: routes, problem handlers, offline docs, request size limit."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import web
from api import problems
from api.deps import AppContext, MoneyThreads
from api.routes import (
    auth,
    codes,
    markets,
    notifications,
    reference,
    simulations,
    spreadsheets,
    stalls,
    users,
    vendors,
    wallets,
)
from market.clock import Clock, utc_now
from market.db import make_engine
from market.money import wakeups
from market.money.notifications import deliver_due
from market.settings import Settings, get_settings

log = logging.getLogger("cho.api")

DESCRIPTION = """
Chợ 4.0 — sổ đăng ký chợ: chợ, khu, ki-ốt, tiểu thương, tài khoản nhận tiền, người dùng và vai trò.

Market registry for Vietnam's cashless-market programme. Get a token with `POST /auth/token`
(OAuth2 password flow), then send `Authorization: Bearer <token>`. Errors are
`application/problem+json` (RFC 9457); each `code` is documented at `/problems/{code}`.
"""


class BodySizeLimit:
    """Refuses request bodies larger than `max_bytes` with a 413 problem, whether or not the
    client declared a Content-Length.

    A chunked body is counted as it arrives. The app is reading it when the limit is crossed, and
    FastAPI turns any failure while reading a body into its own 400 ("error parsing the body"), so
    the 413 is sent from here, at once, and whatever the app answers after it is dropped."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        started = refused = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer; the app's own (its 400) goes nowhere
            started = True
            await send(message)

        async def limited_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if not started and not refused:
                        refused = True
                        await self._refuse(send)
                    raise _BodyTooLargeError
            return message

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLargeError:
            if not refused and not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        response = problems.problem_response(
            problems.PAYLOAD_TOO_LARGE,
            f"Dữ liệu gửi lên vượt quá {self.max_bytes} byte (body too large).",
        )
        await response({"type": "http"}, _no_receive, send)


class _BodyTooLargeError(Exception):
    pass


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


class WebhookWorker:
    """A background thread that delivers due webhooks until the app stops."""

    def __init__(self, engine: Engine, clock: Clock, settings: Settings) -> None:
        self.engine, self.clock, self.settings = engine, clock, settings
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="webhooks", daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while not self.stopping.is_set():
                try:
                    deliver_due(
                        self.engine,
                        now=self.clock(),
                        client=client,
                        allowed_hosts=self.settings.webhook_allowed,
                    )
                except Exception:  # a bad round must not stop later deliveries
                    log.exception("webhook delivery round failed")
                self.stopping.wait(self.settings.webhook_poll_seconds)

    def __enter__(self) -> WebhookWorker:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock = utc_now
) -> FastAPI:
    """Build the app. Tests pass their own settings, engine and clock."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    assert engine is not None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            if settings.webhook_worker:
                with WebhookWorker(engine, clock, settings):
                    yield
            else:
                yield
        finally:
            wakeups.HUB.stop()  # the event listener, if a feed started one
            money_threads.stop()

    app: FastAPI = FastAPIOffline(
        lifespan=lifespan,
        title="Chợ 4.0",
        version="0.1.0",
        description=DESCRIPTION,
        favicon_url="data:,",
        responses=problems.problem_responses(400, 413, 422),
    )
    money_threads = MoneyThreads(settings.money_threads)
    app.state.context = AppContext(
        settings=settings, engine=engine, clock=clock, money_threads=money_threads
    )
    problems.install(app)
    # Routes are matched in this order, one by one: the money routes first (a payment is the
    # hot path), then the rest.
    app.include_router(wallets.money_router)
    for module in (
        reference,
        auth,
        markets,
        stalls,
        vendors,
        users,
        spreadsheets,
        codes,
        wallets,
        notifications,
        simulations,
    ):
        app.include_router(module.router)
    web.mount(app, settings=settings, engine=engine, clock=clock)  # the pages (web/)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    _document_required_headers(app)
    return app


# Headers a route refuses to run without, although it reads them itself (so that a missing one
# is its own problem, answered after authentication, rather than a generic validation error).
REQUIRED_HEADERS = {"idempotency-key"}


def _document_required_headers(app: FastAPI) -> None:
    """Mark `REQUIRED_HEADERS` required in the OpenAPI document, as the routes behave."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    for parameter in operation.get("parameters", []):
                        if (
                            parameter.get("in") == "header"
                            and parameter.get("name", "").lower() in REQUIRED_HEADERS
                        ):
                            parameter["required"] = True
                            parameter["schema"] = {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 255,
                            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_factory() -> Any:
    """Entry point for `uvicorn --factory api.app:app_factory` (settings from the environment)."""
    return create_app()
