from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MaterialType = Literal["subtitles", "reels", "ebook", "quiz", "lipsync"]
JobStatus = Literal["queued", "running", "succeeded", "failed"]


class JobCredits(BaseModel):
    charged: int
    refunded: int


class JobError(BaseModel):
    code: str
    message: str


class JobOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "job_01jeq3v5m3f6a9b1c2d3e4f5g6",
                    "type": "subtitles",
                    "video_id": "vid_01jeq3v5m3f6a9b1c2d3e4f5g6",
                    "status": "running",
                    "progress": 0.4,
                    "credits": {"charged": 3, "refunded": 0},
                    "params": {"language": "en", "translate_to": None},
                    "result": None,
                    "error": None,
                    "created_at": "2026-12-04T10:00:00Z",
                    "started_at": "2026-12-04T10:00:01Z",
                    "finished_at": None,
                }
            ]
        }
    )

    id: str
    type: MaterialType
    video_id: str
    status: JobStatus
    progress: float = Field(ge=0, le=1)
    credits: JobCredits
    params: dict[str, Any]
    result: dict[str, Any] | None = Field(description="What the job made, once it succeeded.")
    error: JobError | None = Field(description="Why it failed (it was then refunded in full).")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
