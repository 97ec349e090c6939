"""What a key may do. Private keys hold every scope unless created with a subset."""

from __future__ import annotations

from typing import Literal

PrivateScope = Literal[
    "videos:read", "videos:write", "ai:write", "webhooks:write", "analytics:read", "keys:write"
]
PRIVATE_SCOPES: tuple[str, ...] = (
    "videos:read",
    "videos:write",
    "ai:write",
    "webhooks:write",
    "analytics:read",
    "keys:write",
)
# Publishable keys ship in browsers: they read playback info of public videos and post analytics.
PUBLISHABLE_SCOPES: tuple[str, ...] = ("playback:read", "analytics:write")
