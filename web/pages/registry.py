"""The registry pages: zones, stalls, vendors and payout accounts of one market, to search (no
diacritics needed), create, edit, assign and deactivate. Every change goes through the registry
services, so the API's access rules, validation and audit log apply unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request, Response
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from market.db import require_id
from market.errors import NotFoundError
from market.inputs import Id
from market.money import followup
from market.pagination import MAX_LIMIT, Cursor, decode_cursor
from market.registry import markets, payouts, stall_codes, stalls, vendors
from market.registry.access import Actor, require_market_manager
from market.registry.departures import deactivate_vendor
from market.registry.models import (
    CATEGORY_LABELS,
    AccountKind,
    AssignmentCreate,
    Board,
    GoodsCategory,
    Market,
    PayoutAccount,
    PayoutAccountCreate,
    PayoutAccountPublic,
    Stall,
    StallAssignment,
    StallCreate,
    StallPublic,
    StallUpdate,
    Status,
    Vendor,
    VendorCreate,
    VendorUpdate,
    Zone,
    ZoneCreate,
)
from market.text import fold, natural_key
from qr.banks import all_banks
from web.core import ActorDep, Db, FormDep, attempt, field, page_router, redirect, render
from web.i18n import N_

router = page_router()
T = TypeVar("T")
ACCOUNT_KINDS = {
    AccountKind.BANK_ACCOUNT: N_("Tài khoản ngân hàng"),
    AccountKind.CARD: N_("Thẻ"),
    AccountKind.EWALLET: N_("Ví điện tử"),
}


def market_page(session: Session, actor: Actor, market_id: Id, section: str) -> dict[str, Any]:
    """The market a page is about, refused as not found outside the actor's markets."""
    require_market_manager(actor, market_id)
    market = markets.get_market(session, market_id)
    return {"actor": actor, "market": market, "section": section}


def stall_in(session: Session, market: Market, stall_id: Id) -> Stall:
    stall = session.get(Stall, stall_id)
    if stall is None or stall.market_id != market.id:
        raise NotFoundError("Không tìm thấy ki-ốt (stall not found).")
    return stall


def vendor_in(session: Session, market: Market, vendor_id: Id) -> Vendor:
    vendor = session.get(Vendor, vendor_id)
    if vendor is None or vendor.market_id != market.id:
        raise NotFoundError("Không tìm thấy tiểu thương (vendor not found).")
    return vendor


def _zones(session: Session, market_id: Id) -> list[Zone]:
    return list(
        session.exec(select(Zone).where(Zone.market_id == market_id).order_by(col(Zone.code)))
    )


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _number(text: str, default: str = "0") -> str:
    """Đồng typed with dot or space thousands ("150.000") or in thousands ("360k", as the
    wallet reads amounts) as pydantic reads them."""
    cleaned = text.replace(".", "").replace(" ", "").replace("\u00a0", "")
    if cleaned[:-1].isdigit() and cleaned[-1:] in {"k", "K"}:
        cleaned = cleaned[:-1] + "000"
    return cleaned or default


def _create(
    request: Request,
    session: Session,
    actor: Actor,
    market_id: Id,
    values: dict[str, str],
    create: Callable[[], T],
    *,
    list_page: Callable[..., Response],
    block: str,
    done: Callable[[T], str],
) -> Response:
    """A list page's create form: the new row → `done(row)`; a refusal → the list page again
    (422) with the message by its field and the values typed, nothing changed."""
    market_page(session, actor, market_id, "")  # another manager's market: not found
    created, refusal = attempt(session, create)
    if created is None:
        again = {"refusal": refusal, "values": values, "status": 422, "block": block}
        return list_page(request, session, actor, market_id, **again)
    return redirect(request, done(created))


def confirm_first(
    request: Request,
    form: FormData,
    page: dict[str, Any],
    question: str,
    button: str,
    back: str,
    **names: Any,
) -> Response | None:
    """An action that cannot be undone asks once more: a form posted without `confirm=yes`
    gets a page saying what will happen (`question`, a message id with `names`), a button that
    posts it again confirmed and a way `back`; nothing changes until then. None once confirmed."""
    if field(form, "confirm") == "yes":
        return None
    page = {**page, "question": question, "names": names, "button": button, "back": back}
    return render(request, "confirm.html", {**page, "action": request.url.path})


# ---------------------------------------------------------------------------------------------
# Stalls


def _every(list_page: Callable[[Cursor | None], tuple[list[T], str | None]]) -> list[T]:
    """Every row a paged service lists, read page by page. The API lists in id order, page by
    page, so that its pages neither repeat nor skip a row added meanwhile; a page of people
    shows one market's rows (a few thousand at most) all at once, in the order they read."""
    found: list[T] = []
    cursor: Cursor | None = None
    while True:
        rows, more = list_page(cursor)
        found += rows
        if more is None:
            return found
        cursor = decode_cursor(more)


def _in_natural_order(
    session: Session, actor: Actor, market_id: Id, **filters: Any
) -> list[StallPublic]:
    """Every stall the filters find, in natural order of code (G-2 before G-10) as on the A4
    sheets."""
    found = _every(
        lambda cursor: stalls.list_stalls(
            session, actor=actor, market_id=market_id, cursor=cursor, limit=MAX_LIMIT, **filters
        )
    )
    found.sort(key=lambda stall: (natural_key(stall.code), stall.code))
    return stalls.public_stalls(session, found)


def _stalls_page(
    request: Request,
    session: Session,
    actor: Actor,
    market_id: Id,
    *,
    q: str = "",
    zone: str = "",
    refusal: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    block: str | None = None,
) -> Response:
    page = market_page(session, actor, market_id, "stalls")
    page.update(
        q=q,
        zone=zone,
        stalls=_in_natural_order(session, actor, market_id, q=q or None, zone_id=_int(zone)),
        zones=_zones(session, market_id),
        categories=CATEGORY_LABELS,
        refusal=refusal,
        values=values or {},
    )
    return render(request, "stalls.html", page, status=status, block=block)


@router.get("/m/{market_id}/stalls")
def stall_list(
    request: Request, session: Db, actor: ActorDep, market_id: Id, q: str = "", zone: str = ""
) -> Response:
    return _stalls_page(request, session, actor, market_id, q=q, zone=zone, block="results")


STALL_FIELDS = ("code", "zone_id", "category", "area_m2", "monthly_fee")


@router.post("/m/{market_id}/stalls")
def stall_create(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id
) -> Response:
    values = {k: field(form, k) for k in STALL_FIELDS}
    data = {
        "code": values["code"],
        "zone_id": _int(values["zone_id"]),
        "category": values["category"] or GoodsCategory.OTHER,
        "area_m2": values["area_m2"].replace(",", ".") or "0",
        "monthly_fee": _number(values["monthly_fee"]),
    }
    return _create(
        request,
        session,
        actor,
        market_id,
        values,
        lambda: stalls.create_stall(
            session, actor=actor, market_id=market_id, data=StallCreate.model_validate(data)
        ),
        list_page=_stalls_page,
        block="stall_form",
        done=lambda stall: f"/m/{market_id}/stalls/{stall.id}?created=1",
    )


def _stall_page(
    request: Request,
    session: Session,
    actor: Actor,
    market_id: Id,
    stall_id: Id,
    *,
    refusal: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    page = market_page(session, actor, market_id, "stalls")
    stall = stall_in(session, page["market"], stall_id)
    public = stalls.public_stalls(session, [stall])[0]
    active = list(
        session.exec(
            select(Vendor)
            .where(Vendor.market_id == market_id, Vendor.status == Status.ACTIVE)
            .order_by(col(Vendor.name_key))
        )
    )
    renting = set(
        session.exec(
            select(StallAssignment.vendor_id)
            .join(Stall, col(Stall.id) == StallAssignment.stall_id)
            .where(Stall.market_id == market_id, col(StallAssignment.end_date).is_(None))
        )
    )
    page.update(
        stall=stall,
        public=public,
        zone=session.get(Zone, stall.zone_id) if stall.zone_id else None,
        boards=stall_codes.history(session, actor=actor, stall_id=stall_id),
        free_vendors=[v for v in active if v.id not in renting],
        renting_vendors=[v for v in active if v.id in renting],
        refusal=refusal,
        created=request.query_params.get("created") == "1",
    )
    return render(request, "stall.html", page, status=status)


@router.get("/m/{market_id}/stalls/{stall_id}")
def stall_page(
    request: Request, session: Db, actor: ActorDep, market_id: Id, stall_id: Id
) -> Response:
    return _stall_page(request, session, actor, market_id, stall_id)


def _stall_action(
    request: Request,
    session: Session,
    actor: Actor,
    market_id: Id,
    stall_id: Id,
    action: Callable[[], object],
    refused_status: int,
    ask: tuple[FormData, str, str] | None = None,
) -> Response:
    """Run one change to a stall of this market: back to the stall's page, or the page again
    with the refusal next to its field and nothing changed. With `ask` (the form, a question
    about the stall's %(code)s and %(name)s, the button), confirmed first."""
    page = market_page(session, actor, market_id, "stalls")
    stall = stall_in(session, page["market"], stall_id)
    back = f"/m/{market_id}/stalls/{stall_id}"
    if ask:
        form, question, button = ask
        vendor = stalls.public_stalls(session, [stall])[0].current_vendor_name or ""
        asked = confirm_first(
            request, form, page, question, button, back, code=stall.code, name=vendor
        )
        if asked:
            return asked
    _done, refusal = attempt(session, action)
    if refusal:
        return _stall_page(
            request, session, actor, market_id, stall_id, refusal=refusal, status=refused_status
        )
    return redirect(request, back)


CHOOSE_VENDOR = "Chọn một tiểu thương trong danh sách (choose a vendor from the list)."


@router.post("/m/{market_id}/stalls/{stall_id}/assign")
def stall_assign(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id, stall_id: Id
) -> Response:
    vendor_id = _int(field(form, "vendor_id")) or 0
    if not vendor_id:
        refusal = {
            "code": "validation-error",
            "detail": CHOOSE_VENDOR,
            "fields": {"vendor_id": CHOOSE_VENDOR},
        }
        return _stall_page(
            request, session, actor, market_id, stall_id, refusal=refusal, status=422
        )
    return _stall_action(
        request,
        session,
        actor,
        market_id,
        stall_id,
        lambda: stalls.assign_vendor(
            session, actor=actor, stall_id=stall_id, data=AssignmentCreate(vendor_id=vendor_id)
        ),
        422,
    )


@router.post("/m/{market_id}/stalls/{stall_id}/end")
def stall_end(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id, stall_id: Id
) -> Response:
    return _stall_action(
        request,
        session,
        actor,
        market_id,
        stall_id,
        lambda: stalls.end_assignment(session, actor=actor, stall_id=stall_id),
        409,
        (
            form,
            N_("Kết thúc hợp đồng thuê ki-ốt %(code)s của %(name)s? Ki-ốt thành còn trống."),
            N_("Kết thúc hợp đồng thuê"),
        ),
    )


@router.post("/m/{market_id}/stalls/{stall_id}/edit")
def stall_edit(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id, stall_id: Id
) -> Response:
    data = {
        "code": field(form, "code") or None,
        "zone_id": _int(field(form, "zone_id")),
        "category": field(form, "category") or None,
        # the box shows the current area: emptied, the stall is not measured (stored as 0)
        "area_m2": field(form, "area_m2").replace(",", ".") or "0",
        "monthly_fee": _number(field(form, "monthly_fee"), "") or None,
    }
    return _stall_action(
        request,
        session,
        actor,
        market_id,
        stall_id,
        lambda: stalls.update_stall(
            session,
            actor=actor,
            stall_id=stall_id,
            data=StallUpdate.model_validate({k: v for k, v in data.items() if v is not None}),
        ),
        422,
    )


@router.post("/m/{market_id}/stalls/{stall_id}/close")
def stall_close(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id, stall_id: Id
) -> Response:
    return _stall_action(
        request,
        session,
        actor,
        market_id,
        stall_id,
        lambda: stalls.close_stall(session, actor=actor, stall_id=stall_id),
        409,
        (
            form,
            N_(
                "Đóng ki-ốt %(code)s? Ki-ốt đã đóng không mở lại và không gán tiểu thương được nữa."
            ),
            N_("Đóng ki-ốt"),
        ),
    )


# ---------------------------------------------------------------------------------------------
# Zones


def _zones_page(
    request: Request,
    session: Session,
    actor: Actor,
    market_id: Id,
    *,
    refusal: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    block: str = "zone_form",
    stopped: int | None = None,
) -> Response:
    page = market_page(session, actor, market_id, "zones")
    zones = _zones(session, market_id)
    page.update(
        zones=zones,
        refusal=refusal,
        values=values or {},
        # the zone just stopped, named only if it is this market's and stopped indeed
        stopped=next((z for z in zones if z.id == stopped and z.status != "active"), None),
    )
    return render(request, "zones.html", page, status=status, block=block)


@router.get("/m/{market_id}/zones")
def zone_list(
    request: Request, session: Db, actor: ActorDep, market_id: Id, stopped: Id | None = None
) -> Response:
    return _zones_page(request, session, actor, market_id, stopped=stopped)


@router.post("/m/{market_id}/zones")
def zone_create(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id
) -> Response:
    values = {"code": field(form, "code"), "name": field(form, "name")}
    return _create(
        request,
        session,
        actor,
        market_id,
        values,
        lambda: markets.create_zone(
            session, actor=actor, market_id=market_id, data=ZoneCreate.model_validate(values)
        ),
        list_page=_zones_page,
        block="zone_form",
        done=lambda _zone: f"/m/{market_id}/zones",
    )


@router.post("/m/{market_id}/zones/{zone_id}/deactivate")
def zone_deactivate(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id, zone_id: Id
) -> Response:
    page = market_page(session, actor, market_id, "zones")
    zone = session.get(Zone, zone_id)
    if zone is None or zone.market_id != market_id:
        raise NotFoundError("Không tìm thấy khu (zone not found).")
    asked = confirm_first(
        request,
        form,
        page,
        N_(
            "Ngừng khu %(code)s — %(name)s? Khu đã ngừng không nhận thêm ki-ốt và không hoạt"
            " động lại được; các ki-ốt đang ở trong khu vẫn bán hàng và nhận tiền bằng bảng mã"
            " hiện có."
        ),
        N_("Ngừng"),
        f"/m/{market_id}/zones",
        code=zone.code,
        name=zone.name,
    )
    if asked:
        return asked
    _done, refusal = attempt(
        session,
        lambda: markets.deactivate_zone(session, actor=actor, market_id=market_id, zone_id=zone_id),
    )
    if refusal:
        return _zones_page(request, session, actor, market_id, refusal=refusal, status=409)
    return redirect(request, f"/m/{market_id}/zones?stopped={zone_id}")


# ---------------------------------------------------------------------------------------------
# Vendors


def _vendors_page(
    request: Request,
    session: Session,
    actor: Actor,
    market_id: Id,
    *,
    q: str = "",
    refusal: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    block: str | None = None,
) -> Response:
    page = market_page(session, actor, market_id, "vendors")
    rows = _every(
        lambda cursor: vendors.list_vendors(
            session, actor=actor, market_id=market_id, q=q or None, cursor=cursor, limit=MAX_LIMIT
        )
    )
    rows.sort(key=lambda vendor: (vendor.name_key, require_id(vendor)))  # by name, as people look
    page.update(
        q=q,
        folded=fold(q),
        vendors=vendors.public_vendors(session, rows),
        refusal=refusal,
        values=values or {},
    )
    return render(request, "vendors.html", page, status=status, block=block)


@router.get("/m/{market_id}/vendors")
def vendor_list(
    request: Request, session: Db, actor: ActorDep, market_id: Id, q: str = ""
) -> Response:
    return _vendors_page(request, session, actor, market_id, q=q, block="results")


def _vendor_data(values: dict[str, str]) -> dict[str, Any]:
    return {
        "full_name": values["full_name"],
        "phone": values["phone"],
        "national_id": values["national_id"] or None,
        "tax_code": values["tax_code"] or None,
        "fee_bps": values["fee_bps"] or "0",
    }


VENDOR_FIELDS = ("full_name", "phone", "national_id", "tax_code", "fee_bps")


@router.post("/m/{market_id}/vendors")
def vendor_create(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id
) -> Response:
    values = {k: field(form, k) for k in VENDOR_FIELDS}
    return _create(
        request,
        session,
        actor,
        market_id,
        values,
        lambda: vendors.create_vendor(
            session,
            actor=actor,
            market_id=market_id,
            data=VendorCreate.model_validate(_vendor_data(values)),
        ),
        list_page=_vendors_page,
        block="vendor_form",
        done=lambda vendor: f"/m/{market_id}/vendors/{vendor.id}?created=1",
    )


def _vendor_page(
    request: Request,
    session: Session,
    actor: Actor,
    market_id: Id,
    vendor_id: Id,
    *,
    refusal: dict[str, Any] | None = None,
    account_refusal: dict[str, Any] | None = None,
    account_values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    page = market_page(session, actor, market_id, "vendors")
    vendor = vendor_in(session, page["market"], vendor_id)
    public = vendors.public_vendors(session, [vendor])[0]
    held = _in_natural_order(session, actor, market_id, vendor_id=vendor_id)
    accounts = payouts.list_accounts(session, actor=actor, vendor_id=vendor_id)
    boards = list(
        session.exec(select(Board).where(Board.vendor_id == vendor_id).order_by(col(Board.id)))
    )
    page.update(
        vendor=vendor,
        public=public,
        stalls=held,
        accounts=[PayoutAccountPublic.from_row(a) for a in accounts],
        boards=boards,
        stall_codes={s.id: s.code for s in held},
        payments=followup.recent_payments(session, actor=actor, vendor_id=vendor_id),
        banks=all_banks(),
        kinds=ACCOUNT_KINDS,
        refusal=refusal,
        account_refusal=account_refusal,
        account_values=account_values or {},
        created=request.query_params.get("created") == "1",
    )
    return render(request, "vendor.html", page, status=status, block="account_form")


@router.get("/m/{market_id}/vendors/{vendor_id}")
def vendor_page(
    request: Request, session: Db, actor: ActorDep, market_id: Id, vendor_id: Id
) -> Response:
    return _vendor_page(request, session, actor, market_id, vendor_id)


@router.post("/m/{market_id}/vendors/{vendor_id}/edit")
def vendor_edit(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id, vendor_id: Id
) -> Response:
    page = market_page(session, actor, market_id, "vendors")
    vendor_in(session, page["market"], vendor_id)
    values = {k: field(form, k) for k in VENDOR_FIELDS}
    data = {k: v for k, v in _vendor_data(values).items() if v is not None}
    _done, refusal = attempt(
        session,
        lambda: vendors.update_vendor(
            session, actor=actor, vendor_id=vendor_id, data=VendorUpdate.model_validate(data)
        ),
    )
    if refusal:
        return _vendor_page(
            request, session, actor, market_id, vendor_id, refusal=refusal, status=422
        )
    return redirect(request, f"/m/{market_id}/vendors/{vendor_id}")


@router.post("/m/{market_id}/vendors/{vendor_id}/deactivate")
def vendor_deactivate(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id, vendor_id: Id
) -> Response:
    page = market_page(session, actor, market_id, "vendors")
    vendor = vendor_in(session, page["market"], vendor_id)
    asked = confirm_first(
        request,
        form,
        page,
        N_(
            "Cho %(name)s ngừng hoạt động? Mọi hợp đồng thuê ki-ốt kết thúc, các tài khoản nhận"
            " tiền ngừng và bảng mã bị thu hồi."
        ),
        N_("Cho ngừng hoạt động"),
        f"/m/{market_id}/vendors/{vendor_id}",
        name=vendor.full_name,
    )
    if asked:
        return asked
    _done, refusal = attempt(
        session, lambda: deactivate_vendor(session, actor=actor, vendor_id=vendor_id)
    )
    if refusal:
        return _vendor_page(
            request, session, actor, market_id, vendor_id, refusal=refusal, status=409
        )
    return redirect(request, f"/m/{market_id}/vendors/{vendor_id}")


ACCOUNT_FIELDS = ("bin", "account_number", "holder_name", "kind", "is_default")


@router.post("/m/{market_id}/vendors/{vendor_id}/accounts")
def account_add(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id, vendor_id: Id
) -> Response:
    page = market_page(session, actor, market_id, "vendors")
    vendor_in(session, page["market"], vendor_id)
    values = {k: field(form, k) for k in ACCOUNT_FIELDS}
    values["bin"] = values["bin"].split(" ")[0]  # "970405 Agribank" from the list → the BIN

    def add() -> PayoutAccount:
        data = PayoutAccountCreate.model_validate(
            {
                "bin": values["bin"],
                "account_number": values["account_number"].replace(" ", ""),
                "holder_name": values["holder_name"] or None,
                "kind": values["kind"] or AccountKind.BANK_ACCOUNT,
                "is_default": values["is_default"] != "no",
            }
        )
        return payouts.add_account(session, actor=actor, vendor_id=vendor_id, data=data)

    account, refusal = attempt(session, add)
    if account is None:
        return _vendor_page(
            request,
            session,
            actor,
            market_id,
            vendor_id,
            account_refusal=refusal,
            account_values=values,
            status=422,
        )
    return redirect(request, f"/m/{market_id}/vendors/{vendor_id}#accounts")


@router.post("/m/{market_id}/vendors/{vendor_id}/accounts/{account_id}/deactivate")
def account_deactivate(
    request: Request,
    session: Db,
    actor: ActorDep,
    form: FormDep,
    market_id: Id,
    vendor_id: Id,
    account_id: Id,
) -> Response:
    page = market_page(session, actor, market_id, "vendors")
    vendor_in(session, page["market"], vendor_id)
    account = session.get(PayoutAccount, account_id)
    if account is None or account.vendor_id != vendor_id:
        raise NotFoundError("Không tìm thấy tài khoản (account not found).")
    asked = confirm_first(
        request,
        form,
        page,
        N_("Ngừng tài khoản nhận tiền %(number)s? Tài khoản đã ngừng không dùng lại được."),
        N_("Ngừng"),
        f"/m/{market_id}/vendors/{vendor_id}#accounts",
        number=PayoutAccountPublic.from_row(account).account_number_masked,
    )
    if asked:
        return asked
    _done, refusal = attempt(
        session, lambda: payouts.deactivate_account(session, actor=actor, account_id=account_id)
    )
    if refusal:
        return _vendor_page(
            request, session, actor, market_id, vendor_id, account_refusal=refusal, status=409
        )
    return redirect(request, f"/m/{market_id}/vendors/{vendor_id}#accounts")
