"""Printed boards' lifecycle. A stall's static VietQR code is made from its current vendor's
default payout account; each printed board has a serial carried in the code (62.07 terminal
label), so the registry knows which payloads are live. When the vendor leaves the stall or the
account changes, the live board is revoked and, if the stall can still be paid, a new one is
issued; reprinting issues a new serial and marks the old board replaced."""

from __future__ import annotations

import secrets

from sqlmodel import Session, col, select

from market.clock import utc_now
from market.db import require_id
from market.errors import InvalidStateError
from market.registry import audit
from market.registry.access import Actor
from market.registry.models import (
    AccountKind,
    Board,
    BoardStatus,
    Market,
    PayoutAccount,
    Stall,
    StallAssignment,
    Status,
    Vendor,
)
from qr.text import strip_diacritics
from qr.vietqr import VietQR, encode


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
        stall_id=require_id(stall),
        vendor_id=require_id(vendor),
        payout_account_id=require_id(account),
        payload="",
    )
    session.add(board)
    session.flush()
    board.serial = _serial(market, require_id(board))
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


def reissue(session: Session, *, actor: Actor, stall: Stall) -> Board:
    """Issue a new serial for the stall's live board; the old one is marked replaced."""
    current = live_board(session, require_id(stall))
    desired = _desired(session, stall)
    if current is None or desired is None:
        raise InvalidStateError("Ki-ốt chưa có mã QR để in lại (no live code to reprint).")
    _end(session, actor=actor, board=current, status=BoardStatus.REPLACED, reason="in lại")
    session.flush()
    return _issue(session, actor=actor, stall=stall, vendor=desired[0], account=desired[1])
