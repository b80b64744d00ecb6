"""The relay: delivers pending outbox rows to the bus, retrying failures, never losing one.

A round claims due PENDING rows (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
workers share the work; on SQLite the IMMEDIATE write transaction serialises claimers) and leases
them by moving `next_attempt_at` past the lease, so a worker that dies mid-send only delays its
rows. Before each batch it renews the lease on the rows it still holds and skips any another
relay took over, so a claim outlives the work done under it and no row goes out twice. It sends
them in batches of at most ten entries (and 256 KB), marks each delivered row SENT, and gives
each failed one exponential backoff with jitter; after EVENTS_MAX_ATTEMPTS a row is DEAD (counted
in systemStatus, re-driven by `redriveEvents`). Every delivered event is also handed once
to events.fanout.publish for live subscriptions (which leaves its sensitive fields out); that
only queues it, so the live layer (Redis) never slows delivery to the bus.

Where it runs:
- `manage.py relay_events` (workers; `--once` drains and exits); asked to stop (SIGTERM), a worker
  finishes the batch in hand and releases the rest of its claim (`release_claim`) for the others;
- in the server process on the embedded default (EVENTS_RELAY_IN_PROCESS): `start_in_process_relay`
  (called by config/asgi.py) starts one background thread that drains the backlog at once, again
  right after each commit that emitted (`relay_soon`), when a retry comes due, and every
  EVENTS_RELAY_POLL_SECONDS; it also fires the template's schedules on the local bus.
- tests call `drain()` to relay synchronously in their own thread and transaction.

Every publish attempt of every event leaves a `DeliveryAttempt` (one INSERT per batch, in the
transaction that marks the rows), its error redacted like `last_error` (`delivery_error`). Each
relay loop records itself as a `RelayWorker` (`RelayWorkerRecord`: one upsert every few seconds
at most, with its totals), which systemStatus lists.
"""

from __future__ import annotations

import logging
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Min
from django.utils import timezone

from events import metrics
from events.bus import MAX_BATCH_ENTRIES, bus_from_settings
from events.catalog import discover, sensitive_keys
from events.delivery import Bus, Delivery, DeliveryResult
from events.envelope import MAX_ENTRY_BYTES, detail_json, entry_size, fanout_envelope
from events.models import DeliveryAttempt, OutboxEvent, RelayWorker
from events.tracing import links_to, span
from request_state import correlation_id

if TYPE_CHECKING:
    from events.local_bus import LocalSchedules

logger = logging.getLogger("majestic.events.relay")

PENDING, SENT, DEAD = OutboxEvent.Status.PENDING, OutboxEvent.Status.SENT, OutboxEvent.Status.DEAD

# A relay loop writes its RelayWorker row at most this often (and when it starts and stops).
WORKER_RECORD_SECONDS = 5.0


def worker_name() -> str:
    """This process's relay name, `host:pid` (one relay loop runs per process)."""
    return f"{socket.gethostname()}:{os.getpid()}"


# --- what a failure's text may keep ---------------------------------------------------------------

MAX_ERROR_CHARS = 2000
REDACTED = "[redacted]"
# `password=…`, `"apiKey": "…"`, `token: …`, `code=…` (the value goes, the name stays); a name
# ending in Exception or Error is an error's type (`ExpiredTokenException: The …`), not a key.
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b((?:[\w-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|"
    r"private[_-]?key|authorization|credential|cookie|session)[\w-]*)|code)"
    r"(?<!exception)(?<!error)"
    r"(['\"]?\s*[:=]\s*['\"]?)([^\s'\",;}\]]+)"
)
_SECRET_VALUES = (
    re.compile(r"(?i)\b(?:bearer|api-key|basic)\s+[\w.~+/=-]+"),  # Authorization values
    re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+"),  # JWTs
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access key ids
    re.compile(r"\bgAAAAA[\w-]{20,}={0,2}"),  # Fernet tokens (locally sealed values)
    re.compile(r"\bkms:[A-Za-z0-9+/]{16,}={0,2}"),  # KMS-sealed values
)


def delivery_error(row: OutboxEvent, error: str) -> str:
    """`error` as the outbox keeps it (`last_error`, each attempt's record): the values of the
    event's sensitive fields and anything that looks like a secret replaced, then truncated.
    A handler's exception may quote its input; staff read these texts in eventDeliveries."""
    text = error
    event_class = discover().get(row.detail_type)
    data = row.detail.get("data") if isinstance(row.detail, dict) else None
    if event_class is not None and isinstance(data, dict):
        for key in sensitive_keys(event_class):
            value = data.get(key)
            if value not in (None, "") and len(str(value)) >= 3:
                text = text.replace(str(value), REDACTED)
    text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    for pattern in _SECRET_VALUES:
        text = pattern.sub(REDACTED, text)
    return text[:MAX_ERROR_CHARS]


@dataclass
class RelayReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0

    def __iadd__(self, other: RelayReport) -> RelayReport:
        self.sent += other.sent
        self.retrying += other.retrying
        self.dead += other.dead
        return self


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: between half and all of base * 2^(attempts-1), capped."""
    ceiling = min(
        settings.EVENTS_RETRY_MAX_SECONDS,
        settings.EVENTS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def claim_due_events(*, limit: int, now: datetime | None = None) -> list[OutboxEvent]:
    """Lease up to `limit` due PENDING rows to this relay; each claim counts as an attempt."""
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=settings.EVENTS_RELAY_LEASE_SECONDS)
    with transaction.atomic():
        rows = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(status=PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[:limit]
        )
        if rows:
            OutboxEvent.objects.filter(id__in=[r.id for r in rows]).update(
                next_attempt_at=lease_until, attempts=F("attempts") + 1
            )
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = lease_until
    return rows


def batches(rows: Sequence[OutboxEvent]) -> Iterator[list[OutboxEvent]]:
    """Groups of at most ten rows whose entries together stay within PutEvents' 256 KB."""
    batch: list[OutboxEvent] = []
    size = 0
    for row in rows:
        row_size = entry_size(row.source, row.detail_type, detail_json(row.detail))
        if batch and (len(batch) == MAX_BATCH_ENTRIES or size + row_size > MAX_ENTRY_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += row_size
    if batch:
        yield batch


def delivery_of(row: OutboxEvent) -> Delivery:
    return Delivery(
        event_id=str(row.event_id),
        source=row.source,
        detail_type=row.detail_type,
        detail=row.detail,
    )


def renew_lease(rows: Sequence[OutboxEvent], *, now: datetime | None = None) -> list[OutboxEvent]:
    """Extend this relay's lease on `rows` before it sends them; the rows it no longer holds (its
    lease ran out and another relay claimed them, or they were sent) are left out, so they are
    never sent twice. A row's lease is its `next_attempt_at`: whoever set the current value holds
    it (a later claim always sets a later one)."""
    if not rows:
        return []
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=settings.EVENTS_RELAY_LEASE_SECONDS)
    held: list[OutboxEvent] = []
    with transaction.atomic():
        current = dict(
            OutboxEvent.objects.select_for_update()
            .filter(id__in=[r.id for r in rows], status=PENDING)
            .values_list("id", "next_attempt_at")
        )
        for row in rows:
            if current.get(row.id) == row.next_attempt_at:
                held.append(row)
            else:
                logger.warning(
                    "%s %s: the lease ran out and another relay holds it; not sending it again",
                    row.detail_type,
                    row.event_id,
                )
        if held:
            OutboxEvent.objects.filter(id__in=[r.id for r in held]).update(
                next_attempt_at=lease_until
            )
            for row in held:
                row.next_attempt_at = lease_until
    return held


def release_claim(rows: Sequence[OutboxEvent], *, now: datetime | None = None) -> int:
    """Give back rows this relay claimed and will not send (it is stopping): due at once for
    another relay, the claim's attempt not counted. Rows it no longer holds are left alone."""
    if not rows:
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        current = dict(
            OutboxEvent.objects.select_for_update()
            .filter(id__in=[r.id for r in rows], status=PENDING)
            .values_list("id", "next_attempt_at")
        )
        held = [row.id for row in rows if current.get(row.id) == row.next_attempt_at]
        if not held:
            return 0
        return OutboxEvent.objects.filter(id__in=held).update(
            next_attempt_at=now, attempts=F("attempts") - 1
        )


def relay_claimed(
    bus: Bus,
    rows: Sequence[OutboxEvent],
    *,
    should_stop: Callable[[], bool] | None = None,
    worker: str | None = None,
) -> RelayReport:
    """Send the rows of one claim batch by batch, renewing the lease on all those still to send
    before each batch: however long the round takes, no other relay can take them meanwhile.
    Once `should_stop()` says so, the batch in hand is finished and the rest released."""
    report = RelayReport()
    waiting = list(rows)
    while waiting:
        if should_stop is not None and should_stop():
            released = release_claim(waiting)
            logger.info("Stopping: %d claimed events released for another relay", released)
            break
        waiting = renew_lease(waiting)
        batch = next(batches(waiting), [])
        if batch:
            report += _send_batch(bus, batch, worker=worker or worker_name())
        waiting = waiting[len(batch) :]
    return report


def relay_batch(bus: Bus, rows: Sequence[OutboxEvent], *, worker: str | None = None) -> RelayReport:
    """Send one batch (of the rows this relay still holds) and record what became of each."""
    return _send_batch(bus, renew_lease(rows), worker=worker or worker_name())


def _send_batch(bus: Bus, rows: Sequence[OutboxEvent], *, worker: str) -> RelayReport:
    if not rows:
        return RelayReport()
    started = time.perf_counter()
    try:
        with span(
            "PutEvents",
            {"messaging.system": "aws_eventbridge", "messaging.batch.message_count": len(rows)},
            kind="producer",
            links=links_to(r.detail.get("traceparent") for r in rows),  # each event's cause
        ):
            results = bus.put_events([delivery_of(r) for r in rows])
    except Exception as exc:  # a bus bug must not strand the rows: they are retried like failures
        logger.exception("The bus raised while sending %d events", len(rows))
        results = [DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}")] * len(rows)
    if len(results) != len(rows):
        results = [
            DeliveryResult(ok=False, error="The bus answered the wrong number of results")
        ] * len(rows)

    duration_ms = (time.perf_counter() - started) * 1000
    now = timezone.now()
    report = RelayReport()
    delivered = [row for row, result in zip(rows, results, strict=True) if result.ok]
    errors = {
        row.id: delivery_error(row, result.error)
        for row, result in zip(rows, results, strict=True)
        if not result.ok
    }
    with transaction.atomic():
        if delivered:
            OutboxEvent.objects.filter(id__in=[r.id for r in delivered]).update(
                status=SENT, sent_at=now, last_error=""
            )
            report.sent = len(delivered)
        for row, result in zip(rows, results, strict=True):
            if not result.ok:
                _record_failure(row, errors[row.id], result.permanent, now, report)
        DeliveryAttempt.objects.bulk_create(  # one INSERT for the batch
            [
                DeliveryAttempt(
                    event_id=row.id,
                    attempted_at=now,
                    outcome=DeliveryAttempt.Outcome.FAILED
                    if row.id in errors
                    else DeliveryAttempt.Outcome.SENT,
                    error=errors.get(row.id, ""),
                    duration_ms=duration_ms,
                    worker=worker,
                )
                for row in rows
            ]
        )
    # In the replay's order (sent_at, then id: the batch shares one sent_at), so that a
    # subscriber's `after` never skips an earlier row of its batch that was lost live.
    for row in sorted(delivered, key=lambda r: r.id):
        _publish_live(row)  # only queued: a slow or frozen live layer never holds the relay up
    if report.dead:
        _status_changed()
    metrics.count_relayed(sent=report.sent, retrying=report.retrying, dead=report.dead)
    return report


def _record_failure(
    row: OutboxEvent, error: str, permanent: bool, now: datetime, report: RelayReport
) -> None:
    token = correlation_id.set(str(row.detail.get("correlationId") or ""))
    try:
        row.last_error = error
        if permanent or row.attempts >= settings.EVENTS_MAX_ATTEMPTS:
            row.status = DEAD
            report.dead += 1
            logger.error(
                "%s %s is dead after %d attempts: %s",
                row.detail_type,
                row.event_id,
                row.attempts,
                row.last_error,
            )
        else:
            row.next_attempt_at = now + retry_delay(row.attempts)
            report.retrying += 1
            logger.warning(
                "%s %s failed (attempt %d of %d), retrying at %s: %s",
                row.detail_type,
                row.event_id,
                row.attempts,
                settings.EVENTS_MAX_ATTEMPTS,
                row.next_attempt_at.isoformat(),
                row.last_error,
            )
        row.save(update_fields=["status", "next_attempt_at", "last_error"])
    finally:
        correlation_id.reset(token)


def _publish_live(row: OutboxEvent) -> None:
    try:
        from events import fanout
    except ImportError:  # no live subscriptions in this build
        return
    try:
        fanout.publish(
            fanout_envelope(source=row.source, detail_type=row.detail_type, detail=row.detail)
        )
    except Exception:  # the event reached its real destination; live fan-out is best effort
        logger.exception("Live fan-out failed for %s %s", row.detail_type, row.event_id)


def _status_changed() -> None:
    try:
        from events.fanout import publish_status_changed
    except ImportError:
        return
    try:
        publish_status_changed()
    except Exception:
        logger.exception("Could not announce a status change")


def relay_pending_events(
    *,
    bus: Bus | None = None,
    max_rounds: int | None = None,
    claim_size: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    worker: RelayWorkerRecord | None = None,
) -> RelayReport:
    """Relay rounds until no row is due (the backlog, and whatever the handlers emit meanwhile),
    or for at most `max_rounds` claims of `claim_size` rows, or until `should_stop()` (a worker
    asked to stop: the batch in hand is sent, the rest of its claim released, nothing left
    claimed)."""
    bus = bus if bus is not None else bus_from_settings()
    report = RelayReport()
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        if should_stop is not None and should_stop():
            break
        rounds += 1
        rows = claim_due_events(limit=claim_size or settings.EVENTS_RELAY_CLAIM_SIZE)
        if not rows:
            break
        done = relay_claimed(
            bus, rows, should_stop=should_stop, worker=worker.name if worker else None
        )
        report += done
        if worker is not None:
            worker.count(done)
            worker.save_if_due()
    if report.dead or report.retrying:
        logger.info(
            "Relayed: %d sent, %d to retry, %d dead", report.sent, report.retrying, report.dead
        )
    elif report.sent:
        logger.debug("Relayed: %d sent", report.sent)  # every commit: not worth an INFO line
    return report


def drain(*, bus: Bus | None = None) -> RelayReport:
    """Relay everything due now, in the calling thread (tests, scripts)."""
    return relay_pending_events(bus=bus)


class RelayWorkerRecord:
    """A relay loop's RelayWorker row: its totals, written (upserted) at most every
    WORKER_RECORD_SECONDS, so a busy relay does not write per event or per batch."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or worker_name()
        self.started_at = timezone.now()
        self.published = 0
        self.failed = 0
        self._saved_at: float | None = None

    def count(self, report: RelayReport) -> None:
        self.published += report.sent
        self.failed += report.retrying + report.dead

    def save_if_due(self) -> None:
        if self._saved_at is None or time.monotonic() - self._saved_at >= WORKER_RECORD_SECONDS:
            self.save()

    def save(self) -> None:
        """Upsert the row now (one INSERT … ON CONFLICT on SQLite and PostgreSQL)."""
        RelayWorker.objects.bulk_create(
            [
                RelayWorker(
                    name=self.name,
                    started_at=self.started_at,
                    last_seen_at=timezone.now(),
                    published=self.published,
                    failed=self.failed,
                )
            ],
            update_conflicts=True,
            unique_fields=["name"],
            update_fields=["started_at", "last_seen_at", "published", "failed"],
        )
        self._saved_at = time.monotonic()


def next_due_at() -> datetime | None:
    due: datetime | None = OutboxEvent.objects.filter(status=PENDING).aggregate(
        at=Min("next_attempt_at")
    )["at"]
    return due


# --- the in-process relay (embedded default) ---------------------------------------------------


class InProcessRelay:
    """One background thread per server process that relays right after commits."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._requested = 0  # nudges asked for ...
        self._served = 0  # ... and how many of them a finished drain has covered
        self._thread: threading.Thread | None = None
        self._schedules: LocalSchedules | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="majestic-relay", daemon=True)
        self._thread.start()
        self.nudge()  # the backlog left by a previous process

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def nudge(self) -> None:
        with self._progress:
            self._requested += 1
        self._wake.set()

    def wait_until_idle(self, timeout: float = 10) -> bool:
        """Block until every nudge made before this call has been relayed; False on timeout."""
        with self._progress:
            target = self._requested
            return self._progress.wait_for(
                lambda: self._served >= target or not self.running, timeout
            )

    def _run(self) -> None:
        if settings.EVENTS_BACKEND == "local":
            from events.local_bus import LocalSchedules

            try:
                self._schedules = LocalSchedules()
            except Exception:
                logger.exception("Cannot read the schedules of %s", settings.EVENTS_TEMPLATE_PATH)
        worker = RelayWorkerRecord()
        while not self._stop.is_set():
            with self._progress:
                covering = self._requested
            self._wake.clear()
            try:
                relay_pending_events(worker=worker)
                worker.save_if_due()  # seen while idle too
                if self._schedules is not None:
                    self._schedules.fire_due()
                sleep = self._seconds_until_due()
            except Exception:  # e.g. the database is away: try again after a pause
                logger.exception("In-process relay round failed")
                sleep = settings.EVENTS_RELAY_POLL_SECONDS
            finally:
                connections.close_all()  # this thread's connections only
            with self._progress:
                self._served = max(self._served, covering)
                self._progress.notify_all()
            self._wake.wait(timeout=sleep)

    def _seconds_until_due(self) -> float:
        now = timezone.now()
        candidates = [now + timedelta(seconds=settings.EVENTS_RELAY_POLL_SECONDS)]
        due = next_due_at()
        if due is not None:
            candidates.append(due)
        scheduled = self._schedules.next_due() if self._schedules is not None else None
        if scheduled is not None:
            candidates.append(scheduled)
        return max(0.05, (min(candidates) - now).total_seconds())


_in_process = InProcessRelay()


def start_in_process_relay() -> InProcessRelay:
    """Start this process's relay thread (idempotent); it first relays any backlog."""
    _in_process.start()
    return _in_process


def stop_in_process_relay(timeout: float = 10) -> None:
    _in_process.stop(timeout)


def relay_soon() -> None:
    """Ask the in-process relay to run (after a commit); a no-op where none runs, e.g. in workers'
    processes, management commands or tests, whose rows the next relay run delivers."""
    if _in_process.running:
        _in_process.nudge()


def wait_until_idle(timeout: float = 10) -> bool:
    """For live-server tests: wait until the in-process relay has relayed what was committed."""
    return _in_process.wait_until_idle(timeout)
