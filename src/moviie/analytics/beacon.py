"""The embed page's credential for its own analytics: a signed (video, expiry), so the page
needs no key in it. Customers' own players send their publishable key instead."""

from __future__ import annotations

import hashlib
import hmac
import time

from moviie.server_secret import derive_key

LIFETIME_S = 24 * 3600


def _mac(secret: bytes, video_id: str, expires: int) -> str:
    key = derive_key(secret, "analytics-beacon")
    return hmac.new(key, f"{video_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def beacon_for(secret: bytes, video_id: str, now: float | None = None) -> str:
    expires = int((now or time.time()) + LIFETIME_S)
    return f"{expires}.{_mac(secret, video_id, expires)}"


def beacon_valid(secret: bytes, video_id: str, beacon: str, now: float | None = None) -> bool:
    expires, _, mac = beacon.partition(".")
    if not expires.isdigit() or len(expires) > 12:
        return False
    if int(expires) < (now or time.time()):
        return False
    return hmac.compare_digest(mac.encode(), _mac(secret, video_id, int(expires)).encode())
