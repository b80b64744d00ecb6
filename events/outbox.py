"""`emit`: validate an event and write it to the outbox inside the caller's transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from events.catalog import validate_data
from events.envelope import MAX_ENTRY_BYTES, Event, build_detail, detail_json, entry_size
from events.listeners import notify
from events.models import OutboxEvent
from events.tracing import span
from request_state import correlation_id


class EventTooLarge(ValidationError):
    """The event would exceed EventBridge's 256 KB entry limit.

    A ValidationError (code INVALID), so the mutation that tried answers with a typed error and
    its transaction rolls back: the change and its event go together or not at all.
    """


def emit(event: Event) -> OutboxEvent:
    """Record `event`; it leaves only if the surrounding transaction commits.

    Raises events.catalog.InvalidEventData when the data does not match the event's declared
    schema, and EventTooLarge when the entry would be over 256 KB. In-process listeners of the
    event (events.listeners) run here, in the caller's transaction.
    """
    source, detail_type = event.source(), event.detail_type()
    # The span is current while the detail is built: the event's traceparent names it.
    with span("outbox write", {"event.detail_type": detail_type, "event.source": source}):
        detail = build_detail(event, correlation_id=correlation_id.get())
        validate_data(type(event), detail["data"])
        size = entry_size(source, detail_type, detail_json(detail))
        if size > MAX_ENTRY_BYTES:
            raise EventTooLarge(
                f"This change is too large to announce ({detail_type} would be {size // 1024} KB; "
                f"the limit is {MAX_ENTRY_BYTES // 1024} KB). Make it in smaller parts.",
                code="INVALID",
            )
        row = OutboxEvent.objects.create(
            event_id=detail["eventId"],
            source=source,
            detail_type=detail_type,
            detail=detail,
        )
    # In-process listeners note it in this transaction (events.listeners), before the bus has it.
    notify(event.module, detail_type, detail["data"])
    transaction.on_commit(_relay_after_commit)
    return row


def _relay_after_commit() -> None:
    from django.conf import settings

    if settings.EVENTS_RELAY_IN_PROCESS:
        from events.relay import relay_soon

        relay_soon()
