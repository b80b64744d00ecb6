"""The event as a function receives it from EventBridge, and a logger that carries its ids.

Every log line of a handler names the event id and the correlation id of the request that caused
the event, so one grep follows a request from the gateway through the bus into the functions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class MalformedEvent(ValueError):
    """Not an event of ours (no detail.eventId, data, ...): it is dead-lettered for a person."""


@dataclass(frozen=True)
class DeliveredEvent:
    id: str  # EventBridge's id of this delivery
    source: str
    detail_type: str
    event_id: str  # ours, stable across redeliveries: the idempotency key
    correlation_id: str
    occurred_at: str
    version: int
    actor: dict[str, Any]
    data: dict[str, Any]

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> DeliveredEvent:
        detail = event.get("detail")
        if not isinstance(detail, Mapping):
            raise MalformedEvent("The event has no detail object.")
        missing = [k for k in ("eventId", "data") if k not in detail]
        if missing or not isinstance(detail.get("data"), Mapping):
            raise MalformedEvent(
                f"The event's detail lacks {', '.join(missing) or 'a data object'}."
            )
        return cls(
            id=str(event.get("id", "")),
            source=str(event.get("source", "")),
            detail_type=str(event.get("detail-type", "")),
            event_id=str(detail["eventId"]),
            correlation_id=str(detail.get("correlationId") or ""),
            occurred_at=str(detail.get("occurredAt") or ""),
            version=int(detail.get("version") or 1),
            actor=dict(detail.get("actor") or {}),
            data=dict(detail["data"]),
        )


class EventLogger(logging.LoggerAdapter):
    """Prefixes messages with the ids and adds them as fields (Lambda's JSON logs show them)."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        ids = self.extra or {}
        kwargs["extra"] = {**ids, **(kwargs.get("extra") or {})}
        return (
            f"[correlationId={ids.get('correlationId')} eventId={ids.get('eventId')}] {msg}",
            kwargs,
        )


def event_logger(function_name: str, event: DeliveredEvent) -> EventLogger:
    return EventLogger(
        logging.getLogger(f"majestic.functions.{function_name}"),
        {
            "correlationId": event.correlation_id,
            "eventId": event.event_id,
            "detailType": event.detail_type,
        },
    )
