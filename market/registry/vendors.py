"""Vendors (tiểu thương): registration, updates, deactivation, and the diacritic-free search."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Exists, exists, or_
from sqlmodel import Session, col, select

from market.db import require_id
from market.errors import DuplicateError, FieldError, InvalidStateError, NotFoundError
from market.pagination import Cursor, apply_keyset, next_cursor
from market.registry import audit
from market.registry.access import Actor, managed_market_ids, require_market_manager, require_role
from market.registry.markets import require_active_market
from market.registry.models import (
    PayoutAccount,
    Role,
    Stall,
    StallAssignment,
    Status,
    Vendor,
    VendorCreate,
    VendorPublic,
    VendorUpdate,
)
from market.text import alnum_key, fold, natural_key, phone_search_keys


def get_vendor(session: Session, vendor_id: int) -> Vendor:
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFoundError("Không tìm thấy tiểu thương (vendor not found).")
    return vendor


def readable_vendor(session: Session, *, actor: Actor, vendor_id: int) -> Vendor:
    """The vendor if the actor may read it: admin, its market's manager, or the vendor itself."""
    vendor = get_vendor(session, vendor_id)
    if actor.role is Role.VENDOR:
        if actor.vendor_id != vendor_id:
            raise NotFoundError("Không tìm thấy tiểu thương (vendor not found).")
        return vendor
    require_market_manager(actor, vendor.market_id)
    return vendor


def _check_unique(
    session: Session, *, phone: str | None, national_id: str | None, exclude_id: int | None = None
) -> None:
    if phone is not None:
        other = session.exec(select(Vendor).where(Vendor.phone == phone)).first()
        if other is not None and other.id != exclude_id:
            raise DuplicateError(
                "Số điện thoại đã được đăng ký cho tiểu thương khác (phone already registered).",
                errors=[FieldError("phone", "duplicate", "phone already registered")],
            )
    if national_id is not None:
        other = session.exec(select(Vendor).where(Vendor.national_id == national_id)).first()
        if other is not None and other.id != exclude_id:
            raise DuplicateError(
                "Số CCCD đã được đăng ký (national ID already registered).",
                errors=[FieldError("national_id", "duplicate", "national ID already registered")],
            )


def find_vendor_by_phone(session: Session, phone: str) -> Vendor | None:
    return session.exec(select(Vendor).where(Vendor.phone == phone)).first()


def create_vendor(session: Session, *, actor: Actor, market_id: int, data: VendorCreate) -> Vendor:
    require_market_manager(actor, market_id)
    require_active_market(session, market_id)
    _check_unique(session, phone=data.phone, national_id=data.national_id)
    vendor = Vendor(
        market_id=market_id,
        full_name=data.full_name,
        name_key=fold(data.full_name),
        phone=data.phone,
        phone_keys=phone_search_keys(data.phone),
        national_id=data.national_id,
        tax_code=data.tax_code,
        fee_bps=data.fee_bps,
    )
    audit.save(session, vendor, actor=actor, action="create", entity="vendor", market_id=market_id)
    return vendor


def update_vendor(session: Session, *, actor: Actor, vendor_id: int, data: VendorUpdate) -> Vendor:
    vendor = get_vendor(session, vendor_id)
    require_market_manager(actor, vendor.market_id)
    if vendor.status != Status.ACTIVE:
        raise InvalidStateError("Tiểu thương đã ngừng hoạt động (vendor is deactivated).")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    _check_unique(
        session,
        phone=changes.get("phone"),
        national_id=changes.get("national_id"),
        exclude_id=vendor_id,
    )
    before = audit.snapshot(vendor)
    for name, value in changes.items():
        setattr(vendor, name, value)
    vendor.name_key = fold(vendor.full_name)
    vendor.phone_keys = phone_search_keys(vendor.phone)
    audit.save(
        session,
        vendor,
        actor=actor,
        action="update",
        entity="vendor",
        market_id=vendor.market_id,
        before=before,
    )
    return vendor


def search_clause(q: str) -> ColumnElement[bool]:
    """Vendors whose name, phone or a current stall's code matches `q`, diacritics ignored."""
    folded = fold(q)
    digits = "".join(ch for ch in q if ch.isdigit())
    code = alnum_key(q)
    clauses: list[ColumnElement[bool]] = [col(Vendor.name_key).contains(folded)]
    if digits and len(digits) >= 3:
        clauses.append(col(Vendor.phone_keys).contains(digits))
    if code:
        clauses.append(
            exists().where(
                col(StallAssignment.vendor_id) == Vendor.id,
                col(StallAssignment.end_date).is_(None),
                col(StallAssignment.stall_id) == Stall.id,
                col(Stall.code_key).contains(code),
            )
        )
    return or_(*clauses)


def has_payout_clause() -> Exists:
    return exists().where(
        col(PayoutAccount.vendor_id) == Vendor.id, col(PayoutAccount.status) == Status.ACTIVE
    )


def list_vendors(
    session: Session,
    *,
    actor: Actor,
    market_id: int | None = None,
    q: str | None = None,
    status: Status | None = None,
    has_payout_account: bool | None = None,
    cursor: Cursor | None = None,
    limit: int = 50,
) -> tuple[list[Vendor], str | None]:
    query = select(Vendor)
    if actor.role is Role.VENDOR:
        query = query.where(Vendor.id == (actor.vendor_id or -1))
    else:
        require_role(actor, Role.MANAGER)
        if market_id is not None:
            require_market_manager(actor, market_id)
        scope = managed_market_ids(actor)
        if scope is not None:
            query = query.where(col(Vendor.market_id).in_(scope))
    if market_id is not None:
        query = query.where(Vendor.market_id == market_id)
    if status is not None:
        query = query.where(Vendor.status == status)
    if has_payout_account is not None:
        clause = has_payout_clause()
        query = query.where(clause if has_payout_account else ~clause)
    if q:
        query = query.where(search_clause(q))
    rows = list(session.exec(apply_keyset(query, Vendor.id, cursor, limit)))
    return rows[:limit], next_cursor(rows, limit)


def public_vendors(session: Session, vendors: list[Vendor]) -> list[VendorPublic]:
    """Vendors with their current stall codes and whether they have a payout account."""
    ids = [v.id for v in vendors if v.id is not None]
    if not ids:
        return []
    stalls: dict[int, list[str]] = {}
    for vendor_id, code in session.exec(
        select(StallAssignment.vendor_id, Stall.code)
        .join(Stall, col(Stall.id) == StallAssignment.stall_id)
        .where(col(StallAssignment.vendor_id).in_(ids), col(StallAssignment.end_date).is_(None))
    ):
        stalls.setdefault(vendor_id, []).append(code)
    for codes in stalls.values():
        codes.sort(key=lambda code: (natural_key(code), code))  # G-2 before G-10
    with_account = set(
        session.exec(
            select(PayoutAccount.vendor_id).where(
                col(PayoutAccount.vendor_id).in_(ids), col(PayoutAccount.status) == Status.ACTIVE
            )
        )
    )
    return [
        VendorPublic.from_row(
            v, has_payout_account=v.id in with_account, stall_codes=stalls.get(require_id(v), [])
        )
        for v in vendors
    ]
