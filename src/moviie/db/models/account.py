from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from moviie.db.models.base import Base, Timestamps
from moviie.db.types import UTCDateTime


class Account(Timestamps, Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    plan: Mapped[str] = mapped_column(String(40))
    trial_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    storage_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    # The first day of the month whose plan credits the account holds (renewed monthly).
    credits_month_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The dashboard's sign-in (argon2id); None: no password set, API keys only.
    password_hash: Mapped[str | None] = mapped_column(String(200))
