"""bandwidth usage per day and video; processing progress

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bandwidth_usage",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("video_id", sa.String(length=40), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_bandwidth_usage_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "day", "video_id", name=op.f("pk_bandwidth_usage")),
    )
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress", sa.Float(), nullable=True))
    # The month's bandwidth is now the sum of bandwidth_usage rows (no counter to reset).
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("bandwidth_bytes_month")


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bandwidth_bytes_month", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_column("progress")
    op.drop_table("bandwidth_usage")
