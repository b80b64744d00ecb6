"""The functions' handlers, given events as EventBridge delivers them (twice, sometimes)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from events.listeners import notify
from events.models import Heartbeat, OutboxEvent
from events.sealing import seal
from infra.functions.distribution import app as distribution
from infra.functions.heartbeat import app as heartbeat
from infra.functions.notification import app as notification
from infra.functions.shared.envelope import MalformedEvent
from infra.functions.shared.gateway import GatewayError
from infra.functions.shared.idempotency import (
    MemoryProcessedEvents,
    SqliteProcessedEvents,
    once,
    processed_events_store,
)
from infra.functions.shared.sealing import SealUnopenable
from tests.events.conftest import read_notifications
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

CONTEXT = None  # the handlers do not need Lambda's context object


def bridge_event(
    source: str,
    detail_type: str,
    data: dict,
    *,
    event_id: str | None = None,
    correlation_id="corr-fn-1",
):
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "000000000000",
        "time": "2026-11-28T00:00:00Z",
        "region": "local",
        "resources": [],
        "detail": {
            "eventId": event_id or str(uuid.uuid4()),
            "occurredAt": "2026-11-28T00:00:00Z",
            "version": 1,
            "correlationId": correlation_id,
            "actor": {"type": "user", "uuid": str(uuid.uuid4())},
            "data": data,
        },
    }


def transport_event(
    detail_type: str,
    numbers: list[str],
    *,
    source="NYC01",
    destination="BOS01",
    announced=True,
    **kwargs,
):
    """The event as EventBridge delivers it; `announced`: as shipping emitted it, so distribution's
    listener noted the movement (which recordDeparture / recordArrival then accept)."""
    data = {
        "transportUuid": str(uuid.UUID(int=7)),
        "sourceCenterCode": source,
        "destinationCenterCode": destination,
        "driverUuid": str(uuid.uuid4()),
        "aliases": ["B-1"],
        "trackingNumbers": numbers,
    }
    if announced:
        notify("shipping", detail_type, data)
    return bridge_event("majestic.shipping", detail_type, data, **kwargs)


def code_event(
    phone: str, code: str, *, expires_in=timedelta(minutes=3), purpose="SIGN_UP", **kwargs
):
    expires_at = (datetime.now(UTC) + expires_in).isoformat().replace("+00:00", "Z")
    data = {
        "phoneNumber": phone,
        "purpose": purpose,
        "expiresAt": expires_at,
        "sealedCode": seal(code),
    }
    return bridge_event("majestic.auth", "VerificationCodeRequested", data, **kwargs)


INVENTORY = """
query Inventory($code: String!) {
  distributionCenter(centerCode: $code) {
    inventoryCount
    inventory(first: 50) { edges { node { trackingNumber transportUuid } } }
  }
}
"""


def inventory(gql, code: str) -> list[str]:
    center = gql(INVENTORY, {"code": code}, as_=make_staff())["data"]["distributionCenter"]
    return sorted(edge["node"]["trackingNumber"] for edge in center["inventory"]["edges"])


@pytest.fixture
def centers():
    from modules.distribution.models import DistributionCenter

    for code in ("NYC01", "BOS01"):
        DistributionCenter.objects.create(center_code=code, name=f"Center {code}")


# --- distribution ---------------------------------------------------------------------------------


def test_transport_completed_puts_the_items_into_the_destination_once_even_if_delivered_twice(
    gql, centers
):
    event = transport_event("TransportCompleted", ["MJ0001", "MJ0002", "MJ0003"])
    assert distribution.handler(event, CONTEXT)["mutation"] == "recordArrival"
    distribution.handler(event, CONTEXT)  # EventBridge delivered it again
    assert inventory(gql, "BOS01") == ["MJ0001", "MJ0002", "MJ0003"]
    assert inventory(gql, "NYC01") == []


def test_transport_started_takes_the_items_out_of_the_source(gql, centers):
    distribution.handler(
        transport_event("TransportCompleted", ["MJ0001", "MJ0002"], destination="NYC01"), CONTEXT
    )
    assert inventory(gql, "NYC01") == ["MJ0001", "MJ0002"]
    started = transport_event(
        "TransportStarted", ["MJ0001", "MJ0002"], source="NYC01", destination="BOS01"
    )
    assert distribution.handler(started, CONTEXT)["mutation"] == "recordDeparture"
    distribution.handler(started, CONTEXT)
    assert inventory(gql, "NYC01") == []


def test_a_refused_movement_fails_the_invocation_so_it_is_retried(centers):
    with pytest.raises(GatewayError) as refused:
        distribution.handler(
            transport_event("TransportCompleted", ["MJ0001"], destination="NOPE1"), CONTEXT
        )
    assert refused.value.codes and "recordArrival was refused" in str(refused.value)


def test_a_movement_shipping_never_announced_is_refused_and_retried(gql, centers):
    forged = transport_event("TransportCompleted", ["MJ0001"], announced=False)
    with pytest.raises(GatewayError) as refused:
        distribution.handler(forged, CONTEXT)
    assert refused.value.codes == ["MOVEMENT_NOT_ANNOUNCED"]
    assert inventory(gql, "BOS01") == []


def test_the_correlation_id_reaches_the_functions_logs_and_the_events_its_mutations_emit(
    centers, caplog
):
    caplog.set_level(logging.INFO, logger="majestic.functions")
    with transaction.atomic():
        distribution.handler(
            transport_event("TransportCompleted", ["MJ0009"], correlation_id="req-abc-42"), CONTEXT
        )
    (record,) = [r for r in caplog.records if r.name == "majestic.functions.distribution"]
    assert (
        record.correlationId == "req-abc-42" and "correlationId=req-abc-42" in record.getMessage()
    )
    arrival = OutboxEvent.objects.get(detail_type="ArrivalRecorded")
    assert arrival.detail["correlationId"] == "req-abc-42"
    assert arrival.detail["actor"] == {"type": "apiKey", "name": "function:distribution"}


def test_something_that_is_not_our_event_is_refused():
    with pytest.raises(MalformedEvent):
        distribution.handler({"detail-type": "TransportStarted", "detail": {"no": "id"}}, CONTEXT)


# --- notification ---------------------------------------------------------------------------------


def test_a_verification_code_is_sent_by_sms_once_even_if_delivered_twice(notifications_file):
    event = code_event("+15550100001", "482913")
    assert notification.handler(event, CONTEXT)["status"] == "sent"
    assert notification.handler(event, CONTEXT)["status"] == "duplicate"
    (sent,) = read_notifications(notifications_file)
    assert (sent["channel"], sent["to"], sent["kind"]) == (
        "sms",
        "+15550100001",
        "verification-code",
    )
    assert "482913" in sent["text"] and sent["eventId"] == event["detail"]["eventId"]


def test_an_expired_code_is_not_sent(notifications_file):
    notification.handler(
        code_event("+15550100001", "482913", expires_in=timedelta(seconds=-1)), CONTEXT
    )
    assert read_notifications(notifications_file) == []


def test_a_code_that_does_not_open_is_not_sent_and_can_be_retried(notifications_file):
    event = code_event("+15550100001", "482913")
    event["detail"]["data"]["sealedCode"] = seal("482913")[:-4] + "AAAA"
    with pytest.raises(SealUnopenable):
        notification.handler(event, CONTEXT)
    assert read_notifications(notifications_file) == []
    assert processed_events_store().claim(f"notification:{event['detail']['eventId']}")  # released


def test_the_code_stays_out_of_the_logs_unless_printing_codes_is_on(
    notifications_file, settings, caplog
):
    caplog.set_level(logging.INFO, logger="majestic.functions")
    settings.AUTH_PRINT_VERIFICATION_CODES = False
    notification.handler(code_event("+15550100001", "482913"), CONTEXT)
    assert "482913" not in caplog.text and "+15550100001" not in caplog.text
    settings.AUTH_PRINT_VERIFICATION_CODES = True
    notification.handler(code_event("+15550100001", "777111"), CONTEXT)
    assert "777111" in caplog.text


def test_a_new_user_gets_a_welcome_push(notifications_file):
    user_uuid = str(uuid.uuid4())
    notification.handler(
        bridge_event(
            "majestic.user", "UserSignedUp", {"userUuid": user_uuid, "userType": "DRIVER"}
        ),
        CONTEXT,
    )
    (sent,) = read_notifications(notifications_file)
    assert (sent["channel"], sent["to"], sent["kind"]) == ("push", f"user:{user_uuid}", "welcome")
    assert "driver" in sent["text"]


def test_the_destination_center_hears_of_departures_and_arrivals(notifications_file):
    notification.handler(transport_event("TransportStarted", ["MJ1", "MJ2"]), CONTEXT)
    notification.handler(transport_event("TransportCompleted", ["MJ1", "MJ2"]), CONTEXT)
    started, completed = read_notifications(notifications_file)
    assert (started["to"], started["kind"]) == ("center:BOS01", "transport-started")
    assert "left NYC01 for BOS01 with 2 items" in started["text"]
    assert (completed["to"], completed["kind"]) == ("center:BOS01", "transport-completed")


# --- heartbeat ------------------------------------------------------------------------------------


def test_the_heartbeat_function_runs_housekeeping():
    result = heartbeat.handler(
        {"id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "detail": {}}, CONTEXT
    )
    assert result["status"] == "ok" and "deadEvents" in result["tasks"]
    assert Heartbeat.objects.get().received_at is not None


# --- the processed-events stores ------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    return (
        MemoryProcessedEvents()
        if request.param == "memory"
        else SqliteProcessedEvents(str(tmp_path / "p.db"))
    )


def test_a_claim_is_taken_once_and_released_on_failure(store):
    with pytest.raises(ValueError), once(store, "k1") as first:
        assert first
        raise ValueError("the work failed")
    with once(store, "k1") as first:  # released: the retry does the work
        assert first
    with once(store, "k1") as first:  # done: never again
        assert not first
    assert store.claim("k2") and not store.claim("k2")  # in progress elsewhere


def test_a_claim_whose_worker_died_lapses(store, monkeypatch):
    from infra.functions.shared import idempotency

    monkeypatch.setattr(idempotency, "LEASE_SECONDS", -1)  # every claim's lease is already over
    assert store.claim("k")
    assert store.claim("k")  # the first worker never finished: its claim lapsed
    store.complete("k")
    assert not store.claim("k")
