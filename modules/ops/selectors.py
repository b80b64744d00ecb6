"""What ops reads: the health of the event pipeline and housekeeping, delivered events to replay."""

from __future__ import annotations

from uuid import UUID

from events.selectors import (
    OutboxStatus,
    ReplayPage,
    ReplayPoint,
    delivered_event_count_after,
    delivered_events_after,
    outbox_status,
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
