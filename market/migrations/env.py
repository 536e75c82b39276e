"""Alembic environment: runs the migrations against the URL set by `market.db.alembic_config`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import market.jobs
import market.money.models
import market.registry.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from market.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
