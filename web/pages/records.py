"""Records: the audit log with filters, each vendor's webhook deliveries, and users and roles
(admin only)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Query, Request, Response
from sqlmodel import Session

from market.errors import NotFoundError
from market.inputs import MAX_ID, Id
from market.money import followup
from market.pagination import decode_cursor
from market.registry import audit, users
from market.registry.access import Actor, require_role
from market.registry.markets import list_markets
from market.registry.models import CATEGORY_LABELS, AuditEntry, Role, User, UserCreate
from market.text import phone_as_written
from web import i18n
from web.core import (
    LABELS,
    N_,
    ActorDep,
    Db,
    FormDep,
    attempt,
    context_of,
    field,
    lang_of,
    page_router,
    redirect,
    render,
)
from web.pages.registry import ACCOUNT_KINDS, confirm_first, market_page, vendor_in

router = page_router()
ENTITIES = ("stall", "vendor", "payout_account", "zone", "board", "market", "user", "day_close")
# The log's actions and the fields of its records, as the page names them (an unknown one shows
# as it is stored).
AUDIT_ACTIONS = {
    "create": N_("Thêm mới"),
    "update": N_("Sửa"),
    "deactivate": N_("Đã ngừng hoạt động"),
    "assign": N_("Giao ki-ốt"),
    "unassign": N_("Kết thúc thuê"),
    "issue": N_("Cấp bảng mã"),
    "replaced": N_("Đã in lại"),
    "revoked": N_("Đã thu hồi"),
    "close": N_("Đã chốt"),
}
AUDIT_FIELDS = {
    "id": N_("Mã số (id)"),
    "code": N_("Mã"),
    "name": N_("Tên"),
    "status": N_("Trạng thái"),
    "address": N_("Địa chỉ"),
    "commune": N_("Xã, phường"),
    "district": N_("Huyện"),
    "province": N_("Tỉnh"),
    "market_id": N_("Chợ (id)"),
    "zone_id": N_("Khu (id)"),
    "stall_id": N_("Ki-ốt (id)"),
    "vendor_id": N_("Tiểu thương (id)"),
    "payout_account_id": N_("Tài khoản nhận tiền (id)"),
    "area_m2": N_("Diện tích (m²)"),
    "category": N_("Ngành hàng"),
    "monthly_fee": N_("Phí tháng"),
    "full_name": N_("Họ tên"),
    "phone": N_("Điện thoại"),
    "national_id": N_("Số CCCD"),
    "tax_code": N_("Mã số thuế"),
    "fee_bps": N_("Phí giao dịch"),
    "bin": N_("Ngân hàng (BIN)"),
    "account_number": N_("Số tài khoản"),
    "holder_name": N_("Tên chủ tài khoản"),
    "kind": N_("Loại tài khoản"),
    "is_default": N_("Mặc định"),
    "start_date": N_("Ngày bắt đầu"),
    "end_date": N_("Ngày kết thúc"),
    "serial": N_("Số sê-ri"),
    "payload": N_("Nội dung mã QR"),
    "printed_at": N_("In lúc"),
    "ended_at": N_("Kết thúc lúc"),
    "end_reason": N_("Lý do"),
    "username": N_("Tên đăng nhập"),
    "role": N_("Vai trò"),
    "business_day": N_("Ngày"),
    "totals": N_("Tổng tiền"),
    "content_hash": N_("Mã băm"),
    "closed_at": N_("Chốt lúc"),
    "closed_by": N_("Người chốt"),
}


# What the log stores, as the pages show it: labels for codes, money, local time, masked numbers.
UNSHOWN_FIELDS = {"created_at", "name_key", "phone_keys", "code_key", "password_hash"}
ACTIVE_LABELS = {"active": N_("Đang hoạt động"), "inactive": N_("Ngừng hoạt động")}
STATUS_LABELS = {"stall": LABELS["stall_status"], "board": LABELS["board_status"]}
VALUE_LABELS: dict[str, dict[str, str]] = {
    "category": {k.value: v for k, v in CATEGORY_LABELS.items()},
    "kind": {k.value: v for k, v in ACCOUNT_KINDS.items()},
    "role": LABELS["role_labels"],
}
MONEY_FIELDS = {"monthly_fee"}
INSTANT_FIELDS = {"printed_at", "ended_at", "closed_at"}
DATE_FIELDS = {"start_date", "end_date", "business_day"}
MASKED_FIELDS = {"national_id", "account_number"}  # the log keeps the last 4 digits at most
LONG_FIELDS = {"payload": 24, "content_hash": 12}  # long codes: their beginning


def audit_value(entity: str, name: str, value: Any, lang: str) -> str:
    """One value of a logged record as a manager reads it on the other pages."""
    text = i18n.translations(lang).gettext
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return text(N_("Có")) if value else text(N_("Không"))
    label = _label_of(entity, name, value)
    if label:
        return text(label)
    if name in MONEY_FIELDS and isinstance(value, int):
        return i18n.money(value)
    if name == "fee_bps" and isinstance(value, int):
        return i18n.percent(value / 10000, lang)
    if name in INSTANT_FIELDS:
        instant = datetime.fromisoformat(str(value))
        return i18n.moment(instant if instant.tzinfo else instant.replace(tzinfo=UTC))
    if name in DATE_FIELDS:
        return i18n.day(date.fromisoformat(str(value)))
    if name == "phone":
        return phone_as_written(str(value))
    if isinstance(value, float):
        return i18n.measure(value, lang)
    if isinstance(value, dict | list):
        return text(N_("(%(n)d mục)")) % {"n": len(value)}
    return _shortened(name, str(value))


def _label_of(entity: str, name: str, value: Any) -> str | None:
    """The label of a coded value (a status, category, account kind or role), else None."""
    labels = (
        STATUS_LABELS.get(entity, ACTIVE_LABELS) if name == "status" else VALUE_LABELS.get(name)
    )
    return labels.get(str(value)) if labels else None


def _shortened(name: str, shown: str) -> str:
    """Personal numbers masked alike whatever their length; long codes cut to their start."""
    if name in MASKED_FIELDS:
        return "••••" + (shown[-4:] if len(shown) > 4 else "")
    if name in LONG_FIELDS and len(shown) > LONG_FIELDS[name]:
        return shown[: LONG_FIELDS[name]] + "…"
    return shown


def audit_changes(entry: AuditEntry, lang: str) -> list[tuple[str, str]]:
    """The fields an entry set or changed, each (label, value) in the page's language."""
    after, before = entry.after or {}, entry.before or {}
    text = i18n.translations(lang).gettext
    return [
        (text(AUDIT_FIELDS[k]) if k in AUDIT_FIELDS else k, audit_value(entry.entity, k, v, lang))
        for k, v in after.items()
        if k not in UNSHOWN_FIELDS and (not before or before.get(k) != v)
    ]


@router.get("/m/{market_id}/audit")
def audit_page(
    request: Request,
    session: Db,
    actor: ActorDep,
    market_id: Id,
    entity: str = "",
    # the filter's text as typed (may be empty); read as an id only when it is one
    record: Annotated[str, Query(alias="entity_id", max_length=20)] = "",
    cursor: str = "",
) -> Response:
    page = market_page(session, actor, market_id, "audit")
    rows, next_cursor = audit.list_entries(
        session,
        actor=actor,
        market_id=market_id,
        entity=entity if entity in ENTITIES else None,
        entity_id=int(record) if record.isdigit() and int(record) <= MAX_ID else None,
        cursor=decode_cursor(cursor) if cursor else None,
        limit=50,
    )
    page.update(
        entries=rows,
        entity=entity,
        entity_id=record,
        entities=ENTITIES,
        audit_actions=AUDIT_ACTIONS,
        changes={e.id: audit_changes(e, lang_of(request)) for e in rows},
        next_cursor=next_cursor,
    )
    return render(request, "audit.html", page, block="results")


@router.get("/m/{market_id}/vendors/{vendor_id}/webhooks")
def webhooks_page(
    request: Request, session: Db, actor: ActorDep, market_id: Id, vendor_id: Id
) -> Response:
    page = market_page(session, actor, market_id, "vendors")
    vendor = vendor_in(session, page["market"], vendor_id)
    endpoints, deliveries = followup.webhook_deliveries(session, actor=actor, vendor_id=vendor_id)
    page.update(vendor=vendor, endpoints=endpoints, deliveries=deliveries)
    return render(request, "webhooks.html", page)


# ---------------------------------------------------------------------------------------------
# Users and roles (admin)


def _users_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    refusal: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    require_role(actor)
    markets, _cursor = list_markets(session, limit=200)
    page = {
        "actor": actor,
        "market": None,
        "section": "users",
        "users": [users.public_user(session, u) for u in users.list_users(session, actor=actor)],
        "markets": {m.id: m for m in markets},
        "roles": [r.value for r in Role],
        "refusal": refusal,
        "values": values or {},
    }
    return render(request, "users.html", page, status=status, block="user_form")


@router.get("/admin/users")
def users_page(request: Request, session: Db, actor: ActorDep) -> Response:
    return _users_page(request, session, actor)


@router.post("/admin/users")
def user_create(request: Request, session: Db, actor: ActorDep, form: FormDep) -> Response:
    require_role(actor)
    values = {
        k: field(form, k)
        for k in ("username", "full_name", "password", "role", "market_id", "vendor_id")
    }
    data = {
        "username": values["username"],
        "full_name": values["full_name"],
        "password": form.get("password") or "",
        "role": values["role"],
        "market_ids": [int(values["market_id"])] if values["market_id"].isdigit() else [],
        "vendor_id": int(values["vendor_id"]) if values["vendor_id"].isdigit() else None,
    }
    values.pop("password")
    user, refusal = attempt(
        session,
        lambda: users.create_user(session, actor=actor, data=UserCreate.model_validate(data)),
    )
    if user is None:
        return _users_page(request, session, actor, refusal=refusal, values=values, status=422)
    return redirect(request, "/admin/users")


@router.post("/admin/users/{user_id}/deactivate")
def user_deactivate(
    request: Request, session: Db, actor: ActorDep, form: FormDep, user_id: Id
) -> Response:
    require_role(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("Không tìm thấy người dùng (user not found).")
    page = {"actor": actor, "market": None, "section": "users"}
    question = N_("Khóa người dùng %(name)s? Mọi phiên đăng nhập của người này kết thúc.")
    asked = confirm_first(
        request, form, page, question, N_("Khóa"), "/admin/users", name=user.username
    )
    if asked:
        return asked
    now = context_of(request).clock()
    _done, refusal = attempt(
        session, lambda: users.deactivate_user(session, actor=actor, user_id=user_id, now=now)
    )
    if refusal:
        return _users_page(request, session, actor, refusal=refusal, status=409)
    return redirect(request, "/admin/users")
