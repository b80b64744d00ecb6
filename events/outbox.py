"""`emit`: validate an event and write it to the outbox inside the caller's transaction."""

from __future__ import annotations

import json

from django.db import transaction

from config.middleware import correlation_id
from events.envelope import Event, build_detail
from events.models import OutboxEvent

MAX_ENTRY_BYTES = 256 * 1024  # EventBridge's limit for one PutEvents entry


class EventTooLarge(ValueError):
    pass


def emit(event: Event) -> OutboxEvent:
    """Record `event`; it leaves only if the surrounding transaction commits."""
    detail = build_detail(event, correlation_id=correlation_id.get())
    size = len(json.dumps(detail, separators=(",", ":")).encode()) + len(event.source()) + len(event.detail_type())
    if size > MAX_ENTRY_BYTES:
        raise EventTooLarge(f"{event.detail_type()} is {size} bytes; EventBridge takes at most {MAX_ENTRY_BYTES}")
    row = OutboxEvent.objects.create(
        event_id=detail["eventId"],
        source=event.source(),
        detail_type=event.detail_type(),
        detail=detail,
    )
    transaction.on_commit(_relay_after_commit)
    return row


def _relay_after_commit() -> None:
    from django.conf import settings

    if settings.EVENTS_RELAY_IN_PROCESS:
        from events.relay import relay_soon

        relay_soon()
