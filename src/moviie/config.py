"""Settings: every `MOVIIE_*` variable of the contract, in one class."""

from __future__ import annotations

import socket
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIIE_", extra="ignore")

    data_dir: Path = Path("./moviie-data")
    database_url: str | None = None
    storage_url: str | None = None
    redis_url: str | None = None
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000

    rate_limit_per_minute: int = Field(600, ge=1)
    ai_rate_limit_per_minute: int = Field(30, ge=1)
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    idempotency_ttl_s: int = Field(24 * 3600, ge=60)

    webhook_retry_base_s: float = Field(60, gt=0)
    webhook_timeout_s: float = Field(10, gt=0)
    webhooks_allow_private: bool = False
    # Deliveries in flight per worker, and per endpoint across all workers (a slow endpoint
    # holds at most that many, never the whole worker).
    webhook_concurrency: int = Field(32, ge=1)
    webhook_endpoint_concurrency: int = Field(4, ge=1)
    # How often a worker looks for due deliveries made by other processes (one indexed read
    # when there are none; deliveries made in the worker's own process wake it at once).
    webhook_polling_interval_s: float = Field(0.1, gt=0)
    upload_url_ttl_s: int = Field(86400, ge=60)
    max_upload_bytes: int = Field(20 * 1024**3, ge=1)
    max_duration_s: float = Field(6 * 3600, gt=0)
    s3_endpoint_url: str | None = None
    # Signs upload URLs and seals webhook secrets; generated into the data directory when unset
    # (set it on multi-node setups: every process must share it).
    secret_key: SecretStr | None = None
    ingest_allow_private: bool = False
    ingest_timeout_s: float = Field(3600, gt=0)

    ffmpeg: str | None = None
    whisper_model: str | None = None
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    tts_base_url: str | None = None
    tts_api_key: SecretStr | None = None
    tts_model: str | None = None
    lipsync_url: str | None = None
    lipsync_api_key: SecretStr | None = None
    # Every provider call (chat, speech, lip sync): its timeout and how many tries it gets
    # (429, 5xx and timeouts are tried again, honouring Retry-After); a lip sync that answers
    # 202 is polled for up to `lipsync_timeout_s`.
    provider_timeout_s: float = Field(120, gt=0)
    provider_attempts: int = Field(4, ge=1, le=10)
    lipsync_timeout_s: float = Field(3600, gt=0)

    # Plans (quotas) of one's own, replacing the built-in ones: see `moviie.plans.catalog`.
    plans_file: Path | None = None
    # Player analytics: raw events are kept this long (the rollups for ever); a viewer may post
    # this many batches a minute and a key this many events (past them, events are dropped).
    analytics_raw_retention_days: int = Field(30, ge=1)
    analytics_viewer_batches_per_minute: int = Field(60, ge=1)
    analytics_events_per_minute: int = Field(100_000, ge=1)

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"

    # Durable jobs: a worker's identity must survive its restarts so it recovers its own work.
    executor_id: str = Field(default_factory=lambda: f"worker-{socket.gethostname()}")
    worker_heartbeat_s: float = Field(10, gt=0)
    worker_dead_after_s: float = Field(60, gt=0)
    # On shutdown, running jobs get this long to finish before the process stops; the rest
    # resume from their last step on the next start or on another worker.
    worker_shutdown_grace_s: int = Field(10, ge=0)
    queue_polling_interval_s: float = Field(1.0, gt=0)
    worker_concurrency: int | None = Field(None, ge=1)
    # Maintenance workers apply the cron schedules; false keeps a worker out of that (and lets
    # tests run maintenance jobs without the hourly purge joining in).
    maintenance_schedules: bool = True

    @cached_property
    def resolved_database_url(self) -> str:
        """The application database, as the user wrote it (sync form)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'moviie.db').resolve()}"

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or f"file://{(self.data_dir / 'media').resolve()}"
