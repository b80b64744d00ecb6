"""What ops reads: the health of the event pipeline and housekeeping, the relay workers, the
events with their delivery attempts and counts over time, delivered events to replay."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from uuid import UUID

from django.db.models import QuerySet

from events.models import DeliveryAttempt, OutboxEvent
from events.selectors import (
    EventStats,
    OutboxStatus,
    RelayWorkerSeen,
    ReplayPage,
    ReplayPoint,
    delivered_event_count_after,
    delivered_events_after,
    event_deliveries,
    event_stats,
    latest_delivery_attempts,
    outbox_status,
    relay_workers_seen,
    replay_point,
)


def system_status() -> OutboxStatus:
    """The outbox's backlog, its failures and the last heartbeat, read now."""
    return outbox_status()


def domain_event_replay_point(event_id: UUID) -> ReplayPoint:
    """Where `domainEvents(after: event_id)` starts; ReplayPointUnknown if it was not delivered."""
    return replay_point(event_id)


def domain_events_after(
    point: ReplayPoint,
    *,
    detail_types: frozenset[str] | None,
    sources: frozenset[str] | None,
    limit: int,
) -> ReplayPage:
    """Delivered events after `point`, in delivery order, without their sensitive fields."""
    return delivered_events_after(point, detail_types=detail_types, sources=sources, limit=limit)


def domain_event_count_after(
    point: ReplayPoint,
    *,
    detail_types: frozenset[str] | None,
    sources: frozenset[str] | None,
    up_to: int,
) -> int:
    return delivered_event_count_after(
        point, detail_types=detail_types, sources=sources, up_to=up_to
    )


def relay_workers() -> list[RelayWorkerSeen]:
    """The relay workers seen lately (RELAY_WORKER_FORGET_SECONDS), each marked stale or not."""
    return relay_workers_seen()


def deliveries(
    *,
    statuses: Collection[str] | None,
    retrying: bool | None,
    event_ids: Collection[UUID] | None,
) -> QuerySet[OutboxEvent]:
    """Outbox events, newest first, filtered (every filter given must hold)."""
    return event_deliveries(statuses=statuses, retrying=retrying, event_ids=event_ids)


def delivery_attempts_of(event_pks: Iterable[int]) -> dict[int, list[DeliveryAttempt]]:
    """The newest attempts of each event (row id), newest first, in one query."""
    return latest_delivery_attempts(event_pks)


def delivery_stats(*, since: datetime, bucket_seconds: int) -> EventStats:
    """Counts per time bucket from `since` to now; EventStatsRefused when out of bounds."""
    return event_stats(since=since, bucket_seconds=bucket_seconds)
