"""Reads over the outbox for ops: what systemStatus reports (with the relay workers seen), the
events with their delivery attempts (eventDeliveries), counts per time bucket (eventStats), and
delivered events to replay (domainEvents(after:)) in delivery order: by `sent_at`, then row id."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import NotSupportedError
from django.db.models import (
    Count,
    F,
    Func,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import Greatest, RowNumber
from django.utils import timezone

from events.catalog import for_live_subscribers
from events.envelope import fanout_envelope
from events.models import DeliveryAttempt, Heartbeat, OutboxEvent, RelayWorker

HOUSEKEEPING = "housekeeping"


@dataclass(frozen=True)
class OutboxStatus:
    last_heartbeat_at: datetime | None
    pending_events: int
    retrying_events: int  # pending rows that failed at least once
    failed_events: int  # dead rows: out of retries, waiting for redriveEvents
    oldest_pending_event_age: float | None  # seconds
    # The last heartbeat's tasks: name -> count, by name (PostgreSQL's JSON keeps no order).
    last_heartbeat_tasks: dict[str, int] = field(default_factory=dict)


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
        Heartbeat.objects.filter(name=HOUSEKEEPING).values_list("received_at", "tasks").first()
    )
    received_at, tasks = heartbeat if heartbeat is not None else (None, {})
    oldest = counts["oldest"]
    return OutboxStatus(
        last_heartbeat_at=received_at,
        last_heartbeat_tasks={str(k): int(v) for k, v in sorted((tasks or {}).items())},
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


# --- relay workers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelayWorkerSeen:
    name: str
    started_at: datetime
    last_seen_at: datetime
    published: int
    failed: int
    stale: bool  # not seen for RELAY_WORKER_STALE_SECONDS


def relay_workers_seen(*, now: datetime | None = None) -> list[RelayWorkerSeen]:
    """Each relay worker seen in the last RELAY_WORKER_FORGET_SECONDS, by name."""
    now = now or timezone.now()
    forgotten = now - timedelta(seconds=settings.RELAY_WORKER_FORGET_SECONDS)
    stale = now - timedelta(seconds=settings.RELAY_WORKER_STALE_SECONDS)
    return [
        RelayWorkerSeen(
            name=worker.name,
            started_at=worker.started_at,
            last_seen_at=worker.last_seen_at,
            published=worker.published,
            failed=worker.failed,
            stale=worker.last_seen_at < stale,
        )
        for worker in RelayWorker.objects.filter(last_seen_at__gte=forgotten).order_by("name")
    ]


# --- event deliveries -----------------------------------------------------------------------------

MAX_DELIVERY_EVENT_IDS = 100
# The most attempts one event shows (`attempts(first:)`).
MAX_ATTEMPTS_SHOWN = 50


def event_deliveries(
    *,
    statuses: Collection[str] | None = None,
    retrying: bool | None = None,
    event_ids: Collection[UUID] | None = None,
) -> QuerySet[OutboxEvent]:
    """Outbox events, newest first; every given filter must hold. `retrying`: pending after at
    least one attempt (True), or anything else (False)."""
    rows = OutboxEvent.objects.all()
    if statuses is not None:
        rows = rows.filter(status__in=list(statuses))
    if retrying is not None:
        again = Q(status=OutboxEvent.Status.PENDING, attempts__gt=0)
        rows = rows.filter(again) if retrying else rows.exclude(again)
    if event_ids is not None:
        rows = rows.filter(event_id__in=list(event_ids))
    return rows.order_by("-id")


def latest_delivery_attempts(
    event_pks: Iterable[int], *, per_event: int = MAX_ATTEMPTS_SHOWN
) -> dict[int, list[DeliveryAttempt]]:
    """The newest `per_event` attempts of each event (by row id), in one query for them all."""
    pks = set(event_pks)
    if not pks:
        return {}
    newest_first = [F("attempted_at").desc(), F("id").desc()]
    rows = (
        DeliveryAttempt.objects.filter(event_id__in=pks)
        .annotate(rank=Window(RowNumber(), partition_by=[F("event_id")], order_by=newest_first))
        .filter(rank__lte=per_event)
        .order_by("event_id", *newest_first)
    )
    found: dict[int, list[DeliveryAttempt]] = {pk: [] for pk in pks}
    for attempt in rows:
        found[attempt.event_id].append(attempt)
    return found


# --- event stats ----------------------------------------------------------------------------------

MIN_BUCKET_SECONDS = 10
MAX_BUCKET_SECONDS = 3600
MAX_BUCKETS = 360


class EventStatsRefused(ValueError):
    """The window asked for is out of bounds: `argument` names the argument, `limits` the bound."""

    def __init__(self, message: str, *, argument: str, limits: dict[str, Any]) -> None:
        super().__init__(message)
        self.argument = argument
        self.limits = limits


class EpochBucket(Func):
    """floor(seconds since the epoch / `seconds`) of a datetime column: a bucket's index."""

    output_field = IntegerField()

    def __init__(self, expression: Any, seconds: int) -> None:
        super().__init__(expression)
        self.seconds = int(seconds)  # an int, so safe to write into the SQL

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        raise NotSupportedError(f"EpochBucket does not know {connection.vendor}")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {sql}) / {self.seconds}) AS BIGINT)", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django keeps datetimes there as UTC text, which strftime('%s') reads as seconds.
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(CAST(strftime('%%s', {sql}) AS INTEGER) / {self.seconds})", params


@dataclass(frozen=True)
class EventStatsBucket:
    start: datetime
    emitted: dict[str, int]  # detail type -> events written in the bucket, by detail type
    deliveries_sent: int
    deliveries_failed: int
    pending_events: int  # at the bucket's end (now, for the last one)
    oldest_pending_event_age: float | None  # seconds, at that moment


@dataclass(frozen=True)
class EventStats:
    since: datetime
    bucket_seconds: int
    buckets: list[EventStatsBucket]


def _bucket_start(index: int, seconds: int) -> datetime:
    return datetime.fromtimestamp(index * seconds, tz=UTC)


def _index_of(moment: datetime, seconds: int) -> int:
    return int(moment.timestamp()) // seconds


def event_stats_window(*, since: datetime, bucket_seconds: int, now: datetime) -> tuple[int, int]:
    """The first and last bucket indexes (seconds since the epoch // bucket_seconds) from `since`
    to now; EventStatsRefused when out of bounds."""
    if not MIN_BUCKET_SECONDS <= bucket_seconds <= MAX_BUCKET_SECONDS:
        raise EventStatsRefused(
            f"`bucketSeconds` must be between {MIN_BUCKET_SECONDS} and {MAX_BUCKET_SECONDS}.",
            argument="bucketSeconds",
            limits={"min": MIN_BUCKET_SECONDS, "max": MAX_BUCKET_SECONDS},
        )
    if since > now:
        raise EventStatsRefused(
            "`since` must not be in the future.", argument="since", limits={"max": now.isoformat()}
        )
    most = settings.EVENT_STATS_MAX_WINDOW_SECONDS
    if (now - since).total_seconds() > most:
        raise EventStatsRefused(
            f"`since` must be at most {most} seconds ago (EVENT_STATS_MAX_WINDOW_SECONDS).",
            argument="since",
            limits={"maxWindowSeconds": most},
        )
    first, last = _index_of(since, bucket_seconds), _index_of(now, bucket_seconds)
    if last - first + 1 > MAX_BUCKETS:
        raise EventStatsRefused(
            f"`since` and `bucketSeconds` make {last - first + 1} buckets; at most {MAX_BUCKETS} "
            "(a later `since` or larger buckets).",
            argument="bucketSeconds",
            limits={"maxBuckets": MAX_BUCKETS},
        )
    return first, last


def event_stats(*, since: datetime, bucket_seconds: int, now: datetime | None = None) -> EventStats:
    """Counts per bucket of `bucket_seconds` (aligned to multiples of it since the epoch) from the
    one holding `since` to the one holding now, oldest first, empty ones included.

    Four queries, however many buckets: the events emitted (by bucket and detail type), the
    attempts (by bucket and outcome), and for the backlog the events pending now and those sent in
    the window after waiting across a bucket's end (by the bucket they were created in and the one
    they were sent in). An event counts as pending at a moment T when it was created before T and
    not sent before T; dead events (now) never count. EventStatsRefused when out of bounds.
    """
    now = now or timezone.now()
    if timezone.is_naive(since):
        since = timezone.make_aware(since, UTC)
    seconds = bucket_seconds
    first, last = event_stats_window(since=since, bucket_seconds=seconds, now=now)
    window_start = _bucket_start(first, seconds)
    count = last - first + 1

    emitted: list[dict[str, int]] = [{} for _ in range(count)]
    for made in (
        OutboxEvent.objects.filter(created_at__gte=window_start)
        .annotate(bucket=EpochBucket("created_at", seconds))
        .values("bucket", "detail_type")
        .annotate(n=Count("id"))
        .order_by("bucket", "detail_type")
    ):
        if first <= made["bucket"] <= last:
            emitted[made["bucket"] - first][made["detail_type"]] = made["n"]

    sent, failed = [0] * count, [0] * count
    for tried in (
        DeliveryAttempt.objects.filter(attempted_at__gte=window_start)
        .annotate(bucket=EpochBucket("attempted_at", seconds))
        .values("bucket", "outcome")
        .annotate(n=Count("id"))
        .order_by("bucket", "outcome")
    ):
        if first <= tried["bucket"] <= last:
            into = sent if tried["outcome"] == DeliveryAttempt.Outcome.SENT else failed
            into[tried["bucket"] - first] += tried["n"]

    # The backlog at each bucket's end: (first bucket it counts in, first it no longer does).
    pending = [0] * count
    oldest: list[datetime | None] = [None] * count
    created_bucket = Greatest(EpochBucket("created_at", seconds), Value(first))

    def add(start: int, stop: int, n: int, created: datetime) -> None:
        for i in range(max(start, first), min(stop, last + 1)):
            pending[i - first] += n
            held = oldest[i - first]
            oldest[i - first] = created if held is None or created < held else held

    for waiting in (
        OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING)
        .annotate(cb=created_bucket)
        .values("cb")
        .annotate(n=Count("id"), created=Min("created_at"))
        .order_by("cb")
    ):
        add(waiting["cb"], last + 1, waiting["n"], waiting["created"])
    for crossed in (
        OutboxEvent.objects.filter(
            status=OutboxEvent.Status.SENT, sent_at__gte=_bucket_start(first + 1, seconds)
        )
        .annotate(cb=created_bucket, sb=EpochBucket("sent_at", seconds))
        .filter(cb__lt=F("sb"))
        .values("cb", "sb")
        .annotate(n=Count("id"), created=Min("created_at"))
        .order_by("cb", "sb")
    ):
        add(crossed["cb"], crossed["sb"], crossed["n"], crossed["created"])

    buckets = []
    for i in range(count):
        index = first + i
        at = now if index == last else _bucket_start(index + 1, seconds)
        held = oldest[i]
        buckets.append(
            EventStatsBucket(
                start=_bucket_start(index, seconds),
                emitted=emitted[i],
                deliveries_sent=sent[i],
                deliveries_failed=failed[i],
                pending_events=pending[i],
                oldest_pending_event_age=max(0.0, (at - held).total_seconds())
                if held is not None
                else None,
            )
        )
    return EventStats(since=since, bucket_seconds=seconds, buckets=buckets)
