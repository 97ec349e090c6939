"""Audience analytics: raw player events (kept for a while), one summary per viewing, and the
rollups per video per hour and per day that every query reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from moviie.db.models.base import Base
from moviie.db.types import UTCDateTime

# SQLite gives an INTEGER PRIMARY KEY its rowid (autoincrement); PostgreSQL a BIGINT identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class AnalyticsEvent(Base):
    __tablename__ = "analytics_events"
    __table_args__ = (
        # One row per event of a view: a batch sent twice adds nothing (and the rollup reads a
        # view's events through this index).
        Index("uq_analytics_events_video_id_view_id_seq", "video_id", "view_id", "seq",
              unique=True),
        # Ids never reused (SQLite would after a purge emptied the table): the rollup's cursor.
        {"sqlite_autoincrement": True},
    )  # fmt: skip

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(40))
    video_id: Mapped[str] = mapped_column(String(40))
    view_id: Mapped[str] = mapped_column(String(64))
    viewer_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))  # view_start | heartbeat | seek | view_end
    seq: Mapped[int] = mapped_column(Integer)  # the player's order within the view
    position_s: Mapped[float] = mapped_column(Float)
    from_s: Mapped[float | None] = mapped_column(Float)  # a seek's origin
    rendition: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AnalyticsView(Base):
    """One viewing, summarised from all its events (recomputed whole when more arrive)."""

    __tablename__ = "analytics_views"
    __table_args__ = (Index("ix_analytics_views_video_id_started_at", "video_id", "started_at"),)

    video_id: Mapped[str] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    view_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(40))
    viewer_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    watch_time_s: Mapped[float] = mapped_column(Float)
    completion: Mapped[float] = mapped_column(Float)  # share of the video seen, 0..1
    retention: Mapped[list[int]] = mapped_column(JSON)  # 100 buckets: 1 where seen
    renditions: Mapped[dict[str, Any]] = mapped_column(JSON)  # seconds watched per rendition


class AnalyticsRollup(Base):
    """A video's audience over one hour or one UTC day (the views that started in it)."""

    __tablename__ = "analytics_rollups"
    __table_args__ = (
        Index("ix_analytics_rollups_account_id_period_start", "account_id", "period", "start"),
    )

    video_id: Mapped[str] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(8), primary_key=True)  # hour | day
    start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(40))
    views: Mapped[int] = mapped_column(Integer)
    unique_viewers: Mapped[int] = mapped_column(Integer)
    watch_time_s: Mapped[float] = mapped_column(Float)
    completion_sum: Mapped[float] = mapped_column(Float)
    retention: Mapped[list[int]] = mapped_column(JSON)  # views that saw each 1% of the video
    renditions: Mapped[dict[str, Any]] = mapped_column(JSON)


class AnalyticsDrop(Base):
    """Events refused at intake, counted per account, hour and reason."""

    __tablename__ = "analytics_drops"

    account_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class AnalyticsCursor(Base):
    """How far the rollup job has read the raw events."""

    __tablename__ = "analytics_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger)
