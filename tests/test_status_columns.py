"""Registry status columns: typed by their enum in Python, stored as plain text (no database
enum type, so the migrated schema is unchanged)."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlmodel import Session, select

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
