"""Registry and money status and kind columns: typed by their enum in Python, stored as plain
text (no database enum type, so the migrated schema is unchanged)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from market.money.models import (
    IdempotencyOutcome,
    IdempotencyRecord,
    LedgerAccount,
    LedgerAccountKind,
    Transfer,
    TransferKind,
)
from market.registry.models import Board, BoardStatus, Market, Stall, StallStatus, Status, Zone
from tests.conftest import World


def test_rows_read_back_carry_enum_members(world: World, engine: Engine) -> None:
    with Session(engine) as session:
        stall = session.get(Stall, world.stall_vacant)
        assert stall is not None
        assert stall.status is StallStatus.VACANT
        market = session.get(Market, world.market_a)
        assert market is not None
        assert market.status is Status.ACTIVE
        zone = session.get(Zone, world.zone_a)
        assert zone is not None
        assert zone.status is Status.ACTIVE
        boards = session.exec(select(Board).where(Board.stall_id == world.stall_a)).all()
        assert [b.status for b in boards] == [BoardStatus.LIVE]
        assert all(type(b.status) is BoardStatus for b in boards)


def test_status_is_stored_as_its_text(world: World, engine: Engine) -> None:
    with engine.connect() as conn:
        raw = conn.execute(
            text("SELECT status FROM stall WHERE id = :id"), {"id": world.stall_vacant}
        ).scalar_one()
    assert type(raw) is str
    assert raw == "vacant"


def test_money_rows_read_back_carry_enum_members(world: World, engine: Engine) -> None:
    with Session(engine) as session:
        payment = session.get(Transfer, world.payment_a)
        assert payment is not None
        assert payment.kind is TransferKind.PAYMENT
        kinds = {account.kind for account in session.exec(select(LedgerAccount)).all()}
        assert LedgerAccountKind.SHOPPER_WALLET in kinds
        assert all(type(kind) is LedgerAccountKind for kind in kinds)
        outcomes = {r.outcome for r in session.exec(select(IdempotencyRecord)).all()}
        assert all(type(outcome) is IdempotencyOutcome for outcome in outcomes)
    with engine.connect() as conn:
        raw = conn.execute(
            text("SELECT kind FROM transfer WHERE id = :id"), {"id": world.payment_a}
        ).scalar_one()
    assert type(raw) is str
    assert raw == "payment"


def test_an_unknown_money_kind_in_the_database_is_refused_on_read(
    world: World, engine: Engine
) -> None:
    """A row written around the service with a kind the code does not know fails loudly."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE ledger_account SET kind = 'bogus'"
                " WHERE id = (SELECT MIN(id) FROM ledger_account)"
            )
        )
    with Session(engine) as session, pytest.raises(ValueError, match="bogus"):
        session.exec(select(LedgerAccount)).all()
