"""What the relay leaves behind for ops: one attempt record per event per publish attempt (written
in bulk, never holding a secret), its own RelayWorker row, and their housekeeping."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events import emit
from events.models import DeliveryAttempt, OutboxEvent, RelayWorker
from events.relay import (
    REDACTED,
    RelayWorkerRecord,
    claim_due_events,
    delivery_error,
    drain,
    relay_batch,
    start_in_process_relay,
    stop_in_process_relay,
    wait_until_idle,
    worker_name,
)
from events.services import delivery_attempts_purge, relay_workers_forget, sent_events_purge
from modules.auth.events import VerificationCodeRequested
from tests.events.sample_events import weighed
from tests.events.test_outbox_relay import RecordingBus, make_all_due

pytestmark = pytest.mark.django_db

PENDING, SENT, DEAD = OutboxEvent.Status.PENDING, OutboxEvent.Status.SENT, OutboxEvent.Status.DEAD
SENT_, FAILED = DeliveryAttempt.Outcome.SENT, DeliveryAttempt.Outcome.FAILED


def emitted(n: int) -> list[OutboxEvent]:
    with transaction.atomic():
        return [emit(weighed(i)) for i in range(n)]


def inserts_into(queries: CaptureQueriesContext, table: str) -> int:
    return sum(1 for q in queries.captured_queries if q["sql"].startswith(f'INSERT INTO "{table}"'))


# --- attempt records ----------------------------------------------------------------------------


def test_each_publish_attempt_leaves_one_record_per_event_written_in_one_insert():
    rows = emitted(3)
    failing = str(rows[1].event_id)
    bus = RecordingBus(fail=lambda d, call: d.event_id == failing)
    claimed = claim_due_events(limit=10)
    with CaptureQueriesContext(connection) as queries:
        relay_batch(bus, claimed, worker="relay-a")
    assert inserts_into(queries, DeliveryAttempt._meta.db_table) == 1

    attempts = {a.event_id: a for a in DeliveryAttempt.objects.all()}
    assert len(attempts) == 3
    assert [attempts[r.id].outcome for r in rows] == [SENT_, FAILED, SENT_]
    assert attempts[rows[1].id].error == "InternalFailure: try again"
    assert attempts[rows[0].id].error == ""
    assert all(a.worker == "relay-a" and a.duration_ms is not None for a in attempts.values())
    assert all(a.duration_ms >= 0 for a in attempts.values())  # type: ignore[operator]


def test_a_retried_event_keeps_every_attempt_newest_first():
    (row,) = emitted(1)
    calls = iter([True, True, False])
    bus = RecordingBus(fail=lambda d, call: next(calls))
    for _ in range(3):
        drain(bus=bus)
        make_all_due()
    outcomes = list(row.delivery_attempts.values_list("outcome", flat=True))
    assert outcomes == [SENT_, FAILED, FAILED]  # the model's order: newest first
    row.refresh_from_db()
    assert (row.status, row.attempts) == (SENT, 3)


def test_a_drain_names_this_process_as_the_worker():
    emitted(1)
    drain(bus=RecordingBus())
    assert DeliveryAttempt.objects.get().worker == worker_name()


def test_a_secret_in_a_failing_publish_never_lands_in_the_records():
    with transaction.atomic():
        row = emit(
            VerificationCodeRequested(
                phone_number="+15550001234",
                purpose="SIGN_IN",
                expires_at="2030-01-01T00:00:00Z",
                sealed_code="sealed-value-0123456789",
            )
        )
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"
    error = (
        "notify: ValueError: cannot send to +15550001234 (sealed-value-0123456789); "
        f"password=hunter2 api_key: 'k-123456' Authorization: Bearer {jwt} "
        "key AKIAABCDEFGHIJKLMNOP code=654321"
    )
    drain(bus=RecordingBus(fail=lambda d, call: True, error=error))

    attempt = DeliveryAttempt.objects.get()
    row.refresh_from_db()
    for secret in (
        "+15550001234",
        "sealed-value-0123456789",
        "hunter2",
        "k-123456",
        jwt,
        "AKIAABCDEFGHIJKLMNOP",
        "654321",
    ):
        assert secret not in attempt.error
        assert secret not in row.last_error
    assert attempt.error == row.last_error
    assert attempt.error.startswith("notify: ValueError: cannot send to [redacted]")
    assert "password=[redacted]" in attempt.error


def test_error_texts_keep_what_is_no_secret_and_are_truncated():
    (row,) = emitted(1)
    assert delivery_error(row, "InternalFailure: try again") == "InternalFailure: try again"
    # An error's type naming a token is no key: its message stays.
    kept = "ExpiredTokenException: The security token included in the request is expired"
    assert delivery_error(row, kept) == kept
    assert delivery_error(row, "x" * 5000) == "x" * 2000
    assert delivery_error(row, '{"token": "abc123"}') == f'{{"token": "{REDACTED}"}}'


def test_a_bus_that_raises_leaves_a_failed_attempt_too():
    emitted(1)

    class Broken:
        def put_events(self, deliveries):
            raise RuntimeError("bug in the bus, secret=s3cr3t")

    drain(bus=Broken())
    attempt = DeliveryAttempt.objects.get()
    assert attempt.outcome == FAILED
    assert "bug in the bus" in attempt.error and "s3cr3t" not in attempt.error


# --- retention ------------------------------------------------------------------------------------


def test_attempts_are_purged_after_the_retention_at_its_edge(settings):
    settings.EVENTS_DELIVERY_RETENTION_DAYS = 7
    (row,) = emitted(1)
    now = timezone.now()
    edge = now - timedelta(days=7)
    for at in (edge - timedelta(seconds=1), edge, edge + timedelta(seconds=1)):
        DeliveryAttempt.objects.create(event=row, attempted_at=at, outcome=FAILED)
    assert delivery_attempts_purge(now=now) == 1
    assert sorted(DeliveryAttempt.objects.values_list("attempted_at", flat=True)) == [
        edge,
        edge + timedelta(seconds=1),
    ]
    assert delivery_attempts_purge(now=now) == 0  # safe to repeat


def test_purging_sent_events_counts_events_not_their_cascaded_attempts(settings):
    settings.EVENTS_SENT_RETENTION_DAYS = 1
    rows = emitted(2)
    drain(bus=RecordingBus())
    OutboxEvent.objects.update(sent_at=timezone.now() - timedelta(days=2))
    assert DeliveryAttempt.objects.count() == 2
    assert sent_events_purge() == len(rows)
    assert DeliveryAttempt.objects.count() == 0


# --- relay workers --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_relay_run_records_its_worker_with_its_totals(recording_bus):
    with transaction.atomic():
        for i in range(3):
            emit(weighed(i))
    call_command("relay_events", "--once")
    worker = RelayWorker.objects.get()
    assert worker.name == worker_name()
    assert (worker.published, worker.failed) == (3, 0)
    assert worker.started_at <= worker.last_seen_at <= timezone.now()


@pytest.mark.django_db(transaction=True)
def test_the_in_process_relay_records_itself(recording_bus, settings):
    settings.EVENTS_RELAY_IN_PROCESS = True
    try:
        start_in_process_relay()
        assert wait_until_idle(10)
        with transaction.atomic():
            emit(weighed(1))
        assert wait_until_idle(10)
        assert RelayWorker.objects.filter(name=worker_name()).exists()
    finally:
        stop_in_process_relay()


def test_a_busy_relay_writes_its_row_at_most_every_few_seconds():
    worker = RelayWorkerRecord(name=f"test:{uuid.uuid4().hex[:6]}")
    bus = RecordingBus(fail=lambda d, call: d.event_id.endswith(("0", "2", "4", "6", "8")))
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            emitted(2)
            from events.relay import relay_pending_events

            relay_pending_events(bus=bus, worker=worker)
    assert inserts_into(queries, RelayWorker._meta.db_table) == 1  # the first round only
    row = RelayWorker.objects.get(name=worker.name)
    assert row.published <= worker.published  # written before the later rounds
    worker.save()
    row.refresh_from_db()
    assert row.published + row.failed == 10
    assert (row.published, row.failed) == (worker.published, worker.failed)


def test_relay_workers_long_gone_are_forgotten_at_the_edge(settings):
    settings.RELAY_WORKER_FORGET_SECONDS = 3600
    now = timezone.now()
    edge = now - timedelta(seconds=3600)
    for name, seen in (("gone", edge - timedelta(seconds=1)), ("edge", edge), ("alive", now)):
        RelayWorker.objects.create(name=name, started_at=seen, last_seen_at=seen)
    assert relay_workers_forget(now=now) == 1
    assert sorted(RelayWorker.objects.values_list("name", flat=True)) == ["alive", "edge"]


def test_purging_sent_events_goes_in_chunks_without_reading_their_details(settings, monkeypatch):
    from events import services

    monkeypatch.setattr(services, "PURGE_CHUNK", 2)
    settings.EVENTS_SENT_RETENTION_DAYS = 1
    emitted(5)
    drain(bus=RecordingBus())
    OutboxEvent.objects.update(sent_at=timezone.now() - timedelta(days=2))
    with CaptureQueriesContext(connection) as queries:
        assert sent_events_purge() == 5
    assert not any('"detail"' in q["sql"] for q in queries.captured_queries)
    assert OutboxEvent.objects.count() == DeliveryAttempt.objects.count() == 0
