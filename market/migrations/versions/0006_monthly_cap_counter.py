"""monthly cap counter on ledger accounts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

The customer-wallet monthly cap was a sum over the month's transfers on every payment; it is now
a counter on the wallet, moved by the debit itself. Existing wallets start with this month's sum.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import market.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capped_month", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("capped_used", sa.BigInteger(), nullable=False, server_default="0")
        )
    month = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    op.get_bind().execute(
        sa.text(
            "UPDATE ledger_account SET capped_month = :month, capped_used = ("
            " SELECT coalesce(sum(t.amount), 0) FROM transfer t"
            " WHERE t.debit_account_id = ledger_account.id"
            " AND t.kind IN ('transfer', 'payment') AND t.created_at >= :since)"
            " WHERE kind = 'shopper_wallet'"
        ).bindparams(
            sa.bindparam("month", type_=sa.Date()),
            sa.bindparam("since", type_=market.types.UTCDateTime(timezone=True)),
        ),
        {"month": month.date(), "since": month.astimezone(UTC)},
    )


def downgrade() -> None:
    with op.batch_alter_table("ledger_account", schema=None) as batch_op:
        batch_op.drop_column("capped_used")
        batch_op.drop_column("capped_month")
