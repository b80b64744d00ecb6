"""Whole flows on the local bus: a mutation, its event, the function, the function's mutation."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from events.local_bus import LocalBus
from events.models import OutboxEvent
from events.relay import delivery_of, drain
from tests.events.conftest import read_notifications
from tests.factories import make_driver, make_staff

pytestmark = pytest.mark.django_db


def call(gql, query, variables, as_, field):
    payload = gql(query, variables, as_=as_)["data"][field]
    assert payload["errors"] == [], payload["errors"]
    return payload


CREATE_CENTER = """
mutation C($input: CreateDistributionCenterInput!) {
  createDistributionCenter(input: $input) {
    distributionCenter { centerCode }
    errors { field code message }
  }
}
"""
CREATE_ITEM = """
mutation I($sku: String!) {
  createShippingItem(input: {sku: $sku}) {
    shippingItem { trackingNumber }
    errors { field code message }
  }
}
"""
CREATE_BATCH = """
mutation B {
  createShippingBatch(input: {alias: "B-100"}) {
    shippingBatch { alias }
    errors { field code message }
  }
}
"""
ADD_ITEMS = """
mutation A($numbers: [String!]!) {
  addItemsToBatch(alias: "B-100", trackingNumbers: $numbers) {
    shippingBatch { alias }
    errors { field code message }
  }
}
"""
CREATE_TRANSPORT = """
mutation T($input: CreateTransportInput!) {
  createTransport(input: $input) { transport { uuid } errors { field code message } }
}
"""
ADD_BATCHES = """
mutation AB($uuid: UUID!) {
  addBatchesToTransport(transportUuid: $uuid, aliases: ["B-100"]) {
    transport { uuid }
    errors { field code message }
  }
}
"""
START = """
mutation S($uuid: UUID!) {
  startTransport(transportUuid: $uuid) { transport { status } errors { code } }
}
"""
COMPLETE = """
mutation D($uuid: UUID!) {
  completeTransport(transportUuid: $uuid) { transport { status } errors { code } }
}
"""
INVENTORY = """
query Inventory($code: String!) {
  distributionCenter(centerCode: $code) {
    inventoryCount
    inventory(first: 50) { edges { node { trackingNumber } } }
  }
}
"""


def inventory(gql, staff, code):
    center = gql(INVENTORY, {"code": code}, as_=staff)["data"]["distributionCenter"]
    numbers = sorted(e["node"]["trackingNumber"] for e in center["inventory"]["edges"])
    assert center["inventoryCount"] == len(numbers)
    return numbers


def test_a_completed_transport_fills_the_destination_inventory_once_even_when_delivered_twice(
    gql, notifications_file
):
    staff, driver = make_staff(), make_driver()
    for code in ("NYC01", "BOS01"):
        call(
            gql,
            CREATE_CENTER,
            {"input": {"centerCode": code, "name": code}},
            staff,
            "createDistributionCenter",
        )
    numbers = [
        call(gql, CREATE_ITEM, {"sku": f"SKU-{n}"}, staff, "createShippingItem")["shippingItem"][
            "trackingNumber"
        ]
        for n in range(3)
    ]
    call(gql, CREATE_BATCH, {}, staff, "createShippingBatch")
    call(gql, ADD_ITEMS, {"numbers": numbers}, staff, "addItemsToBatch")
    transport_input = {
        "sourceCenterCode": "NYC01",
        "destinationCenterCode": "BOS01",
        "driverUuid": str(driver.uuid),
    }
    transport = call(gql, CREATE_TRANSPORT, {"input": transport_input}, staff, "createTransport")[
        "transport"
    ]
    call(gql, ADD_BATCHES, {"uuid": transport["uuid"]}, staff, "addBatchesToTransport")
    call(gql, START, {"uuid": transport["uuid"]}, driver, "startTransport")
    drain()  # TransportStarted: departure from NYC01, a notice for BOS01

    # The driver completes the transport; the request's correlation id is followed below.
    from tests.conftest import bearer

    response = Client().post(
        "/graphql/",
        json.dumps({"query": COMPLETE, "variables": {"uuid": transport["uuid"]}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(driver),
        HTTP_X_CORRELATION_ID="req-complete-1",
    )
    assert response.json()["data"]["completeTransport"]["errors"] == []
    drain()  # TransportCompleted -> distribution function -> recordArrival

    assert inventory(gql, staff, "BOS01") == sorted(numbers)
    completed = OutboxEvent.objects.get(detail_type="TransportCompleted")
    arrival = OutboxEvent.objects.get(detail_type="ArrivalRecorded")
    assert completed.detail["correlationId"] == arrival.detail["correlationId"] == "req-complete-1"
    assert arrival.status == OutboxEvent.Status.SENT

    # EventBridge delivers at least once: the same event again changes nothing.
    LocalBus().put_events([delivery_of(completed)])
    drain()
    assert inventory(gql, staff, "BOS01") == sorted(numbers)
    assert OutboxEvent.objects.filter(detail_type="ArrivalRecorded").count() == 1
    notices = [n for n in read_notifications(notifications_file) if n["to"] == "center:BOS01"]
    assert [n["kind"] for n in notices] == ["transport-started", "transport-completed"]


REQUEST_CODE = """
mutation R($phone: String!) {
  requestVerificationCode(phoneNumber: $phone, purpose: SIGN_UP) {
    expiresAt
    errors { code message }
  }
}
"""
SIGN_UP = """
mutation U($input: SignUpInput!) {
  signUp(input: $input) { accessToken user { uuid phoneNumber } errors { field code message } }
}
"""


def test_signing_up_sends_the_code_to_that_number_and_the_code_works(gql, notifications_file):
    phone = "+14155550123"
    call(gql, REQUEST_CODE, {"phone": phone}, None, "requestVerificationCode")
    assert read_notifications(notifications_file) == []  # nothing leaves before the relay runs
    drain()

    (sms,) = read_notifications(notifications_file)
    assert (sms["channel"], sms["to"], sms["kind"]) == ("sms", phone, "verification-code")
    found = re.search(r"\b(\d{6})\b", sms["text"])
    assert found is not None, sms["text"]
    code = found.group(1)
    request_event = OutboxEvent.objects.get(detail_type="VerificationCodeRequested")
    assert code not in json.dumps(request_event.detail)  # the event carried it sealed only

    signed_up = call(
        gql,
        SIGN_UP,
        {
            "input": {
                "phoneNumber": phone,
                "code": code,
                "userType": "DRIVER",
                "fullName": "Dana Driver",
            }
        },
        None,
        "signUp",
    )
    assert signed_up["accessToken"] and signed_up["user"]["uuid"]
    drain()
    welcome = [n for n in read_notifications(notifications_file) if n["kind"] == "welcome"]
    assert [n["to"] for n in welcome] == [f"user:{signed_up['user']['uuid']}"]


def test_the_notifier_gets_the_number_and_live_subscribers_never_do(
    gql, notifications_file, monkeypatch
):
    from events import fanout

    # What goes out to the channel layer (Redis), past the publishing door that redacts.
    published = []
    monkeypatch.setattr(
        fanout.publisher, "publish", lambda message: published.append(message.get("envelope") or {})
    )
    phone = "+14155550124"
    call(gql, REQUEST_CODE, {"phone": phone}, None, "requestVerificationCode")
    drain()
    # The bus path is unchanged: the notification function still texts that number.
    (sms,) = read_notifications(notifications_file)
    assert sms["to"] == phone
    sealed = OutboxEvent.objects.get(detail_type="VerificationCodeRequested").detail["data"][
        "sealedCode"
    ]
    (live,) = [p for p in published if p["detailType"] == "VerificationCodeRequested"]
    shown = json.dumps(live)
    assert phone not in shown and "4155550124" not in shown and sealed not in shown
    assert live["detail"]["redacted"] == ["phoneNumber", "sealedCode"]


def test_a_mutation_whose_event_is_refused_changes_nothing(gql, monkeypatch):
    from events import catalog
    from modules.distribution.models import DistributionCenter

    def refuse(event_class, data):
        raise catalog.InvalidEventData(f"{event_class.__name__}.data is broken")

    monkeypatch.setattr("events.outbox.validate_data", refuse)
    result = gql(
        CREATE_CENTER,
        {"input": {"centerCode": "LAX01", "name": "LA"}},
        as_=make_staff(),
        expect_errors=True,
    )
    assert result.error_codes == ["INTERNAL_SERVER_ERROR"]
    assert not DistributionCenter.objects.exists() and not OutboxEvent.objects.exists()


def test_a_mutation_whose_event_would_be_too_large_answers_invalid_and_changes_nothing(
    gql, monkeypatch
):
    from modules.distribution.models import DistributionCenter

    monkeypatch.setattr("events.outbox.MAX_ENTRY_BYTES", 200)
    payload = gql(
        CREATE_CENTER, {"input": {"centerCode": "LAX01", "name": "LA"}}, as_=make_staff()
    )["data"]["createDistributionCenter"]
    assert [e["code"] for e in payload["errors"]] == ["INVALID"]
    assert "too large" in payload["errors"][0]["message"]
    assert not DistributionCenter.objects.exists() and not OutboxEvent.objects.exists()
