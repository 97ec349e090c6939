"""Taking over the unfinished workflows of a worker that stopped beating."""

from __future__ import annotations

from dbos import DBOS

_INTERNAL_QUEUE = "_dbos_internal_queue"


async def recover_workflows_of(executor_id: str) -> int:
    """Put `executor_id`'s pending workflows back on their queues, so live workers resume them
    from their last recorded step; returns how many.

    The caller has established, by heartbeat, that `executor_id` is gone: resuming a workflow
    that is still running elsewhere would run its current step twice."""
    pending = await DBOS.list_workflows_async(
        status="PENDING", executor_id=executor_id, load_input=False, load_output=False
    )
    for workflow in pending:
        queue = workflow.queue_name if workflow.queue_name != _INTERNAL_QUEUE else None
        await DBOS.resume_workflow_async(workflow.workflow_id, queue_name=queue)
    return len(pending)
