"""A closed day's report keeps the figures of that day: stalls held that day (from the stall
assignments, not today's occupancy), frozen when the day is closed; the morning figures list
categories and zones in the order people read them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from market.money import days, followup
from market.money.models import DayClose
from market.registry import markets, stalls
from market.registry.access import SYSTEM
from market.registry.models import AssignmentCreate, GoodsCategory, StallCreate, ZoneCreate
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


def test_the_morning_figures_list_categories_and_zones_as_people_read_them(
    engine: Engine, world: World
) -> None:
    with Session(engine) as session:
        for code in ("A-10", "A-2"):
            zone = markets.create_zone(
                session,
                actor=SYSTEM,
                market_id=world.market_a,
                data=ZoneCreate(code=code, name=code),
            )
            stalls.create_stall(
                session,
                actor=SYSTEM,
                market_id=world.market_a,
                data=StallCreate(code=f"{code}-1", zone_id=zone.id),
            )
        for n, category in enumerate(
            [GoodsCategory.FOOTWEAR, GoodsCategory.RICE_GRAIN, GoodsCategory.COOKED_FOOD]
        ):
            stalls.create_stall(
                session,
                actor=SYSTEM,
                market_id=world.market_a,
                data=StallCreate(code=f"K-{n}", category=category),
            )
        session.commit()
        seen = followup.coverage(session, actor=SYSTEM, market_id=world.market_a, today=CLOSED)
    labels = [share.label for share in seen.by_category]
    # "Ăn uống" among the A's, "Gạo" before "Giày dép" (not by character code)
    assert labels.index("Ăn uống, đồ chín") < labels.index("Gạo, ngũ cốc")
    assert labels.index("Gạo, ngũ cốc") < labels.index("Giày dép")
    zones = [share.key for share in seen.by_zone]
    assert zones.index("A-2") < zones.index("A-10")
