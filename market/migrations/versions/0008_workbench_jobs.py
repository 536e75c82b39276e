"""durable planner jobs

Revision ID: 0008_workbench_jobs
Revises: 0007_sale_codes
Create Date: 2026-12-01

Simulation jobs become rows that `cho worker` processes claim: the job's kind, when it started,
which worker holds it and until when (its lease), how many times it was claimed, and whether the
planner asked to cancel it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import market.types

revision: str = "0008_workbench_jobs"
down_revision: str | None = "0007_sale_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("simulation_job", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="run",
            )
        )
        batch_op.add_column(
            sa.Column("started_at", market.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("worker", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )
        batch_op.add_column(
            sa.Column("lease_until", market.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.create_index(batch_op.f("ix_simulation_job_status"), ["status"], unique=False)
    # jobs the old in-process thread left "running" forever go back to the queue: a worker
    # runs them from the start
    op.execute("UPDATE simulation_job SET status = 'queued', runs_done = 0 WHERE status = 'running'")


def downgrade() -> None:
    with op.batch_alter_table("simulation_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_simulation_job_status"))
        for column in ("cancel_requested", "attempts", "lease_until", "worker", "started_at"):
            batch_op.drop_column(column)
        batch_op.drop_column("kind")
