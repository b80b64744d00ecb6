"""Reads over the outbox for ops: what systemStatus reports, and delivered events to replay
(domainEvents(after:)) in delivery order: by `sent_at`, then row id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from events.catalog import for_live_subscribers
from events.envelope import fanout_envelope
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


class ReplayPointUnknown(LookupError):
    """The event to replay after was never delivered, or has been purged since."""


@dataclass(frozen=True)
class ReplayPoint:
    """Where a replay starts: just after this delivered event, in delivery order."""

    sent_at: datetime
    row_id: int


def replay_point(event_id: UUID) -> ReplayPoint:
    """The delivered event `event_id` as a replay point; ReplayPointUnknown when there is none."""
    found = (
        OutboxEvent.objects.filter(event_id=event_id, status=OutboxEvent.Status.SENT)
        .values_list("sent_at", "id")
        .first()
    )
    if found is None or found[0] is None:
        raise ReplayPointUnknown(str(event_id))
    return ReplayPoint(sent_at=found[0], row_id=found[1])


def _delivered_after(
    point: ReplayPoint, *, detail_types: frozenset[str] | None, sources: frozenset[str] | None
) -> QuerySet[OutboxEvent]:
    rows = OutboxEvent.objects.filter(
        Q(sent_at__gt=point.sent_at) | Q(sent_at=point.sent_at, id__gt=point.row_id),
        status=OutboxEvent.Status.SENT,
    )
    if detail_types is not None:
        rows = rows.filter(detail_type__in=detail_types)
    if sources is not None:
        rows = rows.filter(source__in=sources)
    return rows.order_by("sent_at", "id")


def delivered_event_count_after(
    point: ReplayPoint,
    *,
    detail_types: frozenset[str] | None = None,
    sources: frozenset[str] | None = None,
    up_to: int,
) -> int:
    """How many matching events were delivered after `point`, counting at most `up_to` + 1."""
    rows = _delivered_after(point, detail_types=detail_types, sources=sources)
    return rows[: up_to + 1].count()


@dataclass(frozen=True)
class ReplayPage:
    events: list[dict[str, Any]]  # as live subscribers see them (sensitive fields left out)
    last: ReplayPoint | None  # where the next page starts; None when the page is empty


def delivered_events_after(
    point: ReplayPoint,
    *,
    detail_types: frozenset[str] | None = None,
    sources: frozenset[str] | None = None,
    limit: int,
) -> ReplayPage:
    """Up to `limit` matching events delivered after `point`, in delivery order."""
    rows = list(
        _delivered_after(point, detail_types=detail_types, sources=sources).only(
            "source", "detail_type", "detail", "sent_at"
        )[:limit]
    )
    events = [
        for_live_subscribers(
            fanout_envelope(source=row.source, detail_type=row.detail_type, detail=row.detail)
        )
        for row in rows
    ]
    last = rows[-1] if rows else None
    return ReplayPage(
        events=events,
        last=ReplayPoint(sent_at=last.sent_at, row_id=last.id)
        if last is not None and last.sent_at is not None
        else None,
    )
