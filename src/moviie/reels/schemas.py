from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from moviie.schemas import RequestModel
from moviie.subtitles.schemas import Language

Aspect = Literal["9:16", "1:1", "4:5"]


class ReelsRequest(RequestModel):
    model_config = {
        "json_schema_extra": {"examples": [{"count": 3}, {"count": 2, "aspect": "1:1"}]}
    }

    count: int = Field(3, ge=1, le=10, description="How many reels, at most.")
    min_duration_s: float = Field(15, ge=5, le=180)
    max_duration_s: float = Field(60, ge=5, le=180)
    aspect: Aspect = "9:16"
    captions: bool = Field(True, description="Burn in word-by-word captions.")
    language: Language | None = Field(None, description="The spoken language (as subtitles).")

    @model_validator(mode="after")
    def _durations(self) -> Self:
        if self.min_duration_s > self.max_duration_s:
            raise ValueError("min_duration_s must not exceed max_duration_s")
        return self
