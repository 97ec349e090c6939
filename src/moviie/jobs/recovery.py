"""Taking over the unfinished workflows of a worker that stopped beating."""

from __future__ import annotations

import asyncio

from dbos import DBOS


async def recover_workflows_of(executor_id: str) -> int:
    """Re-enqueue `executor_id`'s pending workflows so a live worker resumes them from their last
    recorded step; returns how many."""
    handles = await asyncio.to_thread(DBOS._recover_pending_workflows, [executor_id])
    return len(handles)
