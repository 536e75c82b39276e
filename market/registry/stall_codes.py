"""Reading a stall's code: the live board with everything printed around it, the words on a
board or per-sale card, per-sale payloads, sheets of a market's codes, reprints and history."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from market.clock import MARKET_TZ, utc_now
from market.errors import InvalidStateError, NotFoundError
from market.registry import boards, stalls
from market.registry.access import Actor, require_market_manager
from market.registry.models import (
    CATEGORY_LABELS,
    AccountKind,
    Board,
    BoardStatus,
    GoodsCategory,
    Market,
    PayoutAccount,
    SaleCode,
    Stall,
    Vendor,
    Zone,
)
from market.text import natural_key
from qr.banks import bank_by_bin
from qr.board import BoardContent, group_digits
from qr.text import strip_diacritics
from qr.vietqr import VietQR, encode


@dataclass(frozen=True)
class StallCode:
    """What a stall's code is made of: the board, the stall, its vendor and account."""

    board: Board
    stall: Stall
    vendor: Vendor
    account: PayoutAccount
    market: Market
    zone: Zone | None


def stall_code(session: Session, *, actor: Actor, stall_id: int) -> StallCode:
    """The stall's live code with everything printed around it."""
    stalls.readable_stall(session, actor=actor, stall_id=stall_id)
    board = boards.live_board(session, stall_id)
    if board is None:
        raise InvalidStateError(
            "Ki-ốt chưa có mã QR: cần tiểu thương đang thuê và tài khoản nhận tiền mặc định "
            "(no live code: the stall needs a current vendor with a default payout account)."
        )
    return _assemble(session, board)


def _assemble(session: Session, board: Board) -> StallCode:
    stall = session.get(Stall, board.stall_id)
    vendor = session.get(Vendor, board.vendor_id)
    account = session.get(PayoutAccount, board.payout_account_id)
    market = session.get(Market, board.market_id)
    assert stall
    assert vendor
    assert account
    assert market
    zone = session.get(Zone, stall.zone_id) if stall.zone_id else None
    return StallCode(board, stall, vendor, account, market, zone)


def reprint(session: Session, *, actor: Actor, stall_id: int) -> Board:
    """Issue a new serial for the stall's board; the old one is marked replaced."""
    stall = stalls.readable_stall(session, actor=actor, stall_id=stall_id)
    return boards.reissue(session, actor=actor, stall=stall)


def history(session: Session, *, actor: Actor, stall_id: int) -> list[Board]:
    stalls.readable_stall(session, actor=actor, stall_id=stall_id)
    return list(
        session.exec(select(Board).where(Board.stall_id == stall_id).order_by(col(Board.id)))
    )


def board_content(
    code: StallCode, *, amount: int | None = None, payload: str | None = None
) -> BoardContent:
    """The words printed on the board (or on a per-sale card when `amount` is given)."""
    bank = bank_by_bin(code.account.bin)
    category = CATEGORY_LABELS[GoodsCategory(code.stall.category)]
    details = f"{code.zone.name} · {category}" if code.zone else category
    printed = code.board.printed_at.astimezone(MARKET_TZ)
    stamp = utc_now().astimezone(MARKET_TZ) if amount is not None else printed
    footer = (
        f"{stamp:%d/%m/%Y %H:%M} · Mã theo số tiền, dùng một lần · {code.board.serial}"
        if amount is not None
        else f"In ngày {printed:%d/%m/%Y} · Số sê-ri {code.board.serial}"
    )
    return BoardContent(
        payload=payload or code.board.payload,
        title=code.market.name,
        label=f"Ki-ốt {code.stall.code}",
        details=details,
        holder_name=code.account.holder_name,
        bank_line=f"{bank.short_name if bank else code.account.bin} · "
        f"{group_digits(code.account.account_number)}",
        footer=footer,
        amount=amount,
    )


def sale_payload(
    session: Session, code: StallCode, *, amount: int, memo: str | None = None
) -> tuple[str, str]:
    """Issue a one-sale dynamic code (01=12) for `amount` to the stall's live account: its own
    reference in 62.01 (the bill number), recorded so that it pays once. Returns the payload and
    the reference."""
    reference = "HD" + secrets.token_hex(6).upper()  # 48 random bits; the column is unique
    payload = _sale_payload(code, amount=amount, memo=memo, reference=reference)
    assert code.board.id is not None
    session.add(SaleCode(board_id=code.board.id, reference=reference, amount=amount))
    session.flush()
    return payload, reference


def issued_sale_payload(
    session: Session, code: StallCode, *, reference: str, memo: str | None = None
) -> tuple[str, int]:
    """The payload and amount of a per-sale code issued earlier for the stall's live board and
    not yet paid (to draw its card again)."""
    issued = session.exec(
        select(SaleCode).where(
            SaleCode.reference == reference,
            SaleCode.board_id == code.board.id,
            col(SaleCode.transfer_id).is_(None),
        )
    ).first()
    if issued is None:
        raise NotFoundError("Không có mã theo số tiền này, hoặc mã đã được trả (no such code).")
    return _sale_payload(code, amount=issued.amount, memo=memo, reference=reference), issued.amount


def sale_code_state(session: Session, *, actor: Actor, stall_id: int, reference: str) -> SaleCode:
    """A per-sale code issued for one of the stall's boards, paid (`used_at` set) or not: the
    vendor's phone asks until it turns paid."""
    stalls.readable_stall(session, actor=actor, stall_id=stall_id)
    issued = session.exec(
        select(SaleCode)
        .join(Board, col(Board.id) == SaleCode.board_id)
        .where(SaleCode.reference == reference, Board.stall_id == stall_id)
    ).first()
    if issued is None:
        raise NotFoundError("Không có mã theo số tiền này (no such per-sale code).")
    return issued


def _sale_payload(code: StallCode, *, amount: int, memo: str | None, reference: str) -> str:
    return encode(
        VietQR.build(
            bin=code.account.bin,
            account=code.account.account_number,
            card=code.account.kind == AccountKind.CARD,
            amount=amount,
            memo=memo or f"{code.stall.code} {strip_diacritics(code.market.code).upper()}"[:25],
            bill_number=reference,
            store_label=code.stall.code[:25],
            terminal_label=code.board.serial,
        )
    )


def etag(content: BoardContent, kind: str) -> str:
    """A strong validator: changes exactly when what is drawn changes."""
    digest = hashlib.sha256(repr((kind, content)).encode("utf-8")).hexdigest()[:32]
    return f'"{digest}"'


def market_codes(
    session: Session, *, actor: Actor, market_id: int, zone_id: int | None = None
) -> list[StallCode]:
    """Live codes of a market (or one zone) for printing sheets: by zone (in natural order of
    zone codes, stalls without a zone last), then stalls in natural order (G-2 before G-10)."""
    require_market_manager(actor, market_id)
    query = (
        select(Board)
        .join(Stall, col(Stall.id) == Board.stall_id)
        .where(Board.market_id == market_id, Board.status == BoardStatus.LIVE)
    )
    if zone_id is not None:
        query = query.where(Stall.zone_id == zone_id)
    codes = [_assemble(session, board) for board in session.exec(query)]
    return sorted(codes, key=_sheet_order)


def _sheet_order(code: StallCode) -> tuple[object, ...]:
    zone = code.zone.code if code.zone else None
    zone_key = (1, (), "") if zone is None else (0, natural_key(zone), zone)
    return (zone_key, natural_key(code.stall.code), code.stall.code)
