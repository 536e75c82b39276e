"""The HTTP side of money requests: one transaction authenticates the caller (whose role is
checked before the body is read) and executes the request (data, `market.money.requests`) once
per Idempotency-Key, retried whole when it hits a serialization failure or a deadlock; the
receipt's public shape; outcomes mapped to HTTP."""

from __future__ import annotations

import asyncio
import email.message
import json
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import AppContext, BearerToken, require_token
from api.problems import problem_response, problem_responses
from market.db import require_id
from market.errors import FieldError, ForbiddenError, IdempotencyKeyMissingError
from market.money import idempotency, one_statement
from market.money.execute import execute
from market.money.ids import user_id_of
from market.money.ledger import AccountRow
from market.money.models import TransferKind
from market.money.requests import MoneyRequest, PayByQR, Payee, Receipt, fingerprint_parts
from market.money.wallets import masked_name, signed_in_shopper
from market.registry.access import Actor, require_role
from market.registry.models import Role
from market.registry.users import signed_in

if TYPE_CHECKING:
    from fastapi._compat import ModelField  # the type of APIRoute.body_field

MAX_ATTEMPTS = 12
# serialization failure, deadlock, and a unique row created concurrently (a wallet, say)
RETRYABLE_SQLSTATES = {"40001", "40P01", "23505"}


MONEY_PROBLEMS = problem_responses(400, 402, 404, 409, 422)


@dataclass(frozen=True)
class MoneyCall:
    """A money request's caller, authenticated and admitted by the route's gate, and the
    session whose transaction authenticated it and will run the request."""

    session: Session
    actor: Actor
    wallet: AccountRow | None = None  # the caller's own, read with the token (own-wallet routes)


@dataclass(frozen=True)
class MoneyGate:
    """Who may call a money route: `roles` (and the admin, unless the route acts on the
    caller's own wallet, which an admin does not have)."""

    roles: tuple[Role, ...]
    wallet_owner: bool = False
    one_statement: bool = False  # a payment by QR: tried in one statement first (PostgreSQL)

    def admit(self, actor: Actor) -> None:
        if self.wallet_owner and actor.is_admin:
            raise ForbiddenError("Quản trị viên không có ví (admins have no wallet).")
        require_role(actor, *self.roles)


WALLET_OWNER = MoneyGate((Role.SHOPPER,), wallet_owner=True)
PAYER = MoneyGate((Role.SHOPPER,), wallet_owner=True, one_statement=True)
PAYOUT_READER = MoneyGate((Role.MANAGER, Role.VENDOR))
REFUNDER = MoneyGate((Role.VENDOR,))
REVERSER = MoneyGate(())

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="unique per request; 1-255 characters"),
]


async def _documented_headers(_token: BearerToken, _key: IdempotencyKey = None) -> None:
    """Documents a money route's bearer token and Idempotency-Key (`MoneyRoute` reads them)."""


MoneyEndpoint = Callable[..., MoneyRequest]
_GATES: dict[Callable[..., Any], MoneyGate] = {}


def money_post(
    router: APIRouter, path: str, gate: MoneyGate
) -> Callable[[MoneyEndpoint], MoneyEndpoint]:
    """Register an endpoint (its validated path ids and body → the `MoneyRequest` to run) as a
    money route on `router` open to `gate`: POST, 201 with the transfer."""

    def register(endpoint: MoneyEndpoint) -> MoneyEndpoint:
        _GATES[endpoint] = gate
        router.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            status_code=201,
            response_model=TransferPublic,
            responses=MONEY_PROBLEMS,
            dependencies=[Depends(_documented_headers)],
            route_class_override=MoneyRoute,
        )
        return endpoint

    return register


class MoneyRoute(APIRoute):
    """A money route, documented by FastAPI from its endpoint's signature but served in one
    hop to the app's money threads (`AppContext.money_threads`) instead of FastAPI's dependency
    cycle and thread pool (a payment is the service's hot path):
    authenticate the caller and apply its gate (401/403 before anything else in the request is
    read), validate the path ids and the JSON body as FastAPI does (422), build the request
    (the endpoint), and run it once per Idempotency-Key in the same transaction."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        gate, endpoint, dependant = _GATES[self.endpoint], self.endpoint, self.dependant
        body_field = self.body_field
        body_name = dependant.body_params[0].name if dependant.body_params else None

        def request_of(headers: Headers, path: dict[str, Any], raw: bytes) -> MoneyRequest:
            values, errors = request_params_to_args(dependant.path_params, path)
            if body_field is not None and body_name is not None:
                values[body_name], body_errors = _validated_body(body_field, headers, raw)
                errors += body_errors
            if errors:
                raise RequestValidationError(errors)
            request: MoneyRequest = endpoint(**values)
            return request

        def serve(
            context: AppContext, headers: Headers, path: dict[str, Any], raw: bytes
        ) -> Response:
            scheme, token = get_authorization_scheme_param(headers.get("authorization"))
            raw_token = require_token(token if scheme.lower() == "bearer" else None)
            key = headers.get("idempotency-key")
            if gate.one_statement and context.engine.dialect.name == "postgresql":
                with Session(context.autocommit_engine, expire_on_commit=False) as session:
                    paid = _paid_in_one_statement(
                        context,
                        session,
                        gate,
                        raw_token,
                        key,
                        partial(request_of, headers, path, raw),
                    )
                if paid is not None:
                    return paid
            with Session(context.engine, expire_on_commit=False) as session:
                now = context.clock()
                if gate.wallet_owner:
                    actor, wallet = signed_in_shopper(session, raw_token=raw_token, now=now)
                else:
                    actor, wallet = signed_in(session, raw_token=raw_token, now=now), None
                gate.admit(actor)
                call = MoneyCall(session, actor, wallet)
                return run_money(context, call, key=key, request=request_of(headers, path, raw))

        async def handler(request: Request) -> Response:
            raw = await request.body()
            context: AppContext = request.app.state.context
            threads = context.money_threads.pool
            return await asyncio.get_running_loop().run_in_executor(
                threads, serve, context, request.headers, request.path_params, raw
            )

        return handler


def _paid_in_one_statement(
    context: AppContext,
    session: Session,
    gate: MoneyGate,
    raw_token: str,
    key: str | None,
    request_of: Callable[[], MoneyRequest],
) -> Response | None:
    """A payment by QR under a new key, in one statement on the autocommit `session`
    (`market.money.one_statement`), refused before it as the ordinary path refuses (401, 403,
    422, a missing key); None when the ordinary path must take it (nothing was written)."""
    now = context.clock()
    actor, wallet, key_stored = one_statement.signed_in_to_pay(
        session, raw_token=raw_token, key=key or "", now=now
    )
    gate.admit(actor)
    request = request_of()
    _require_key(key)
    if key_stored or not isinstance(request, PayByQR):
        return None
    answer = one_statement.pay(
        session,
        actor=actor,
        wallet=wallet,
        request=request,
        key=key or "",
        fingerprint=idempotency.request_hash(*fingerprint_parts(request)),
        now=now,
        answer=lambda receipt: receipt_public(receipt, actor).model_dump(mode="json"),
    )
    return None if answer is None else JSONResponse(answer, status_code=201)


def _validated_body(field: ModelField, headers: Headers, raw: bytes) -> tuple[Any, list[Any]]:
    """The body validated against `field`, read as FastAPI reads a JSON body: parsed only when
    the content type is JSON (other bytes fail validation); an empty body is missing and
    unreadable JSON is reported at its character position; bytes that are not text are a bad
    request (400)."""
    if not raw:
        return None, [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
    body: Any = raw
    if _is_json(headers.get("content-type")):
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as exc:
            unreadable = {
                "type": "json_invalid",
                "loc": ("body", exc.pos),
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": exc.msg},
            }
            return None, [unreadable]
        except (ValueError, RecursionError) as exc:  # not UTF-8 text, or nested past the parser
            raise StarletteHTTPException(400, "There was an error parsing the body") from exc
    return field.validate(body, {}, loc=("body",))


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


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
    context: AppContext, call: MoneyCall, *, key: str | None, request: MoneyRequest
) -> JSONResponse:
    """Execute `request` once for (caller, key) in the caller's transaction and answer its
    stored outcome: 201 with the transfer, or a problem. Retried whole on a serialization
    failure, a deadlock or a locked SQLite file."""
    _require_key(key)
    session, actor = call.session, call.actor
    fingerprint = idempotency.request_hash(*fingerprint_parts(request))

    def once(now: Any) -> tuple[dict[str, Any], int]:
        receipt = execute(session, actor, request, now, call.wallet)
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
