"""Key material: `mvi_live_`/`mvi_pub_` + a selector (finds the row) + a verifier (proves it)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from typing import Literal

KeyType = Literal["private", "publishable"]
PREFIXES: dict[KeyType, str] = {"private": "mvi_live_", "publishable": "mvi_pub_"}
_BASE62 = string.digits + string.ascii_letters
SELECTOR_LEN = 12
VERIFIER_LEN = 32


@dataclass(frozen=True)
class ParsedKey:
    type: KeyType
    selector: str
    full: str


def _random_base62(length: int) -> str:
    return "".join(secrets.choice(_BASE62) for _ in range(length))


def generate_key(key_type: KeyType) -> tuple[str, str]:
    """A new key and its selector; the key is shown once and only its hash is kept."""
    selector = _random_base62(SELECTOR_LEN)
    return f"{PREFIXES[key_type]}{selector}{_random_base62(VERIFIER_LEN)}", selector


def hash_key(key: str) -> str:
    # Keys carry ~250 random bits, so a fast hash is enough; a slow one would only cost latency.
    return hashlib.sha256(key.encode()).hexdigest()


def parse_key(raw: str) -> ParsedKey | None:
    for key_type, prefix in PREFIXES.items():
        if raw.startswith(prefix):
            body = raw[len(prefix) :]
            if len(body) == SELECTOR_LEN + VERIFIER_LEN and all(c in _BASE62 for c in body):
                return ParsedKey(type=key_type, selector=body[:SELECTOR_LEN], full=raw)
    return None


def key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), stored_hash)
