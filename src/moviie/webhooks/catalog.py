"""Every event type Moviie sends, what it means, and an example of its `data`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_VIDEO: dict[str, Any] = {
    "id": "vid_01jeq3v5m3f6a9b1c2d3e4f5g6",
    "title": "Keynote",
    "reference_id": "course-42/lesson-1",
    "status": "ready",
    "duration_s": 61.4,
    "width": 1920,
    "height": 1080,
    "playback": {
        "hls": "https://video.example.com/media/vid_01jeq3v5m3f6a9b1c2d3e4f5g6/hls/master.m3u8",
        "poster": "https://video.example.com/media/vid_01jeq3v5m3f6a9b1c2d3e4f5g6/poster.jpg",
        "mp4": "https://video.example.com/media/vid_01jeq3v5m3f6a9b1c2d3e4f5g6/download.mp4",
    },
    "embed": "https://video.example.com/embed/vid_01jeq3v5m3f6a9b1c2d3e4f5g6",
    "error": None,
}
_FAILED_VIDEO = {
    **_VIDEO,
    "status": "failed",
    "playback": None,
    "error": {"code": "corrupt_media", "message": "Too much of the file cannot be decoded."},
}


def _job(kind: str, status: str) -> dict[str, Any]:
    return {
        "id": "job_01jeq3v5m3f6a9b1c2d3e4f5g7",
        "type": kind,
        "video_id": _VIDEO["id"],
        "status": status,
        "error": None if status == "succeeded" else {"code": "provider_failed", "message": "..."},
    }


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    example: dict[str, Any]


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("video.created", "A video was created (upload started, reserved or imported).",
              {**_VIDEO, "status": "waiting_upload", "playback": None}),
    EventType("video.uploaded", "The source file is stored; processing starts.",
              {**_VIDEO, "status": "processing", "playback": None}),
    EventType("video.ready", "The video plays: `data` is the video with its playback URLs.",
              _VIDEO),
    EventType("video.failed", "Processing failed for good (confirmed); `data.error` says why.",
              _FAILED_VIDEO),
    EventType("video.updated", "Fields of the video changed (PATCH).", _VIDEO),
    EventType("video.deleted", "The video was deleted; its media is being removed.",
              {**_VIDEO, "status": "deleted"}),
    *(
        EventType(f"{kind}.{outcome}",
                  f"The {kind} job {'succeeded' if outcome == 'ready' else 'failed for good'}.",
                  _job(kind, "succeeded" if outcome == "ready" else "failed"))
        for kind in ("subtitles", "reels", "ebook", "quiz", "lipsync")
        for outcome in ("ready", "failed")
    ),
    EventType("bandwidth.threshold", "The account passed 80% or 100% of its monthly bandwidth.",
              {"used_bytes": 85_899_345_920, "quota_bytes": 107_374_182_400, "percent": 80,
               "month": "2026-12"}),
    EventType("storage.threshold", "The account passed 80% or 100% of its storage.",
              {"used_bytes": 42_949_672_960, "quota_bytes": 53_687_091_200, "percent": 80}),
    EventType("credits.low", "The account's credit balance fell under 10% of its plan's month.",
              {"balance": 90, "credits_month": 1000}),
    EventType("webhook.test", "Sent by `POST /v1/webhooks/{id}/test`, to that endpoint only.",
              {"endpoint_id": "whe_01jeq3v5m3f6a9b1c2d3e4f5g8", "message": "Hello from Moviie"}),
    EventType("webhook.disabled",
              "An endpoint was disabled (it answered 410, or failed every delivery for 5 days); "
              "sent to the account's other endpoints.",
              {"endpoint_id": "whe_01jeq3v5m3f6a9b1c2d3e4f5g8",
               "url": "https://api.example.com/hooks", "reason": "failing_for_5_days"}),
)  # fmt: skip
EVENT_NAMES = frozenset(t.name for t in EVENT_TYPES)
