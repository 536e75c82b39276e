"""Registry and money status and kind columns: typed by their enum in Python, stored as plain
text (no database enum type, so the migrated schema is unchanged). Unit tests on small factories."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from market.db import require_id
from market.money import payments
from market.money.ids import user_id_of
from market.money.models import (
    IdempotencyOutcome,
    IdempotencyRecord,
    LedgerAccount,
    LedgerAccountKind,
    Transfer,
    TransferKind,
)
from market.registry import markets
from market.registry.access import SYSTEM
from market.registry.models import (
    Board,
    BoardStatus,
    Market,
    Stall,
    StallStatus,
    Status,
    Zone,
    ZoneCreate,
)
from tests import factories

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_rows_read_back_carry_enum_members(engine: Engine) -> None:
    with Session(engine) as session:
        market = factories.market(session)
        market_id = require_id(market)
        zone = markets.create_zone(
            session, actor=SYSTEM, market_id=market_id, data=ZoneCreate(code="B", name="Khu B")
        )
        vacant = factories.stall(session, market_id, "B-14", zone_id=zone.id)
        seller = factories.seller(session, market_id, "B-12")
        session.commit()
        ids = (market_id, require_id(zone), require_id(vacant), require_id(seller.stall))
    with Session(engine) as session:
        stall = session.get(Stall, ids[2])
        assert stall is not None
        assert stall.status is StallStatus.VACANT
        read_market = session.get(Market, ids[0])
        assert read_market is not None
        assert read_market.status is Status.ACTIVE
        read_zone = session.get(Zone, ids[1])
        assert read_zone is not None
        assert read_zone.status is Status.ACTIVE
        boards = session.exec(select(Board).where(Board.stall_id == ids[3])).all()
        assert [b.status for b in boards] == [BoardStatus.LIVE]
        assert all(type(b.status) is BoardStatus for b in boards)


def test_status_is_stored_as_its_text(engine: Engine) -> None:
    with Session(engine) as session:
        vacant = factories.stall(session, require_id(factories.market(session)), "B-14")
        session.commit()
        stall_id = require_id(vacant)
    with engine.connect() as conn:
        raw = conn.execute(
            text("SELECT status FROM stall WHERE id = :id"), {"id": stall_id}
        ).scalar_one()
    assert type(raw) is str
    assert raw == "vacant"


def _one_payment(engine: Engine) -> int:
    with Session(engine) as session:
        seller = factories.seller(session, require_id(factories.market(session)))
        actor, wallet = factories.shopper(session, balance=50_000, now=NOW)
        paid = payments.pay_by_qr(
            session, actor=actor, wallet=wallet, payload=seller.payload, amount=20_000, now=NOW
        )
        session.add(
            IdempotencyRecord(
                user_id=user_id_of(actor),
                key="k-1",
                request_hash="h",
                outcome=IdempotencyOutcome.OK,
                response={},
                transfer_id=paid.id,
            )
        )
        session.commit()
        return require_id(paid)


def test_money_rows_read_back_carry_enum_members(engine: Engine) -> None:
    payment_id = _one_payment(engine)
    with Session(engine) as session:
        payment = session.get(Transfer, payment_id)
        assert payment is not None
        assert payment.kind is TransferKind.PAYMENT
        kinds = {account.kind for account in session.exec(select(LedgerAccount)).all()}
        assert {LedgerAccountKind.SHOPPER_WALLET, LedgerAccountKind.VENDOR_WALLET} <= kinds
        assert all(type(kind) is LedgerAccountKind for kind in kinds)
        [record] = session.exec(select(IdempotencyRecord)).all()
        assert record.outcome is IdempotencyOutcome.OK
    with engine.connect() as conn:
        raw = conn.execute(
            text("SELECT kind FROM transfer WHERE id = :id"), {"id": payment_id}
        ).scalar_one()
    assert type(raw) is str
    assert raw == "payment"


def test_an_unknown_money_kind_in_the_database_is_refused_on_read(engine: Engine) -> None:
    """A row written around the service with a kind the code does not know fails loudly."""
    _one_payment(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE ledger_account SET kind = 'bogus'"
                " WHERE id = (SELECT MIN(id) FROM ledger_account)"
            )
        )
    with Session(engine) as session, pytest.raises(ValueError, match="bogus"):
        session.exec(select(LedgerAccount)).all()
