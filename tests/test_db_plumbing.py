"""Shared plumbing in market.db: `require_id` raises on a row without an id; PostgreSQL's pool
pings a connection that has been idle, and only then."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

import market.db
from market.db import make_engine, require_id
from market.registry.models import Market


def test_require_id_returns_the_id() -> None:
    assert require_id(Market(id=7, code="x", name="X", name_key="x")) == 7


def test_require_id_refuses_a_row_without_one() -> None:
    with pytest.raises(ValueError, match="Market has no id"):
        require_id(Market(code="x", name="X", name_key="x"))


@pytest.fixture
def one_connection(db_url: str) -> Iterator[Engine]:
    """An engine whose pool holds a single connection."""
    pooled = make_engine(db_url, pool_size=1, max_overflow=0)
    yield pooled
    pooled.dispose()


def _backend_pid(pooled: Engine) -> int:
    with pooled.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pooled: Engine, pid: int) -> None:
    """End the pooled connection's server process from another connection, as a database
    restart or a dropped network link would."""
    admin = make_engine(pooled.url.render_as_string(hide_password=False))
    with admin.connect() as other:
        assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    time.sleep(0.1)  # the server closes the socket


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_an_idle_connection_that_died_is_replaced_before_use(
    one_connection: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(market.db, "IDLE_BEFORE_PING", 0.05)
    first = _backend_pid(one_connection)
    _terminate(one_connection, first)
    assert _backend_pid(one_connection) != first  # pinged, found dead, connected afresh


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_connection_back_in_use_at_once_is_not_pinged_and_the_pool_recovers(
    one_connection: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(market.db, "IDLE_BEFORE_PING", 60.0)
    first = _backend_pid(one_connection)
    _terminate(one_connection, first)
    with pytest.raises(OperationalError):  # no ping: the statement itself meets the failure
        _backend_pid(one_connection)
    assert _backend_pid(one_connection) != first  # and the pool replaced the dead connection
