"""Stall codes and printed boards. A stall's static VietQR code is made from its current vendor's
default payout account; each printed board has a serial carried in the code (62.07 terminal
label), so the registry knows which payloads are live. When the vendor leaves the stall or the
account changes, the live board is revoked and, if the stall can still be paid, a new one is
issued; reprinting issues a new serial and marks the old board replaced."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

# stalls imports this module too (it re-syncs codes after each change); both only reach into
# the other at call time, so the cycle is safe.
from market import audit, stalls
from market.access import Actor, require_market_manager
from market.clock import MARKET_TZ, utc_now
from market.errors import InvalidStateError
from market.models import (
    CATEGORY_LABELS,
    AccountKind,
    Board,
    BoardStatus,
    GoodsCategory,
    Market,
    PayoutAccount,
    Stall,
    StallAssignment,
    Status,
    Vendor,
    Zone,
)
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


def _desired(session: Session, stall: Stall) -> tuple[Vendor, PayoutAccount] | None:
    """The current vendor and their default account, if the stall can be paid at all."""
    if stall.status not in ("occupied",):
        return None
    row = session.exec(
        select(Vendor, PayoutAccount)
        .join(StallAssignment, col(StallAssignment.vendor_id) == Vendor.id)
        .join(PayoutAccount, col(PayoutAccount.vendor_id) == Vendor.id)
        .where(
            col(StallAssignment.stall_id) == stall.id,
            col(StallAssignment.end_date).is_(None),
            col(PayoutAccount.is_default).is_(True),
            col(PayoutAccount.status) == Status.ACTIVE,
            col(Vendor.status) == Status.ACTIVE,
        )
    ).first()
    return (row[0], row[1]) if row else None


def live_board(session: Session, stall_id: int) -> Board | None:
    return session.exec(
        select(Board).where(Board.stall_id == stall_id, Board.status == BoardStatus.LIVE)
    ).first()


def _serial(market: Market, board_id: int) -> str:
    prefix = "".join(ch for ch in market.code.upper() if ch.isalnum())[:8] or "CHO"
    return f"{prefix}-{board_id:06d}"


def _payload(market: Market, stall: Stall, account: PayoutAccount, serial: str) -> str:
    return encode(
        VietQR.build(
            bin=account.bin,
            account=account.account_number,
            card=account.kind == AccountKind.CARD,
            memo=f"{stall.code} {strip_diacritics(market.code).upper()}"[:25],
            store_label=stall.code[:25],
            terminal_label=serial,
        )
    )


def _end(session: Session, *, actor: Actor, board: Board, status: BoardStatus, reason: str) -> None:
    before = audit.snapshot(board)
    board.status = status
    board.ended_at = utc_now()
    board.end_reason = reason
    audit.save(
        session,
        board,
        actor=actor,
        action=status.value,
        entity="board",
        market_id=board.market_id,
        before=before,
    )


def _issue(
    session: Session, *, actor: Actor, stall: Stall, vendor: Vendor, account: PayoutAccount
) -> Board:
    market = session.get(Market, stall.market_id)
    assert market is not None
    board = Board(
        serial=f"tmp-{secrets.token_hex(10)}",  # replaced by the id-based serial below
        market_id=stall.market_id,
        stall_id=stall.id or 0,
        vendor_id=vendor.id or 0,
        payout_account_id=account.id or 0,
        payload="",
    )
    session.add(board)
    session.flush()
    board.serial = _serial(market, board.id or 0)
    board.payload = _payload(market, stall, account, board.serial)
    audit.save(
        session, board, actor=actor, action="issue", entity="board", market_id=stall.market_id
    )
    return board


def sync_stall(session: Session, *, actor: Actor, stall_id: int) -> Board | None:
    """Make the stall's live board match its current vendor and default account: revoke a board
    that no longer does and issue one where the stall can be paid. Returns the live board."""
    stall = session.get(Stall, stall_id)
    if stall is None:
        return None
    current = live_board(session, stall_id)
    desired = _desired(session, stall)
    if current is not None:
        market = session.get(Market, stall.market_id)
        assert market is not None
        same_payee = desired is not None and (current.vendor_id, current.payout_account_id) == (
            desired[0].id,
            desired[1].id,
        )
        if same_payee and desired is not None:
            if current.payload == _payload(market, stall, desired[1], current.serial):
                return current
            reason = "đổi mã ki-ốt"
        elif desired is None or current.vendor_id != desired[0].id:
            reason = "tiểu thương rời ki-ốt hoặc ki-ốt ngừng hoạt động"
        else:
            reason = "đổi tài khoản nhận tiền"
        _end(session, actor=actor, board=current, status=BoardStatus.REVOKED, reason=reason)
        session.flush()
    if desired is None:
        return None
    return _issue(session, actor=actor, stall=stall, vendor=desired[0], account=desired[1])


def sync_vendor(session: Session, *, actor: Actor, vendor_id: int) -> None:
    """Re-sync every stall the vendor holds (after an account change)."""
    stall_ids = session.exec(
        select(StallAssignment.stall_id).where(
            StallAssignment.vendor_id == vendor_id, col(StallAssignment.end_date).is_(None)
        )
    ).all()
    live_ids = session.exec(
        select(Board.stall_id).where(Board.vendor_id == vendor_id, Board.status == BoardStatus.LIVE)
    ).all()
    for stall_id in sorted(set(stall_ids) | set(live_ids)):
        sync_stall(session, actor=actor, stall_id=stall_id)


def stall_code(session: Session, *, actor: Actor, stall_id: int) -> StallCode:
    """The stall's live code with everything printed around it."""
    stalls.readable_stall(session, actor=actor, stall_id=stall_id)
    board = live_board(session, stall_id)
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
    current = live_board(session, stall_id)
    desired = _desired(session, stall)
    if current is None or desired is None:
        raise InvalidStateError("Ki-ốt chưa có mã QR để in lại (no live code to reprint).")
    _end(session, actor=actor, board=current, status=BoardStatus.REPLACED, reason="in lại")
    session.flush()
    return _issue(session, actor=actor, stall=stall, vendor=desired[0], account=desired[1])


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


def sale_payload(code: StallCode, *, amount: int, memo: str | None = None) -> str:
    """A one-sale dynamic code (01=12) for `amount` to the stall's live account."""
    return encode(
        VietQR.build(
            bin=code.account.bin,
            account=code.account.account_number,
            card=code.account.kind == AccountKind.CARD,
            amount=amount,
            memo=memo or f"{code.stall.code} {strip_diacritics(code.market.code).upper()}"[:25],
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
    """Live codes of a market (or one zone), in stall-code order, for printing sheets."""
    require_market_manager(actor, market_id)
    query = (
        select(Board)
        .join(Stall, col(Stall.id) == Board.stall_id)
        .where(Board.market_id == market_id, Board.status == BoardStatus.LIVE)
        .order_by(col(Stall.zone_id), col(Stall.code_key))
    )
    if zone_id is not None:
        query = query.where(Stall.zone_id == zone_id)
    return [_assemble(session, board) for board in session.exec(query)]
