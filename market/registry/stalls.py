"""Stalls (ki-ốt/sạp) and the history of which vendor holds which stall."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, exists, or_
from sqlmodel import Session, col, select

from market.clock import local_today
from market.db import require_id
from market.errors import (
    DuplicateError,
    FieldError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
    StallOccupiedError,
)
from market.pagination import Cursor, apply_keyset, next_cursor
from market.registry import audit, boards
from market.registry.access import Actor, require_market_manager
from market.registry.markets import open_zone, require_active_market
from market.registry.models import (
    CATEGORY_LABELS,
    AssignmentCreate,
    GoodsCategory,
    PayoutAccount,
    Role,
    Stall,
    StallAssignment,
    StallCreate,
    StallPublic,
    StallStatus,
    StallUpdate,
    Status,
    Vendor,
)
from market.text import alnum_key, fold

_CLOSED = StallStatus.CLOSED


def get_stall(session: Session, stall_id: int) -> Stall:
    stall = session.get(Stall, stall_id)
    if stall is None:
        raise NotFoundError("Không tìm thấy ki-ốt (stall not found).")
    return stall


def find_stall_by_code(session: Session, *, market_id: int, code: str) -> Stall | None:
    return session.exec(
        select(Stall).where(Stall.market_id == market_id, Stall.code_key == alnum_key(code))
    ).first()


def current_assignment(session: Session, stall_id: int) -> StallAssignment | None:
    return session.exec(
        select(StallAssignment).where(
            StallAssignment.stall_id == stall_id, col(StallAssignment.end_date).is_(None)
        )
    ).first()


def occupied_on(session: Session, market_id: int, day: date) -> set[int]:
    """The market's stalls a vendor held on `day` (an assignment starts on its start date and
    ends before its end date, the day the next vendor may start)."""
    return set(
        session.exec(
            select(StallAssignment.stall_id)
            .join(Stall, col(Stall.id) == StallAssignment.stall_id)
            .where(
                Stall.market_id == market_id,
                col(StallAssignment.start_date) <= day,
                or_(col(StallAssignment.end_date).is_(None), col(StallAssignment.end_date) > day),
            )
        )
    )


def readable_stall(session: Session, *, actor: Actor, stall_id: int) -> Stall:
    """The stall if the actor may read it: admin, its market's manager, or its current vendor."""
    stall = get_stall(session, stall_id)
    if actor.role is Role.VENDOR:
        current = current_assignment(session, stall_id)
        if current is None or current.vendor_id != actor.vendor_id:
            raise NotFoundError("Không tìm thấy ki-ốt (stall not found).")
        return stall
    require_market_manager(actor, stall.market_id)
    return stall


def _ensure_code_free(session: Session, *, market_id: int, code: str, stall_id: int | None) -> None:
    other = find_stall_by_code(session, market_id=market_id, code=code)
    if other is not None and other.id != stall_id:
        raise DuplicateError(
            f"Mã ki-ốt '{code}' đã có trong chợ (stall code already exists in this market).",
            errors=[FieldError("code", "duplicate", "stall code already exists in this market")],
        )


def create_stall(session: Session, *, actor: Actor, market_id: int, data: StallCreate) -> Stall:
    require_market_manager(actor, market_id)
    require_active_market(session, market_id)
    if data.zone_id is not None:
        open_zone(session, market_id=market_id, zone_id=data.zone_id)
    _ensure_code_free(session, market_id=market_id, code=data.code, stall_id=None)
    stall = Stall(
        market_id=market_id,
        zone_id=data.zone_id,
        code=data.code,
        code_key=alnum_key(data.code),
        area_m2=data.area_m2,
        category=data.category,
        monthly_fee=data.monthly_fee,
    )
    audit.save(session, stall, actor=actor, action="create", entity="stall", market_id=market_id)
    return stall


def update_stall(session: Session, *, actor: Actor, stall_id: int, data: StallUpdate) -> Stall:
    stall = get_stall(session, stall_id)
    require_market_manager(actor, stall.market_id)
    changes = data.model_dump(exclude_unset=True)
    if stall.status == _CLOSED and changes.get("status") is None:
        raise InvalidStateError("Ki-ốt đã đóng (stall is closed).")
    if "code" in changes and changes["code"] is not None:
        _ensure_code_free(
            session, market_id=stall.market_id, code=changes["code"], stall_id=stall_id
        )
    if changes.get("zone_id") not in (None, stall.zone_id):  # a stall may stay where it is
        open_zone(session, market_id=stall.market_id, zone_id=changes["zone_id"])
    before = audit.snapshot(stall)
    new_status = changes.pop("status", None)
    for name, value in changes.items():
        if value is not None or name == "zone_id":
            setattr(stall, name, value)
    stall.code_key = alnum_key(stall.code)
    if new_status is not None:
        _set_status(session, stall, StallStatus(new_status))
    audit.save(
        session,
        stall,
        actor=actor,
        action="update",
        entity="stall",
        market_id=stall.market_id,
        before=before,
    )
    boards.sync_stall(session, actor=actor, stall_id=stall_id)
    return stall


def _set_status(session: Session, stall: Stall, status: StallStatus) -> None:
    occupied = current_assignment(session, require_id(stall)) is not None
    if status in (StallStatus.VACANT, StallStatus.OCCUPIED):
        # occupied/vacant are not set by hand: they follow the assignment (re-opening a stall).
        stall.status = StallStatus.OCCUPIED if occupied else StallStatus.VACANT
        return
    if status is _CLOSED and occupied:
        raise StallOccupiedError(
            "Ki-ốt còn tiểu thương; kết thúc hợp đồng trước khi đóng (end the assignment first).",
            errors=[FieldError("status", "stall-occupied", "stall still has a current vendor")],
        )
    stall.status = status


def close_stall(session: Session, *, actor: Actor, stall_id: int) -> Stall:
    """Deactivate a stall (status closed); it must have no current vendor."""
    return update_stall(session, actor=actor, stall_id=stall_id, data=StallUpdate(status=_CLOSED))


def assign_vendor(
    session: Session, *, actor: Actor, stall_id: int, data: AssignmentCreate
) -> StallAssignment:
    stall = get_stall(session, stall_id)
    require_market_manager(actor, stall.market_id)
    if stall.status in (StallStatus.CLOSED, StallStatus.SUSPENDED):
        raise InvalidStateError(
            f"Ki-ốt đang ở trạng thái '{stall.status}' (stall is {stall.status}).",
        )
    vendor = session.get(Vendor, data.vendor_id)
    if vendor is None or vendor.market_id != stall.market_id:
        raise NotFoundError(
            "Không tìm thấy tiểu thương trong chợ này (vendor not found in this market).",
            errors=[FieldError("vendor_id", "not-found", "no such vendor in this market")],
        )
    if vendor.status != Status.ACTIVE:
        raise InvalidStateError(
            "Tiểu thương đã ngừng hoạt động (vendor is deactivated).",
            errors=[FieldError("vendor_id", "invalid-state", "vendor is deactivated")],
        )
    current = current_assignment(session, stall_id)
    if current is not None:
        raise StallOccupiedError(
            "Ki-ốt đang có tiểu thương; kết thúc hợp đồng hiện tại trước "
            "(the stall already has a current vendor).",
            errors=[
                FieldError("vendor_id", "stall-occupied", "stall already has a current vendor")
            ],
            extra={"current_vendor_id": current.vendor_id},
        )
    start = data.start_date or local_today()
    last = session.exec(
        select(StallAssignment)
        .where(StallAssignment.stall_id == stall_id)
        .order_by(col(StallAssignment.end_date).desc())
    ).first()
    if last is not None and last.end_date is not None and start < last.end_date:
        raise InvalidInputError(
            "Ngày bắt đầu trước ngày kết thúc của hợp đồng trước (start overlaps the history).",
            errors=[
                FieldError("start_date", "overlap", "starts before the previous assignment ended")
            ],
        )
    assignment = StallAssignment(stall_id=stall_id, vendor_id=require_id(vendor), start_date=start)
    session.add(assignment)
    stall.status = StallStatus.OCCUPIED
    session.add(stall)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="assign",
        entity="stall",
        entity_id=stall_id,
        market_id=stall.market_id,
        after=assignment,
    )
    boards.sync_stall(session, actor=actor, stall_id=stall_id)
    return assignment


def end_assignment(
    session: Session, *, actor: Actor, stall_id: int, end_date: date | None = None
) -> StallAssignment:
    stall = get_stall(session, stall_id)
    require_market_manager(actor, stall.market_id)
    current = current_assignment(session, stall_id)
    if current is None:
        raise InvalidStateError("Ki-ốt không có tiểu thương (stall has no current vendor).")
    end = end_date or local_today()
    if end < current.start_date:
        raise InvalidInputError(
            "Ngày kết thúc trước ngày bắt đầu (end date before start date).",
            errors=[FieldError("end_date", "before-start", "end date is before the start date")],
        )
    before = audit.snapshot(current)
    current.end_date = end
    session.add(current)
    if stall.status == StallStatus.OCCUPIED:
        stall.status = StallStatus.VACANT
    session.add(stall)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="unassign",
        entity="stall",
        entity_id=stall_id,
        market_id=stall.market_id,
        before=before,
        after=current,
    )
    boards.sync_stall(session, actor=actor, stall_id=stall_id)
    return current


def end_assignments_of_vendor(session: Session, *, actor: Actor, vendor_id: int) -> None:
    for assignment in session.exec(
        select(StallAssignment).where(
            col(StallAssignment.vendor_id) == vendor_id, col(StallAssignment.end_date).is_(None)
        )
    ).all():
        end_assignment(session, actor=actor, stall_id=assignment.stall_id)


def assignment_history(session: Session, *, actor: Actor, stall_id: int) -> list[StallAssignment]:
    readable_stall(session, actor=actor, stall_id=stall_id)
    return list(
        session.exec(
            select(StallAssignment)
            .where(StallAssignment.stall_id == stall_id)
            .order_by(col(StallAssignment.start_date), col(StallAssignment.id))
        )
    )


def list_stalls(
    session: Session,
    *,
    actor: Actor,
    market_id: int,
    q: str | None = None,
    zone_id: int | None = None,
    category: GoodsCategory | None = None,
    status: StallStatus | None = None,
    has_payout_account: bool | None = None,
    vendor_id: int | None = None,
    cursor: Cursor | None = None,
    limit: int = 50,
) -> tuple[list[Stall], str | None]:
    query = select(Stall).where(Stall.market_id == market_id)
    if actor.role is Role.VENDOR:
        vendor_id = actor.vendor_id or -1
        query = query.where(
            exists().where(
                col(StallAssignment.stall_id) == Stall.id,
                col(StallAssignment.vendor_id) == vendor_id,
                col(StallAssignment.end_date).is_(None),
            )
        )
    else:
        require_market_manager(actor, market_id)
    if zone_id is not None:
        query = query.where(Stall.zone_id == zone_id)
    if category is not None:
        query = query.where(Stall.category == category)
    if status is not None:
        query = query.where(Stall.status == status)
    if vendor_id is not None:
        query = query.where(
            exists().where(
                col(StallAssignment.stall_id) == Stall.id,
                col(StallAssignment.vendor_id) == vendor_id,
                col(StallAssignment.end_date).is_(None),
            )
        )
    if has_payout_account is not None:
        covered = exists().where(
            col(StallAssignment.stall_id) == Stall.id,
            col(StallAssignment.end_date).is_(None),
            col(PayoutAccount.vendor_id) == StallAssignment.vendor_id,
            col(PayoutAccount.status) == Status.ACTIVE,
        )
        query = query.where(covered if has_payout_account else ~covered)
    if q:
        code = alnum_key(q)
        digits = "".join(ch for ch in q if ch.isdigit())
        vendor_match = [col(Vendor.name_key).contains(fold(q))]
        if len(digits) >= 3:
            vendor_match.append(col(Vendor.phone_keys).contains(digits))
        clauses: list[ColumnElement[bool]] = [
            exists().where(
                col(StallAssignment.stall_id) == Stall.id,
                col(StallAssignment.end_date).is_(None),
                col(Vendor.id) == StallAssignment.vendor_id,
                or_(*vendor_match),
            )
        ]
        if code:
            clauses.append(col(Stall.code_key).contains(code))
        query = query.where(or_(*clauses))
    rows = list(session.exec(apply_keyset(query, Stall.id, cursor, limit)))
    return rows[:limit], next_cursor(rows, limit)


def public_stalls(session: Session, stalls: list[Stall]) -> list[StallPublic]:
    """Stalls with their current vendor's id and name."""
    ids = [require_id(s) for s in stalls]
    current: dict[int, tuple[int, str]] = {}
    if ids:
        for stall_id, vendor_id, name in session.exec(
            select(StallAssignment.stall_id, StallAssignment.vendor_id, Vendor.full_name)
            .join(Vendor, col(Vendor.id) == StallAssignment.vendor_id)
            .where(col(StallAssignment.stall_id).in_(ids), col(StallAssignment.end_date).is_(None))
        ):
            current[stall_id] = (vendor_id, name)
    result = []
    for stall in stalls:
        vendor = current.get(require_id(stall))
        category = GoodsCategory(stall.category)
        result.append(
            StallPublic(
                id=require_id(stall),
                market_id=stall.market_id,
                zone_id=stall.zone_id,
                code=stall.code,
                area_m2=stall.area_m2,
                category=category,
                category_label=CATEGORY_LABELS[category],
                monthly_fee=stall.monthly_fee,
                status=StallStatus(stall.status),
                current_vendor_id=vendor[0] if vendor else None,
                current_vendor_name=vendor[1] if vendor else None,
            )
        )
    return result
