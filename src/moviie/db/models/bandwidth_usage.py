from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from moviie.db.models.base import Base


class BandwidthUsage(Base):
    """Bytes of media served, per account, UTC day and video: the month's usage is a sum over
    the account's days (no counter to reset), and analytics read the per-video rows."""

    __tablename__ = "bandwidth_usage"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    video_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
