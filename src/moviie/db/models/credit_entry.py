from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from moviie.db.models.base import Base
from moviie.db.types import UTCDateTime, utcnow


class CreditEntry(Base):
    """The append-only ledger of an account's credits: the balance is always its sum. A job has
    at most one debit and one refund (the unique pair makes a refund exactly once)."""

    __tablename__ = "credit_ledger"
    __table_args__ = (
        UniqueConstraint("job_id", "kind", name="uq_credit_ledger_job_id_kind"),
        Index("ix_credit_ledger_account_id_id", "account_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # grant (a plan's credits, a manual grant or correction), debit, refund, reset (a new month)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)  # signed
    balance_after: Mapped[int] = mapped_column(BigInteger)
    job_id: Mapped[str | None] = mapped_column(String(40))  # kept when the job row goes
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
