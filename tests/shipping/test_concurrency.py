"""Races: two callers at once get exactly one success (PostgreSQL row locks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from modules.shipping.models import BatchMembership, Transport, TransportStatus
from modules.user import api as user_api
from tests.conftest import bearer, call_graphql
from tests.shipping.factories import emitted, make_batch, make_center, make_items, make_transport

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]

START = (
    "mutation($u: UUID!) { startTransport(transportUuid: $u) { "
    "transport { status } errors { code } } }"
)
COMPLETE = (
    "mutation($u: UUID!) { completeTransport(transportUuid: $u) "
    "{ transport { status } errors { code } } }"
)


@pytest.fixture(autouse=True)
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises every write anyway)")


def wait_until_another_backend_waits_for_a_lock(limit_seconds: float = 10.0) -> None:
    """Block the lock holder until the other caller is queued behind its row lock, so the two
    calls really overlap. Gives up after `limit_seconds` (then the calls did not overlap and the
    test proves less, but still checks the outcome)."""
    deadline = time.monotonic() + limit_seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type "
                "= 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0] > 0:
                return
            time.sleep(0.01)


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def graphql_call(query: str, variables: dict[str, Any], authorization: str) -> Callable[[], Any]:
    return lambda: call_graphql(Client(), query, variables, authorization=authorization)


@pytest.fixture
def ready_transport(staff: Any, driver: Any) -> Transport:
    make_center("ABC001")
    make_center("ABC002")
    return make_transport(driver=driver, batches=[make_batch("AB-1", items=make_items(3))])


def test_two_concurrent_starts_give_exactly_one_success(
    staff, driver, ready_transport, monkeypatch
):
    holder = threading.Event()
    original = user_api.active_driver

    def active_driver_while_holding_the_lock(user_uuid):
        # Runs after the transport row is locked: let the other caller queue up behind us.
        if not holder.is_set():
            holder.set()
            wait_until_another_backend_waits_for_a_lock()
        return original(user_uuid)

    monkeypatch.setattr(user_api, "active_driver", active_driver_while_holding_the_lock)
    auth = bearer(staff)
    variables = {"u": str(ready_transport.uuid)}
    results = race([graphql_call(START, variables, auth), graphql_call(START, variables, auth)])

    codes = sorted(tuple(e["code"] for e in r["data"]["startTransport"]["errors"]) for r in results)
    assert codes == [(), ("TRANSPORT_ALREADY_STARTED",)], results
    assert len(emitted("TransportStarted")) == 1
    assert Transport.objects.get(pk=ready_transport.pk).status == TransportStatus.IN_TRANSIT


def test_staff_and_driver_completing_at_once_complete_once(staff, driver, ready_transport):
    from modules.shipping import services

    services.transport_start(transport_uuid=ready_transport.uuid)
    variables = {"u": str(ready_transport.uuid)}
    results = race(
        [
            graphql_call(COMPLETE, variables, bearer(staff)),
            graphql_call(COMPLETE, variables, bearer(driver)),
        ]
    )
    codes = sorted(
        tuple(e["code"] for e in r["data"]["completeTransport"]["errors"]) for r in results
    )
    assert codes == [(), ("TRANSPORT_ALREADY_COMPLETED",)], results
    assert len(emitted("TransportCompleted")) == 1


def test_one_item_raced_into_two_batches_lands_in_one(staff):
    item = make_items(1)[0]
    make_batch("LEFT")
    make_batch("RIGHT")
    query = (
        "mutation($a: String!, $t: [String!]!) { addItemsToBatch(alias: "
        "$a, trackingNumbers: $t) { errors { code } } }"
    )
    auth = bearer(staff)
    results = race(
        [
            graphql_call(query, {"a": "LEFT", "t": [item.tracking_number]}, auth),
            graphql_call(query, {"a": "RIGHT", "t": [item.tracking_number]}, auth),
        ]
    )
    codes = sorted(
        tuple(e["code"] for e in r["data"]["addItemsToBatch"]["errors"]) for r in results
    )
    assert codes[0] == ()
    assert codes[1] in (
        ("ITEM_IN_OPEN_BATCH",),
        ("INVALID",),
    )  # INVALID: the database's unique index caught it
    assert BatchMembership.objects.filter(item=item, batch_open=True).count() == 1


def test_adding_items_while_the_transport_leaves_never_strands_them(staff, driver, ready_transport):
    """Either the items make the trip (and are in the departure event) or they are refused."""
    late = make_items(2)
    query = (
        'mutation($t: [String!]!) { addItemsToBatch(alias: "AB-1", '
        "trackingNumbers: $t) { errors { code } } }"
    )
    auth = bearer(staff)
    results = race(
        [
            graphql_call(query, {"t": [i.tracking_number for i in late]}, auth),
            graphql_call(START, {"u": str(ready_transport.uuid)}, auth),
        ]
    )
    add_codes = [e["code"] for e in results[0]["data"]["addItemsToBatch"]["errors"]]
    assert results[1]["data"]["startTransport"]["errors"] == []
    [departure] = emitted("TransportStarted")
    in_batch = BatchMembership.objects.filter(item__in=late).count()
    if add_codes == []:
        assert in_batch == 2
        assert set(departure["tracking_numbers"]) >= {i.tracking_number for i in late}
    else:
        assert add_codes == ["TRANSPORT_ALREADY_STARTED"]
        assert in_batch == 0
