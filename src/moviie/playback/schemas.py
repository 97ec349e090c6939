from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from moviie.subtitles.schemas import SubtitleTrackOut


class SigningKeyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "sk_01jeq3v5m3f6a9b1c2d3e4f5g6", "created_at": "2026-12-04T10:00:00Z"}
            ]
        }
    )

    id: str
    created_at: datetime


class SigningKeyCreated(SigningKeyOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "sk_01jeq3v5m3f6a9b1c2d3e4f5g6",
                    "created_at": "2026-12-04T10:00:00Z",
                    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEv...\n"
                    "-----END PRIVATE KEY-----\n",
                }
            ]
        }
    )

    private_key: str = Field(
        description="PEM (PKCS#8) of an RSA 2048 key. Shown only in this response; sign RS256 "
        "playback tokens with it, `kid` = this key's id."
    )


class PlaybackInfoOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "hls": "http://127.0.0.1:8000/media/vid_01jeq3v5m3f6a9b1c2d3e4f5g6/hls/master.m3u8",
                    "poster": "http://127.0.0.1:8000/media/vid_01jeq3v5m3f6a9b1c2d3e4f5g6/poster.jpg",
                    "mp4": "http://127.0.0.1:8000/media/vid_01jeq3v5m3f6a9b1c2d3e4f5g6/download.mp4",
                    "subtitles": [],
                    "embed": "http://127.0.0.1:8000/embed/vid_01jeq3v5m3f6a9b1c2d3e4f5g6",
                }
            ]
        }
    )

    hls: str | None
    poster: str | None
    mp4: str | None
    subtitles: list[SubtitleTrackOut]
    embed: str


class EmbedOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "html": '<div style="position:relative;padding-top:56.25%">'
                    '<iframe src="..."></iframe></div>',
                    "url": "http://127.0.0.1:8000/embed/vid_01jeq3v5m3f6a9b1c2d3e4f5g6",
                    "width": 1280,
                    "height": 720,
                }
            ]
        }
    )

    html: str
    url: str
    width: int | None
    height: int | None
