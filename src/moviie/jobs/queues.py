from __future__ import annotations

from typing import Literal

QueueName = Literal["media", "ai", "webhooks", "maintenance"]
QUEUES: tuple[QueueName, ...] = ("media", "ai", "webhooks", "maintenance")

# Bump only when a workflow's sequence of steps changes incompatibly: every process must agree,
# or recovery skips workflows recorded under another version.
WORKFLOW_VERSION = "1"
APP_NAME = "moviie"
