from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from moviie.schemas import RequestModel
from moviie.subtitles.schemas import SubtitleTrackOut

Privacy = Literal["public", "private"]
Status = Literal["waiting_upload", "uploading", "processing", "ready", "failed"]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
ReferenceId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
MAX_METADATA_KEYS = 50


def _check_metadata(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"at most {MAX_METADATA_KEYS} keys")
    for key, item in value.items():
        if not 1 <= len(key) <= 40:
            raise ValueError("keys are 1 to 40 characters")
        if len(item) > 500:
            raise ValueError("values are at most 500 characters")
    return value


class VideoFields(RequestModel):
    """What a caller may set on a video (upload, reserve, URL import, update)."""

    title: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=5000)
    reference_id: ReferenceId | None = Field(
        default=None, description="Your own id for the video (searchable)."
    )
    metadata: dict[str, str] | None = Field(default=None, description="A string map, 50 keys.")
    tags: list[Tag] | None = Field(default=None, max_length=50)
    privacy: Privacy | None = None

    _metadata = field_validator("metadata")(_check_metadata)


class VideoCreateFields(VideoFields):
    collection_ids: list[str] | None = Field(default=None, max_length=50)


class VideoFromUrl(VideoCreateFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"url": "https://media.example.com/talk.mp4", "title": "Keynote"}]
        }
    )

    url: AnyHttpUrl = Field(description="A public http(s) URL Moviie fetches the file from.")


class UploadReserve(VideoCreateFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"title": "Lesson 1", "reference_id": "course-42/lesson-1", "size_bytes": 73400320}
            ]
        }
    )

    filename: str | None = Field(default=None, max_length=255)
    size_bytes: int | None = Field(
        default=None, ge=1, description="The file's size, when known: checked against quotas."
    )


class VideoUpdate(VideoFields):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": "Keynote (final cut)", "privacy": "private"}]}
    )


class SourceOut(BaseModel):
    filename: str | None
    content_type: str | None


class PlaybackOut(BaseModel):
    hls: str | None = None
    poster: str | None = Field(default=None, description="Null for an audio-only source.")
    mp4: str | None = None


class ErrorOut(BaseModel):
    code: str
    message: str


_VIDEO_EXAMPLE: dict[str, Any] = {
    "id": "vid_01jeq3v5m3f6a9b1c2d3e4f5g6",
    "title": "Keynote",
    "description": "",
    "reference_id": "course-42/lesson-1",
    "metadata": {"course": "42"},
    "tags": ["keynote"],
    "collection_ids": [],
    "privacy": "public",
    "status": "processing",
    "progress": 0.42,
    "duration_s": None,
    "width": None,
    "height": None,
    "size_bytes": 73400320,
    "source": {"filename": "keynote.mp4", "content_type": "video/mp4"},
    "playback": None,
    "embed": "http://127.0.0.1:8000/embed/vid_01jeq3v5m3f6a9b1c2d3e4f5g6",
    "subtitles": [],
    "source_video_id": None,
    "source_range": None,
    "error": None,
    "created_at": "2026-12-04T10:00:00Z",
    "updated_at": "2026-12-04T10:00:05Z",
    "ready_at": None,
}


class SourceRange(BaseModel):
    start_s: float
    end_s: float


class VideoOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_VIDEO_EXAMPLE]})

    id: str
    title: str
    description: str
    reference_id: str | None
    metadata: dict[str, str]
    tags: list[str]
    collection_ids: list[str]
    privacy: Privacy
    status: Status
    progress: float | None = Field(
        description="0..1 while `processing` (the encoder's own progress), 1 once ready."
    )
    duration_s: float | None
    width: int | None = Field(description="As displayed (rotation applied); null for audio.")
    height: int | None
    size_bytes: int | None
    source: SourceOut
    playback: PlaybackOut | None
    embed: str
    subtitles: list[SubtitleTrackOut]
    source_video_id: str | None = Field(description="A reel: the video it was cut from.")
    source_range: SourceRange | None = Field(description="A reel: where in that video.")
    error: ErrorOut | None
    created_at: datetime
    updated_at: datetime
    ready_at: datetime | None


class VideoList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [_VIDEO_EXAMPLE]}]})

    data: list[VideoOut]


class UploadOut(BaseModel):
    id: str
    url: str = Field(description="Signed: PUT the raw file here, no API key needed.")
    method: Literal["PUT"] = "PUT"
    expires_at: datetime
    tus_url: str = Field(description="The same upload, for tus 1.0 clients (resumable).")


class ReservedUpload(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "video": {**_VIDEO_EXAMPLE, "status": "waiting_upload", "size_bytes": None},
                    "upload": {
                        "id": "upl_01jeq3v5m3f6a9b1c2d3e4f5g6",
                        "url": "http://127.0.0.1:8000/uploads/upl_01jeq3v5m3f6a9b1c2d3e4f5g6"
                        "?expires=1765000000&signature=5f2c...",
                        "method": "PUT",
                        "expires_at": "2026-12-05T10:00:00Z",
                        "tus_url": "http://127.0.0.1:8000/uploads/upl_01jeq3v5m3f6a9b1c2d3e4f5g6"
                        "?expires=1765000000&signature=5f2c...",
                    },
                }
            ]
        }
    )

    video: VideoOut
    upload: UploadOut
