"""The outbox and the relay: events leave only with their commit, and none is ever lost."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from events import emit
from events.delivery import DELIVERED, DeliveryResult
from events.models import OutboxEvent
from events.relay import (
    claim_due_events,
    drain,
    relay_pending_events,
    release_claim,
    retry_delay,
    start_in_process_relay,
    stop_in_process_relay,
    wait_until_idle,
)
from request_state import correlation_id
from tests.events.sample_events import BulkyHappened, FlakyHappened, weighed

pytestmark = pytest.mark.django_db

PENDING, SENT, DEAD = OutboxEvent.Status.PENDING, OutboxEvent.Status.SENT, OutboxEvent.Status.DEAD


class RecordingBus:
    """A bus that keeps every batch it is given and fails the deliveries `fail` picks."""

    def __init__(
        self, fail=lambda delivery, call: False, error="InternalFailure: try again", permanent=False
    ):
        self.fail = fail
        self.error = error
        self.permanent = permanent
        self.calls: list[list] = []

    def put_events(self, deliveries):
        self.calls.append(list(deliveries))
        call = len(self.calls)
        return [
            DeliveryResult(ok=False, error=self.error, permanent=self.permanent)
            if self.fail(d, call)
            else DELIVERED
            for d in deliveries
        ]

    @property
    def sent_ids(self) -> list[str]:
        return [d.event_id for call in self.calls for d in call]


def make_all_due() -> None:
    """Time passes: every retry's backoff is over."""
    OutboxEvent.objects.filter(status=PENDING).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_emit_writes_the_envelope_with_camelcase_data_and_the_requests_correlation_id():
    token = correlation_id.set("req-123")
    try:
        with transaction.atomic():
            row = emit(weighed(7, tags=["fragile"]))
    finally:
        correlation_id.reset(token)
    row.refresh_from_db()
    assert (row.source, row.detail_type, row.status) == (
        "majestic.testing",
        "ParcelWeighed",
        PENDING,
    )
    assert row.detail["eventId"] == str(row.event_id)
    assert row.detail["correlationId"] == "req-123"
    assert row.detail["actor"] == {"type": "system"}
    assert row.detail["version"] == 1
    assert row.detail["occurredAt"].endswith("Z")
    assert row.detail["data"] == {
        "trackingNumber": "MJ0007",
        "weightGrams": 107,
        "scale": "FLOOR",
        "tags": ["fragile"],
        "note": None,
    }


def test_events_emitted_outside_a_request_get_a_fresh_correlation_id():
    with transaction.atomic():
        first, second = emit(weighed(1)), emit(weighed(2))
    assert (
        first.detail["correlationId"]
        and first.detail["correlationId"] != second.detail["correlationId"]
    )


def test_a_rolled_back_transaction_emits_nothing(recording_bus):
    with pytest.raises(RuntimeError), transaction.atomic():
        emit(weighed(1))
        raise RuntimeError("the change failed after emitting")
    assert OutboxEvent.objects.count() == 0
    drain()
    assert recording_bus == []


@pytest.mark.django_db(transaction=True)
def test_a_process_that_dies_after_commit_loses_nothing(recording_bus, settings):
    # Committed, but the process is gone before any relay ran (none runs here): the row waits.
    settings.EVENTS_RELAY_IN_PROCESS = True
    with transaction.atomic():
        row = emit(weighed(1))
    row.refresh_from_db()
    assert row.status == PENDING

    call_command("relay_events", "--once")
    call_command("relay_events", "--once")  # a second run finds nothing more to send

    row.refresh_from_db()
    assert row.status == SENT and row.sent_at is not None
    assert [r["event"]["detail"]["eventId"] for r in recording_bus] == [str(row.event_id)]


def test_batches_hold_at_most_ten_entries():
    with transaction.atomic():
        for n in range(23):
            emit(weighed(n))
    bus = RecordingBus()
    report = drain(bus=bus)
    assert [len(call) for call in bus.calls] == [10, 10, 3]
    assert report.sent == 23
    assert OutboxEvent.objects.filter(status=SENT).count() == 23


def test_batches_stay_within_eventbridges_256_kb_per_request():
    with transaction.atomic():
        for _ in range(5):
            emit(BulkyHappened(payload="x" * 100_000))
    bus = RecordingBus()
    drain(bus=bus)
    assert [len(call) for call in bus.calls] == [2, 2, 1]


def test_an_event_over_256_kb_is_refused_at_emit():
    from events.outbox import EventTooLarge

    with pytest.raises(EventTooLarge) as refused, transaction.atomic():
        emit(BulkyHappened(payload="x" * 300_000))
    assert refused.value.code == "INVALID"
    assert "BulkyHappened" in refused.value.message and "256 KB" in refused.value.message
    assert OutboxEvent.objects.count() == 0


def test_only_the_failed_entries_are_sent_again():
    with transaction.atomic():
        rows = [emit(weighed(n)) for n in range(6)]
    unlucky = {str(rows[1].event_id), str(rows[4].event_id)}
    bus = RecordingBus(fail=lambda d, call: call == 1 and d.event_id in unlucky)

    first = drain(bus=bus)
    assert (first.sent, first.retrying) == (4, 2)
    failed = OutboxEvent.objects.filter(status=PENDING)
    assert {str(r.event_id) for r in failed} == unlucky
    assert all(r.attempts == 1 and "InternalFailure" in r.last_error for r in failed)
    assert all(r.next_attempt_at > timezone.now() for r in failed)  # backing off

    assert drain(bus=bus).sent == 0  # not due yet: nothing is re-sent early
    make_all_due()
    second = drain(bus=bus)

    assert second.sent == 2
    assert set(d.event_id for d in bus.calls[-1]) == unlucky
    assert sorted(bus.sent_ids) == sorted([str(r.event_id) for r in rows] + list(unlucky))
    assert OutboxEvent.objects.filter(status=SENT).count() == 6


def test_backoff_is_exponential_with_jitter_and_capped(settings):
    settings.EVENTS_RETRY_BASE_SECONDS = 2
    settings.EVENTS_RETRY_MAX_SECONDS = 60
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (20, 60)]:
        delays = {retry_delay(attempts).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered: retries of many events spread out


def test_a_row_is_dead_after_the_maximum_attempts(settings, gql):
    from tests.factories import make_staff

    settings.EVENTS_MAX_ATTEMPTS = 3
    with transaction.atomic():
        row = emit(weighed(1))
    bus = RecordingBus(fail=lambda d, call: True)
    for _ in range(5):
        drain(bus=bus)
        make_all_due()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DEAD, 3)
    assert len(bus.calls) == 3
    status = gql("{ systemStatus { failedEvents pendingEvents } }", as_=make_staff())["data"][
        "systemStatus"
    ]
    assert status == {"failedEvents": 1, "pendingEvents": 0}


def test_an_entry_refused_as_malformed_is_dead_at_once():
    with transaction.atomic():
        row = emit(weighed(1))
    drain(bus=RecordingBus(fail=lambda d, call: True, error="MalformedDetail: bad", permanent=True))
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (DEAD, 1, "MalformedDetail: bad")


def test_a_bus_that_raises_leaves_the_rows_to_retry():
    class BrokenBus:
        def put_events(self, deliveries):
            raise RuntimeError("bug in the bus")

    with transaction.atomic():
        row = emit(weighed(1))
    report = drain(bus=BrokenBus())
    row.refresh_from_db()
    assert (report.retrying, row.status, row.attempts) == (1, PENDING, 1)
    assert "bug in the bus" in row.last_error


def test_each_delivered_event_is_published_live_once(monkeypatch):
    from events import fanout

    published: list[dict] = []
    monkeypatch.setattr(fanout, "publish", published.append)
    with transaction.atomic():
        rows = [emit(weighed(n)) for n in range(3)]
    unlucky = str(rows[0].event_id)
    bus = RecordingBus(fail=lambda d, call: call == 1 and d.event_id == unlucky)
    drain(bus=bus)
    make_all_due()
    drain(bus=bus)
    drain(bus=bus)
    assert sorted(p["detail"]["eventId"] for p in published) == sorted(
        str(r.event_id) for r in rows
    )
    assert published[0].keys() == {"source", "detailType", "detail"}
    assert (
        published[0]["source"] == "majestic.testing"
        and published[0]["detailType"] == "ParcelWeighed"
    )


def test_two_relays_never_claim_the_same_rows():
    with transaction.atomic():
        for n in range(8):
            emit(weighed(n))
    first = claim_due_events(limit=5)
    second = claim_due_events(limit=5)
    third = claim_due_events(limit=5)
    assert len(first) == 5 and len(second) == 3 and third == []
    assert not {r.id for r in first} & {r.id for r in second}


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_workers_skip_rows_another_worker_holds_locked():
    if connection.vendor != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's")
    with transaction.atomic():
        for n in range(6):
            emit(weighed(n))
    holding, release = threading.Event(), threading.Event()
    claimed: dict[str, list[int]] = {}

    def slow_worker() -> None:
        try:
            with transaction.atomic():  # keeps its row locks until `release`
                claimed["slow"] = [r.id for r in claim_due_events(limit=4)]
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_worker)
    thread.start()
    assert holding.wait(10)
    # The slow worker's lease is not committed yet, so its rows still look due: only the lock
    # keeps this worker off them, and SKIP LOCKED means it does not wait for them either.
    claimed["fast"] = [r.id for r in claim_due_events(limit=10)]
    release.set()
    thread.join(10)
    assert len(claimed["slow"]) == 4 and len(claimed["fast"]) == 2
    assert not set(claimed["slow"]) & set(claimed["fast"])


def test_a_relay_asked_to_stop_finishes_the_batch_in_hand_and_releases_the_rest():
    with transaction.atomic():
        rows = [emit(weighed(n)) for n in range(25)]
    stopping = threading.Event()

    class StopAfterFirstBatch(RecordingBus):
        def put_events(self, deliveries):
            stopping.set()  # SIGTERM arrives while the handlers of the first batch run
            return super().put_events(deliveries)

    bus = StopAfterFirstBatch()
    report = relay_pending_events(bus=bus, should_stop=stopping.is_set)

    assert report.sent == 10 and [len(call) for call in bus.calls] == [10]
    assert OutboxEvent.objects.filter(status=SENT).count() == 10
    released = OutboxEvent.objects.filter(status=PENDING)
    assert released.count() == 15
    # Due at once for another worker, the claim's attempt not counted: nothing is left claimed.
    assert all(r.next_attempt_at <= timezone.now() and r.attempts == 0 for r in released)
    assert drain(bus=RecordingBus()).sent == 15
    assert OutboxEvent.objects.filter(status=SENT).count() == len(rows)


def test_releasing_leaves_rows_another_relay_took_over_alone(settings):
    with transaction.atomic():
        emit(weighed(1))
    mine = claim_due_events(limit=5)
    make_all_due()  # the lease ran out ...
    theirs = claim_due_events(limit=5)  # ... and another relay holds the row now
    assert release_claim(mine) == 0
    row = OutboxEvent.objects.get()
    assert row.next_attempt_at == theirs[0].next_attempt_at and row.attempts == 2


# --- the local bus --------------------------------------------------------------------------------


def test_the_local_bus_hands_handlers_an_eventbridge_event(recording_bus):
    token = correlation_id.set("req-local-1")
    try:
        with transaction.atomic():
            row = emit(weighed(3))
    finally:
        correlation_id.reset(token)
    drain()
    (received,) = recording_bus
    event = received["event"]
    assert received["function"] == "RecordingFunction"
    assert event.keys() >= {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert (event["source"], event["detail-type"]) == ("majestic.testing", "ParcelWeighed")
    assert event["detail"] == row.detail
    assert event["detail"]["correlationId"] == "req-local-1"


def test_a_failing_target_makes_the_event_retry_until_it_recovers(recording_bus):
    from tests.events import recording

    recording.flaky_failures_left = 2
    with transaction.atomic():
        row = emit(FlakyHappened(n=1))
    for _ in range(3):
        drain()
        make_all_due()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (SENT, 3)
    # Retried as a whole event: the healthy target saw it on every attempt (at least once).
    assert [r["function"] for r in recording_bus] == ["RecordingFunction"] * 3


# --- the in-process relay (embedded default) ------------------------------------------------------


@pytest.fixture
def in_process_relay(recording_bus, settings):
    settings.EVENTS_RELAY_IN_PROCESS = True
    yield
    stop_in_process_relay()


@pytest.mark.django_db(transaction=True)
def test_the_in_process_relay_sends_right_after_commit(in_process_relay, recording_bus):
    start_in_process_relay()
    assert wait_until_idle(10)
    with transaction.atomic():
        row = emit(weighed(1))
    assert wait_until_idle(10)
    row.refresh_from_db()
    assert row.status == SENT
    assert [r["event"]["detail"]["eventId"] for r in recording_bus] == [str(row.event_id)]


@pytest.mark.django_db(transaction=True)
def test_the_in_process_relay_sends_the_backlog_at_start(in_process_relay, recording_bus):
    with transaction.atomic():
        rows = [emit(weighed(n)) for n in range(3)]  # committed while no relay ran
    start_in_process_relay()
    assert wait_until_idle(10)
    assert OutboxEvent.objects.filter(status=SENT).count() == 3
    assert sorted(r["event"]["detail"]["eventId"] for r in recording_bus) == sorted(
        str(r.event_id) for r in rows
    )
