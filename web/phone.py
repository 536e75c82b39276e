"""What the phone pages (vendor and shopper) share: reading an amount typed on a phone, running
a money request once per form (the form carries its own Idempotency-Key, so a double tap or a
resent form never pays twice), and the refusal a template shows next to the field."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from market.db import require_id
from market.errors import DomainError
from market.money import idempotency
from market.money.execute import execute
from market.money.ids import user_id_of
from market.money.ledger import NAPAS_TRANSFER_CAP
from market.money.requests import MoneyRequest, Receipt, fingerprint_parts
from market.money.wallets import masked_name
from market.registry.access import Actor
from market.registry.models import Role
from qr.amounts import format_vnd
from web.core import redirect

_AMOUNT = re.compile(r"^([0-9]{1,3}(?:[. ][0-9]{3})+|[0-9]+)(k|K|000)?$")
_LIMIT = NAPAS_TRANSFER_CAP + 1
TOO_LARGE = (
    f"Số tiền quá lớn: phải dưới {format_vnd(_LIMIT)} (amount too large: below {_LIMIT:,} ₫)."
)
ABOVE_ZERO = "Số tiền phải lớn hơn 0 (amount must be above 0)."
_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class AmountError(ValueError):
    """An amount a person typed that is not a whole number of đồng in range."""


def parse_amount(text: str) -> int:
    """ "150000", "150.000", "150 000", "150k" → 150000; refused with a Vietnamese message."""
    cleaned = text.strip().replace("\u00a0", " ").removesuffix("₫").removesuffix("đ").strip()
    match = _AMOUNT.match(cleaned)
    if not cleaned:
        raise AmountError("Hãy nhập số tiền (enter an amount).")
    if not match and cleaned[0] in "-−" and _AMOUNT.match(cleaned[1:].strip()):
        raise AmountError(ABOVE_ZERO)  # "-5000": a number, on the wrong side of 0
    if not match:
        raise AmountError("Số tiền là số nguyên đồng, ví dụ 150.000 hoặc 150k (whole đồng).")
    digits = re.sub(r"[. ]", "", match.group(1)).lstrip("0")
    if len(digits) > len(str(NAPAS_TRANSFER_CAP)):  # read as a number only when it may fit
        raise AmountError(TOO_LARGE)
    amount = int(digits or "0") * (1000 if match.group(2) else 1)
    if amount <= 0:
        raise AmountError(ABOVE_ZERO)
    if amount > NAPAS_TRANSFER_CAP:
        raise AmountError(TOO_LARGE)
    return amount


def amount_refusal(exc: AmountError, field: str = "amount") -> dict[str, Any]:
    return {"code": "validation-error", "detail": str(exc), "fields": {field: str(exc)}}


# Refusals of how much was asked (no field named by the service): told beside the form's amount
# box, where the shopper corrects it
AMOUNT_REFUSALS = {"insufficient-funds", "limit-exceeded"}


def new_key() -> str:
    """A fresh Idempotency-Key for a form that moves money."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Done:
    """A money form's outcome: the receipt's public fields, or the refusal."""

    result: dict[str, Any] | None
    refusal: dict[str, Any] | None
    replayed: bool


def run_money(
    session: Session, *, actor: Actor, request: MoneyRequest, key: str, now: datetime
) -> Done:
    """Execute `request` once for (actor, key) in the page's transaction, like the API does for
    an Idempotency-Key; a resent form gets the first outcome back."""
    if not _KEY.match(key):
        detail = "Biểu mẫu đã cũ, hãy mở lại trang (stale form: reload the page)."
        return Done(None, {"code": "validation-error", "detail": detail, "fields": {}}, False)

    def once() -> tuple[dict[str, Any], int]:
        receipt = execute(session, actor, request, now)
        return receipt_fields(receipt, actor), require_id(receipt.transfer)

    try:
        outcome = idempotency.idempotent(
            session,
            user_id=user_id_of(actor),
            key=key,
            fingerprint=idempotency.request_hash(*fingerprint_parts(request)),
            operation=once,
        )
    except DomainError as exc:  # the key was used for another form
        session.rollback()
        return Done(None, {"code": exc.code, "detail": exc.detail, "fields": {}}, False)
    if outcome.ok:
        return Done(outcome.response, None, outcome.replayed)
    stored = outcome.response
    fields = {(e.get("field") or "form").split(".")[-1]: "" for e in stored["errors"]}
    if not fields and stored["code"] in AMOUNT_REFUSALS:
        fields = {"amount": ""}
    refusal = {"code": stored["code"], "detail": stored["detail"], "fields": fields}
    return Done(None, in_words(refusal), False)


def in_words(refusal: dict[str, Any]) -> dict[str, Any]:
    """A refusal whose message by its one field is its Vietnamese detail (the services' field
    messages are short, for API clients); a refusal of several fields keeps one per field."""
    fields = refusal.get("fields", {})
    if len(fields) == 1:
        fields = dict.fromkeys(fields, refusal["detail"])
    return {**refusal, "fields": fields}


def receipt_fields(receipt: Receipt, reader: Actor) -> dict[str, Any]:
    transfer = receipt.transfer
    payee = receipt.payee
    shown = None
    if payee is not None:
        vendor = masked_name(payee.vendor) if reader.role is Role.SHOPPER else payee.vendor
        shown = {"stall": payee.stall, "market": payee.market, "vendor": vendor}
    return {
        "id": require_id(transfer),
        "kind": str(transfer.kind),
        "amount": transfer.amount,
        "memo": transfer.memo,
        "created_at": transfer.created_at.isoformat(),
        "balance": receipt.balance,
        "payee": shown,
    }


def reopened_forms_go_home(router: APIRouter, homes: dict[str, str]) -> None:
    """GET of a form's POST address (the address bar keeps it after a refusal, and a person
    opens it again): a redirect to the page the form lives on, not a "method not allowed"."""
    for address, home in homes.items():
        router.add_api_route(address, _go_to(home), methods=["GET"])


def _go_to(home: str) -> Callable[[Request], Response]:
    def reopened(request: Request) -> Response:
        return redirect(request, home)

    return reopened
