"""Sign-in and sign-out (the same users, throttling and tokens as `POST /auth/token`), the
language switch, and the start page that sends each person to their markets."""

from __future__ import annotations

from fastapi import Request, Response
from sqlmodel import Session

from market.errors import (
    InvalidCredentialsError,
    LoginLockedError,
    LoginThrottledError,
    UnauthenticatedError,
)
from market.registry.access import Actor
from market.registry.markets import list_markets
from market.registry.models import Market, Role
from market.registry.users import authenticate, login, revoke_token
from web import i18n
from web.core import (
    LANG_COOKIE,
    SESSION_COOKIE,
    ActorDep,
    Db,
    FormDep,
    context_of,
    field,
    finish,
    page_router,
    redirect,
    refused,
    render,
    rotate_csrf,
)

router = page_router()
# where each role lands: vendors and shoppers on their phone pages, planners on the workbench
ROLE_HOME = {Role.VENDOR: "/v", Role.SHOPPER: "/w", Role.PLANNER: "/plan"}


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no other host)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": safe_next(next), "refusal": None})


@router.post("/login")
def login_submit(request: Request, session: Db, form: FormDep) -> Response:
    context = context_of(request)
    username, target = field(form, "username"), safe_next(field(form, "next"))
    client = request.client.host if request.client else "unknown"
    password = form.get("password")
    try:
        raw, token, _user = login(
            session,
            username=username,
            password=password if isinstance(password, str) else "",
            client=client,
            settings=context.settings,
            now=context.clock(),
        )
    except InvalidCredentialsError as exc:
        session.commit()  # the failure counts towards throttling, as in the API
        data = {"next": target, "refusal": refused(exc), "username": username}
        return render(request, "login.html", data, status=401)
    except (LoginThrottledError, LoginLockedError) as exc:
        data = {"next": target, "refusal": refused(exc), "username": username}
        refused_page = render(request, "login.html", data, status=429)
        refused_page.headers["Retry-After"] = str(exc.extra.get("retry_after", 1))
        return refused_page
    rotate_csrf(request)
    response = redirect(request, target)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=int((token.expires_at - context.clock()).total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: Db, form: FormDep) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        try:
            _actor, token = authenticate(session, raw_token=raw, now=context_of(request).clock())
            revoke_token(session, token=token, now=context_of(request).clock())
        except UnauthenticatedError:
            pass  # already ended elsewhere: nothing to revoke
    rotate_csrf(request)
    response = redirect(request, "/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/lang")
def switch_language(request: Request, form: FormDep) -> Response:
    lang = i18n.pick(field(form, "lang"))
    response = redirect(request, safe_next(field(form, "next")))
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def manageable(session: Session, actor: Actor) -> list[Market]:
    if actor.role not in (Role.ADMIN, Role.MANAGER):
        return []
    markets, _cursor = list_markets(session, limit=200)
    return [m for m in markets if actor.role is Role.ADMIN or m.id in actor.market_ids]


@router.get("/")
def start(request: Request, session: Db, actor: ActorDep) -> Response:
    if actor.role in ROLE_HOME:
        return redirect(request, ROLE_HOME[actor.role])
    markets = manageable(session, actor)
    if len(markets) == 1:
        return finish(request, redirect(request, f"/m/{markets[0].id}"))
    return render(request, "start.html", {"actor": actor, "markets": markets})
