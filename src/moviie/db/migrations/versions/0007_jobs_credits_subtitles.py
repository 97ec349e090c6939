"""AI jobs, the credit ledger, subtitle tracks; videos.has_audio; accounts.credits_month_start

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 22:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import moviie.db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Stamp = moviie.db.types.UTCDateTime(timezone=True)


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.id"], name=op.f(f"fk_{table}_account_id_accounts"),
        ondelete="CASCADE",
    )  # fmt: skip


def _video_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["video_id"], ["videos.id"], name=op.f(f"fk_{table}_video_id_videos"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("video_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("active_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("credits_charged", sa.BigInteger(), nullable=False),
        sa.Column("credits_refunded", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.String(length=1000), nullable=True),
        sa.Column("started_at", Stamp, nullable=True),
        sa.Column("finished_at", Stamp, nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        _account_fk("jobs"),
        _video_fk("jobs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("active_fingerprint", name=op.f("uq_jobs_active_fingerprint")),
    )
    op.create_index("ix_jobs_account_id_id", "jobs", ["account_id", "id"])
    op.create_index("ix_jobs_video_id", "jobs", ["video_id"])
    op.create_table(
        "credit_ledger",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        _account_fk("credit_ledger"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_ledger")),
        sa.UniqueConstraint("job_id", "kind", name="uq_credit_ledger_job_id_kind"),
    )
    op.create_index("ix_credit_ledger_account_id_id", "credit_ledger", ["account_id", "id"])
    op.create_table(
        "subtitle_tracks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("video_id", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        _account_fk("subtitle_tracks"),
        _video_fk("subtitle_tracks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subtitle_tracks")),
        sa.UniqueConstraint("video_id", "language", name="uq_subtitle_tracks_video_id_language"),
    )
    op.create_index(
        op.f("ix_subtitle_tracks_video_id"), "subtitle_tracks", ["video_id"], unique=False
    )
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("has_audio", sa.Boolean(), nullable=True))
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("credits_month_start", Stamp, nullable=True))
    # The balance is the ledger's sum: open it with what accounts hold.
    month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    accounts = sa.table(
        "accounts",
        sa.column("id", sa.String),
        sa.column("credits_balance", sa.BigInteger),
        sa.column("credits_month_start", Stamp),
        sa.column("created_at", Stamp),
    )
    ledger = sa.table(
        "credit_ledger",
        sa.column("id", sa.String),
        sa.column("account_id", sa.String),
        sa.column("kind", sa.String),
        sa.column("amount", sa.BigInteger),
        sa.column("balance_after", sa.BigInteger),
        sa.column("note", sa.String),
        sa.column("created_at", Stamp),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(accounts.c.id, accounts.c.credits_balance)).all()
    for account_id, balance in rows:
        connection.execute(
            ledger.insert().values(
                id=f"cre_{account_id}"[:40],
                account_id=account_id,
                kind="grant",
                amount=balance,
                balance_after=balance,
                note="opening balance",
                created_at=datetime.now(UTC),
            )
        )
    connection.execute(accounts.update().values(credits_month_start=month))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("credits_month_start")
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("has_audio")
    op.drop_table("subtitle_tracks")
    op.drop_table("credit_ledger")
    op.drop_table("jobs")
