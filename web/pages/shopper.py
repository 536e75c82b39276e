"""The shopper's mock wallet on the phone: open it or sign in with phone and PIN, top up, scan a
stall's board with the camera (or paste its text), see who it pays before paying, pay, the
receipt; send money to a phone after confirming the masked name; the statement."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Request, Response
from sqlmodel import Session, select

from market.db import require_id
from market.errors import (
    DomainError,
    InvalidCredentialsError,
    LoginLockedError,
    LoginThrottledError,
    NotFoundError,
)
from market.inputs import Id
from market.money import payments, statements, wallets
from market.money.models import Entry, LedgerAccount, TransferKind
from market.money.requests import MoneyRequest, PayByQR, Receipt, SendToPhone, TopUp
from market.registry.access import Actor
from market.registry.models import Role, User
from market.text import mask_digits
from qr.amounts import format_vnd
from web import voice
from web.core import (
    SESSION_COOKIE,
    Db,
    FormDep,
    LoginRequiredError,
    attempt,
    context_of,
    field,
    page_router,
    redirect,
    refused,
    render,
    rotate_csrf,
    signed_actor,
)
from web.phone import (
    AmountError,
    Done,
    amount_refusal,
    in_words,
    new_key,
    parse_amount,
    receipt_fields,
    reopened_forms_go_home,
    run_money,
)

router = page_router()
STATEMENT_SHOWN = 30
RECENT_SHOWN = 5
ENTRY = "/w/login"


def _shopper(request: Request, session: Session) -> Actor | None:
    """The signed-in shopper, or None (the wallet's own sign-in page is shown instead)."""
    try:
        actor = signed_actor(request, session)
    except LoginRequiredError:
        return None
    return actor if actor.role is Role.SHOPPER else None


def _page(actor: Actor | None, section: str, **more: Any) -> dict[str, Any]:
    return {"actor": actor, "section": section, "phone_app": "wallet", **more}


def _signed_in(request: Request, raw: str, max_age: int) -> Response:
    rotate_csrf(request)
    response = redirect(request, "/w")
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


# ---------------------------------------------------------------------------------------------
# Opening and signing in


@router.get("/w/login")
def wallet_entry(request: Request) -> Response:
    return render(request, "phone/wallet_login.html", _page(None, "login", values={}))


@router.post("/w/login")
def wallet_login(request: Request, session: Db, form: FormDep) -> Response:
    context = context_of(request)
    values = {"phone": field(form, "phone")}
    client = request.client.host if request.client else "unknown"
    try:
        raw, _user = wallets.wallet_login(
            session,
            phone=values["phone"],
            pin=field(form, "pin"),
            client=client,
            settings=context.settings,
            now=context.clock(),
        )
    except InvalidCredentialsError as exc:
        session.commit()  # the failure counts towards throttling, as in the API
        page = _page(None, "login", values=values, login_refusal=refused(exc))
        return render(request, "phone/wallet_login.html", page, status=401)
    except (LoginThrottledError, LoginLockedError) as exc:
        page = _page(None, "login", values=values, login_refusal=refused(exc))
        response = render(request, "phone/wallet_login.html", page, status=429)
        response.headers["Retry-After"] = str(exc.extra.get("retry_after", 1))
        return response
    except DomainError as exc:
        page = _page(None, "login", values=values, login_refusal=refused(exc))
        return render(request, "phone/wallet_login.html", page, status=422)
    return _signed_in(request, raw, int(context.settings.token_ttl.total_seconds()))


@router.post("/w/open")
def wallet_open(request: Request, session: Db, form: FormDep) -> Response:
    context = context_of(request)
    values = {k: field(form, k) for k in ("phone", "full_name")}
    pin = field(form, "pin")
    if not values["full_name"]:  # told beside the name, with what else is wrong in the form
        _number, wrong = attempt(session, lambda: wallets.new_wallet_number(values["phone"], pin))
        message = "Hãy nhập họ tên (enter your name)."
        refusal: dict[str, Any] | None = {
            "code": "validation-error",
            "detail": " ".join([message, *([wrong["detail"]] if wrong else [])]),
            "fields": {"full_name": message} | (in_words(wrong)["fields"] if wrong else {}),
        }
        page = _page(None, "login", values=values, open_refusal=refusal)
        return render(request, "phone/wallet_login.html", page, status=422)
    opened, refusal = attempt(
        session,
        lambda: wallets.open_wallet(
            session,
            phone=values["phone"],
            pin=pin,
            full_name=values["full_name"][:120],
            settings=context.settings,
            now=context.clock(),
        ),
    )
    if opened is None:
        page = _page(None, "login", values=values, open_refusal=in_words(refusal or {}))
        return render(request, "phone/wallet_login.html", page, status=422)
    return _signed_in(request, opened[0], int(context.settings.token_ttl.total_seconds()))


# ---------------------------------------------------------------------------------------------
# The wallet


def _home(
    request: Request, session: Session, actor: Actor, *, status: int = 200, **more: Any
) -> Response:
    wallet = wallets.own_wallet(session, actor)
    recent = statements.statement(session, require_id(wallet), before_id=None, limit=RECENT_SHOWN)
    page = _page(
        actor,
        "home",
        wallet=wallet,
        recent=recent[:RECENT_SHOWN],
        key=new_key(),
        kinds=TransferKind,
        done=request.query_params.get("done"),
        **more,
    )
    return render(request, "phone/wallet.html", page, status=status)


@router.get("/w")
def wallet_home(request: Request, session: Db) -> Response:
    actor = _shopper(request, session)
    if actor is None:
        return redirect(request, ENTRY)
    return _home(request, session, actor)


@router.post("/w/topup")
def top_up(request: Request, session: Db, form: FormDep) -> Response:
    actor = _shopper(request, session)
    if actor is None:
        return redirect(request, ENTRY)
    try:
        amount = parse_amount(field(form, "amount"))
    except AmountError as exc:
        return _home(request, session, actor, status=422, refusal=amount_refusal(exc))
    done = _money(request, session, actor, TopUp(amount), field(form, "key"))
    if done.refusal:
        return _home(request, session, actor, status=409, refusal=done.refusal)
    return redirect(request, "/w?done=topup")


def _money(request: Request, session: Session, actor: Actor, money: MoneyRequest, key: str) -> Done:
    return run_money(session, actor=actor, request=money, key=key, now=context_of(request).clock())


# ---------------------------------------------------------------------------------------------
# Paying a stall: scan (or paste) → who it pays → amount → pay → receipt


@router.get("/w/scan")
def scan(request: Request, session: Db) -> Response:
    actor = _shopper(request, session)
    if actor is None:
        return redirect(request, ENTRY)
    return render(request, "phone/scan.html", _page(actor, "scan", refusal=None, payload=""))


def _recipient(code: payments.ScannedCode) -> dict[str, Any]:
    return {
        "market": code.market_name,
        "stall": code.stall_code,
        # the vendor's name as registered with the market, masked as the receipt shows it
        # (not the bank's ASCII holder name: one name from scan to receipt)
        "holder": wallets.masked_name(code.vendor_name),
        "fixed_amount": code.fixed_amount,
        "fixed_words": voice.spoken(voice.amount_keys(code.fixed_amount))
        if code.fixed_amount
        else None,
    }


def _payable(session: Session, payload: str) -> payments.ScannedCode:
    """The code a shopper scanned, refused at once if it is a per-sale code paid already."""
    code = payments.resolve_code(session, payload)
    payments.refuse_if_paid(session, code)
    return code


def _as_shoppers_read_it(refusal: dict[str, Any] | None) -> dict[str, Any] | None:
    """A refusal as a shopper reads it: an unreadable code's parser details (the API's answer
    keeps them, for whoever printed the code) are left out."""
    if refusal is None or refusal["code"] != "invalid-vietqr":
        return refusal
    unreadable = "Không đọc được mã này (not a payment code)."
    plainly = f"{payments.NOT_A_PAYMENT_CODE}."
    return refusal | {"detail": plainly, "fields": {"payload": unreadable}}


def _confirm(
    request: Request,
    session: Session,
    actor: Actor,
    payload: str,
    *,
    refusal: dict[str, Any] | None = None,
    amount_text: str = "",
    status: int = 200,
) -> Response:
    """The recipient, before paying; or back to the scanner with the reason it cannot be paid."""
    code, problem = attempt(session, lambda: _payable(session, payload))
    if code is None:
        page = _page(actor, "scan", refusal=_as_shoppers_read_it(problem), payload=payload)
        return render(request, "phone/scan.html", page, status=422)
    wallet = wallets.own_wallet(session, actor)
    page = _page(
        actor,
        "scan",
        payload=payload,
        recipient=_recipient(code),
        balance=wallet.balance,
        key=new_key(),
        refusal=refusal,
        values={"amount": amount_text},
    )
    return render(request, "phone/pay.html", page, status=status)


@router.post("/w/pay/check")
def pay_check(request: Request, session: Db, form: FormDep) -> Response:
    actor = _shopper(request, session)
    if actor is None:
        return redirect(request, ENTRY)
    payload = field(form, "payload")[:2000]
    if not payload:
        message = "Chưa có mã: hãy quét bảng mã hoặc dán nội dung mã (no code yet)."
        refusal = {"code": "validation-error", "detail": message, "fields": {"payload": message}}
        page = _page(actor, "scan", refusal=refusal, payload="")
        return render(request, "phone/scan.html", page, status=422)
    return _confirm(request, session, actor, payload)


@router.post("/w/pay")
def pay(request: Request, session: Db, form: FormDep) -> Response:
    actor = _shopper(request, session)
    if actor is None:
        return redirect(request, ENTRY)
    payload, amount_text = field(form, "payload")[:2000], field(form, "amount")
    amount: int | None = None
    if amount_text:
        try:
            amount = parse_amount(amount_text)
        except AmountError as exc:
            refusal = amount_refusal(exc)
            return _confirm(
                request, session, actor, payload, refusal=refusal, amount_text=amount_text,
                status=422,
            )  # fmt: skip
    done = _money(request, session, actor, PayByQR(payload, amount), field(form, "key"))
    if done.refusal:
        return _confirm(
            request, session, actor, payload, refusal=done.refusal, amount_text=amount_text,
            status=409,
        )  # fmt: skip
    return _to_receipt(request, done)


def _to_receipt(request: Request, done: Done) -> Response:
    """After money moved: the receipt at its own address (post, redirect, get), so reopening or
    reloading it shows the receipt again and never resends the form."""
    assert done.result is not None
    return redirect(request, f"/w/receipt/{done.result['id']}")


@router.get("/w/receipt/{transfer_id}")
def receipt(request: Request, session: Db, transfer_id: Annotated[Id, PathParam()]) -> Response:
    """The receipt of one of the shopper's own transfers (another's is not found)."""
    actor = _shopper(request, session)
    if actor is None:
        return redirect(request, ENTRY)
    wallet_id = require_id(wallets.own_wallet(session, actor))
    entry = session.exec(
        select(Entry).where(Entry.transfer_id == transfer_id, Entry.account_id == wallet_id)
    ).first()
    if entry is None:
        raise NotFoundError("Không tìm thấy biên nhận (receipt not found).")
    row = statements.statement(session, wallet_id, before_id=require_id(entry) + 1, limit=1)[0]
    shown = receipt_fields(Receipt(row.transfer, entry.balance_after, row.payee), actor)
    page = _page(actor, "receipt", receipt=shown, other=_other_wallet(session, row, wallet_id))
    return render(request, "phone/receipt.html", page)


def _other_wallet(
    session: Session, row: statements.StatementRow, wallet_id: int
) -> dict[str, Any] | None:
    """For a transfer between wallets, the other one's holder, masked as before sending: the
    recipient of what this wallet sent, or the sender of what it received."""
    transfer = row.transfer
    if transfer.kind != TransferKind.TRANSFER:
        return None
    sent = transfer.debit_account_id == wallet_id
    other = session.get(
        LedgerAccount, transfer.credit_account_id if sent else transfer.debit_account_id
    )
    user = session.get(User, other.owner_user_id) if other and other.owner_user_id else None
    if user is None:
        return None
    return {
        "sent": sent,
        "name": wallets.masked_name(user.full_name or "Ví"),
        "phone": mask_digits(user.phone or "", 3),
    }


# A form's address opened again (the address bar keeps it after the POST): its page.
reopened_forms_go_home(
    router, {"/w/topup": "/w", "/w/open": ENTRY, "/w/pay": "/w/scan", "/w/pay/check": "/w/scan"}
)


# ---------------------------------------------------------------------------------------------
# Sending to a phone


@router.get("/w/send")
def send(request: Request, session: Db) -> Response:
    actor = _shopper(request, session)
    if actor is None:
        return redirect(request, ENTRY)
    page = _page(actor, "send", values={}, refusal=None, key=new_key())
    return render(request, "phone/send.html", page)


@router.post("/w/send")
def send_submit(request: Request, session: Db, form: FormDep) -> Response:
    """First post: the masked name of the phone's wallet; second (with `confirm`): the money."""
    actor = _shopper(request, session)
    if actor is None:
        return redirect(request, ENTRY)
    values = {k: field(form, k) for k in ("to_phone", "amount", "memo")}
    page = _page(actor, "send", values=values, refusal=None, key=field(form, "key") or new_key())
    found, refusal = attempt(
        session, lambda: wallets.recipient_for(session, actor=actor, phone=values["to_phone"])
    )
    if found is None:
        refusal = refusal or {}
        refusal["fields"] = {"to_phone": refusal.get("detail", "")}
        page["refusal"] = refusal
        return render(request, "phone/send.html", page, status=422)
    page["recipient"] = found
    try:
        amount = parse_amount(values["amount"])
    except AmountError as exc:
        page["refusal"] = amount_refusal(exc)
        return render(request, "phone/send.html", page, status=422)
    if field(form, "confirm") != "yes":
        page["amount_text"] = format_vnd(amount)
        return render(request, "phone/send.html", page)
    money = SendToPhone(values["to_phone"], amount, values["memo"][:100] or None)
    done = _money(request, session, actor, money, page["key"])
    if done.refusal:
        page.update(refusal=done.refusal, key=new_key(), recipient=None)
        return render(request, "phone/send.html", page, status=409)
    return _to_receipt(request, done)


# ---------------------------------------------------------------------------------------------
# Statement


@router.get("/w/statement")
def statement(request: Request, session: Db, before: Id | None = None) -> Response:
    actor = _shopper(request, session)
    if actor is None:
        return redirect(request, ENTRY)
    wallet = wallets.own_wallet(session, actor)
    rows = statements.statement(
        session, require_id(wallet), before_id=before, limit=STATEMENT_SHOWN
    )
    more = len(rows) > STATEMENT_SHOWN
    rows = rows[:STATEMENT_SHOWN]
    page = _page(
        actor,
        "statement",
        wallet=wallet,
        rows=rows,
        kinds=TransferKind,
        next_before=require_id(rows[-1].entry) if more and rows else None,
    )
    return render(request, "phone/statement.html", page)
