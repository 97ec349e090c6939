"""Background work of the video library."""

from __future__ import annotations

from dbos import DBOS

from moviie.jobs.runtime import runtime
from moviie.storage.keys import video_prefix


@DBOS.step()
async def delete_media_objects(account_id: str, video_id: str) -> int:
    return await runtime().storage.delete_prefix(video_prefix(account_id, video_id))


@DBOS.workflow()
async def delete_video_media(account_id: str, video_id: str) -> int:
    """Remove every stored object of a deleted video; returns how many went."""
    return await delete_media_objects(account_id, video_id)
