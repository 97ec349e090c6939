from __future__ import annotations

from typing import Literal

from pydantic import Field

from moviie.schemas import RequestModel
from moviie.subtitles.schemas import Language

Format = Literal["epub", "pdf"]
ALL_FORMATS: tuple[Format, ...] = ("epub", "pdf")


class EbookRequest(RequestModel):
    model_config = {
        "json_schema_extra": {"examples": [{}, {"formats": ["epub"], "title": "Week 3"}]}
    }

    formats: list[Format] = Field(
        default_factory=lambda: list(ALL_FORMATS), min_length=1, max_length=2
    )
    title: str | None = Field(None, max_length=200, description="Default: the video's title.")
    language: Language | None = None
