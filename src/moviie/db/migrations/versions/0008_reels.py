"""reels: videos.source_video_id, source_start_s, source_end_s

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("source_video_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("source_start_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("source_end_s", sa.Float(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_videos_source_video_id_videos"),
            "videos",
            ["source_video_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(batch.f("ix_videos_source_video_id"), ["source_video_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.drop_index(batch.f("ix_videos_source_video_id"))
        batch.drop_constraint(batch.f("fk_videos_source_video_id_videos"), type_="foreignkey")
        batch.drop_column("source_end_s")
        batch.drop_column("source_start_s")
        batch.drop_column("source_video_id")
