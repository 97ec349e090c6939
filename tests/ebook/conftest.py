from __future__ import annotations

from tests.subtitles.conftest import ai_client

__all__ = ["ai_client"]
