"""Events: relay throughput (local bus, moto EventBridge) and the cost of emitting.

`python -m bench.events_bench` (also run by `make bench`). Prints figures only:
- relay throughput to the local bus: events no rule routes (the relay's own cost: claim, send,
  mark, live fan-out), and TransportCompleted events the template routes to the distribution
  function (recordArrival through the in-process gateway) and the notification function;
- relay throughput to EventBridge on a moto server on loopback (PutEvents batches of 10);
- the cost of emitting: median (and p95) latency of the createShippingItem mutation over HTTP,
  with the outbox write and with `emit` replaced by a no-op, over BENCH_ROUNDS rounds; the emit
  cost (median of the rounds' deltas, and `emit` timed alone) as a ratio of the mutation's median
  (issue 16's target: at most 10 %).

`python -m bench.events_bench emit` prints the emit cost only.
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

    # Thousands of mutations from one client: a query-cost bucket that never empties.
    setup_django(GRAPHQL_COST_BUCKET_SIZE="1000000000")

RELAY_PLAIN_EVENTS = int(os.environ.get("BENCH_RELAY_EVENTS", "2000"))
RELAY_ROUTED_EVENTS = int(os.environ.get("BENCH_ROUTED_EVENTS", "200"))
MOTO_EVENTS = int(os.environ.get("BENCH_MOTO_EVENTS", "1000"))
MUTATIONS = int(os.environ.get("BENCH_MUTATIONS", "300"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
EMITS = int(os.environ.get("BENCH_EMITS", "2000"))


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


def _staff_client() -> tuple[Any, dict[str, Any]]:
    from django.test import Client

    from modules.auth.api import access_token_for
    from modules.user.models import StaffProfile, User

    staff = User.objects.create_user(
        username=f"bench-{uuid.uuid4().hex[:6]}", type="STAFF", is_staff=True
    )
    StaffProfile.objects.get_or_create(user=staff, defaults={"full_name": "Bench Staff"})
    headers: dict[str, Any] = {
        "HTTP_AUTHORIZATION": f"Bearer {access_token_for(staff)}",
        "HTTP_ACCEPT": "application/json",
    }
    return Client(), headers


def _jsonschema_only(event_class: Any, data: Any) -> None:
    """emit's check as it was before the compiled one: jsonschema's validator on every emit."""
    from events import catalog

    if next(iter(catalog._validator(event_class).iter_errors(data)), None) is not None:
        catalog.validate_data(event_class, data)  # raises with the error emit reports


def _emit_alone() -> tuple[float, float]:
    """Median seconds of one `emit` (build, check, size, outbox insert) as it is, and with the
    data checked by jsonschema as before, alternating call by call (so both see the same machine
    load), in a transaction rolled back afterwards so the table does not grow."""
    from django.db import transaction

    import events.outbox
    from events import emit
    from events.catalog import validate_data as real_check

    samples: dict[bool, list[float]] = {True: [], False: []}

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            for n in range(EMITS):
                event = _event(
                    "ShippingItemCreated",
                    item_uuid=str(uuid.uuid4()),
                    tracking_number=f"MJ{n:08d}",
                    sku=f"SKU-{n}",
                )
                compiled = n % 2 == 0
                events.outbox.validate_data = real_check if compiled else _jsonschema_only  # type: ignore[attr-defined]  # swapped for the timing
                try:
                    started = time.perf_counter()
                    emit(event)
                    samples[compiled].append(time.perf_counter() - started)
                finally:
                    events.outbox.validate_data = real_check  # type: ignore[attr-defined]
            raise Rollback
    except Rollback:
        pass
    # The first tenth warms caches.
    return tuple(statistics.median(samples[k][len(samples[k]) // 10 :]) for k in (True, False))  # type: ignore[return-value]


def schema_check_cost() -> None:
    """One event's data checked against its schema: jsonschema's validator (what emit used to
    run) and the compiled check emit runs now (events.catalog; private, timed here on purpose)."""
    import timeit

    from events import catalog

    event = _event(
        "TransportCompleted",
        transport_uuid=str(uuid.uuid4()),
        source_center_code="BNSRC",
        destination_center_code="BNDST",
        driver_uuid=str(uuid.uuid4()),
        arrived_at="2026-11-28T00:00:00Z",
        aliases=["B-1"],
        tracking_numbers=[f"MJ{i:06d}" for i in range(5)],
    )
    data, event_class = event.data(), type(event)
    validator = catalog._validator(event_class)  # type: ignore[arg-type]  # mypy: a dataclass's class is not Hashable
    checks = {"jsonschema": lambda: list(validator.iter_errors(data))}
    if hasattr(catalog, "_fast_check"):  # absent before the compiled check came in
        compiled = catalog._fast_check(event_class)  # type: ignore[arg-type]  # as above
        checks["compiled (fastjsonschema)"] = lambda: compiled(data)
    for name, check in checks.items():
        seconds = min(timeit.repeat(check, number=2000, repeat=5)) / 2000
        print(f"schema check of TransportCompleted data, {name}: {seconds * 1e6:8.1f} us")


def emit_cost() -> None:
    import events.outbox

    schema_check_cost()

    client, headers = _staff_client()
    query = (
        "mutation M($sku: String!) "
        "{ createShippingItem(input: {sku: $sku}) { shippingItem { uuid } errors { code } } }"
    )
    counter = iter(range(10**9))

    def one() -> float:
        body = json.dumps({"query": query, "variables": {"sku": f"SKU-{next(counter)}"}})
        started = time.perf_counter()
        response = client.post("/graphql/", body, content_type="application/json", **headers)
        elapsed = time.perf_counter() - started
        assert response.json()["data"]["createShippingItem"]["errors"] == [], response.content
        return elapsed

    real_emit = events.outbox.emit
    for _ in range(20):  # warm caches (parser, validation, connections)
        one()

    def one_round() -> tuple[list[float], list[float]]:
        with_outbox: list[float] = []
        without_outbox: list[float] = []
        # Alternate request by request, so drift (caches, file growth, other processes on the
        # machine) falls on both sides alike.
        for _ in range(MUTATIONS):
            with_outbox.append(one())
            events.outbox.emit = lambda event: None  # type: ignore[assignment, return-value]  # writes no outbox row
            try:
                without_outbox.append(one())
            finally:
                events.outbox.emit = real_emit
        return with_outbox, without_outbox

    def describe(samples: list[float]) -> str:
        median = statistics.median(samples) * 1000
        p95 = statistics.quantiles(samples, n=20)[18] * 1000
        return f"median {median:6.2f} ms  p95 {p95:6.2f} ms"

    mutation_medians: list[float] = []
    deltas: list[float] = []
    alone: list[float] = []
    alone_jsonschema: list[float] = []
    for round_number in range(1, ROUNDS + 1):
        with_outbox, without_outbox = one_round()
        mutation_medians.append(statistics.median(with_outbox))
        deltas.append(statistics.median(with_outbox) - statistics.median(without_outbox))
        compiled, jsonschema = _emit_alone()
        alone.append(compiled)
        alone_jsonschema.append(jsonschema)
        print(
            f"round {round_number}: createShippingItem with the outbox write "
            f"{describe(with_outbox)}; emit as a no-op {describe(without_outbox)}; emit alone "
            f"{compiled * 1000:5.3f} ms (with jsonschema {jsonschema * 1000:5.3f} ms)  "
            f"(n={len(with_outbox)} + {len(without_outbox)})"
        )
    mutation = statistics.median(mutation_medians)
    delta = statistics.median(deltas)
    print(f"createShippingItem median (median of {ROUNDS} rounds):  {mutation * 1000:6.2f} ms")
    print(
        f"cost of emitting one event, mutation delta:      {delta * 1000:6.3f} ms  "
        f"= {delta / mutation:6.1%} of createShippingItem"
    )
    for label, samples in (("jsonschema (before)", alone_jsonschema), ("compiled (now)", alone)):
        cost = statistics.median(samples)
        print(
            f"cost of emitting one event, emit alone, {label:19}: {cost * 1000:6.3f} ms  "
            f"= {cost / mutation:6.1%} of createShippingItem  (target <= 10 %)"
        )


def run() -> None:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine}; python {sys.version.split()[0]}")
    if sys.argv[1:] != ["emit"]:
        relay_to_local_bus()
        relay_to_moto()
    emit_cost()


if __name__ == "__main__":
    run()
