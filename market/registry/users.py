"""Users, passwords (argon2), bearer tokens (stored hashed; they expire and can be revoked) and
login throttling (per user and per client: slower after a few failures, then locked a while)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Row, Select, bindparam, delete, func
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel, col, select

from market.db import require_id
from market.errors import (
    DuplicateError,
    FieldError,
    InvalidCredentialsError,
    InvalidInputError,
    LoginLockedError,
    LoginThrottledError,
    NotFoundError,
    UnauthenticatedError,
)
from market.registry import audit
from market.registry.access import Actor, require_role
from market.registry.models import (
    ApiToken,
    LoginFailure,
    Market,
    Role,
    Status,
    User,
    UserCreate,
    UserMarket,
    UserPublic,
    UserUpdate,
    Vendor,
)
from market.settings import Settings

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing does not reveal
    usernames. Made on first use: hashing at import would slow every worker's start."""
    return _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_market_ids(session: Session, user_id: int) -> list[int]:
    return sorted(
        session.exec(select(UserMarket.market_id).where(UserMarket.user_id == user_id)).all()
    )


def actor_for(session: Session, user: User) -> Actor:
    """The actor a user (or a row of the user's columns) is. Only managers act on markets, so
    only theirs are read."""
    role = Role(user.role)
    markets = user_market_ids(session, require_id(user)) if role is Role.MANAGER else []
    return Actor(
        user_id=user.id,
        username=user.username,
        role=role,
        market_ids=frozenset(markets),
        vendor_id=user.vendor_id,
        phone=user.phone,
    )


def public_user(session: Session, user: User) -> UserPublic:
    return UserPublic(
        id=require_id(user),
        username=user.username,
        full_name=user.full_name,
        role=Role(user.role),
        market_ids=user_market_ids(session, require_id(user)),
        vendor_id=user.vendor_id,
        status=Status(user.status),
    )


# ---------------------------------------------------------------------------------------------
# Login and tokens


def _failures(session: Session, subject: str, since: datetime) -> tuple[int, datetime | None]:
    count, last = session.exec(
        select(func.count(col(LoginFailure.id)), func.max(LoginFailure.at)).where(
            LoginFailure.subject == subject, LoginFailure.at >= since
        )
    ).one()
    return int(count), last  # UTCDateTime gives MAX(at) back timezone-aware


def _check_throttle(
    session: Session, subjects: list[str], settings: Settings, now: datetime
) -> None:
    since = now - timedelta(minutes=max(settings.login_window_minutes, settings.login_lock_minutes))
    for subject in subjects:
        count, last = _failures(session, subject, since)
        if last is None:
            continue
        if count >= settings.login_lock_failures:
            until = last + timedelta(minutes=settings.login_lock_minutes)
            if now < until:
                raise LoginLockedError(
                    "Đăng nhập bị tạm khóa do nhập sai mật khẩu nhiều lần; thử lại sau "
                    f"{int((until - now).total_seconds()) + 1} giây (login locked).",
                    extra={"retry_after": int((until - now).total_seconds()) + 1},
                )
        elif count >= settings.login_free_failures:
            delay = timedelta(seconds=2 ** (count - settings.login_free_failures))
            if now < last + delay:
                wait = int((last + delay - now).total_seconds()) + 1
                raise LoginThrottledError(
                    f"Nhập sai nhiều lần; chờ {wait} giây rồi thử lại (too many attempts).",
                    extra={"retry_after": wait},
                )


def login(
    session: Session,
    *,
    username: str,
    password: str,
    client: str,
    settings: Settings,
    now: datetime,
) -> tuple[str, ApiToken, User]:
    """Check the password and issue a bearer token. A wrong password is recorded (the caller
    must commit even though this raises) and answered the same whether or not the user exists."""
    name = "".join(ch for ch in username.strip().lower() if ch.isprintable())
    subjects = [f"user:{name}"[:200], f"client:{client}"[:200]]
    _check_throttle(session, subjects, settings, now)
    user = session.exec(select(User).where(User.username == name)).first()
    ok = _verify(user.password_hash if user else _dummy_hash(), password)
    if user is None or not ok or user.status != Status.ACTIVE:
        for subject in subjects:
            session.add(LoginFailure(subject=subject, at=now))
        session.flush()
        raise InvalidCredentialsError(
            "Sai tên đăng nhập hoặc mật khẩu (wrong username or password)."
        )
    session.exec(delete(LoginFailure).where(col(LoginFailure.subject) == subjects[0]))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    raw, token = issue_token(session, user=user, settings=settings, now=now)
    return raw, token, user


def issue_token(
    session: Session, *, user: User, settings: Settings, now: datetime
) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=require_id(user),
        token_hash=_token_digest(raw),
        created_at=now,
        expires_at=now + settings.token_ttl,
    )
    session.add(token)
    session.flush()
    return raw, token


_TOKENS, _USERS = SQLModel.metadata.tables["api_token"], SQLModel.metadata.tables["app_user"]
SIGNED_IN = (
    core_select(
        _TOKENS.c.id.label("token_id"),
        _TOKENS.c.revoked_at,
        _TOKENS.c.expires_at,
        _USERS.c.id,
        _USERS.c.username,
        _USERS.c.role,
        _USERS.c.status,
        _USERS.c.vendor_id,
        _USERS.c.phone,
    )
    .join_from(_TOKENS, _USERS, _USERS.c.id == _TOKENS.c.user_id)
    .where(_TOKENS.c.token_hash == bindparam("digest"))
)  # plain columns: no ORM objects are built for the read every request makes


def signed_in(session: Session, *, raw_token: str, now: datetime) -> Actor:
    """The actor behind a bearer token; expired, revoked or unknown tokens and deactivated users
    are refused."""
    return signed_in_with(session, SIGNED_IN, raw_token=raw_token, now=now)[0]


def authenticate(session: Session, *, raw_token: str, now: datetime) -> tuple[Actor, ApiToken]:
    """`signed_in`, with the token's row (to revoke it, say)."""
    actor, row = signed_in_with(session, SIGNED_IN, raw_token=raw_token, now=now)
    token = session.get(ApiToken, row.token_id)
    assert token is not None
    return actor, token


def signed_in_with(
    session: Session,
    statement: Select[Any],
    *,
    raw_token: str,
    now: datetime,
    parameters: dict[str, Any] | None = None,
) -> tuple[Actor, Row[Any]]:
    """`signed_in` through `statement`: `SIGNED_IN` with more columns read in the same round
    trip (a money route reads the caller's wallet with the token) and their `parameters`, and
    the row it read."""
    digest = {"digest": _token_digest(raw_token)}
    row = session.connection().execute(statement, digest | (parameters or {})).first()
    return _actor_of(session, row, now), cast(Row[Any], row)


def _actor_of(session: Session, row: Any, now: datetime) -> Actor:
    """The actor of a row of `SIGNED_IN`'s columns (None: no such token), or the refusal."""
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise UnauthenticatedError(
            "Phiên đăng nhập không hợp lệ hoặc đã hết hạn (invalid, expired or revoked token)."
        )
    if row.status != Status.ACTIVE:
        raise UnauthenticatedError("Tài khoản đã bị khóa (user is deactivated).")
    user = cast(User, row)  # the row's user columns are named as User's attributes
    return actor_for(session, user)


def revoke_token(session: Session, *, token: ApiToken, now: datetime) -> None:
    token.revoked_at = now
    session.add(token)
    session.flush()


def revoke_user_tokens(session: Session, *, actor: Actor, user_id: int, now: datetime) -> int:
    """Revoke every live token of a user; returns how many were revoked."""
    require_role(actor)
    get_user(session, user_id)
    return _revoke_all(session, user_id=user_id, now=now)


def _revoke_all(session: Session, *, user_id: int, now: datetime) -> int:
    """Revoke the user's live tokens: API tokens and web sessions alike (a session cookie holds
    a token of the same kind)."""
    tokens = session.exec(
        select(ApiToken).where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = now
        session.add(token)
    session.flush()
    return len(tokens)


# ---------------------------------------------------------------------------------------------
# User administration (admin only)


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("Không tìm thấy người dùng (user not found).")
    return user


def _check_links(
    session: Session, role: Role, market_ids: list[int], vendor_id: int | None
) -> None:
    errors = []
    if role is Role.MANAGER and not market_ids:
        errors.append(FieldError("market_ids", "required", "a manager manages at least one market"))
    if role is not Role.MANAGER and market_ids:
        errors.append(FieldError("market_ids", "not-allowed", "only managers have markets"))
    for market_id in market_ids:
        if session.get(Market, market_id) is None:
            errors.append(FieldError("market_ids", "not-found", f"no market {market_id}"))
    if role is Role.VENDOR and (vendor_id is None or session.get(Vendor, vendor_id) is None):
        errors.append(FieldError("vendor_id", "required", "a vendor user names an existing vendor"))
    if role is not Role.VENDOR and vendor_id is not None:
        errors.append(FieldError("vendor_id", "not-allowed", "only vendor users name a vendor"))
    if errors:
        raise InvalidInputError("Thông tin người dùng không hợp lệ (invalid user).", errors=errors)


def create_user(session: Session, *, actor: Actor, data: UserCreate) -> User:
    require_role(actor)
    if session.exec(select(User).where(User.username == data.username)).first() is not None:
        raise DuplicateError(
            f"Tên đăng nhập '{data.username}' đã tồn tại (username taken).",
            errors=[FieldError("username", "duplicate", "username taken")],
        )
    market_ids = sorted(set(data.market_ids))
    _check_links(session, data.role, market_ids, data.vendor_id)
    user = User(
        username=data.username,
        full_name=data.full_name,
        password_hash=hash_password(data.password),
        role=data.role,
        vendor_id=data.vendor_id,
    )
    session.add(user)
    session.flush()
    for market_id in market_ids:
        session.add(UserMarket(user_id=require_id(user), market_id=market_id))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="user",
        entity_id=require_id(user),
        market_id=None,
        after=user,
    )
    return user


def update_user(
    session: Session, *, actor: Actor, user_id: int, data: UserUpdate, now: datetime
) -> User:
    """Change a user. A new password revokes every token the user holds, so whoever knew the
    old password is signed out everywhere."""
    require_role(actor)
    user = get_user(session, user_id)
    before = audit.snapshot(user)
    if data.full_name is not None:
        user.full_name = data.full_name
    if data.password is not None:
        user.password_hash = hash_password(data.password)
        _revoke_all(session, user_id=user_id, now=now)
    if data.market_ids is not None:
        market_ids = sorted(set(data.market_ids))
        _check_links(session, Role(user.role), market_ids, user.vendor_id)
        session.exec(delete(UserMarket).where(col(UserMarket.user_id) == user_id))
        for market_id in market_ids:
            session.add(UserMarket(user_id=user_id, market_id=market_id))
    audit.save(
        session, user, actor=actor, action="update", entity="user", market_id=None, before=before
    )
    return user


def deactivate_user(session: Session, *, actor: Actor, user_id: int, now: datetime) -> User:
    require_role(actor)
    user = get_user(session, user_id)
    before = audit.snapshot(user)
    user.status = Status.INACTIVE
    session.add(user)
    revoke_user_tokens(session, actor=actor, user_id=user_id, now=now)
    audit.record(
        session,
        actor=actor,
        action="deactivate",
        entity="user",
        entity_id=user_id,
        market_id=None,
        before=before,
        after=user,
    )
    return user


def list_users(session: Session, *, actor: Actor, role: Role | None = None) -> list[User]:
    require_role(actor)
    query = select(User).order_by(col(User.id))
    if role is not None:
        query = query.where(User.role == role)
    return list(session.exec(query))
