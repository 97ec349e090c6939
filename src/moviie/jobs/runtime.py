"""What job steps share inside a worker process: settings, database, storage, job client."""

from __future__ import annotations

from dataclasses import dataclass

from moviie.config import Settings
from moviie.db.engine import Database
from moviie.jobs.client import JobClient
from moviie.storage.base import Storage


@dataclass(frozen=True)
class JobRuntime:
    settings: Settings
    db: Database
    storage: Storage
    jobs: JobClient


_current: JobRuntime | None = None


def set_runtime(runtime: JobRuntime | None) -> None:
    global _current
    _current = runtime


def runtime() -> JobRuntime:
    if _current is None:
        raise RuntimeError("no job runtime: steps run only inside a worker")
    return _current
