"""Events: relay throughput (local bus, moto EventBridge) and the cost of emitting.

`python -m bench.events_bench` (also run by `make bench`). Prints figures only:
- relay throughput to the local bus: events no rule routes (the relay's own cost: claim, send,
  mark, live fan-out), and TransportCompleted events the template routes to the distribution
  function (recordArrival through the in-process gateway) and the notification function;
- relay throughput to EventBridge on a moto server on loopback (PutEvents batches of 10);
- the cost of emitting: median (and p95) latency of the createShippingItem mutation over HTTP,
  with the outbox write and with `emit` replaced by a no-op.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import time
import uuid
from typing import Any

if __name__ == "__main__":
    from bench._django import setup_django

    setup_django()

RELAY_PLAIN_EVENTS = int(os.environ.get("BENCH_RELAY_EVENTS", "2000"))
RELAY_ROUTED_EVENTS = int(os.environ.get("BENCH_ROUTED_EVENTS", "200"))
MOTO_EVENTS = int(os.environ.get("BENCH_MOTO_EVENTS", "1000"))
MUTATIONS = int(os.environ.get("BENCH_MUTATIONS", "300"))


def _event(detail_type: str, **values: Any) -> Any:
    from events.catalog import discover

    return discover()[detail_type](**values)


def _emit_many(events: list[Any], chunk: int = 500) -> None:
    from django.db import transaction

    from events import emit

    for start in range(0, len(events), chunk):
        with transaction.atomic():
            for event in events[start : start + chunk]:
                emit(event)


def _reset_outbox() -> None:
    from events.models import OutboxEvent

    OutboxEvent.objects.all().delete()


def _timed_drain(bus: Any = None) -> tuple[float, Any]:
    from events.relay import drain

    started = time.perf_counter()
    report = drain(bus=bus)
    return time.perf_counter() - started, report


def relay_to_local_bus() -> None:
    from modules.distribution.models import DistributionCenter

    _reset_outbox()
    _emit_many(
        [
            _event(
                "ShippingItemCreated",
                item_uuid=str(uuid.uuid4()),
                tracking_number=f"MJ{n:08d}",
                sku=f"SKU-{n}",
            )
            for n in range(RELAY_PLAIN_EVENTS)
        ]
    )
    seconds, report = _timed_drain()
    print(
        f"relay -> local bus, no rule matches:   {report.sent / seconds:8.0f} events/s  "
        f"({report.sent} in {seconds:.2f} s)"
    )

    _reset_outbox()
    for code in ("BNSRC", "BNDST"):
        DistributionCenter.objects.get_or_create(center_code=code, defaults={"name": code})
    _emit_many(
        [
            _event(
                "TransportCompleted",
                transport_uuid=str(uuid.uuid4()),
                source_center_code="BNSRC",
                destination_center_code="BNDST",
                driver_uuid=str(uuid.uuid4()),
                arrived_at="2026-11-28T00:00:00Z",
                aliases=[f"B-{n}"],
                tracking_numbers=[f"MJ{n:06d}{i}" for i in range(5)],
            )
            for n in range(RELAY_ROUTED_EVENTS)
        ]
    )
    seconds, report = _timed_drain()
    print(
        f"relay -> local bus -> 2 functions:     {RELAY_ROUTED_EVENTS / seconds:8.0f} events/s  "
        f"({RELAY_ROUTED_EVENTS} TransportCompleted, each recordArrival + a notice; "
        f"{report.sent} events sent in all, {report.retrying} retrying, {seconds:.2f} s)"
    )


def relay_to_moto() -> None:
    from django.conf import settings
    from moto.server import ThreadedMotoServer

    from events.bus import EventBridgeBus

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    try:
        bus = EventBridgeBus(bus_name=settings.EVENTBRIDGE_BUS_NAME)
        bus.client.create_event_bus(Name=settings.EVENTBRIDGE_BUS_NAME)
        _reset_outbox()
        _emit_many(
            [
                _event(
                    "ShippingItemCreated",
                    item_uuid=str(uuid.uuid4()),
                    tracking_number=f"MJ{n:08d}",
                    sku="SKU",
                )
                for n in range(MOTO_EVENTS)
            ]
        )
        seconds, report = _timed_drain(bus)
        print(
            f"relay -> EventBridge (moto, loopback): {report.sent / seconds:8.0f} events/s  "
            f"({report.sent} in {seconds:.2f} s, {report.retrying} retrying)"
        )
    finally:
        server.stop()


def emit_cost() -> None:
    from django.test import Client

    import events.outbox
    from modules.auth.api import access_token_for
    from modules.user.models import StaffProfile, User

    staff = User.objects.create_user(
        username=f"bench-{uuid.uuid4().hex[:6]}", type="STAFF", is_staff=True
    )
    StaffProfile.objects.get_or_create(user=staff, defaults={"full_name": "Bench Staff"})
    client = Client()
    headers: dict[str, Any] = {
        "HTTP_AUTHORIZATION": f"Bearer {access_token_for(staff)}",
        "HTTP_ACCEPT": "application/json",
    }
    query = (
        "mutation M($sku: String!) "
        "{ createShippingItem(input: {sku: $sku}) { shippingItem { uuid } errors { code } } }"
    )

    def one(n: int) -> float:
        body = json.dumps({"query": query, "variables": {"sku": f"SKU-{n}"}})
        started = time.perf_counter()
        response = client.post("/graphql/", body, content_type="application/json", **headers)
        elapsed = time.perf_counter() - started
        assert response.json()["data"]["createShippingItem"]["errors"] == [], response.content
        return elapsed

    real_emit = events.outbox.emit
    with_outbox: list[float] = []
    without_outbox: list[float] = []
    for n in range(20):  # warm caches (parser, validation, connections)
        one(n)
    # Alternate blocks so drift (caches, file growth) falls on both sides alike.
    for block in range(10):
        for n in range(MUTATIONS // 10):
            with_outbox.append(one(block * 1000 + n))
        events.outbox.emit = lambda event: None  # type: ignore[assignment, return-value]  # writes no outbox row
        try:
            for n in range(MUTATIONS // 10):
                without_outbox.append(one(500 + block * 1000 + n))
        finally:
            events.outbox.emit = real_emit

    def describe(samples: list[float]) -> str:
        median = statistics.median(samples) * 1000
        p95 = statistics.quantiles(samples, n=20)[18] * 1000
        return f"median {median:6.2f} ms  p95 {p95:6.2f} ms"

    print(
        f"createShippingItem with the outbox write:    {describe(with_outbox)}  "
        f"(n={len(with_outbox)})"
    )
    print(
        f"createShippingItem with emit as a no-op:     {describe(without_outbox)}  "
        f"(n={len(without_outbox)})"
    )
    delta = (statistics.median(with_outbox) - statistics.median(without_outbox)) * 1000
    print(f"cost of emitting one event (median delta):   {delta:6.2f} ms")


def run() -> None:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine}; python {sys.version.split()[0]}")
    relay_to_local_bus()
    relay_to_moto()
    emit_cost()


if __name__ == "__main__":
    run()
