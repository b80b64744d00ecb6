"""Where the relay sends events: EventBridge (production) or the local bus (embedded default).

A bus takes a batch of at most ten deliveries and answers one result per delivery, in order, as
PutEvents does; the relay retries exactly the deliveries that failed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from events.delivery import DELIVERED, Bus, Delivery, DeliveryResult
from events.envelope import detail_json

logger = logging.getLogger("majestic.events.bus")

MAX_BATCH_ENTRIES = 10  # PutEvents takes at most ten entries per call


class EventBridgeBus:
    """PutEvents to the custom bus; endpoint, region and credentials come from the standard AWS
    environment (AWS_ENDPOINT_URL, AWS_REGION, ...), so a moto server can stand in."""

    PERMANENT_ERRORS = frozenset({"MalformedDetail", "InvalidArgument", "ValidationException"})

    def __init__(self, *, bus_name: str, client: Any = None) -> None:
        self.bus_name = bus_name
        self.client = client if client is not None else events_client()

    def put_events(self, deliveries: Sequence[Delivery]) -> list[DeliveryResult]:
        from botocore.exceptions import BotoCoreError, ClientError

        entries = [
            {
                "Source": d.source,
                "DetailType": d.detail_type,
                "Detail": detail_json(d.detail),
                "EventBusName": self.bus_name,
            }
            for d in deliveries
        ]
        try:
            response = self.client.put_events(Entries=entries)
        except (BotoCoreError, ClientError) as exc:
            # The whole call failed (endpoint unreachable, throttled, ...): every entry is retried.
            error = f"{type(exc).__name__}: {exc}"
            return [DeliveryResult(ok=False, error=error)] * len(entries)
        results = response.get("Entries") or []
        if len(results) != len(entries):
            error = f"PutEvents answered {len(results)} results for {len(entries)} entries"
            return [DeliveryResult(ok=False, error=error)] * len(entries)
        if not response.get("FailedEntryCount"):
            return [DELIVERED] * len(entries)
        outcome = []
        for result in results:
            code = result.get("ErrorCode")
            if code:
                message = f"{code}: {result.get('ErrorMessage', '')}".strip()
                outcome.append(
                    DeliveryResult(ok=False, error=message, permanent=code in self.PERMANENT_ERRORS)
                )
            else:
                outcome.append(DELIVERED)
        return outcome


def events_client() -> Any:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    # The relay has its own retry with backoff; botocore's own retries would only stall a batch.
    config = Config(
        retries={"total_max_attempts": 2, "mode": "standard"}, connect_timeout=3, read_timeout=10
    )
    try:
        return boto3.session.Session().client("events", config=config)
    except NoRegionError as exc:
        raise ImproperlyConfigured(
            "EVENTS_BACKEND=eventbridge needs AWS_REGION (or AWS_DEFAULT_REGION)"
        ) from exc


def bus_from_settings() -> Bus:
    backend = settings.EVENTS_BACKEND
    if backend == "eventbridge":
        return EventBridgeBus(bus_name=settings.EVENTBRIDGE_BUS_NAME)
    if backend == "local":
        from events.local_bus import LocalBus

        return LocalBus()
    raise ImproperlyConfigured(f"EVENTS_BACKEND must be 'local' or 'eventbridge', not {backend!r}")
