"""The relay under faults: a frozen Redis never holds up delivery to the bus, and a relay whose
lease ran out never sends again what another relay took over."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from events import emit, fanout
from events.models import OutboxEvent
from events.relay import claim_due_events, relay_batch, relay_claimed, relay_pending_events
from tests.events.sample_events import weighed
from tests.events.test_outbox_relay import RecordingBus
from tests.redis_process import own_redis

PENDING, SENT = OutboxEvent.Status.PENDING, OutboxEvent.Status.SENT
# How long Redis stays frozen: the outbox must be drained to the bus before it thaws.
FREEZE_SECONDS = 30
EVENTS_WHILE_FROZEN = 40


@pytest.fixture
def fresh_publisher(monkeypatch):
    """A publisher of the test's own, so no message queued here reaches another test's layer."""
    publisher = fanout.LivePublisher()
    monkeypatch.setattr(fanout, "publisher", publisher)
    return publisher


@pytest.fixture
def redis_layer(settings, fresh_publisher):
    with own_redis() as redis:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [redis.url], "prefix": "majestic.faults."},
            }
        }
        yield redis


def wait_for(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.05)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_frozen_redis_does_not_stop_two_relays_draining_the_outbox_once_each(
    redis_layer, fresh_publisher
):
    if connection.vendor != "postgresql":
        pytest.skip("relays share the outbox with FOR UPDATE SKIP LOCKED, PostgreSQL's")
    # The live layer is connected and working before Redis freezes.
    with transaction.atomic():
        emit(weighed(0))
    bus = RecordingBus()
    relay_pending_events(bus=bus)
    wait_for(lambda: fresh_publisher.stats.sent == 1)

    redis_layer.freeze()
    frozen_until = time.monotonic() + FREEZE_SECONDS
    writing_done = threading.Event()
    failures: list[BaseException] = []

    def mutations() -> None:
        try:
            for n in range(1, EVENTS_WHILE_FROZEN + 1):
                with transaction.atomic():
                    emit(weighed(n))
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)
        finally:
            writing_done.set()
            connection.close()

    def relay() -> None:
        try:
            while time.monotonic() < frozen_until:
                drained = writing_done.is_set()
                relay_pending_events(bus=bus, claim_size=5)
                if drained and not OutboxEvent.objects.filter(status=PENDING).exists():
                    return
                time.sleep(0.01)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=mutations)] + [
        threading.Thread(target=relay) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(FREEZE_SECONDS + 30)
    still_frozen = time.monotonic() < frozen_until
    pending = OutboxEvent.objects.filter(status=PENDING).count()
    redis_layer.thaw()

    assert failures == []
    assert still_frozen, "the relays did not drain the outbox while Redis was frozen"
    assert pending == 0
    sent = bus.sent_ids
    assert len(sent) == EVENTS_WHILE_FROZEN + 1
    assert len(set(sent)) == len(sent), "an event went to the bus twice"
    assert OutboxEvent.objects.filter(status=SENT).count() == EVENTS_WHILE_FROZEN + 1
    # The live layer is behind, not broken: what waited for Redis goes out once it is back.
    wait_for(lambda: fresh_publisher.backlog == 0, seconds=60)


@pytest.mark.django_db
def test_a_relay_whose_lease_ran_out_leaves_the_rows_to_the_relay_that_took_them_over(settings):
    settings.EVENTS_RELAY_LEASE_SECONDS = 60
    with transaction.atomic():
        for n in range(3):
            emit(weighed(n))
    slow = claim_due_events(limit=10)
    # The slow relay's lease runs out before it gets to send; another relay claims the rows.
    OutboxEvent.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    fast = claim_due_events(limit=10)
    assert {r.id for r in fast} == {r.id for r in slow}

    bus = RecordingBus()
    late = relay_batch(bus, slow)
    on_time = relay_batch(bus, fast)

    assert (late.sent, on_time.sent) == (0, 3)
    assert sorted(bus.sent_ids) == sorted(str(r.event_id) for r in fast)
    assert OutboxEvent.objects.filter(status=SENT).count() == 3


@pytest.mark.django_db
def test_a_round_longer_than_the_lease_keeps_its_rows_from_other_relays(settings, monkeypatch):
    settings.EVENTS_RELAY_LEASE_SECONDS = 60
    with transaction.atomic():
        for n in range(20):
            emit(weighed(n))
    clock = [timezone.now()]
    monkeypatch.setattr(timezone, "now", lambda: clock[0])
    rows = claim_due_events(limit=20)  # leased for 60 s
    intruders: list[int] = []

    class SlowBus(RecordingBus):
        """Each batch takes 40 s; meanwhile another relay looks for due rows."""

        def put_events(self, deliveries):
            clock[0] += timedelta(seconds=40)
            intruders.extend(r.id for r in claim_due_events(limit=20))
            return super().put_events(deliveries)

    bus = SlowBus()
    report = relay_claimed(bus, rows)
    # 80 s for the round, past the claim's 60: the lease was renewed before the second batch.
    assert len(bus.calls) == 2 and report.sent == 20
    assert intruders == []
    assert len(set(bus.sent_ids)) == 20


# --- the replay behind domainEvents(after:) -------------------------------------------------------


@pytest.mark.django_db
def test_a_replay_gives_what_was_delivered_after_an_event_in_order_without_secrets():
    from events.selectors import ReplayPointUnknown, delivered_events_after, replay_point
    from modules.auth.events import VerificationCodeRequested

    with transaction.atomic():
        first = emit(weighed(1))
        secret = emit(
            VerificationCodeRequested(
                phone_number="+14155550199",
                sealed_code="sealed-xyz",
                purpose="SIGN_IN",
                expires_at="2026-01-01T00:05:00Z",
            )
        )
        last = emit(weighed(2))
    relay_pending_events(bus=RecordingBus())

    page = delivered_events_after(replay_point(first.event_id), limit=10)
    assert [e["detail"]["eventId"] for e in page.events] == [
        str(secret.event_id),
        str(last.event_id),
    ]
    shown = str(page.events[0])
    assert "+14155550199" not in shown and "sealed-xyz" not in shown
    assert page.events[0]["detail"]["redacted"] == ["phoneNumber", "sealedCode"]
    # One at a time, page after page, in the same order; a pending event is no replay point.
    one = delivered_events_after(replay_point(first.event_id), limit=1)
    assert one.last is not None
    rest = delivered_events_after(one.last, limit=10)
    assert [e["detail"]["eventId"] for e in one.events + rest.events] == [
        e["detail"]["eventId"] for e in page.events
    ]
    with transaction.atomic():
        pending = emit(weighed(3))
    with pytest.raises(ReplayPointUnknown):
        replay_point(pending.event_id)
