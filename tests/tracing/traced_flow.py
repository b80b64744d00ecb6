"""Run by tests/tracing/test_tracing.py in its own pytest process, with OTEL_TRACES_EXPORTER set:
tracing is set up once per process (a global tracer provider, the request middleware), so the
traced process is not the one that checks that nothing is traced by default.

Spans are kept by an in-memory exporter beside the console one the setting asks for.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import AsyncClient, Client
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from config.tracing import configure_tracing
from events.models import OutboxEvent
from events.relay import drain
from tests.conftest import bearer
from tests.events.test_local_flows import (
    ADD_BATCHES,
    ADD_ITEMS,
    COMPLETE,
    CREATE_BATCH,
    CREATE_CENTER,
    CREATE_ITEM,
    CREATE_TRANSPORT,
    START,
    call,
)
from tests.factories import make_driver, make_staff, make_user

EXPORTER = InMemorySpanExporter()
assert configure_tracing([EXPORTER]), "run with OTEL_TRACES_EXPORTER set"

pytestmark = pytest.mark.django_db


def attributes(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


def trace_id_in(traceparent: str) -> int:
    return int(traceparent.split("-")[1], 16)


def started_transport(gql: Any) -> tuple[Any, str]:
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
        for n in range(2)
    ]
    call(gql, CREATE_BATCH, {}, staff, "createShippingBatch")
    call(gql, ADD_ITEMS, {"numbers": numbers}, staff, "addItemsToBatch")
    transport = call(
        gql,
        CREATE_TRANSPORT,
        {
            "input": {
                "sourceCenterCode": "NYC01",
                "destinationCenterCode": "BOS01",
                "driverUuid": str(driver.uuid),
            }
        },
        staff,
        "createTransport",
    )["transport"]
    call(gql, ADD_BATCHES, {"uuid": transport["uuid"]}, staff, "addBatchesToTransport")
    call(gql, START, {"uuid": transport["uuid"]}, driver, "startTransport")
    drain()
    return driver, transport["uuid"]


def complete(driver: Any, transport_uuid: str) -> None:
    response = Client().post(
        "/graphql/",
        json.dumps({"query": COMPLETE, "variables": {"uuid": transport_uuid}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(driver),
    )
    assert response.json()["data"]["completeTransport"]["errors"] == []


def test_one_trace_from_complete_transport_through_the_local_bus_to_record_arrival(gql):
    driver, transport_uuid = started_transport(gql)
    EXPORTER.clear()

    complete(driver, transport_uuid)
    drain()  # TransportCompleted -> the distribution function (in-process) -> recordArrival

    spans = EXPORTER.get_finished_spans()
    by_name: dict[str, list[Any]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    [operation] = by_name["GraphQL Query: D"]  # COMPLETE is `mutation D`
    trace_id = operation.context.trace_id
    # The HTTP request's span is the root; the operation runs inside it.
    [request] = [s for s in spans if s.context.span_id == operation.parent.span_id]
    assert request.kind == SpanKind.SERVER and request.parent is None
    assert request.context.trace_id == trace_id

    def one_in_trace(name: str, **attributes: Any) -> Any:
        found = [
            s
            for s in by_name.get(name, [])
            if all(s.attributes.get(k) == v for k, v in attributes.items())
        ]
        assert len(found) == 1, (name, attributes, sorted(by_name))
        assert found[0].context.trace_id == trace_id, name
        return found[0]

    one_in_trace("GraphQL Resolving: completeTransport")
    written = one_in_trace("outbox write", **{"event.detail_type": "TransportCompleted"})
    completed = OutboxEvent.objects.get(detail_type="TransportCompleted")
    assert trace_id_in(completed.detail["traceparent"]) == trace_id
    assert int(completed.detail["traceparent"].split("-")[2], 16) == written.context.span_id

    handler = one_in_trace("distribution TransportCompleted")
    assert handler.kind == SpanKind.CONSUMER
    assert handler.parent.span_id == written.context.span_id  # continued from the envelope
    assert handler.attributes["event.id"] == completed.detail["eventId"]
    one_in_trace("gateway RecordArrival")
    one_in_trace("GraphQL Query: RecordArrival")
    one_in_trace("GraphQL Resolving: recordArrival")
    one_in_trace("outbox write", **{"event.detail_type": "ArrivalRecorded"})
    arrival = OutboxEvent.objects.get(detail_type="ArrivalRecorded")
    assert trace_id_in(arrival.detail["traceparent"]) == trace_id

    # Database spans inside the trace, their statements with placeholders only.
    statements = [
        attributes(s)
        for s in spans
        if attributes(s).get("db.statement") and s.context.trace_id == trace_id
    ]
    assert any(s["db.operation"] == "INSERT" for s in statements)
    assert all(transport_uuid not in s["db.statement"] for s in statements)

    # The relay's PutEvents runs in a trace of its own, linked to the events' traces.
    put_events = [s for s in by_name["PutEvents"] if s.kind == SpanKind.PRODUCER]
    assert any(link.context.trace_id == trace_id for s in put_events for link in s.links)


async def test_a_request_served_over_asgi_continues_the_callers_trace():
    caller = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
    EXPORTER.clear()
    response = await AsyncClient().post(
        "/graphql/",
        json.dumps({"query": "query Hello { __typename }"}),
        content_type="application/json",
        headers={"traceparent": caller, "accept": "application/json"},
    )
    assert response.json()["data"] == {"__typename": "Query"}
    spans: dict[int, Any] = {s.context.span_id: s for s in EXPORTER.get_finished_spans()}
    [operation] = [s for s in spans.values() if s.name == "GraphQL Query: Hello"]
    parent = spans[operation.parent.span_id]
    while parent.parent is not None and parent.parent.span_id in spans:
        parent = spans[parent.parent.span_id]
    assert parent.kind == SpanKind.SERVER and parent.name == "POST graphql/"
    assert parent.context.trace_id == operation.context.trace_id == trace_id_in(caller)


class RecordingGateway(BaseHTTPRequestHandler):
    received: list[dict[str, str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        RecordingGateway.received.append({k.lower(): v for k, v in self.headers.items()})
        body = json.dumps({"data": {"recordArrival": {"errors": []}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_the_callback_over_http_carries_the_traceparent_of_the_event(monkeypatch):
    from infra.functions.distribution.app import handler

    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingGateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("GATEWAY_URL", f"http://127.0.0.1:{server.server_address[1]}/graphql/")
    monkeypatch.setenv("GATEWAY_API_KEY", "mj_test_key_never_in_a_span")
    emitted_by = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
    event = {
        "id": "delivery-1",
        "detail-type": "TransportCompleted",
        "source": "majestic.shipping",
        "detail": {
            "eventId": str(uuid.uuid4()),
            "traceparent": emitted_by,
            "data": {
                "transportUuid": str(uuid.uuid4()),
                "destinationCenterCode": "BOS01",
                "trackingNumbers": ["MJ1"],
            },
        },
    }
    EXPORTER.clear()
    try:
        handler(event, None)
    finally:
        server.shutdown()
    [request] = RecordingGateway.received
    sent = request["traceparent"]
    assert trace_id_in(sent) == trace_id_in(emitted_by)
    [call_span] = [s for s in EXPORTER.get_finished_spans() if s.name == "gateway RecordArrival"]
    assert int(sent.split("-")[2], 16) == call_span.context.span_id
    assert_no_secret_in_spans("mj_test_key_never_in_a_span")


SIGN_IN_INLINE = """
mutation SignIn {
  signInWithPassword(username: "%s", password: "%s") {
    accessToken refreshToken errors { code }
  }
}"""
SIGN_IN = """
mutation SignIn($username: String!, $password: String!) {
  signInWithPassword(username: $username, password: $password) {
    accessToken refreshToken errors { code }
  }
}"""


def assert_no_secret_in_spans(*secrets: str) -> None:
    spans = EXPORTER.get_finished_spans()
    assert spans
    for span in spans:
        recorded = json.dumps(
            {
                "name": span.name,
                "attributes": attributes(span),
                "events": [dict(e.attributes or {}) for e in span.events],
                "resource": dict(span.resource.attributes),
            },
            default=str,
        )
        for secret in secrets:
            assert secret not in recorded, (secret, span.name)
        assert "authorization" not in recorded.lower()


def test_passwords_tokens_and_keys_never_appear_in_spans(gql):
    password = "Horse-Battery-Staple-81"
    user = make_user(username="tracy", password=password)
    token = bearer(user).split(" ", 1)[1]
    EXPORTER.clear()

    by_variables = gql(SIGN_IN, {"username": "tracy", "password": password})
    inline = gql(SIGN_IN_INLINE % ("tracy", password))
    by_get = gql(
        "query Me { me { username } }",
        {"password": password},
        as_=f"Bearer {token}",
        method="GET",
    )
    assert by_get["data"]["me"]["username"] == "tracy"
    issued = [
        result["data"]["signInWithPassword"][kind]
        for result in (by_variables, inline)
        for kind in ("accessToken", "refreshToken")
    ]
    assert all(issued)
    assert [s for s in EXPORTER.get_finished_spans() if s.name == "GraphQL Query: SignIn"]
    assert_no_secret_in_spans(password, token, *issued)
