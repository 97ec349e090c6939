"""The levels of a quota that `storage.threshold` and `bandwidth.threshold` tell of."""

from __future__ import annotations

LEVELS = (80, 100)  # percent


def crossed(before: int, after: int, quota: int) -> list[int]:
    """The levels passed going from `before` to `after` (a level is passed once it is reached)."""
    if quota <= 0:
        return []
    return [p for p in LEVELS if before * 100 < p * quota <= after * 100]
