"""Reads over the outbox for ops: what systemStatus reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q
from django.utils import timezone

from events.models import Heartbeat, OutboxEvent

HOUSEKEEPING = "housekeeping"


@dataclass(frozen=True)
class OutboxStatus:
    last_heartbeat_at: datetime | None
    pending_events: int
    retrying_events: int  # pending rows that failed at least once
    failed_events: int  # dead rows: out of retries, waiting for redriveEvents
    oldest_pending_event_age: float | None  # seconds


def outbox_status(*, now: datetime | None = None) -> OutboxStatus:
    now = now or timezone.now()
    pending = Q(status=OutboxEvent.Status.PENDING)
    counts = OutboxEvent.objects.aggregate(
        pending=Count("id", filter=pending),
        # attempts counts claims: a first send in flight has 1 and no error yet.
        retrying=Count("id", filter=pending & Q(attempts__gt=0) & ~Q(last_error="")),
        dead=Count("id", filter=Q(status=OutboxEvent.Status.DEAD)),
        oldest=Min("created_at", filter=pending),
    )
    heartbeat = (
        Heartbeat.objects.filter(name=HOUSEKEEPING).values_list("received_at", flat=True).first()
    )
    oldest = counts["oldest"]
    return OutboxStatus(
        last_heartbeat_at=heartbeat,
        pending_events=counts["pending"],
        retrying_events=counts["retrying"],
        failed_events=counts["dead"],
        oldest_pending_event_age=max(0.0, (now - oldest).total_seconds()) if oldest else None,
    )


def dead_event_count() -> int:
    return OutboxEvent.objects.filter(status=OutboxEvent.Status.DEAD).count()
