"""The vendor's phone pages, one screen at a time: the soundbox ("loa báo tiền") with its live
feed (Server-Sent Events read with the session cookie, since a browser's EventSource cannot send
a bearer header), the stall's code full screen and its reprint, a keypad that makes a one-sale
code which turns "Đã nhận" when paid, and today's slip with the history and refunds."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from market.clock import business_day
from market.db import read_only, require_id
from market.errors import DomainError, ForbiddenError, UnauthenticatedError
from market.inputs import Id, WholeNumber, iso_day
from market.money import days, notifications, statements, wakeups, wallets
from market.money.models import OutboxEvent, TransferKind
from market.money.requests import Refund
from market.registry import stall_codes, stalls, vendors
from market.registry.access import Actor
from market.registry.models import Role, Stall, Vendor
from market.registry.users import signed_in
from qr import board as board_render
from qr.amounts import format_vnd
from qr.render import svg_text
from web import voice
from web.core import (
    SESSION_COOKIE,
    ActorDep,
    Db,
    FormDep,
    WebContext,
    attempt,
    context_of,
    field,
    finish,
    page_router,
    redirect,
    render,
)
from web.i18n import moment, percent
from web.phone import (
    AmountError,
    amount_refusal,
    new_key,
    parse_amount,
    reopened_forms_go_home,
    run_money,
)

router = page_router()
# a form's address opened again (the address bar keeps it after a refusal): the form's page
reopened_forms_go_home(router, {"/v/refund": "/v/today", "/v/code/reprint": "/v/code"})
HISTORY_SHOWN = 30  # lines of today's history on the page
KEEP_ALIVE_SECONDS = 15.0  # the page reconnects after 40 s without a word
FEED_PAGE = 100  # events read per poll; a shorter page means the backlog is over
QUERY_TEXT = 1000  # a form's text in the address: read (and refused) by the page, not the route


def own_vendor(session: Session, actor: Actor) -> Vendor:
    """The signed-in vendor's record; these pages are for vendors only."""
    if actor.role is not Role.VENDOR or actor.vendor_id is None:
        raise ForbiddenError("Trang này dành cho tiểu thương (these pages are for vendors).")
    return vendors.readable_vendor(session, actor=actor, vendor_id=actor.vendor_id)


def vendor_page(
    session: Session, actor: Actor, section: str, stall_id: int | None = None
) -> dict[str, Any]:
    """What every vendor page shows: the vendor, their stalls and the one chosen."""
    vendor = own_vendor(session, actor)
    mine, _cursor = stalls.list_stalls(session, actor=actor, market_id=vendor.market_id, limit=50)
    chosen: Stall | None = mine[0] if mine else None
    if stall_id is not None:
        chosen = stalls.readable_stall(session, actor=actor, stall_id=stall_id)
    return {
        "actor": actor,
        "vendor": vendor,
        "stalls": mine,
        "stall": chosen,
        "section": section,
        "phone_app": "vendor",
    }


def _code_or_none(
    session: Session, actor: Actor, stall: Stall | None
) -> stall_codes.StallCode | None:
    if stall is None:
        return None
    code, _refusal = attempt(
        session, lambda: stall_codes.stall_code(session, actor=actor, stall_id=require_id(stall))
    )
    return code


# ---------------------------------------------------------------------------------------------
# Loa báo tiền


@router.get("/v")
def soundbox(request: Request, session: Db, actor: ActorDep) -> Response:
    page = vendor_page(session, actor, "soundbox")
    vendor_id = require_id(page["vendor"])
    today = business_day(context_of(request).clock())
    slip = days.daily_slip(session, actor=actor, vendor_id=vendor_id, day=today, cash=None)
    page.update(
        slip=slip,
        after=notifications.last_event_id(session, actor=actor, vendor_id=vendor_id),
        today=today.isoformat(),
        tiny=voice.TINY_CREDIT,
        test_clips=voice.announcement(150_000),
        test_words=voice.spoken(voice.announcement(150_000)),
    )
    return render(request, "phone/soundbox.html", page)


def feed_event(event: OutboxEvent) -> dict[str, Any]:
    """An event as the soundbox gets it: the outbox body, plus what to say and show."""
    body = notifications.event_body(event)
    amount = int(body["data"]["amount"])
    if event.type == "payment.received":
        body["clips"] = voice.announcement(amount)
        body["words"] = voice.spoken(body["clips"])
    body["tiny"] = amount < voice.TINY_CREDIT
    return body


def _frame(event_id: int, kind: str, data: dict[str, Any]) -> str:
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _frame_caught_up(cursor: int, amounts: list[int]) -> str:
    """The end of a connection's backlog, with the one summary of the payments in it (said
    instead of each, when the page reconnected after losing the feed)."""
    summary = None
    if amounts:
        clips = voice.summary(len(amounts), sum(amounts))
        summary = {
            "count": len(amounts),
            "total": sum(amounts),
            "total_text": format_vnd(sum(amounts)),
            "clips": clips,
            "words": voice.spoken(clips),
        }
    data = json.dumps({"cursor": cursor, "summary": summary}, ensure_ascii=False)
    return f"event: caught-up\ndata: {data}\n\n"


def _poll_seconds(context: WebContext) -> float:
    """How long an open feed waits for a wake-up before it reads anyway."""
    if wakeups.HUB.listening(context.engine):
        return context.settings.feed_poll_seconds
    return context.settings.feed_fallback_poll_seconds


@router.get("/v/events")
async def soundbox_events(
    request: Request,
    after: Annotated[WholeNumber, Query(ge=0)] = 0,
    last_event_id: Annotated[WholeNumber | None, Header(alias="Last-Event-ID", ge=0)] = None,
) -> Response:
    """The vendor's payments as Server-Sent Events, read with the session cookie. A connection
    first sends what it missed (after `after`, or the Last-Event-ID the browser resends), then a
    `caught-up` event, then each payment as it lands. The session is checked on every poll:
    signing out or revocation ends an open stream."""
    context = context_of(request)
    raw = request.cookies.get(SESSION_COOKIE) or ""

    def fetch(cursor: int) -> list[tuple[int, str, dict[str, Any]]]:
        with Session(read_only(context.engine)) as session:
            actor = signed_in(session, raw_token=raw, now=context.clock())
            vendor = own_vendor(session, actor)
            events = notifications.events_after(
                session,
                actor=actor,
                vendor_id=require_id(vendor),
                after_id=cursor,
                limit=FEED_PAGE,
            )
            return [(require_id(e), e.type, feed_event(e)) for e in events]

    def vendor_of_session() -> int:
        with Session(read_only(context.engine)) as session:
            actor = signed_in(session, raw_token=raw, now=context.clock())
            return require_id(own_vendor(session, actor))

    start = max(after, last_event_id or 0)
    try:
        vendor_id = await run_in_threadpool(vendor_of_session)
        # subscribed before the first read, so a payment committing in between is not missed
        waiter = wakeups.HUB.subscribe(context.engine, vendor_id)
        first = await run_in_threadpool(fetch, start)
    except (UnauthenticatedError, DomainError):
        return Response("sign in again", status_code=401, media_type="text/plain")

    async def stream() -> AsyncIterator[str]:
        cursor, batch, said = start, first, time.monotonic()
        backlog: list[int] | None = []  # amounts received before `caught-up`; then None
        try:
            while True:
                for event_id, kind, body in batch:
                    cursor, said = event_id, time.monotonic()
                    if backlog is not None and kind == "payment.received":
                        backlog.append(int(body["data"]["amount"]))
                    yield _frame(event_id, kind, body)
                if backlog is not None and len(batch) < FEED_PAGE:
                    yield _frame_caught_up(cursor, backlog)
                    backlog = None
                # woken when a payment (or a change to a session, user or vendor) commits;
                # the poll is the safety net
                await waiter.wait(min(_poll_seconds(context), KEEP_ALIVE_SECONDS))
                if time.monotonic() - said >= KEEP_ALIVE_SECONDS:
                    said = time.monotonic()
                    yield "event: ping\ndata: {}\n\n"  # an event, so the page can tell silence
                try:
                    batch = await run_in_threadpool(fetch, cursor)
                except (UnauthenticatedError, DomainError):
                    return  # signed out, revoked or no longer this vendor's: the stream ends
        finally:
            waiter.close()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# ---------------------------------------------------------------------------------------------
# My code


@router.get("/v/code")
def my_code(request: Request, session: Db, actor: ActorDep, stall: Id | None = None) -> Response:
    page = _code_page(session, actor, vendor_page(session, actor, "code", stall))
    page["reprinted"] = request.query_params.get("reprinted") == "1"
    return render(request, "phone/code.html", page)


def _code_page(session: Session, actor: Actor, page: dict[str, Any]) -> dict[str, Any]:
    code = _code_or_none(session, actor, page["stall"])
    page.update(
        code=code,
        qr_svg=svg_text(code.board.payload) if code else None,
        content=stall_codes.board_content(code) if code else None,
    )
    return page


@router.get("/v/code/board.png")
def my_board_png(session: Db, actor: ActorDep, stall: Id) -> Response:
    own_vendor(session, actor)
    code = stall_codes.stall_code(session, actor=actor, stall_id=stall)
    return Response(
        board_render.board_png(stall_codes.board_content(code)),
        media_type="image/png",
        headers={
            "Content-Disposition": f'attachment; filename="{code.board.serial}.png"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/v/code/reprint")
def reprint(request: Request, session: Db, actor: ActorDep, form: FormDep) -> Response:
    """A new serial for the stall's board (the old one stops paying: a pasted-over copy or a
    lost board can no longer take money)."""
    page = vendor_page(session, actor, "code", _form_id(field(form, "stall")))
    stall = page["stall"]
    if stall is None or field(form, "confirm") != "yes":
        page = _code_page(session, actor, page)
        page["must_confirm"] = True
        return render(request, "phone/code.html", page, status=422)
    stall_codes.reprint(session, actor=actor, stall_id=require_id(stall))
    return redirect(request, f"/v/code?stall={stall.id}&reprinted=1")


def _form_id(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < len(text) <= 9 else None


# ---------------------------------------------------------------------------------------------
# Sell: a one-sale code


@router.get("/v/sell")
def sell(
    request: Request,
    session: Db,
    actor: ActorDep,
    stall: Id | None = None,
    sale: Annotated[str | None, Query(max_length=25)] = None,
) -> Response:
    """The keypad; with `sale`, the per-sale code just made (a reload shows it again, it does
    not make another)."""
    page = vendor_page(session, actor, "sell", stall)
    code = _code_or_none(session, actor, page["stall"])
    page.update(code=code, refusal=None, values={})
    if sale and code is not None:
        page["sale"] = _sale_view(session, actor, code, require_id(page["stall"]), sale)
    return render(request, "phone/sell.html", page)


def _sale_view(
    session: Session, actor: Actor, code: stall_codes.StallCode, stall_id: int, reference: str
) -> dict[str, Any]:
    issued = stall_codes.sale_code_state(
        session, actor=actor, stall_id=stall_id, reference=reference
    )
    view: dict[str, Any] = {
        "reference": reference,
        "amount": issued.amount,
        "words": voice.spoken(voice.amount_keys(issued.amount)),
        "paid": issued.used_at is not None,
        "qr_svg": "",
    }
    if not view["paid"]:
        payload, _amount = stall_codes.issued_sale_payload(session, code, reference=reference)
        view["qr_svg"] = svg_text(payload)
    return view


@router.post("/v/sell")
def sell_submit(request: Request, session: Db, actor: ActorDep, form: FormDep) -> Response:
    """Make a per-sale code, then show it at its own address (post, redirect, get)."""
    page = vendor_page(session, actor, "sell", _form_id(field(form, "stall")))
    code = _code_or_none(session, actor, page["stall"])
    page.update(code=code, values={"amount": field(form, "amount")})
    try:
        amount = parse_amount(field(form, "amount"))
    except AmountError as exc:
        page["refusal"] = amount_refusal(exc)
        return render(request, "phone/sell.html", page, status=422)
    if code is None:
        page["refusal"] = None
        return render(request, "phone/sell.html", page, status=409)
    _payload, reference = stall_codes.sale_payload(session, code, amount=amount)
    return redirect(request, f"/v/sell?stall={require_id(page['stall'])}&sale={reference}")


@router.get("/v/sell/{reference}")
def sale_state(
    request: Request,
    session: Db,
    actor: ActorDep,
    reference: Annotated[str, PathParam(max_length=25)],
    stall: Id,
) -> Response:
    """Whether the one-sale code is paid yet (the page asks every two seconds until it is); a
    browser opening it as a page goes back to the keypad."""
    if request.headers.get("hx-request") != "true":
        return redirect(request, f"/v/sell?stall={stall}")
    page = vendor_page(session, actor, "sell", stall)
    issued = stall_codes.sale_code_state(session, actor=actor, stall_id=stall, reference=reference)
    page.update(
        sale={"reference": reference, "amount": issued.amount, "paid": issued.used_at is not None}
    )
    return render(request, "phone/sell.html", page, block="sale_state")


# ---------------------------------------------------------------------------------------------
# Today: the slip, the history, refunds


def _history(
    session: Session, actor: Actor, code: stall_codes.StallCode | None
) -> list[statements.StatementRow]:
    if code is None:
        return []
    wallet = wallets.vendor_wallet_for(session, actor, require_id(code.account))
    return statements.statement(session, require_id(wallet), before_id=None, limit=HISTORY_SHOWN)


def _cash(text: str | None) -> tuple[int | None, str | None]:
    if not text:
        return None, None
    try:
        return parse_amount(text), None
    except AmountError as exc:
        return None, str(exc)


BAD_DAY = "Ngày không hợp lệ: chọn một ngày có thật, dạng 2026-11-26 (not a valid date)."
FUTURE_DAY = "Ngày chưa tới: chưa có phiếu cho ngày này (that day has not come yet)."


def _day(text: str | None, today: date) -> tuple[date | None, str | None]:
    """The slip's day from the address: a real day up to today, or why not."""
    if not text:
        return None, None
    day = iso_day(text)
    if day is None:
        return None, BAD_DAY
    if day > today:
        return None, FUTURE_DAY
    return day, None


def _today_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    stall: int | None,
    day_text: str | None,
    cash_text: str | None,
) -> dict[str, Any]:
    """The slip of `day_text` (today when empty or refused) with `cash_text`; a day or cash
    amount that cannot be read is refused beside its field and the slip shows without it."""
    page = vendor_page(session, actor, "today", stall)
    today = business_day(context_of(request).clock())
    day, day_error = _day(day_text, today)
    shown = day or today
    cash, cash_error = _cash(cash_text)
    fields = {name: error for name, error in (("day", day_error), ("cash", cash_error)) if error}
    refusal = None
    if fields:
        detail = " ".join(fields.values())
        refusal = {"code": "validation-error", "detail": detail, "fields": fields}
    vendor_id = require_id(page["vendor"])
    slip = days.daily_slip(session, actor=actor, vendor_id=vendor_id, day=shown, cash=cash)
    code = _code_or_none(session, actor, page["stall"])
    page.update(
        slip=slip,
        day=shown,
        today=today,
        day_text=day_text if day_error else shown.isoformat(),
        is_today=shown == today,
        cash_text=cash_text or "",
        refusal=refusal,
        history=_history(session, actor, code),
        refund_key=new_key(),
        kinds=TransferKind,
        slip_text=slip_text(page["vendor"], page["stall"], slip),
        first_at=_instant(slip["first_at"]),
        last_at=_instant(slip["last_at"]),
    )
    return page


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def slip_text(vendor: Vendor, stall: Stall | None, slip: dict[str, Any]) -> str:
    """The slip as plain text, to share in Zalo or save: the same lines as the page's slip."""
    first, last = _instant(slip["first_at"]), _instant(slip["last_at"])
    lines = [
        f"Phiếu cuối ngày {date.fromisoformat(slip['business_day']):%d/%m/%Y}",
        f"{vendor.full_name}" + (f" · Ki-ốt {stall.code}" if stall else ""),
        f"Số khoản QR: {slip['count']}",
        f"Tổng tiền QR: {format_vnd(slip['total'])}",
        f"Đã hoàn: {format_vnd(slip['refunds'])}",
        f"Phí: {format_vnd(slip['fees'])}",
        f"Thực nhận: {format_vnd(slip['net'])}",
        f"Khoản đầu tiên: {moment(first) or '–'}",
        f"Khoản cuối cùng: {moment(last) or '–'}",
    ]
    if slip["cash"] is not None:
        lines.append(f"Tiền mặt: {format_vnd(slip['cash'])}")
        lines.append(f"Tỉ lệ không tiền mặt: {percent(slip['cashless_share'])}")
    return "\n".join(lines)


@router.get("/v/today")
def today_page(
    request: Request,
    session: Db,
    actor: ActorDep,
    stall: Id | None = None,
    day: Annotated[str | None, Query(max_length=QUERY_TEXT)] = None,
    cash: Annotated[str | None, Query(max_length=QUERY_TEXT)] = None,
) -> Response:
    """The slip, the history and refunds; `day` and `cash` come from the page's own form, so a
    value it cannot read is refused beside its field (422), not answered as a missing page."""
    page = _today_page(request, session, actor, stall=stall, day_text=day, cash_text=cash)
    return render(request, "phone/today.html", page, status=422 if page["refusal"] else 200)


@router.get("/v/today/slip.txt")
def slip_download(
    request: Request,
    session: Db,
    actor: ActorDep,
    day: Annotated[str | None, Query(max_length=QUERY_TEXT)] = None,
    cash: Annotated[str | None, Query(max_length=QUERY_TEXT)] = None,
) -> Response:
    page = _today_page(request, session, actor, stall=None, day_text=day, cash_text=cash)
    if page["refusal"] is not None:
        detail = page["refusal"]["detail"] + "\n"
        return finish(request, Response(detail, 422, media_type="text/plain; charset=utf-8"))
    name = f"phieu-{page['day'].isoformat()}.txt"
    response = Response(
        page["slip_text"] + "\n",
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return finish(request, response)


@router.post("/v/refund")
def refund(request: Request, session: Db, actor: ActorDep, form: FormDep) -> Response:
    """Give back part or all of a payment (never more than it, in total)."""
    payment_id = _form_id(field(form, "payment"))
    own_vendor(session, actor)
    refusal: dict[str, Any] | None = None
    try:
        amount = parse_amount(field(form, "amount"))
    except AmountError as exc:
        refusal = amount_refusal(exc)
    if refusal is None and payment_id is None:
        message = "Không rõ khoản cần hoàn; hãy mở lại trang (which payment? reload the page)."
        refusal = {"code": "validation-error", "detail": message, "fields": {}}
    if refusal is None and payment_id is not None:
        done = run_money(
            session,
            actor=actor,
            request=Refund(payment_id, amount),
            key=field(form, "key"),
            now=context_of(request).clock(),
        )
        if done.refusal is None:
            return redirect(request, f"/v/today?refunded={payment_id}")
        refusal = done.refusal
    page = _today_page(request, session, actor, stall=None, day_text=None, cash_text=None)
    # the refusal goes beside the refund box, which keeps what the vendor typed; only a form
    # that names no payment on the page gets it at the top
    shown = {row.transfer.id for row in page["history"]}
    beside = payment_id in shown
    page.update(
        refusal=None if beside else refusal,
        refund_refusal=refusal if beside else None,
        refund_for=payment_id,
        refund_text=field(form, "amount"),
    )
    return render(request, "phone/today.html", page, status=409)
