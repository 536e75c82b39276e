"""Typed dependencies: `SessionDep` (one transaction per request, committed before the response
is sent), `SettingsDep`, `ClockDep`, `CurrentUser`, the role-gated actors (`AdminActor`,
`ManagerActor`, `RegistryReader`, `StatsReader`) and the page parameters.

A role-gated actor refuses a caller whose role may never use the route (401 without a token,
403 for the wrong role) while FastAPI resolves dependencies, which is before it validates the
route's parameters and body: a forbidden caller learns nothing from the body's validation.
Finer checks (which market, which vendor) stay in the domain."""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Engine
from sqlmodel import Session

from market.clock import Clock
from market.errors import UnauthenticatedError
from market.inputs import WholeNumber
from market.pagination import MAX_LIMIT, Cursor, decode_cursor
from market.registry.access import Actor, require_role
from market.registry.models import ApiToken, Role
from market.registry.users import authenticate, signed_in
from market.settings import Settings


class MoneyThreads:
    """The threads that run money requests (`api.money.MoneyRoute`): started on first use and
    stopped, once the requests they are running finish, when the app's lifespan ends (an app
    that starts again gets new ones)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._size, thread_name_prefix="money")
            return self._pool

    def stop(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


@dataclass(frozen=True)
class AppContext:
    """What every request needs from the running app: settings, the engine, the clock, and the
    threads that run money requests (`api.money.MoneyRoute`)."""

    settings: Settings
    engine: Engine
    clock: Clock
    money_threads: MoneyThreads

    @cached_property
    def autocommit_engine(self) -> Engine:
        """The engine's pool, its connections in autocommit: each statement commits alone (a
        payment in one statement, `market.money.one_statement`)."""
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")


# Dependencies that never block are `async def`: FastAPI would run a plain `def` in the thread
# pool, one thread hop per dependency per request.


async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_settings(context: ContextDep) -> Settings:
    return context.settings


async def get_clock(context: ContextDep) -> Clock:
    return context.clock


def get_session(context: ContextDep) -> Iterator[Session]:
    with Session(context.engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]  # None when the request has none


def require_token(token: str | None) -> str:
    """The bearer token, or 401 when the request has none."""
    if not token:
        raise UnauthenticatedError("Cần đăng nhập (a bearer token is required).")
    return token


@dataclass(frozen=True)
class Authenticated:
    actor: Actor
    token: ApiToken


def get_authenticated(session: SessionDep, clock: ClockDep, token: BearerToken) -> Authenticated:
    actor, row = authenticate(session, raw_token=require_token(token), now=clock())
    return Authenticated(actor, row)


def get_actor(session: SessionDep, clock: ClockDep, token: BearerToken) -> Actor:
    return signed_in(session, raw_token=require_token(token), now=clock())


CurrentAuth = Annotated[Authenticated, Depends(get_authenticated)]
CurrentUser = Annotated[Actor, Depends(get_actor)]


def role_gate(*roles: Role) -> Callable[[Actor], Coroutine[Any, Any, Actor]]:
    """A dependency answering the signed-in actor when its role is one of `roles` (the admin
    always passes), else 403 `forbidden`."""

    async def gated_actor(actor: CurrentUser) -> Actor:
        require_role(actor, *roles)
        return actor

    gated_actor.__name__ = "actor_" + "_".join(r.value for r in roles or (Role.ADMIN,))
    return gated_actor


AdminActor = Annotated[Actor, Depends(role_gate())]
ManagerActor = Annotated[Actor, Depends(role_gate(Role.MANAGER))]
RegistryReader = Annotated[Actor, Depends(role_gate(Role.MANAGER, Role.VENDOR))]
StatsReader = Annotated[Actor, Depends(role_gate(Role.MANAGER, Role.PLANNER))]


@dataclass(frozen=True)
class PageParams:
    cursor: Cursor | None
    limit: int


async def get_page_params(
    cursor: Annotated[
        str | None, Query(max_length=64, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[WholeNumber, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> PageParams:
    return PageParams(decode_cursor(cursor), limit)


PageDep = Annotated[PageParams, Depends(get_page_params)]
