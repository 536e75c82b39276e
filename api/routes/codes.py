"""Stall codes: the live payload, board pictures (PNG, SVG, PDF with ETag), reprints, per-sale
dynamic codes, zone/market sheets, and a decoder that explains a pasted payload."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.deps import CurrentUser, SessionDep
from api.problems import problem_responses
from market.db import require_id
from market.errors import DomainError, FieldError, InvalidInputError, NotFoundError
from market.inputs import Boolean, Id, WholeNumber
from market.money import payments, wallets
from market.registry import stall_codes
from market.registry.access import Actor
from market.registry.models import BoardPublic, BoardStatus, Role
from market.text import mask_digits
from qr import board as board_render
from qr import render
from qr.amounts import amount_in_words, format_vnd
from qr.banks import bank_by_bin
from qr.vietqr import MAX_AMOUNT, Decoded, VietQRError, decode_any, describe

router = APIRouter(tags=["qr"], responses=problem_responses(401, 403, 404, 409, 422))

PNG, SVG, PDF = "image/png", "image/svg+xml", "application/pdf"
T = TypeVar("T")


class StallCodePublic(BaseModel):
    stall_id: int
    serial: str
    payload: str
    status: BoardStatus
    printed_at: datetime
    bin: str
    bank_short_name: str
    account_number_masked: str
    holder_name: str


class SaleCodeRequest(BaseModel):
    amount: WholeNumber = Field(
        gt=0, le=MAX_AMOUNT, description="đồng; one NAPAS transfer < 500,000,000"
    )
    memo: str | None = Field(default=None, max_length=25, description="nội dung, ASCII ≤ 25")


class SaleCodePublic(BaseModel):
    payload: str
    reference: str = Field(description="the code's own reference (VietQR 62.01); it pays once")
    amount: int
    amount_text: str
    amount_words: str
    serial: str


class DecodeRequest(BaseModel):
    payload: str = Field(max_length=2000)
    lenient: Boolean = False


class DecodeProblem(BaseModel):
    code: str
    reason: str
    tag: str | None


class RegisteredPayee(BaseModel):
    """Who a live code of this market pays, as registered: check it against the board."""

    market: str
    stall: str | None = Field(description="the stall's code, e.g. B-12")
    holder: str = Field(description="the account holder (masked for shoppers)")
    vendor: str = Field(description="the vendor (masked for shoppers)")


class DecodeReport(BaseModel):
    """What a payload says, and what is wrong with it."""

    valid: bool
    registered: RegisteredPayee | None = Field(
        default=None, description="the payee when the code pays a live registered account"
    )
    scheme: str = Field(description="vietqr, vnpay-qr or unknown")
    fields: dict[str, Any]
    problems: list[DecodeProblem]
    warnings: list[DecodeProblem]


def _public(code: stall_codes.StallCode) -> StallCodePublic:
    found = bank_by_bin(code.account.bin)
    return StallCodePublic(
        stall_id=require_id(code.stall),
        serial=code.board.serial,
        payload=code.board.payload,
        status=BoardStatus(code.board.status),
        printed_at=code.board.printed_at,
        bin=code.account.bin,
        bank_short_name=found.short_name if found else code.account.bin,
        account_number_masked=mask_digits(code.account.account_number),
        holder_name=code.account.holder_name,
    )


def _cached(request: Request, content: bytes, media_type: str, tag: str, filename: str) -> Response:
    headers = {
        "ETag": tag,
        "Cache-Control": "private, no-cache",
        "Content-Disposition": f'inline; filename="{filename}"',
    }
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


def _picture(kind: str, content: board_render.BoardContent) -> tuple[bytes, str]:
    if kind == "png":
        return board_render.board_png(content), PNG
    if kind == "svg":
        return board_render.board_svg(content).encode("utf-8"), SVG
    return board_render.board_pdf(content), PDF


@router.get("/stalls/{stall_id}/code", response_model=StallCodePublic)
def get_stall_code(actor: CurrentUser, session: SessionDep, stall_id: Id) -> StallCodePublic:
    """The stall's live static VietQR code (made from its vendor's default payout account)."""
    return _public(stall_codes.stall_code(session, actor=actor, stall_id=stall_id))


@router.post("/stalls/{stall_id}/code/reprint", response_model=StallCodePublic)
def reprint_board(actor: CurrentUser, session: SessionDep, stall_id: Id) -> StallCodePublic:
    """A new serial for the stall's board; the old board is marked replaced and stops paying."""
    board = stall_codes.reprint(session, actor=actor, stall_id=stall_id)
    return _public(stall_codes.stall_code(session, actor=actor, stall_id=board.stall_id))


@router.get("/stalls/{stall_id}/boards", response_model=list[BoardPublic])
def board_history(actor: CurrentUser, session: SessionDep, stall_id: Id) -> list[BoardPublic]:
    return [
        BoardPublic.model_validate(b, from_attributes=True)
        for b in stall_codes.history(session, actor=actor, stall_id=stall_id)
    ]


def _media(*types: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {t: {} for t in types}, "description": "the picture"},
        304: {"description": "not modified (If-None-Match matched the ETag)"},
    }


@router.get(
    "/stalls/{stall_id}/board.{kind}", response_class=Response, responses=_media(PNG, SVG, PDF)
)
def stall_board(
    actor: CurrentUser,
    session: SessionDep,
    request: Request,
    stall_id: Id,
    kind: Literal["png", "svg", "pdf"],
) -> Response:
    """The A6 board: PNG (300 dpi), SVG or PDF."""
    code = stall_codes.stall_code(session, actor=actor, stall_id=stall_id)
    content = stall_codes.board_content(code)
    data, media_type = _picture(kind, content)
    return _cached(
        request, data, media_type, stall_codes.etag(content, kind), f"{code.board.serial}.{kind}"
    )


@router.get("/stalls/{stall_id}/code.{kind}", response_class=Response, responses=_media(PNG, SVG))
def stall_bare_code(
    actor: CurrentUser,
    session: SessionDep,
    request: Request,
    stall_id: Id,
    kind: Literal["png", "svg"],
) -> Response:
    """The bare QR code (quiet zone included), for sharing or custom layouts."""
    code = stall_codes.stall_code(session, actor=actor, stall_id=stall_id)
    payload = code.board.payload
    if kind == "png":
        data, media_type = render.png_bytes(payload), PNG
    else:
        data, media_type = render.svg_text(payload).encode("utf-8"), SVG
    return _cached(
        request,
        data,
        media_type,
        stall_codes.etag(stall_codes.board_content(code), f"bare-{kind}"),
        f"{code.board.serial}-qr.{kind}",
    )


@router.post("/stalls/{stall_id}/sale-code", response_model=SaleCodePublic)
def sale_code(
    actor: CurrentUser, session: SessionDep, stall_id: Id, data: SaleCodeRequest
) -> SaleCodePublic:
    """A dynamic (one-sale) code for an amount, to show on the vendor's phone: its own
    reference, and it pays once."""
    code = stall_codes.stall_code(session, actor=actor, stall_id=stall_id)
    payload, reference = _memo_checked(
        lambda: stall_codes.sale_payload(session, code, amount=data.amount, memo=data.memo)
    )
    return SaleCodePublic(
        payload=payload,
        reference=reference,
        amount=data.amount,
        amount_text=format_vnd(data.amount),
        amount_words=amount_in_words(data.amount),
        serial=code.board.serial,
    )


def _memo_checked(make: Callable[[], tuple[str, T]]) -> tuple[str, T]:
    try:
        return make()
    except VietQRError as exc:
        raise InvalidInputError(
            "Nội dung chuyển khoản không hợp lệ (invalid memo).",
            errors=[FieldError("memo", p.code, p.reason) for p in exc.problems],
        ) from None


@router.get("/stalls/{stall_id}/sale-code.png", response_class=Response, responses=_media(PNG))
def sale_card(
    actor: CurrentUser,
    session: SessionDep,
    stall_id: Id,
    amount: Annotated[WholeNumber, Query(gt=0, le=MAX_AMOUNT)],
    reference: Annotated[
        str, Query(min_length=1, max_length=25, description="the code's reference, from POST")
    ],
    memo: Annotated[str | None, Query(max_length=25)] = None,
) -> Response:
    """The card of a per-sale code issued by `POST /stalls/{id}/sale-code`: the code, the
    amount in digits and in words. Drawing it changes nothing (a GET issues no code)."""
    code = stall_codes.stall_code(session, actor=actor, stall_id=stall_id)
    payload, issued = _memo_checked(
        lambda: stall_codes.issued_sale_payload(session, code, reference=reference, memo=memo)
    )
    if issued != amount:
        raise NotFoundError("Không có mã theo số tiền này (no such code for this amount).")
    content = stall_codes.board_content(code, amount=amount, payload=payload)
    return Response(
        board_render.board_png(content), media_type=PNG, headers={"Cache-Control": "no-store"}
    )


@router.get("/markets/{market_id}/sheet.pdf", response_class=Response, responses=_media(PDF))
def market_sheet(
    actor: CurrentUser, session: SessionDep, market_id: Id, zone_id: Id | None = None
) -> Response:
    """A4 sheets, four A6 boards a page with cut marks, for a whole market or one zone."""
    codes = stall_codes.market_codes(session, actor=actor, market_id=market_id, zone_id=zone_id)
    pdf = board_render.sheet_pdf([stall_codes.board_content(c) for c in codes])
    name = f"bang-qr-{market_id}{'-khu-' + str(zone_id) if zone_id else ''}.pdf"
    return Response(
        pdf, media_type=PDF, headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


def _registered(session: Session, actor: Actor, payload: str) -> RegisteredPayee | None:
    """The registered payee of a code that pays a live account here (None otherwise)."""
    try:
        code = payments.resolve_code(session, payload)
    except DomainError:
        return None
    shopper = actor.role is Role.SHOPPER
    return RegisteredPayee(
        market=code.market_name,
        stall=code.stall_code,
        holder=wallets.masked_name(code.holder_name) if shopper else code.holder_name,
        vendor=wallets.masked_name(code.vendor_name) if shopper else code.vendor_name,
    )


@router.post("/qr/decode", response_model=DecodeReport)
def decode_payload(actor: CurrentUser, session: SessionDep, data: DecodeRequest) -> DecodeReport:
    """Explain a pasted payload: its fields, and every problem with a stable code and reason."""
    try:
        result = decode_any(data.payload, lenient=data.lenient)
    except VietQRError as exc:
        return DecodeReport(
            valid=False,
            scheme="unknown",
            fields={},
            problems=[DecodeProblem(**p.as_dict()) for p in exc.problems],
            warnings=[],
        )
    if isinstance(result, Decoded):
        return DecodeReport(
            valid=True,
            registered=_registered(session, actor, data.payload),
            scheme="vietqr",
            fields=describe(result),
            problems=[],
            warnings=[DecodeProblem(**w.as_dict()) for w in result.warnings],
        )
    return DecodeReport(
        valid=False,
        scheme="vnpay-qr",
        fields={
            "merchant_id": result.merchant_id,
            "mcc": result.mcc,
            "merchant_name": result.merchant_name,
            "merchant_city": result.merchant_city,
            "additional": result.additional,
            "crc": result.crc,
        },
        problems=[
            DecodeProblem(
                code="vnpay-qr",
                tag="26",
                reason=(
                    "mã VNPAY-QR của cửa hàng: thanh toán qua VNPAY, không phải "
                    "chuyển khoản VietQR "
                    "(a VNPAY-QR merchant code, not a NAPAS 247 transfer)"
                ),
            )
        ],
        warnings=[],
    )
