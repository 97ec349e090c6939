from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from moviie.db.models.base import Base, Timestamps
from moviie.db.types import UTCDateTime


class Video(Timestamps, Base):
    __tablename__ = "videos"
    __table_args__ = (
        Index("ix_videos_account_id_id", "account_id", "id"),
        Index("ix_videos_account_id_reference_id", "account_id", "reference_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    reference_id: Mapped[str | None] = mapped_column(String(255))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    privacy: Mapped[str] = mapped_column(String(16), default="public")
    status: Mapped[str] = mapped_column(String(24))
    duration_s: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None]
    height: Mapped[int | None]
    has_audio: Mapped[bool | None]  # known once probed
    # A reel: the video it was cut from, and where (seconds).
    source_video_id: Mapped[str | None] = mapped_column(
        ForeignKey("videos.id", ondelete="SET NULL"), index=True
    )
    source_start_s: Mapped[float | None] = mapped_column(Float)
    source_end_s: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    source_filename: Mapped[str | None] = mapped_column(String(255))
    source_content_type: Mapped[str | None] = mapped_column(String(255))
    source_url: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    # 0..1 while processing, from the encoder's own progress reports.
    progress: Mapped[float | None] = mapped_column(Float)
    processing_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def audio_only(self) -> bool:
        """A probed source with sound and no picture has no size."""
        return self.duration_s is not None and self.width is None


class VideoTag(Base):
    """One row per tag, so `?tag=` filters by index on every database."""

    __tablename__ = "video_tags"

    video_id: Mapped[str] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
