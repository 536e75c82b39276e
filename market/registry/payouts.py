"""Payout accounts: where a vendor's money goes (bank account, card or e-wallet at a known BIN).
One active default per vendor; it is the account printed on the vendor's stall boards."""

from __future__ import annotations

from sqlmodel import Session, col, select

from market.db import require_id
from market.errors import (
    DuplicateError,
    FieldError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
)
from market.registry import audit, boards
from market.registry.access import Actor, require_market_manager
from market.registry.models import (
    AccountKind,
    PayoutAccount,
    PayoutAccountCreate,
    PayoutAccountUpdate,
    Status,
    Vendor,
)
from market.registry.vendors import get_vendor, readable_vendor
from market.text import holder_name


def get_account(session: Session, account_id: int) -> PayoutAccount:
    account = session.get(PayoutAccount, account_id)
    if account is None:
        raise NotFoundError("Không tìm thấy tài khoản nhận tiền (payout account not found).")
    return account


def readable_account(session: Session, *, actor: Actor, account_id: int) -> PayoutAccount:
    account = get_account(session, account_id)
    readable_vendor(session, actor=actor, vendor_id=account.vendor_id)
    return account


def list_accounts(
    session: Session, *, actor: Actor, vendor_id: int, include_inactive: bool = False
) -> list[PayoutAccount]:
    readable_vendor(session, actor=actor, vendor_id=vendor_id)
    query = select(PayoutAccount).where(PayoutAccount.vendor_id == vendor_id)
    if not include_inactive:
        query = query.where(PayoutAccount.status == Status.ACTIVE)
    return list(session.exec(query.order_by(col(PayoutAccount.id))))


def live_account(session: Session, *, bin_code: str, account_number: str) -> PayoutAccount | None:
    """The active payout account with this BIN and number: the one a scanned code pays."""
    return session.exec(
        select(PayoutAccount).where(
            PayoutAccount.bin == bin_code,
            PayoutAccount.account_number == account_number,
            PayoutAccount.status == Status.ACTIVE,
        )
    ).first()


def default_account(session: Session, vendor_id: int) -> PayoutAccount | None:
    return session.exec(
        select(PayoutAccount).where(
            PayoutAccount.vendor_id == vendor_id,
            col(PayoutAccount.is_default).is_(True),
            PayoutAccount.status == Status.ACTIVE,
        )
    ).first()


def _clear_default(session: Session, *, actor: Actor, vendor: Vendor, keep_id: int | None) -> None:
    current = default_account(session, require_id(vendor))
    if current is not None and current.id != keep_id:
        before = audit.snapshot(current)
        current.is_default = False
        audit.save(
            session,
            current,
            actor=actor,
            action="update",
            entity="payout_account",
            market_id=vendor.market_id,
            before=before,
        )


def add_account(
    session: Session, *, actor: Actor, vendor_id: int, data: PayoutAccountCreate
) -> PayoutAccount:
    vendor = get_vendor(session, vendor_id)
    require_market_manager(actor, vendor.market_id)
    if vendor.status != Status.ACTIVE:
        raise InvalidStateError("Tiểu thương đã ngừng hoạt động (vendor is deactivated).")
    if data.kind is AccountKind.CARD and len(data.account_number) < 16:
        raise InvalidInputError(
            "Số thẻ phải có 16–19 chữ số (card numbers have 16 to 19 digits).",
            errors=[FieldError("account_number", "card-length", "card numbers have 16-19 digits")],
        )
    if live_account(session, bin_code=data.bin, account_number=data.account_number) is not None:
        raise DuplicateError(
            "Tài khoản này đã được đăng ký (this account is already registered).",
            errors=[FieldError("account_number", "duplicate", "account already registered")],
        )
    is_default = data.is_default or default_account(session, vendor_id) is None
    if is_default:
        _clear_default(session, actor=actor, vendor=vendor, keep_id=None)
    account = PayoutAccount(
        vendor_id=vendor_id,
        bin=data.bin,
        account_number=data.account_number,
        holder_name=data.holder_name or holder_name(vendor.full_name),
        kind=data.kind,
        is_default=is_default,
    )
    audit.save(
        session,
        account,
        actor=actor,
        action="create",
        entity="payout_account",
        market_id=vendor.market_id,
    )
    boards.sync_vendor(session, actor=actor, vendor_id=vendor_id)
    return account


def update_account(
    session: Session, *, actor: Actor, account_id: int, data: PayoutAccountUpdate
) -> PayoutAccount:
    """Change the holder name, kind or default flag. The BIN and number never change: register a
    new account instead (so codes printed for the old one are revoked, not silently redirected)."""
    account = get_account(session, account_id)
    vendor = get_vendor(session, account.vendor_id)
    require_market_manager(actor, vendor.market_id)
    if account.status != Status.ACTIVE:
        raise InvalidStateError("Tài khoản đã ngừng sử dụng (account is deactivated).")
    before = audit.snapshot(account)
    if data.is_default is True:
        _clear_default(session, actor=actor, vendor=vendor, keep_id=account.id)
        account.is_default = True
    elif data.is_default is False and account.is_default:
        raise InvalidStateError(
            "Chọn tài khoản mặc định khác thay vì bỏ chọn (make another account the default).",
            errors=[FieldError("is_default", "default-required", "a vendor keeps one default")],
        )
    if data.holder_name is not None:
        account.holder_name = data.holder_name
    if data.kind is not None:
        account.kind = data.kind
    audit.save(
        session,
        account,
        actor=actor,
        action="update",
        entity="payout_account",
        market_id=vendor.market_id,
        before=before,
    )
    boards.sync_vendor(session, actor=actor, vendor_id=require_id(vendor))
    return account


def deactivate_account(session: Session, *, actor: Actor, account_id: int) -> PayoutAccount:
    """Stop using an account; if it was the default, the vendor's oldest other active account
    becomes the default."""
    account = get_account(session, account_id)
    vendor = get_vendor(session, account.vendor_id)
    require_market_manager(actor, vendor.market_id)
    if account.status != Status.ACTIVE:
        return account
    before = audit.snapshot(account)
    was_default = account.is_default
    account.status = Status.INACTIVE
    account.is_default = False
    audit.save(
        session,
        account,
        actor=actor,
        action="deactivate",
        entity="payout_account",
        market_id=vendor.market_id,
        before=before,
    )
    if was_default:
        successor = session.exec(
            select(PayoutAccount)
            .where(PayoutAccount.vendor_id == vendor.id, PayoutAccount.status == Status.ACTIVE)
            .order_by(col(PayoutAccount.id))
        ).first()
        if successor is not None:
            update_account(
                session,
                actor=actor,
                account_id=require_id(successor),
                data=PayoutAccountUpdate(is_default=True),
            )
    boards.sync_vendor(session, actor=actor, vendor_id=require_id(vendor))
    return account


def deactivate_all_for_vendor(session: Session, *, actor: Actor, vendor: Vendor) -> None:
    for account in list_accounts(session, actor=actor, vendor_id=require_id(vendor)):
        account.is_default = False
        deactivate_account(session, actor=actor, account_id=require_id(account))
