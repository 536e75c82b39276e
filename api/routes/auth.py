"""Login (OAuth2 password flow), the current user, logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import ClockDep, CurrentAuth, SessionDep, SettingsDep
from api.problems import problem_responses
from market.errors import InvalidCredentialsError
from market.registry.models import Role, TokenPublic, UserPublic
from market.registry.users import get_user, login, public_user, revoke_token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenPublic,
    responses=problem_responses(401, 413, 422, 429),
    summary="Đăng nhập: đổi tên và mật khẩu lấy bearer token",
)
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> TokenPublic:
    client = request.client.host if request.client else "unknown"
    try:
        raw, token, user = login(
            session,
            username=form.username,
            password=form.password,
            client=client,
            settings=settings,
            now=clock(),
        )
    except InvalidCredentialsError:
        session.commit()  # keep the failure on record for throttling, then refuse
        raise
    return TokenPublic(access_token=raw, expires_at=token.expires_at, role=Role(user.role))


@router.get("/me", response_model=UserPublic, responses=problem_responses(401))
def me(auth: CurrentAuth, session: SessionDep) -> UserPublic:
    return public_user(session, get_user(session, auth.token.user_id))


@router.post("/logout", status_code=204, responses=problem_responses(401))
def logout(auth: CurrentAuth, session: SessionDep, clock: ClockDep) -> None:
    """Revoke the token this request was made with."""
    revoke_token(session, token=auth.token, now=clock())
