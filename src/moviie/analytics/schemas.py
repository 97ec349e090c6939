from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from moviie.schemas import RequestModel

Identifier = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class PlayerEventIn(RequestModel):
    type: Literal["view_start", "heartbeat", "seek", "view_end"]
    video_id: str = Field(max_length=40)
    view_id: str = Identifier
    seq: int = Field(ge=0, le=1_000_000, description="The event's order within its view.")
    position_s: float = Field(description="Where the playhead is.")
    from_s: float | None = Field(None, description="A seek's origin.")
    rendition: str | None = Field(None, max_length=16, pattern=r"^[0-9a-z]+$")
    token: str | None = Field(
        None, max_length=4096, description="A private video's playback token."
    )
    beacon: str | None = Field(
        None, max_length=64, description="The embed page's signed beacon (instead of a key)."
    )


class EventBatch(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "mvi_pub_2Yw6...",
                    "viewer_id": "vw_6f1c2a9e0b4d",
                    "events": [
                        {
                            "type": "view_start",
                            "video_id": "vid_01jeq3v5m3f6a9b1c2d3e4f5g6",
                            "view_id": "vv_8d2e41aa07c3",
                            "seq": 0,
                            "position_s": 0,
                        },
                        {
                            "type": "heartbeat",
                            "video_id": "vid_01jeq3v5m3f6a9b1c2d3e4f5g6",
                            "view_id": "vv_8d2e41aa07c3",
                            "seq": 1,
                            "position_s": 10.0,
                            "rendition": "720p",
                        },
                    ],
                }
            ]
        }
    )

    key: str | None = Field(
        None,
        max_length=200,
        description="A publishable key, for `navigator.sendBeacon` (which sends no headers); "
        "or send it as `Authorization: Bearer`.",
    )
    viewer_id: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A random id the player keeps (localStorage), not a person.",
    )
    events: list[PlayerEventIn] = Field(min_length=1, max_length=50)


class IntakeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"accepted": 19, "dropped": {"bad_position": 1}}]}
    )

    accepted: int
    dropped: dict[str, int] = Field(
        description="Refused events by reason: `unknown_video`, `video_private`, "
        "`bad_position`, `bad_event`, `rate_limited`."
    )


class AudienceFigures(BaseModel):
    views: int
    unique_viewers: int = Field(
        description="Viewers of each hour or day; over a range, summed per day."
    )
    watch_time_s: float
    completion_rate: float = Field(description="The average share of the video seen, 0..1.")


class SeriesPoint(AudienceFigures):
    start: datetime


class VideoAnalyticsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "video_id": "vid_01jeq3v5m3f6a9b1c2d3e4f5g6",
                    "from": "2026-12-01T00:00:00Z",
                    "to": "2026-12-02T00:00:00Z",
                    "interval": "day",
                    "totals": {
                        "views": 42,
                        "unique_viewers": 30,
                        "watch_time_s": 3120.5,
                        "completion_rate": 0.61,
                    },
                    "series": [
                        {
                            "start": "2026-12-01T00:00:00Z",
                            "views": 42,
                            "unique_viewers": 30,
                            "watch_time_s": 3120.5,
                            "completion_rate": 0.61,
                        }
                    ],
                    "retention": [1.0, 0.98, 0.95],
                    "renditions": {"720p": 0.8, "480p": 0.2},
                    "bandwidth_bytes": 73400320,
                }
            ]
        },
        populate_by_name=True,
    )

    video_id: str
    from_: datetime = Field(alias="from")
    to: datetime
    interval: Literal["hour", "day"]
    totals: AudienceFigures
    series: list[SeriesPoint]
    retention: list[float] = Field(
        description="100 buckets: the share of views that saw each 1% of the video."
    )
    renditions: dict[str, float] = Field(description="Share of watch time per rendition.")
    bandwidth_bytes: int = Field(description="Media served for this video, in the range's days.")


class TopVideo(AudienceFigures):
    video_id: str
    title: str


class MonthBandwidth(BaseModel):
    month: str
    bytes: int


class OverviewOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "from": "2026-11-05T00:00:00Z",
                    "to": "2026-12-05T00:00:00Z",
                    "totals": {
                        "views": 420,
                        "unique_viewers": 300,
                        "watch_time_s": 31200.5,
                        "completion_rate": 0.58,
                    },
                    "top_videos": [
                        {
                            "video_id": "vid_01jeq3v5m3f6a9b1c2d3e4f5g6",
                            "title": "Launch",
                            "views": 120,
                            "unique_viewers": 90,
                            "watch_time_s": 9000.0,
                            "completion_rate": 0.7,
                        }
                    ],
                    "bandwidth": [{"month": "2026-11", "bytes": 734003200}],
                    "bandwidth_bytes": 734003200,
                    "dropped": {"bad_position": 3},
                }
            ]
        },
        populate_by_name=True,
    )

    from_: datetime = Field(alias="from")
    to: datetime
    totals: AudienceFigures
    top_videos: list[TopVideo]
    bandwidth: list[MonthBandwidth] = Field(description="Media served per calendar month.")
    bandwidth_bytes: int
    dropped: dict[str, int] = Field(description="Player events refused in the range, by reason.")
