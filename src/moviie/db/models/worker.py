from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from moviie.db.models.base import Base
from moviie.db.types import UTCDateTime, utcnow


class Worker(Base):
    """A worker process's heartbeat; a silent one's jobs are recovered by another."""

    __tablename__ = "workers"

    executor_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    queues: Mapped[list[str]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
