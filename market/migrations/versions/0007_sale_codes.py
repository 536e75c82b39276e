"""per-sale codes

Revision ID: 0007_sale_codes
Revises: 0006
Create Date: 2026-12-01

Each per-sale (dynamic) code gets its own reference and pays once: the registry records the
codes it issues, the money wing writes the transfer that paid one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import market.types

revision: str = "0007_sale_codes"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sale_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=25), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", market.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("used_at", market.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
        sa.UniqueConstraint("transfer_id"),
    )
    with op.batch_alter_table("sale_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sale_code_board_id"), ["board_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sale_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sale_code_board_id"))
    op.drop_table("sale_code")
