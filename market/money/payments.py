"""Paying a stall: resolving a scanned code to the live account it pays, paying it (a per-sale
code once), refunds and reversals. Each returns the transfer it wrote or raises a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy import select as wide_select  # more columns than sqlmodel's overloads take
from sqlmodel import Session, SQLModel, col

from market.db import require_id
from market.errors import (
    AmountMismatchError,
    CodeRevokedError,
    CodeSuspendedError,
    CodeUsedError,
    FieldError,
    ForbiddenError,
    InvalidStateError,
    InvalidVietQRError,
    NotFoundError,
    SelfPaymentError,
    UnknownCodeError,
)
from market.money import ledger
from market.money.models import LedgerAccount, LedgerAccountKind, Transfer, TransferKind
from market.money.notifications import ACTIVE_WEBHOOKS, record_event
from market.money.wallets import vendor_wallet_for
from market.registry.access import Actor, require_role
from market.registry.models import (
    Board,
    BoardStatus,
    Market,
    PayoutAccount,
    Role,
    Stall,
    StallStatus,
    Status,
    Vendor,
)
from market.registry.payouts import live_account
from market.text import mask_digits
from qr.amounts import format_vnd
from qr.vietqr import Initiation, VietQR, VietQRError, decode


@dataclass(frozen=True)
class ScannedCode:
    """What a scanned code pays: a live payout account of an active vendor, through the board
    that printed it (when one did)."""

    account_id: int
    vendor_id: int
    vendor_phone: str | None
    fee_bps: int
    market_id: int
    board_id: int | None
    serial: str | None
    fixed_amount: int | None
    wallet: ledger.Account | None  # the account's vendor wallet, once it has one
    market_name: str
    vendor_name: str
    holder_name: str  # the payout account's holder, as the bank has it
    stall_code: str | None  # the stall whose board printed the code (`B-12`)
    has_webhooks: bool | None = None  # None: not read
    reference: str | None = None  # a per-sale code's own reference (62.01): it pays once


# What a payer is told about bytes that are not a VietQR payment code (the API's answer adds the
# decoder's reasons, for whoever printed the code)
NOT_A_PAYMENT_CODE = (
    "Mã QR không hợp lệ: đây không phải mã thanh toán VietQR, hoặc mã đã hỏng; hãy quét lại mã in"
    " trên bảng của ki-ốt"
)


def resolve_code(session: Session, payload: str) -> ScannedCode:
    """The live payout account a scanned payload pays, or the reason it cannot be paid."""
    try:
        value = _decoded(payload)
    except VietQRError as exc:
        raise InvalidVietQRError(
            f"{NOT_A_PAYMENT_CODE} (chi tiết: " + "; ".join(p.reason for p in exc.problems) + ")",
            errors=[FieldError("payload", p.code, p.reason) for p in exc.problems],
        ) from None
    fixed = value.amount if value.initiation is Initiation.DYNAMIC else None
    printed = None
    if value.terminal_label:
        printed = _printed_board(session, "serial", value.terminal_label)
    if printed is None:
        printed = _printed_board(session, "payload", payload)
    if printed is None:
        account = live_account(session, bin_code=value.bin, account_number=value.account)
        if account is None:
            raise UnknownCodeError(
                "Mã QR không trả cho tài khoản nào đăng ký ở chợ "
                "(no live payout account for this code)."
            )
        vendor = session.get(Vendor, account.vendor_id)
        assert vendor is not None
        _require_active(vendor.status)
        market = session.get(Market, vendor.market_id)
        assert market is not None
        return ScannedCode(
            account_id=require_id(account),
            vendor_id=require_id(vendor),
            vendor_phone=vendor.phone,
            fee_bps=vendor.fee_bps,
            market_id=vendor.market_id,
            board_id=None,
            serial=None,
            fixed_amount=fixed,
            wallet=None,
            market_name=market.name,
            vendor_name=vendor.full_name,
            holder_name=account.holder_name,
            stall_code=None,
        )
    if printed.board_status != BoardStatus.LIVE:
        what = "được in lại" if printed.board_status == BoardStatus.REPLACED else "bị thu hồi"
        raise CodeRevokedError(
            f"Bảng mã {printed.serial} đã {what} (this code was replaced or revoked).",
            extra={"serial": printed.serial},
        )
    if printed.account_status != Status.ACTIVE or (printed.bin, printed.account_number) != (
        value.bin,
        value.account,
    ):
        raise CodeRevokedError("Tài khoản của mã này đã đổi (the code's account changed).")
    _require_active(printed.vendor_status)
    if printed.stall_status != StallStatus.OCCUPIED:
        raise CodeSuspendedError("Ki-ốt đang tạm ngừng (stall suspended or closed).")
    return ScannedCode(
        account_id=printed.account_id,
        vendor_id=printed.vendor_id,
        vendor_phone=printed.phone,
        fee_bps=printed.fee_bps,
        market_id=printed.market_id,
        board_id=printed.board_id,
        serial=printed.serial,
        fixed_amount=fixed,
        wallet=ledger.account_of(printed, "wallet"),
        market_name=printed.market_name,
        vendor_name=printed.vendor_name,
        holder_name=printed.holder_name,
        stall_code=printed.stall_code,
        has_webhooks=bool(printed.has_webhooks),
        reference=value.bill_number if fixed is not None else None,
    )


@lru_cache(maxsize=4096)
def _decoded(payload: str) -> VietQR:
    """A payload's VietQR, decoded once per payload (a stall's printed code is scanned all day;
    a refusal is not kept)."""
    return decode(payload).value


def _require_active(vendor_status: str) -> None:
    if vendor_status != Status.ACTIVE:
        raise CodeSuspendedError("Tiểu thương đã ngừng hoạt động (vendor inactive).")


_PRINTED_BOARD: dict[str, Any] = {
    column: wide_select(
        col(Board.id).label("board_id"),
        col(Board.serial),
        col(Board.status).label("board_status"),
        col(PayoutAccount.id).label("account_id"),
        col(PayoutAccount.bin),
        col(PayoutAccount.account_number),
        col(PayoutAccount.status).label("account_status"),
        col(Vendor.id).label("vendor_id"),
        col(Vendor.status).label("vendor_status"),
        col(Vendor.phone),
        col(Vendor.fee_bps),
        col(Vendor.market_id),
        col(Stall.status).label("stall_status"),
        col(Stall.code).label("stall_code"),
        col(Market.name).label("market_name"),
        col(Vendor.full_name).label("vendor_name"),
        col(PayoutAccount.holder_name),
        ACTIVE_WEBHOOKS.label("has_webhooks"),
        *ledger.account_columns("wallet"),
    )
    .select_from(Board)
    .join(PayoutAccount, col(PayoutAccount.id) == Board.payout_account_id)
    .join(Vendor, col(Vendor.id) == PayoutAccount.vendor_id)
    .join(Stall, col(Stall.id) == Board.stall_id)
    .join(Market, col(Market.id) == Board.market_id)
    .outerjoin(ledger.ACCOUNTS, ledger.ACCOUNTS.c.payout_account_id == PayoutAccount.id)
    .where(getattr(Board, column) == bindparam("value"))
    for column in ("serial", "payload")
}


def _printed_board(session: Session, by: str, value: str) -> Any:
    """The board (live or not) that printed a code, with the states of the account it pays, its
    vendor and its stall, and the account's vendor wallet (`wallet_…` columns), in plain columns:
    no ORM object is built for the read every payment makes."""
    return session.connection().execute(_PRINTED_BOARD[by], {"value": value}).first()


def fee_for(amount: int, fee_bps: int) -> int:
    """The vendor's fee on a payment: basis points of the amount, rounded down to whole đồng
    (the one rounding rule: in the vendor's favour)."""
    return amount * fee_bps // 10_000


def pay_by_qr(
    session: Session,
    *,
    actor: Actor,
    wallet: ledger.Account,
    payload: str,
    amount: int | None,
    now: datetime,
) -> Transfer:
    """Pay a stall by scanning its code."""
    code = resolve_code(session, payload)
    return pay(session, actor=actor, wallet=wallet, code=code, amount=amount, now=now)


PAYMENT_RECEIVED = "payment.received"  # the event a vendor's soundbox announces


def pay(
    session: Session,
    *,
    actor: Actor,
    wallet: ledger.Account,
    code: ScannedCode,
    amount: int | None,
    now: datetime,
) -> Transfer:
    """Pay what a scanned code resolved to: the shopper is debited, the vendor's wallet
    credited less the vendor's fee; a per-sale code is marked paid."""
    posting = payment_posting(session, actor=actor, wallet=wallet, code=code, amount=amount)
    transfer = ledger.move(session, posting, now=now)
    if code.reference is not None:
        _use_sale_code(session, code, transfer, now)
    record_event(
        session,
        vendor_id=code.vendor_id,
        type=PAYMENT_RECEIVED,
        transfer=transfer,
        has_webhooks=code.has_webhooks,
    )
    return transfer


def payment_posting(
    session: Session, *, actor: Actor, wallet: ledger.Account, code: ScannedCode, amount: int | None
) -> ledger.Posting:
    """The transfer paying what a scanned code resolved to, once the payment's rules allow it:
    the amount the code fixes or the payer gives, nobody paying their own stall, the vendor's
    fee."""
    if code.fixed_amount is not None:
        if amount is not None and amount != code.fixed_amount:
            raise AmountMismatchError(
                f"Mã này cố định số tiền {format_vnd(code.fixed_amount)} "
                "(the code fixes the amount).",
                errors=[FieldError("amount", "amount-override", "differs from the code")],
            )
        amount = code.fixed_amount
    elif amount is None:
        raise AmountMismatchError(
            "Mã tĩnh: hãy nhập số tiền (a static code needs the amount).",
            errors=[FieldError("amount", "amount-required", "static code: amount needed")],
        )
    if actor.phone and actor.phone == code.vendor_phone:
        raise SelfPaymentError("Không thể tự trả tiền cho ki-ốt của mình (paying yourself).")
    target = code.wallet or ledger.vendor_wallet(session, code.account_id)
    fee = fee_for(amount, code.fee_bps)
    fees = ledger.system_account(session, LedgerAccountKind.FEES) if fee else None
    return ledger.Posting(
        kind=TransferKind.PAYMENT,
        debit=wallet,
        credit=target,
        amount=amount,
        fee=fee,
        fees_account=fees,
        board_id=code.board_id,
        market_id=code.market_id,
        memo=f"Ki-ốt {code.stall_code} · {code.market_name}"[:100]
        if code.stall_code
        else f"Thanh toán QR · {code.market_name}"[:100],
        source_label=mask_digits(actor.phone, 3) if actor.phone else "ví",
    )


SALE_CODES = SQLModel.metadata.tables["sale_code"]
_USE_SALE_CODE = (
    update(SALE_CODES)
    .where(
        SALE_CODES.c.reference == bindparam("ref"),
        SALE_CODES.c.board_id == bindparam("board"),
        SALE_CODES.c.amount == bindparam("paid_amount"),
        SALE_CODES.c.transfer_id.is_(None),
    )
    .values(transfer_id=bindparam("paid_by"), used_at=bindparam("paid_at"))
    .returning(SALE_CODES.c.id)
)
_SALE_CODE_USED = wide_select(SALE_CODES.c.transfer_id).where(
    SALE_CODES.c.reference == bindparam("ref"),
    SALE_CODES.c.board_id == bindparam("board"),
)


def _use_sale_code(session: Session, code: ScannedCode, transfer: Transfer, now: datetime) -> None:
    """Mark the per-sale code paid by `transfer` (one conditional UPDATE: a concurrent twin waits
    on the row, then finds it used), or refuse: paid already, or never issued for this board."""
    connection = session.connection()
    parameters = {"ref": code.reference, "board": code.board_id}
    if connection.execute(
        _USE_SALE_CODE,
        parameters | {"paid_amount": transfer.amount, "paid_by": transfer.id, "paid_at": now},
    ).first():
        return
    if connection.execute(_SALE_CODE_USED, parameters).first():
        raise _code_used(code)
    raise UnknownCodeError("Mã theo số tiền này không do chợ phát hành (code not issued here).")


def _code_used(code: ScannedCode) -> CodeUsedError:
    return CodeUsedError(
        "Mã theo số tiền này đã được thanh toán; mỗi mã chỉ dùng một lần "
        "(this per-sale code has been paid: it pays once).",
        extra={"reference": code.reference},
    )


def refuse_if_paid(session: Session, code: ScannedCode) -> None:
    """Refuse a per-sale code that has been paid already, before the shopper is shown its
    amount (the payment itself checks again, under the row's lock)."""
    if code.reference is None or code.board_id is None:
        return
    row = (
        session.connection()
        .execute(_SALE_CODE_USED, {"ref": code.reference, "board": code.board_id})
        .first()
    )
    if row is not None and row.transfer_id is not None:
        raise _code_used(code)


def _record_for_wallet(session: Session, wallet_id: int, type: str, transfer: Transfer) -> None:
    wallet = session.get(LedgerAccount, wallet_id)
    account = session.get(PayoutAccount, wallet.payout_account_id) if wallet else None
    if account is not None:
        record_event(session, vendor_id=account.vendor_id, type=type, transfer=transfer)


def _payment(session: Session, payment_id: int) -> Transfer:
    payment = session.get(Transfer, payment_id)
    if payment is None or payment.kind != TransferKind.PAYMENT:
        raise NotFoundError("Không tìm thấy giao dịch thanh toán (payment not found).")
    return payment


def refund(
    session: Session, *, actor: Actor, payment_id: int, amount: int, now: datetime
) -> Transfer:
    """The vendor gives back part or all of a payment; refunds never exceed it in total. Fees
    already charged are not returned."""
    if actor.role not in (Role.VENDOR, Role.ADMIN):
        raise ForbiddenError("Chỉ tiểu thương hoàn tiền (only the vendor refunds).")
    payment = _payment(session, payment_id)
    vendor_account = session.get(LedgerAccount, payment.credit_account_id)
    assert vendor_account is not None
    assert vendor_account.payout_account_id is not None
    wallet = vendor_wallet_for(session, actor, vendor_account.payout_account_id)
    shopper = session.get(LedgerAccount, payment.debit_account_id)
    assert shopper is not None
    transfer = ledger.move(
        session,
        ledger.Posting(
            kind=TransferKind.REFUND,
            debit=wallet,
            credit=shopper,
            amount=amount,
            original_id=payment.id,
            market_id=payment.market_id,
            memo=f"Hoàn tiền #{payment.id}",
        ),
        now=now,
        checks=lambda: ledger.check_refundable(session, _payment(session, payment_id), amount),
    )
    _record_for_wallet(session, transfer.debit_account_id, "payment.refunded", transfer)
    return transfer


def reverse(session: Session, *, actor: Actor, payment_id: int, now: datetime) -> Transfer:
    """An admin undoes a payment that has not been refunded: the shopper gets it all back, the
    vendor's net and the fee are taken back."""
    require_role(actor)
    payment = _payment(session, payment_id)
    if ledger.refunded_total(session, payment_id):
        raise InvalidStateError(
            "Giao dịch đã được hoàn một phần; hãy hoàn phần còn lại (already refunded in part)."
        )
    vendor_wallet = session.get(LedgerAccount, payment.credit_account_id)
    shopper = session.get(LedgerAccount, payment.debit_account_id)
    assert vendor_wallet is not None
    assert shopper is not None
    fees = ledger.system_account(session, LedgerAccountKind.FEES) if payment.fee else None
    transfer = ledger.reverse(
        session,
        ledger.Posting(
            kind=TransferKind.REVERSAL,
            debit=vendor_wallet,
            credit=shopper,
            amount=payment.amount,
            fee=payment.fee,
            fees_account=fees,
            original_id=payment.id,
            market_id=payment.market_id,
            memo=f"Đảo giao dịch #{payment.id}",
        ),
        now=now,
        checks=lambda: ledger.check_refundable(session, payment, payment.amount),
    )
    _record_for_wallet(session, transfer.debit_account_id, "payment.reversed", transfer)
    return transfer
