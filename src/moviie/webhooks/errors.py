from __future__ import annotations

from moviie.errors import NotFound


class EndpointNotFound(NotFound):
    code = "webhook_not_found"


class DeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"


class EventNotFound(NotFound):
    code = "event_not_found"
