from __future__ import annotations

from typing import Literal

from pydantic import Field

from moviie.schemas import RequestModel
from moviie.subtitles.schemas import Language

QuestionType = Literal["multiple_choice", "true_false", "fill_blank"]
ALL_TYPES: tuple[QuestionType, ...] = ("multiple_choice", "true_false", "fill_blank")


class QuizRequest(RequestModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"questions": 10}, {"questions": 5, "types": ["multiple_choice"]}]
        }
    }

    questions: int = Field(10, ge=1, le=50)
    types: list[QuestionType] = Field(
        default_factory=lambda: list(ALL_TYPES),
        min_length=1,
        max_length=3,
        description="Used in turn, in this order.",
    )
    language: Language | None = None
