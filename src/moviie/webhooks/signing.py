"""Webhook secrets and signatures: Moviie's own `X-Moviie-Signature` (hex HMAC-SHA256 of the raw
body keyed with the whole secret string) and the Standard Webhooks v1 headers, so that the
`standardwebhooks` libraries verify every delivery unchanged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (the Standard Webhooks format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def moviie_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signature_headers(
    signing_secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Both signature headers, with one signature per secret (the newest first): during a
    rotation's overlap a receiver holding either secret verifies the delivery."""
    return {
        "X-Moviie-Signature": ", ".join(moviie_signature(s, body) for s in signing_secrets),
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            standard_signature(s, msg_id, timestamp, body) for s in signing_secrets
        ),
    }
