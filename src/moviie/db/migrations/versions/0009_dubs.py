"""dubs: the languages a video is dubbed into

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import moviie.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Stamp = moviie.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dubs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("video_id", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("quality", sa.String(length=16), nullable=False),
        sa.Column("voice", sa.String(length=32), nullable=False),
        sa.Column("lipsync_video_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_dubs_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"], ["videos.id"], name=op.f("fk_dubs_video_id_videos"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dubs")),
        sa.UniqueConstraint("video_id", "language", name="uq_dubs_video_id_language"),
    )  # fmt: skip
    op.create_index(op.f("ix_dubs_video_id"), "dubs", ["video_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dubs_video_id"), table_name="dubs")
    op.drop_table("dubs")
