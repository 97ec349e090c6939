from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LedgerEntryOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "cre_01jeq3v5m3f6a9b1c2d3e4f5g6",
                    "kind": "debit",
                    "amount": -3,
                    "balance_after": 197,
                    "job_id": "job_01jeq3v5m3f6a9b1c2d3e4f5g7",
                    "note": "subtitles",
                    "created_at": "2026-12-04T10:00:00Z",
                }
            ]
        }
    )

    id: str
    kind: Literal["grant", "debit", "refund", "reset"] = Field(
        description="`grant`: plan credits or a manual grant/correction; `debit`: a job "
        "accepted; `refund`: a job that failed; `reset`: a new month's plan credits."
    )
    amount: int = Field(description="Signed: what this entry changed the balance by.")
    balance_after: int
    job_id: str | None
    note: str
    created_at: datetime
