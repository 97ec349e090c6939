from __future__ import annotations

from typing import Literal

# What a worker can run. `webhooks` is the delivery dispatcher (webhooks/dispatcher.py), not a
# queue of the job engine: the engine runs the others.
QUEUES = ("media", "ai", "webhooks", "maintenance")
QueueName = Literal["media", "ai", "maintenance"]
ENGINE_QUEUES: tuple[QueueName, ...] = ("media", "ai", "maintenance")

# Bump only when a workflow's sequence of steps changes incompatibly: every process must agree,
# or recovery skips workflows recorded under another version.
WORKFLOW_VERSION = "1"
APP_NAME = "moviie"
