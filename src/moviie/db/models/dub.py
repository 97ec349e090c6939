from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from moviie.db.models.base import Base, Timestamps


class Dub(Timestamps, Base):
    """One language a video is dubbed into: the newest job's audio rendition (its HLS files live
    under `hls/dubs/<job>/`, the MP4 and M4A among that job's materials) and, when lip-synced,
    the video made of it."""

    __tablename__ = "dubs"
    __table_args__ = (UniqueConstraint("video_id", "language", name="uq_dubs_video_id_language"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100))
    job_id: Mapped[str] = mapped_column(String(40))
    quality: Mapped[str] = mapped_column(String(16))  # draft | standard
    voice: Mapped[str] = mapped_column(String(32))  # espeak-ng | piper | clone
    lipsync_video_id: Mapped[str | None] = mapped_column(String(40))
