"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import market.jobs
import market.money.models
import market.registry.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from market.db import make_engine, upgrade


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_partial_unique_indexes_exist(engine: Engine) -> None:
    indexes = {i["name"] for i in inspect(engine).get_indexes("stall_assignment")}
    assert "uq_assignment_current_per_stall" in indexes
    indexes = {i["name"] for i in inspect(engine).get_indexes("payout_account")}
    assert {"uq_payout_default_per_vendor", "uq_payout_live_bin_account"} <= indexes


def test_monthly_cap_counter_starts_from_this_months_journal(tmp_path: Path) -> None:
    """Upgrading to 0006 gives each shopper wallet this month's capped total, so the cap still
    counts what was paid before the upgrade."""
    url = f"sqlite:///{tmp_path}/old.db"
    upgrade(url, "0005")
    now = datetime.now(UTC)
    engine = make_engine(url)
    with engine.begin() as connection:
        for account_id, kind in ((1, "shopper_wallet"), (2, "cash_out")):
            connection.execute(
                text(
                    "INSERT INTO ledger_account (id, kind, balance, allow_negative, created_at)"
                    " VALUES (:id, :kind, 0, :negative, :now)"
                ),
                {"id": account_id, "kind": kind, "negative": kind != "shopper_wallet", "now": now},
            )
        for amount, kind in ((70_000, "payment"), (30_000, "transfer"), (5_000, "withdrawal")):
            connection.execute(
                text(
                    "INSERT INTO transfer (kind, amount, fee, debit_account_id, credit_account_id,"
                    " business_day, created_at) VALUES (:kind, :amount, 0, 1, 2, :day, :now)"
                ),
                {"kind": kind, "amount": amount, "day": now.date(), "now": now},
            )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        used = connection.execute(
            text("SELECT capped_used FROM ledger_account WHERE id = 1")
        ).scalar_one()
    engine.dispose()
    assert used == 100_000
