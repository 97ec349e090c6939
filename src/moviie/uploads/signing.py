"""Signed upload URLs: an HMAC over the upload id and the expiry, keyed with the server secret."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from urllib.parse import urlencode

from moviie.errors import MoviieError

_DIGITS = re.compile(r"[0-9]{1,20}")


class UploadUrlInvalid(MoviieError):
    status = 403
    code = "invalid_upload_signature"
    title = "This upload URL is not valid"


class UploadUrlExpired(MoviieError):
    status = 403
    code = "upload_url_expired"
    title = "This upload URL has expired"


def _mac(secret: bytes, upload_id: str, expires: int) -> str:
    message = f"upload:{upload_id}:{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signed_upload_url(secret: bytes, public_url: str, upload_id: str, expires: int) -> str:
    query = urlencode({"expires": expires, "signature": _mac(secret, upload_id, expires)})
    return f"{public_url}/uploads/{upload_id}?{query}"


def verify_upload_signature(
    secret: bytes, upload_id: str, expires: str | None, signature: str | None
) -> None:
    """Raise 403 unless the URL was signed by us for this upload and is still valid."""
    if not expires or not signature or not _DIGITS.fullmatch(expires):
        raise UploadUrlInvalid("The URL lacks its `expires` and `signature` parameters.")
    expected = _mac(secret, upload_id, int(expires))
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise UploadUrlInvalid("The signature does not match this upload.")
    if int(expires) < time.time():
        raise UploadUrlExpired("Reserve a new upload.")
