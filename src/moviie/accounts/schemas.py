from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class PlanOut(BaseModel):
    name: str
    storage_bytes: int
    bandwidth_bytes_month: int
    credits_month: int


class UsageOut(BaseModel):
    storage_bytes: int
    bandwidth_bytes_month: int


class CreditsOut(BaseModel):
    balance: int


class AccountOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "acct_01jeq3v5m3f6a9b1c2d3e4f5g6",
                    "name": "Acme Courses",
                    "email": "dev@acme.test",
                    "plan": {
                        "name": "trial",
                        "storage_bytes": 10737418240,
                        "bandwidth_bytes_month": 107374182400,
                        "credits_month": 200,
                    },
                    "usage": {"storage_bytes": 0, "bandwidth_bytes_month": 0},
                    "credits": {"balance": 200},
                    "trial_ends_at": "2026-12-18T10:00:00Z",
                    "created_at": "2026-12-04T10:00:00Z",
                }
            ]
        }
    )

    id: str
    name: str
    email: str
    plan: PlanOut
    usage: UsageOut
    credits: CreditsOut
    trial_ends_at: datetime | None
    created_at: datetime
