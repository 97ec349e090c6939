from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from moviie.schemas import RequestModel
from moviie.subtitles.schemas import Language


class DubRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"target_language": "es"},
                {"target_language": "fr", "voice_clone": True, "lipsync": True},
            ]
        }
    )

    target_language: Language = Field(description="The language to dub into, e.g. `es`.")
    voice_clone: bool = Field(
        False,
        description="Speak in the speaker's own voice (needs the speech provider, "
        "`MOVIIE_TTS_BASE_URL`); otherwise an offline voice: Piper for English when "
        "`moviie[piper]` is installed, espeak-ng for the other languages.",
    )
    lipsync: bool = Field(
        False,
        description="Also a video with the lips moved to the new words, a video of its own "
        "(needs the lip-sync provider, `MOVIIE_LIPSYNC_URL`).",
    )
    background: Literal["duck", "none"] = Field(
        "duck",
        description="`duck`: the original sound stays under the dub, lowered while the dub "
        "speaks; `none`: the dub alone.",
    )
    language: Language | None = Field(
        None, description="The spoken language (omitted: as for subtitles, or detected)."
    )


class LipsyncVideoOut(BaseModel):
    video_id: str
    status: str
    embed: str
    hls: str | None
    mp4: str | None


_DUB: dict[str, Any] = {
    "language": "es",
    "label": "Español",
    "job_id": "job_01jeq3v5m3f6a9b1c2d3e4f5g6",
    "quality": "draft",
    "voice": "espeak-ng",
    "audio": {
        "hls": "https://moviie.example/media/vid_01jeq3v5m3f6a9b1c2d3e4f5g6/hls/dubs/"
        "job_01jeq3v5m3f6a9b1c2d3e4f5g6/index.m3u8",
        "m4a": "https://moviie.example/media/vid_01jeq3v5m3f6a9b1c2d3e4f5g6/"
        "materials/job_01jeq3v5m3f6a9b1c2d3e4f5g6/dub.m4a",
    },
    "mp4": "https://moviie.example/media/vid_01jeq3v5m3f6a9b1c2d3e4f5g6/materials/"
    "job_01jeq3v5m3f6a9b1c2d3e4f5g6/dubbed.mp4",
    "subtitles": "https://moviie.example/media/vid_01jeq3v5m3f6a9b1c2d3e4f5g6/subtitles/es.vtt",
    "lipsync": None,
    "created_at": "2026-12-05T10:00:00Z",
    "updated_at": "2026-12-05T10:00:00Z",
}


class DubOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": _DUB})

    language: str
    label: str
    job_id: str
    quality: Literal["draft", "standard"] = Field(
        description="`draft`: translated offline by Apertium (rule-based); `standard`: by the "
        "chat provider."
    )
    voice: str = Field(description="`espeak-ng`, `piper` or `clone`.")
    audio: dict[str, str] = Field(description="`hls`: the audio rendition; `m4a`: a file.")
    mp4: str = Field(description="The video with the dubbed sound.")
    subtitles: str = Field(description="The translated subtitles (WebVTT).")
    lipsync: LipsyncVideoOut | None
    created_at: datetime
    updated_at: datetime


class DubList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [_DUB]}]})

    data: list[DubOut]
