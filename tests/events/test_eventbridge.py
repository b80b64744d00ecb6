"""The EventBridge backend against a moto server on loopback: routing, partial failures, outages."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from events import emit
from events.bus import EventBridgeBus, events_client
from events.catalog import CATALOG_PATH
from events.models import OutboxEvent
from events.relay import drain
from events.template import read_routing
from tests.events.conftest import build_bus_from_template, drain_queue
from tests.events.sample_events import weighed
from tests.events.test_template import MEANT_FOR

pytestmark = pytest.mark.django_db

SENT, PENDING = OutboxEvent.Status.SENT, OutboxEvent.Status.PENDING


def make_all_due() -> None:
    OutboxEvent.objects.filter(status=PENDING).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def outbox_row(source: str, detail_type: str) -> OutboxEvent:
    """An outbox row as emit writes it (routing looks at source and detail type only)."""
    event_id = str(uuid.uuid4())
    detail = {
        "eventId": event_id,
        "occurredAt": "2026-11-28T00:00:00Z",
        "version": 1,
        "correlationId": f"corr-{event_id[:8]}",
        "actor": {"type": "system"},
        "data": {},
    }
    return OutboxEvent.objects.create(
        event_id=event_id, source=source, detail_type=detail_type, detail=detail
    )


@pytest.fixture
def eventbridge(settings, moto_server):
    settings.EVENTS_BACKEND = "eventbridge"
    return moto_server


class PartiallyFailingClient:
    """Wraps the real client: entries `fail` picks are answered as failed and never reach AWS."""

    def __init__(self, client, fail):
        self.client = client
        self.fail = fail
        self.calls: list[list[dict]] = []

    def put_events(self, Entries):  # boto3's spelling
        self.calls.append(Entries)
        passing = [e for e in Entries if not self.fail(e, len(self.calls))]
        answered = iter(self.client.put_events(Entries=passing)["Entries"] if passing else [])
        results = [
            {"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}
            if self.fail(e, len(self.calls))
            else next(answered)
            for e in Entries
        ]
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def event_ids_in(queue_url: str) -> list[str]:
    return [message["detail"]["eventId"] for message in drain_queue(queue_url)]


def test_each_rule_built_from_the_template_receives_exactly_its_events(eventbridge):
    routing = read_routing(Path(settings.EVENTS_TEMPLATE_PATH))
    queues = build_bus_from_template(routing)
    catalog = json.loads(CATALOG_PATH.read_text())["events"]
    rows = [outbox_row(e["source"], e["detailType"]) for e in catalog]
    rows.append(outbox_row("majestic.user", "TransportStarted"))  # right type, wrong source

    report = drain()

    assert report.sent == len(rows)
    assert OutboxEvent.objects.filter(status=SENT).count() == len(rows)
    for function, queue_url in queues.items():
        expected = sorted(
            str(r.event_id) for r in rows[:-1] if r.detail_type in MEANT_FOR[function]
        )
        assert sorted(event_ids_in(queue_url)) == expected, function


def test_the_delivered_event_keeps_the_envelope_and_correlation_id(eventbridge):
    queues = build_bus_from_template(read_routing(Path(settings.EVENTS_TEMPLATE_PATH)))
    row = outbox_row("majestic.shipping", "TransportCompleted")
    drain()
    (message,) = drain_queue(queues["DistributionFunction"])
    assert (message["source"], message["detail-type"]) == (
        "majestic.shipping",
        "TransportCompleted",
    )
    assert message["detail"] == row.detail
    assert message["detail"]["correlationId"] == row.detail["correlationId"]


def test_with_partial_failures_only_the_failed_entries_are_sent_again(eventbridge, recording_bus):
    # recording_bus routes "majestic.*" events; here it stands for the rule, on moto.
    settings.EVENTS_BACKEND = "eventbridge"
    queues = build_bus_from_template(read_routing(Path(settings.EVENTS_TEMPLATE_PATH)))
    queue_url = queues["RecordingFunction"]
    with transaction.atomic():
        rows = [emit(weighed(n)) for n in range(12)]
    unlucky = {"MJ0002", "MJ0007", "MJ0011"}
    client = PartiallyFailingClient(
        events_client(),
        lambda entry, call: (
            call <= 2 and json.loads(entry["Detail"])["data"]["trackingNumber"] in unlucky
        ),
    )
    bus = EventBridgeBus(bus_name=settings.EVENTBRIDGE_BUS_NAME, client=client)

    drain(bus=bus)
    assert [len(call) for call in client.calls] == [10, 2]
    assert OutboxEvent.objects.filter(status=PENDING).count() == 3
    make_all_due()
    drain(bus=bus)

    resent = [json.loads(e["Detail"])["data"]["trackingNumber"] for e in client.calls[-1]]
    assert sorted(resent) == sorted(unlucky)
    assert OutboxEvent.objects.filter(status=SENT).count() == 12
    received = event_ids_in(queue_url)
    assert sorted(received) == sorted(str(r.event_id) for r in rows)  # each once


def test_while_the_endpoint_is_unreachable_nothing_is_lost_and_nothing_arrives_twice(
    eventbridge, recording_bus
):
    settings.EVENTS_BACKEND = "eventbridge"
    queues = build_bus_from_template(read_routing(Path(settings.EVENTS_TEMPLATE_PATH)))
    queue_url = queues["RecordingFunction"]
    with transaction.atomic():
        before = [emit(weighed(n)) for n in range(5)]
    drain()  # delivered while the endpoint is up

    eventbridge.stop()
    with transaction.atomic():
        during = [emit(weighed(n)) for n in range(5, 17)]
    for _ in range(2):  # the outage lasts two relay rounds
        report = drain()
        assert report.sent == 0 and report.retrying == len(during)
        make_all_due()
    assert all(r.attempts == 2 for r in OutboxEvent.objects.filter(status=PENDING))

    eventbridge.start_again()
    report = drain()

    assert report.sent == len(during)
    assert OutboxEvent.objects.filter(status=SENT).count() == len(before) + len(during)
    received = event_ids_in(queue_url)
    assert sorted(received) == sorted(str(r.event_id) for r in before + during)
    assert len(received) == len(set(received))
