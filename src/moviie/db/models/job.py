from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from moviie.db.models.base import Base, Timestamps
from moviie.db.types import UTCDateTime


class Job(Timestamps, Base):
    """An AI material being made for a video: what the API and the credits see (the job
    engine's own records are its business)."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_account_id_id", "account_id", "id"),
        Index("ix_jobs_video_id", "video_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # queued -> running -> succeeded | failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # sha256 of (video, type, normalized params). Set in `active_fingerprint` too while the job
    # is queued or running: its unique index makes two identical requests one job.
    fingerprint: Mapped[str] = mapped_column(String(64))
    active_fingerprint: Mapped[str | None] = mapped_column(String(64), unique=True)
    credits_charged: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(String(1000))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
