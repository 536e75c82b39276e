"""A closed day's report keeps the figures of that day: stalls held that day (from the stall
assignments, not today's occupancy), frozen when the day is closed."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from market.money import days, followup
from market.money.models import DayClose
from market.registry import stalls
from market.registry.access import SYSTEM
from market.registry.models import AssignmentCreate
from tests.conftest import World

CLOSED = date(2026, 11, 25)
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _report(engine: Engine, world: World) -> followup.DayReport:
    with Session(engine) as session:
        return followup.day_report(session, actor=SYSTEM, market_id=world.market_a, day=CLOSED)


def _b14_held_since_the_20th(session: Session, world: World) -> None:
    stalls.assign_vendor(
        session,
        actor=SYSTEM,
        stall_id=world.stall_vacant,
        data=AssignmentCreate(vendor_id=world.vendor_a2, start_date=date(2026, 11, 20)),
    )


def test_a_closed_days_stall_figures_do_not_move_later(engine: Engine, world: World) -> None:
    with Session(engine) as session:
        _b14_held_since_the_20th(session, world)
        days.close_day(session, actor=SYSTEM, market_id=world.market_a, day=CLOSED, now=NOW)
        session.commit()
    # B-14 was held on the 25th; B-12's vendor started after it (the world assigns today)
    assert (_report(engine, world).occupied, _report(engine, world).paid_stalls) == (1, 0)
    with Session(engine) as session:  # later the history changes: B-14's vendor left on the 22nd
        stalls.end_assignment(
            session, actor=SYSTEM, stall_id=world.stall_vacant, end_date=date(2026, 11, 22)
        )
        session.commit()
        assert followup.day_coverage(session, world.market_a, CLOSED)["occupied"] == 0
    assert _report(engine, world).occupied == 1  # the closed day kept its figure


def test_a_day_closed_without_frozen_figures_reads_that_days_assignments(
    engine: Engine, world: World
) -> None:
    with Session(engine) as session:
        _b14_held_since_the_20th(session, world)
        closed = days.close_day(
            session, actor=SYSTEM, market_id=world.market_a, day=CLOSED, now=NOW
        )
        closed.totals = {k: v for k, v in closed.totals.items() if k != "stalls"}  # as before
        session.add(closed)
        session.commit()
        stored = session.get(DayClose, closed.id)
        assert stored is not None
        assert "stalls" not in stored.totals
    # two stalls are occupied today, but on the 25th only B-14 was
    assert _report(engine, world).occupied == 1
