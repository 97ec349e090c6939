"""The configured back end, from `MOVIIE_STORAGE_URL`."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from moviie.config import Settings
from moviie.storage.base import Storage
from moviie.storage.keys import validate_key
from moviie.storage.local import LocalStorage
from moviie.storage.s3 import S3Storage

_EXPECTED = "expected file:///absolute/path or s3://bucket[/prefix]"


def open_storage(settings: Settings) -> Storage:
    """LocalStorage for `file:///abs/path`, S3Storage for `s3://bucket/prefix`."""
    url = settings.resolved_storage_url
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError(f"MOVIIE_STORAGE_URL takes no query or fragment ({_EXPECTED}): {url!r}")
    if parts.scheme == "file":
        path = unquote(parts.path)
        if parts.netloc not in ("", "localhost") or not path.startswith("/"):
            raise ValueError(f"MOVIIE_STORAGE_URL needs an absolute path ({_EXPECTED}): {url!r}")
        return LocalStorage(Path(path))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"MOVIIE_STORAGE_URL needs a bucket ({_EXPECTED}): {url!r}")
        prefix = parts.path.strip("/")
        if prefix:
            try:
                validate_key(prefix)
            except ValueError as exc:
                raise ValueError(f"MOVIIE_STORAGE_URL has an invalid prefix: {exc}") from None
        return S3Storage(parts.netloc, prefix, endpoint_url=settings.s3_endpoint_url)
    raise ValueError(f"MOVIIE_STORAGE_URL scheme is not supported ({_EXPECTED}): {url!r}")
