"""tus 1.0 protocol details: headers, checksums, errors (https://tus.io/protocols/resumable-upload)."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from moviie.errors import BadRequest, Conflict, MoviieError

_DIGITS = re.compile(r"[0-9]{1,20}")
TUS_VERSION = "1.0.0"
EXTENSIONS = "creation-defer-length,checksum,expiration"
CHECKSUMS = {"sha1": hashlib.sha1, "md5": hashlib.md5, "sha256": hashlib.sha256}
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"


class TusVersionUnsupported(MoviieError):
    status = 412
    code = "tus_version_unsupported"
    title = "Only tus 1.0.0 is spoken here"


class OffsetMismatch(Conflict):
    code = "upload_offset_mismatch"
    title = "Upload-Offset does not match the stored offset"


class UploadLocked(MoviieError):
    status = 423
    code = "upload_locked"
    title = "Another request is writing to this upload"


class ChecksumMismatch(MoviieError):
    status = 460
    code = "checksum_mismatch"
    title = "The chunk does not match its Upload-Checksum"


class InvalidTusHeader(BadRequest):
    code = "invalid_tus_header"
    title = "A tus header is missing or malformed"


def tus_headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, **extra}


def tus_error(error: MoviieError) -> MoviieError:
    error.headers.update(tus_headers())
    if isinstance(error, TusVersionUnsupported):
        error.headers["Tus-Version"] = TUS_VERSION
    return error


def require_tus(headers: Any) -> None:
    if headers.get("tus-resumable") != TUS_VERSION:
        raise tus_error(TusVersionUnsupported("Send `Tus-Resumable: 1.0.0`."))


def header_int(headers: Any, name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw):
        raise tus_error(InvalidTusHeader(f"`{name}` must be a non-negative integer."))
    return int(raw)


def parse_checksum(value: str | None) -> tuple[Any, bytes] | None:
    """`Upload-Checksum: <algorithm> <base64 digest>` → (a new hasher, the expected digest)."""
    if value is None:
        return None
    try:
        algorithm, encoded = value.split(" ", 1)
        expected = base64.b64decode(encoded, validate=True)
        return CHECKSUMS[algorithm](), expected
    except (ValueError, KeyError) as exc:
        raise tus_error(
            InvalidTusHeader("Use `Upload-Checksum: sha1|md5|sha256 <base64 digest>`.")
        ) from exc
