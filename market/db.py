"""Engines and sessions for SQLite and PostgreSQL, and the Alembic upgrade that builds schemas."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel, create_engine

if TYPE_CHECKING:
    from alembic.config import Config


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def require_id(row: _HasId | SQLModel) -> int:
    """`row.id` of a row that must have one (read from the database, or flushed). A missing id is
    a bug: it raises `ValueError` naming the row's type instead of standing in as 0."""
    row_id = getattr(row, "id", None)
    if not isinstance(row_id, int):
        raise ValueError(f"{type(row).__name__} has no id yet (not flushed to the database)")
    return row_id


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's BEGIN reach SQLite; we issue BEGIN IMMEDIATE ourselves (one writer at a
    # time, so a read-then-write transaction never fails half-way with SQLITE_BUSY).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Read-only work (see `read_only`) may begin deferred, so it never waits for the writer.
    deferred = connection.get_execution_options().get("read_only", False)
    connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`: SQLite gets WAL, foreign keys, a busy timeout and immediate
    transactions; PostgreSQL gets a pool that pings connections idle for a while."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


# A pooled connection back in use within this many seconds is handed out without a ping. A
# database restart or a dropped connection leaves the pool idle for longer than this (a request
# that meets the failure itself gets an error, and SQLAlchemy then replaces every pooled
# connection older than it), so the round trip is saved only where it proves nothing.
IDLE_BEFORE_PING = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pessimistic disconnect handling (`pool_pre_ping`), only for connections idle
    for `IDLE_BEFORE_PING` seconds or more: one that fails the ping is replaced before use."""

    def returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc  # the pool connects afresh and retries

    event.listen(engine, "connect", returned)
    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", ping)


def read_only(engine: Engine) -> Engine:
    """The same engine for transactions that only read (on SQLite they do not take the write
    lock; on PostgreSQL nothing changes)."""
    return engine.execution_options(read_only=True)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits when the block ends normally, else rolls back."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# Alembic is imported by the functions that migrate or check a schema, not with this module: it
# takes ~0.4 s to import and the service's workers never need it.


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("market").joinpath("migrations")))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` by running the Alembic migrations."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


class DatabaseNotReadyError(Exception):
    """The database a command needs is missing, unreachable or not migrated; the message says
    what to do, in one line."""


FIX = "chạy `cho db upgrade` (hoặc `cho demo`) hoặc đặt DATABASE_URL"
FIX_EN = "run `cho db upgrade` (or `cho demo`), or set DATABASE_URL"


def require_database(url: str) -> None:
    """Raise `DatabaseNotReadyError` unless the database at `url` exists and is migrated to the
    newest schema. Creates nothing: a SQLite file that does not exist is not opened."""
    shown = make_url(url).render_as_string(hide_password=True)
    if is_sqlite(url):
        database = make_url(url).database or ""
        if database in {"", ":memory:"} or not Path(database).is_file():
            raise DatabaseNotReadyError(
                f"Không có cơ sở dữ liệu {shown}: {FIX} (no database at {shown}: {FIX_EN})."
            )
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    probe = create_engine(
        url, poolclass=NullPool, connect_args={} if is_sqlite(url) else {"connect_timeout": 10}
    )
    try:
        with probe.connect() as conn:
            version = _schema_version(conn)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseNotReadyError(
            f"Không kết nối được cơ sở dữ liệu {shown} ({reason}): kiểm tra DATABASE_URL "
            f"(cannot reach the database: check DATABASE_URL)."
        ) from None
    finally:
        probe.dispose()
    if version != head:
        raise DatabaseNotReadyError(
            f"Cơ sở dữ liệu {shown} chưa ở phiên bản mới nhất ({version or 'trống'} ≠ {head}): "
            f"chạy `cho db upgrade` (the schema is not up to date: run `cho db upgrade`)."
        )


def _schema_version(conn: Any) -> str | None:
    tables = conn.dialect.get_table_names(conn)
    if "alembic_version" not in tables:
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None
