"""ORM models: one module per table, all imported here for Alembic."""

from moviie.db.models.account import Account
from moviie.db.models.analytics import (
    AnalyticsCursor,
    AnalyticsDrop,
    AnalyticsEvent,
    AnalyticsRollup,
    AnalyticsView,
)
from moviie.db.models.api_key import ApiKey
from moviie.db.models.bandwidth_usage import BandwidthUsage
from moviie.db.models.base import Base
from moviie.db.models.collection import Collection, CollectionVideo
from moviie.db.models.credit_entry import CreditEntry
from moviie.db.models.dashboard_session import DashboardSession
from moviie.db.models.dub import Dub
from moviie.db.models.event import Event
from moviie.db.models.idempotency_record import IdempotencyRecord
from moviie.db.models.job import Job
from moviie.db.models.signing_key import SigningKey
from moviie.db.models.subtitle_track import SubtitleTrack
from moviie.db.models.upload import Upload
from moviie.db.models.video import Video, VideoTag
from moviie.db.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from moviie.db.models.worker import Worker

__all__ = [
    "Account",
    "AnalyticsCursor",
    "AnalyticsDrop",
    "AnalyticsEvent",
    "AnalyticsRollup",
    "AnalyticsView",
    "ApiKey",
    "BandwidthUsage",
    "Base",
    "Collection",
    "CollectionVideo",
    "CreditEntry",
    "DashboardSession",
    "Dub",
    "Event",
    "IdempotencyRecord",
    "Job",
    "SigningKey",
    "SubtitleTrack",
    "Upload",
    "Video",
    "VideoTag",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Worker",
]
