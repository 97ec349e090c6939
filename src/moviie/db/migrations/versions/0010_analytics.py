"""analytics: raw player events, per-viewing summaries, rollups per video per hour and day,
intake drops, the rollup cursor

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import moviie.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_analytics_cursor")),
    )
    op.create_table(
        "analytics_drops",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("hour", moviie.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "hour", "reason", name=op.f("pk_analytics_drops")),
    )
    op.create_table(
        "analytics_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("video_id", sa.String(length=40), nullable=False),
        sa.Column("view_id", sa.String(length=64), nullable=False),
        sa.Column("viewer_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("position_s", sa.Float(), nullable=False),
        sa.Column("from_s", sa.Float(), nullable=True),
        sa.Column("rendition", sa.String(length=16), nullable=True),
        sa.Column("received_at", moviie.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_events_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            "uq_analytics_events_video_id_view_id_seq",
            ["video_id", "view_id", "seq"],
            unique=True,
        )

    op.create_table(
        "analytics_rollups",
        sa.Column("video_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("start", moviie.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("unique_viewers", sa.Integer(), nullable=False),
        sa.Column("watch_time_s", sa.Float(), nullable=False),
        sa.Column("completion_sum", sa.Float(), nullable=False),
        sa.Column("retention", sa.JSON(), nullable=False),
        sa.Column("renditions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_analytics_rollups_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("video_id", "period", "start", name=op.f("pk_analytics_rollups")),
    )
    with op.batch_alter_table("analytics_rollups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analytics_rollups_account_id_period_start",
            ["account_id", "period", "start"],
            unique=False,
        )

    op.create_table(
        "analytics_views",
        sa.Column("video_id", sa.String(length=40), nullable=False),
        sa.Column("view_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("viewer_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", moviie.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("watch_time_s", sa.Float(), nullable=False),
        sa.Column("completion", sa.Float(), nullable=False),
        sa.Column("retention", sa.JSON(), nullable=False),
        sa.Column("renditions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_analytics_views_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("video_id", "view_id", name=op.f("pk_analytics_views")),
    )
    with op.batch_alter_table("analytics_views", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analytics_views_video_id_started_at", ["video_id", "started_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("analytics_views", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_views_video_id_started_at")

    op.drop_table("analytics_views")
    with op.batch_alter_table("analytics_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_rollups_account_id_period_start")

    op.drop_table("analytics_rollups")
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.drop_index("uq_analytics_events_video_id_view_id_seq")
        batch_op.drop_index(batch_op.f("ix_analytics_events_received_at"))

    op.drop_table("analytics_events")
    op.drop_table("analytics_drops")
    op.drop_table("analytics_cursor")
