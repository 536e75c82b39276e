"""What every page needs: the app's engine, settings and clock; one transaction per request; the
signed-in actor from the session cookie; the CSRF check; template rendering (a whole page, or one
block of it for an htmx swap); and how refusals become pages.

The session cookie holds a bearer token of the same kind `POST /auth/token` issues, checked by the
same `signed_in()`: sign-out, revocation, password change and deactivation end a page session
exactly as they end an API session.

CSRF: double submit. A random `cho_csrf` cookie (HttpOnly, SameSite=Lax) is set on the first page
and copied into a hidden field of every form; a POST whose field differs from the cookie (a stale
form after sign-in or sign-out rotated it, or a forged one) is refused before anything runs. A
cross-site `Origin` header is refused too."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from jinja2_fragments import render_block
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.datastructures import FormData

from market.clock import Clock
from market.errors import DomainError, ForbiddenError, NotFoundError, UnauthenticatedError
from market.field_messages import field_message, vietnamese_first
from market.registry.access import Actor
from market.registry.users import signed_in
from market.settings import Settings
from market.text import phone_as_written
from web import i18n

SESSION_COOKIE = "cho_session"
CSRF_COOKIE = "cho_csrf"
LANG_COOKIE = "cho_lang"
CSRF_FIELD = "csrf"
TEMPLATES = Path(__file__).parent / "templates"
T = TypeVar("T")


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    engine: Engine
    clock: Clock


def context_of(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def get_db(request: Request) -> Iterator[Session]:
    with Session(context_of(request).engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


Db = Annotated[Session, Depends(get_db, scope="function")]


class LoginRequiredError(Exception):
    """No valid session: the page answers with a redirect to the sign-in page."""


class CsrfError(Exception):
    """The form's CSRF token is missing or stale: refused, nothing done."""


def signed_actor(request: Request, session: Db) -> Actor:
    """The actor behind the session cookie, or `LoginRequiredError`."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        raise LoginRequiredError
    try:
        return signed_in(session, raw_token=raw, now=context_of(request).clock())
    except UnauthenticatedError:
        raise LoginRequiredError from None


ActorDep = Annotated[Actor, Depends(signed_actor)]


# ---------------------------------------------------------------------------------------------
# CSRF


def csrf_token(request: Request) -> str:
    """The request's CSRF token (from its cookie, or a new one the response will set)."""
    token = getattr(request.state, "csrf", None) or request.cookies.get(CSRF_COOKIE)
    if not token:
        token = secrets.token_urlsafe(24)
    request.state.csrf = token
    return token


def rotate_csrf(request: Request) -> str:
    request.state.csrf = secrets.token_urlsafe(24)
    return str(request.state.csrf)


async def checked_form(request: Request) -> FormData:
    """The POSTed form, after the Origin and CSRF checks."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = urlsplit(origin).netloc
        if host != request.headers.get("host", ""):
            raise CsrfError
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
        raise CsrfError
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# ---------------------------------------------------------------------------------------------
# Templates


def lang_of(request: Request) -> str:
    return i18n.pick(request.cookies.get(LANG_COOKIE))


@pass_context
def _gettext(context: Context, message: str) -> str:
    return i18n.translations(context.get("lang", i18n.DEFAULT)).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return i18n.translations(context.get("lang", i18n.DEFAULT)).ngettext(singular, plural, n)


@pass_context
def _percent(context: Context, value: float | None) -> str:
    return i18n.percent(value, context.get("lang", i18n.DEFAULT))


@pass_context
def _area(context: Context, value: float) -> str:
    return i18n.area(value, context.get("lang", i18n.DEFAULT))


@pass_context
def _measure(context: Context, value: float) -> str:
    return i18n.measure(value, context.get("lang", i18n.DEFAULT))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        money=i18n.money,
        day=i18n.day,
        moment=i18n.moment,
        percent=_percent,
        area=_area,
        measure=_measure,
        number=i18n.number,
        phone=phone_as_written,
    )
    env.globals.update(LABELS)
    return env


N_ = i18n.N_
LABELS: dict[str, dict[str, str]] = {
    "board_status": {
        "live": N_("Đang dùng"),
        "replaced": N_("Đã in lại"),
        "revoked": N_("Đã thu hồi"),
    },
    "stall_status": {
        "vacant": N_("Còn trống"),
        "occupied": N_("Đang thuê"),
        "suspended": N_("Tạm ngừng"),
        "closed": N_("Đã đóng"),
    },
    "role_labels": {
        "admin": N_("Quản trị"),
        "manager": N_("Ban quản lý chợ"),
        "vendor": N_("Tiểu thương"),
        "planner": N_("Kế hoạch"),
        "shopper": N_("Người mua"),
    },
    "followup_kinds": {
        "no-code": N_("Ki-ốt chưa có mã QR"),
        "idle": N_("Không có thanh toán QR nhiều ngày"),
        "revoked": N_("Bảng mã thu hồi chưa in lại"),
    },
    "entity_labels": {
        "stall": N_("Ki-ốt"),
        "vendor": N_("Tiểu thương"),
        "payout_account": N_("Tài khoản nhận tiền"),
        "zone": N_("Khu"),
        "board": N_("Bảng mã"),
        "market": N_("Chợ"),
        "user": N_("Người dùng"),
        "day_close": N_("Chốt ngày"),
    },
}

ENV = _environment()


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """A page, or with an `HX-Request` header and a `block`, only that block of it."""
    lang = lang_of(request)
    data = {
        "request": request,
        "lang": lang,
        "csrf": csrf_token(request),
        "path": request.url.path,
        **context,
    }
    template = ENV.get_template(name)
    partial = request.headers.get("hx-request") == "true"
    if partial and request.headers.get("hx-history-restore-request") == "true":
        partial = False  # htmx restoring history after "back" wants the whole page
    html = render_block(ENV, name, block, data) if block and partial else template.render(data)
    response = HTMLResponse(html, status_code=status)
    finish(request, response)
    return response


def finish(request: Request, response: Response) -> Response:
    """Set the CSRF cookie when this request made or rotated it; pages are never cached."""
    token = getattr(request.state, "csrf", None)
    if token and token != request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = lang_of(request)
    return response


def redirect(request: Request, url: str) -> Response:
    """After a successful POST: go to `url` (htmx follows HX-Redirect, browsers the 303)."""
    if request.headers.get("hx-request") == "true":
        response: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    return finish(request, response)


def refused(exc: DomainError) -> dict[str, Any]:
    """A refusal for a template: the problem's message and a message per field it names."""
    fields: dict[str, str] = {}
    for error in exc.errors:
        name = error.field.split(".")[-1] if error.field else "form"
        fields.setdefault(name, vietnamese_first(error).message)
    return {"code": exc.code, "detail": exc.detail, "fields": fields}


def attempt(session: Session, action: Callable[[], T]) -> tuple[T | None, dict[str, Any] | None]:
    """Run one service call in a savepoint: its result, or (None, the refusal) with every change
    it made undone, so a refused form changes nothing."""
    savepoint = session.begin_nested()
    try:
        result = action()
    except NotFoundError as exc:
        if not exc.errors:
            savepoint.rollback()
            raise
        savepoint.rollback()
        return None, refused(exc)
    except DomainError as exc:
        savepoint.rollback()
        return None, refused(exc)
    except ValidationError as exc:
        savepoint.rollback()
        return None, validation_refusal(exc)
    savepoint.commit()
    return result, None


def validation_refusal(exc: Any) -> dict[str, Any]:
    """A pydantic ValidationError from a service's input model, as a refusal."""
    fields: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        fields.setdefault(loc[0] if loc else "form", field_message(err))
    count = len(fields)
    return {
        "code": "validation-error",
        "detail": f"Có {count} ô chưa đúng; xem thông báo cạnh từng ô "
        f"({count} field(s) to correct: see the message by each).",
        "fields": fields,
    }


# ---------------------------------------------------------------------------------------------
# How a page route fails


PROBLEM = "problem"  # the block of error.html an htmx request gets


class PageRoute(APIRoute):
    """A page route: no session → sign-in page; not found (including another manager's market)
    → a 404 page; a stale CSRF token → 403 with the message, nothing changed."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response: Response = await handler(request)
                return response
            except LoginRequiredError:
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                url = "/login?next=" + quote(target, safe="")
                if request.headers.get("hx-request") == "true":
                    return Response(status_code=204, headers={"HX-Redirect": url})
                return RedirectResponse(url, status_code=303)
            except CsrfError:
                return render(request, "error.html", {"problem": "csrf"}, status=403, block=PROBLEM)
            except (NotFoundError, RequestValidationError):
                # a malformed address (`/m/abc`, an id out of range) is a page that is not there
                missing: dict[str, Any] = {"problem": "not-found"}
                return render(request, "error.html", missing, status=404, block=PROBLEM)
            except ForbiddenError as exc:
                context = {"problem": "refused", "refusal": refused(exc)}
                return render(request, "error.html", context, status=403, block=PROBLEM)
            except DomainError as exc:
                context = {"problem": "refused", "refusal": refused(exc)}
                return render(request, "error.html", context, status=409, block=PROBLEM)

        return page_handler


def page_router() -> APIRouter:
    """A router of pages: PageRoute failures, not in the OpenAPI document."""
    return APIRouter(route_class=PageRoute, include_in_schema=False)
