"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

import market.models  # noqa: F401


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
