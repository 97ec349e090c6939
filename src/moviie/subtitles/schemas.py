from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from moviie.schemas import RequestModel
from moviie.subtitles.languages import CODE, normalize


def _language(value: str) -> str:
    code = normalize(value)
    if not CODE.match(code):
        raise ValueError("a language code such as `en`, `fr` or `pt-br`")
    return code


Language = Annotated[str, Field(max_length=16), AfterValidator(_language)]


class SubtitlesRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"language": "en"}, {"language": "en", "translate_to": "fr"}]
        }
    )

    language: Language | None = Field(
        None,
        description="The spoken language. Omitted: English, or detected when the multilingual "
        "model is installed (`moviie[multilingual]`).",
    )
    translate_to: Language | None = Field(
        None, description="Also a translated track (needs the LLM provider, `MOVIIE_LLM_*`)."
    )


_TRACK: dict[str, Any] = {
    "language": "en",
    "label": "English",
    "source": "generated",
    "vtt": "http://127.0.0.1:8000/media/vid_01jeq3v5m3f6a9b1c2d3e4f5g6/subtitles/en.vtt",
    "srt": "http://127.0.0.1:8000/media/vid_01jeq3v5m3f6a9b1c2d3e4f5g6/subtitles/en.srt",
}


class SubtitleTrackOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_TRACK]})

    language: str
    label: str
    source: str = Field(description="`generated`, `translated` or `uploaded`.")
    vtt: str
    srt: str


class SubtitleTracksOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [_TRACK]}]})

    data: list[SubtitleTrackOut]
