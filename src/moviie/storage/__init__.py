"""Media storage: one small async protocol, a local-directory and an S3 back end."""

from __future__ import annotations

from moviie.storage.base import ObjectInfo, ObjectNotFound, Storage
from moviie.storage.factory import open_storage
from moviie.storage.keys import validate_key, video_key, video_prefix

__all__ = [
    "ObjectInfo",
    "ObjectNotFound",
    "Storage",
    "open_storage",
    "validate_key",
    "video_key",
    "video_prefix",
]
