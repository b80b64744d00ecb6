"""Writes over the outbox for ops: re-driving dead events, purging old sent ones and old delivery
attempts, forgetting relay workers long gone, the heartbeat."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone

from events.models import DeliveryAttempt, Heartbeat, OutboxEvent, RelayWorker
from events.selectors import HOUSEKEEPING

MAX_REDRIVE_IDS = 1000
PURGE_CHUNK = 1000


class OutboxEventNotFound(ObjectDoesNotExist):
    pass


def dead_events_redrive(*, event_ids: Sequence[uuid.UUID] | None = None) -> int:
    """Give dead events (all, or those named) a fresh set of attempts; returns how many.

    All or nothing: naming an unknown event, or one that is not dead, changes nothing.
    """
    with transaction.atomic():
        rows = OutboxEvent.objects.filter(status=OutboxEvent.Status.DEAD)
        if event_ids is not None:
            wanted = {uuid.UUID(str(e)) for e in event_ids}
            if not wanted:
                raise ValidationError(
                    {"event_ids": ValidationError("Name at least one event.", code="INVALID")}
                )
            if len(wanted) > MAX_REDRIVE_IDS:
                raise ValidationError(
                    {
                        "event_ids": ValidationError(
                            f"At most {MAX_REDRIVE_IDS} events at once.", code="INVALID"
                        )
                    }
                )
            known = dict(
                OutboxEvent.objects.filter(event_id__in=wanted).values_list("event_id", "status")
            )
            unknown = wanted - set(known)
            if unknown:
                raise OutboxEventNotFound(
                    f"No event {', '.join(sorted(str(u) for u in unknown)[:5])}."
                )
            not_dead = sorted(
                str(e) for e, status in known.items() if status != OutboxEvent.Status.DEAD
            )
            if not_dead:
                message = f"Only dead events can be re-driven: {', '.join(not_dead[:5])}."
                raise ValidationError({"event_ids": ValidationError(message, code="INVALID")})
            rows = rows.filter(event_id__in=wanted)
        count = rows.update(
            status=OutboxEvent.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        if count:
            transaction.on_commit(_relay_soon)
    return count


def _relay_soon() -> None:
    if settings.EVENTS_RELAY_IN_PROCESS:
        from events.relay import relay_soon

        relay_soon()


def sent_events_purge(*, now: datetime | None = None) -> int:
    """Delete sent rows older than EVENTS_SENT_RETENTION_DAYS (the bus's archive keeps events)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENTS_SENT_RETENTION_DAYS)
    old = OutboxEvent.objects.filter(status=OutboxEvent.Status.SENT, sent_at__lt=cutoff)
    purged = 0
    while True:
        # In chunks, ids only: their attempts cascade, so Django loads the rows it deletes.
        ids = list(old.order_by("id").values_list("id", flat=True)[:PURGE_CHUNK])
        if not ids:
            return purged
        _, deleted = OutboxEvent.objects.filter(id__in=ids).only("id").delete()
        purged += deleted.get(OutboxEvent._meta.label, 0)  # not counting the attempts


def delivery_attempts_purge(*, now: datetime | None = None) -> int:
    """Delete delivery attempts older than EVENTS_DELIVERY_RETENTION_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENTS_DELIVERY_RETENTION_DAYS)
    deleted, _ = DeliveryAttempt.objects.filter(attempted_at__lt=cutoff).delete()
    return deleted


def relay_workers_forget(*, now: datetime | None = None) -> int:
    """Delete relay workers not seen for RELAY_WORKER_FORGET_SECONDS; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.RELAY_WORKER_FORGET_SECONDS)
    deleted, _ = RelayWorker.objects.filter(last_seen_at__lt=cutoff).delete()
    return deleted


def heartbeat_record(*, received_at: datetime, tasks: dict[str, int]) -> Heartbeat:
    heartbeat, _ = Heartbeat.objects.update_or_create(
        name=HOUSEKEEPING, defaults={"received_at": received_at, "tasks": tasks}
    )
    return heartbeat
