"""Object keys: a strict alphabet, and the builders every caller uses (never user file names)."""

from __future__ import annotations

import re

MAX_KEY_LEN = 1024
_ALLOWED = re.compile(r"[A-Za-z0-9._/-]+")


def validate_key(key: str) -> str:
    """`key` unchanged if it is a safe relative key, else ValueError."""
    if not key or len(key) > MAX_KEY_LEN:
        raise ValueError(f"storage key must be 1 to {MAX_KEY_LEN} characters")
    if not _ALLOWED.fullmatch(key):
        raise ValueError(f"storage key has characters outside [A-Za-z0-9._/-]: {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(f"storage key has an empty, '.' or '..' segment: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """`prefix` unchanged if it is a valid key followed by "/", else ValueError."""
    if not prefix.endswith("/"):
        raise ValueError(f"storage prefix must end with '/': {prefix!r}")
    validate_key(prefix[:-1])
    return prefix


def video_prefix(account_id: str, video_id: str) -> str:
    return validate_prefix(f"accounts/{account_id}/videos/{video_id}/")


def video_key(account_id: str, video_id: str, name: str) -> str:
    validate_key(name)
    return video_prefix(account_id, video_id) + name
