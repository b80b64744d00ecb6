"""The ops console's reads: eventDeliveries (with their attempts), eventStats, and what
systemStatus adds (relay workers, the last heartbeat's tasks, sockets across processes)."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from strawberry import relay

from events import emit
from events.models import DeliveryAttempt, OutboxEvent, RelayWorker
from events.relay import drain
from events.selectors import event_stats
from events.services import heartbeat_record
from schema.guard.cost import requested_cost
from schema.guard.extension import rules_for
from schema.root import schema
from tests.events.sample_events import weighed
from tests.events.test_ops import api_key
from tests.events.test_outbox_relay import RecordingBus, make_all_due
from tests.factories import make_driver, make_staff

pytestmark = pytest.mark.django_db

PENDING, SENT, DEAD = OutboxEvent.Status.PENDING, OutboxEvent.Status.SENT, OutboxEvent.Status.DEAD

DELIVERIES = """
query Deliveries($status: [EventDeliveryStatus!], $retrying: Boolean, $ids: [UUID!],
                 $first: Int = 20, $after: String, $attempts: Int) {
  eventDeliveries(status: $status, retrying: $retrying, eventIds: $ids, first: $first,
                  after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id eventId source detailType status attemptCount lastError createdAt nextAttemptAt sentAt
      attempts(first: $attempts) { attemptedAt outcome error durationMs worker }
    } }
  }
}
"""

STATS = """
query Stats($since: DateTime!, $bucketSeconds: Int!) {
  eventStats(since: $since, bucketSeconds: $bucketSeconds) {
    since bucketSeconds
    buckets {
      start emitted { detailType count } deliveriesSent deliveriesFailed pendingEvents
      oldestPendingEventAge
    }
  }
}
"""

STATUS = """
{ systemStatus {
    pendingEvents websocketConnections activeSubscriptions
    relayWorkers { name startedAt lastSeenAt published failed stale }
    lastHeartbeatTasks { name count }
} }
"""


def emitted(n: int, start: int = 0) -> list[OutboxEvent]:
    with transaction.atomic():
        return [emit(weighed(start + i)) for i in range(n)]


def nodes(result) -> list[dict]:
    return [edge["node"] for edge in result["data"]["eventDeliveries"]["edges"]]


def iso(moment: datetime) -> str:
    return moment.isoformat()


# --- eventDeliveries ------------------------------------------------------------------------------


def test_deliveries_list_events_newest_first_with_their_attempts(gql):
    rows = emitted(3)
    failing = str(rows[0].event_id)
    drain(bus=RecordingBus(fail=lambda d, call: d.event_id == failing))
    make_all_due()
    drain(bus=RecordingBus(fail=lambda d, call: d.event_id == failing, error="Throttled: x"))

    result = gql(DELIVERIES, {"attempts": 5}, as_=make_staff())
    listed = nodes(result)
    assert [n["eventId"] for n in listed] == [str(r.event_id) for r in reversed(rows)]
    assert result["data"]["eventDeliveries"]["totalCount"] == 3
    retried = listed[-1]
    assert retried["status"] == "PENDING" and retried["attemptCount"] == 2
    assert retried["lastError"] == "Throttled: x"
    assert retried["nextAttemptAt"] is not None and retried["sentAt"] is None
    assert [a["outcome"] for a in retried["attempts"]] == ["FAILED", "FAILED"]
    assert [a["error"] for a in retried["attempts"]] == [
        "Throttled: x",
        "InternalFailure: try again",
    ]
    sent = listed[0]
    assert sent["status"] == "SENT" and sent["lastError"] is None and sent["nextAttemptAt"] is None
    assert sent["sentAt"] is not None
    assert [(a["outcome"], a["error"]) for a in sent["attempts"]] == [("SENT", None)]
    assert sent["attempts"][0]["worker"] and sent["attempts"][0]["durationMs"] >= 0
    assert relay.GlobalID.from_id(sent["id"]).node_id == sent["eventId"]


def test_attempts_are_the_newest_first_ones_up_to_first(gql):
    (row,) = emitted(1)
    now = timezone.now()
    for minutes in range(12):
        DeliveryAttempt.objects.create(
            event=row, attempted_at=now - timedelta(minutes=minutes), outcome="FAILED"
        )
    staff = make_staff()
    by_default = nodes(gql(DELIVERIES, as_=staff))[0]["attempts"]
    assert len(by_default) == 10
    times = [a["attemptedAt"] for a in by_default]
    assert times == sorted(times, reverse=True)
    assert len(nodes(gql(DELIVERIES, {"attempts": 3}, as_=staff))[0]["attempts"]) == 3
    refused = gql(DELIVERIES, {"first": 1, "attempts": 51}, as_=staff, expect_errors=True)
    assert refused.error_codes == ["BAD_USER_INPUT"]


def test_filters_combine(gql):
    rows = emitted(4)
    OutboxEvent.objects.filter(id=rows[0].id).update(status=DEAD, attempts=8, last_error="gone")
    OutboxEvent.objects.filter(id=rows[1].id).update(attempts=2, last_error="again")  # retrying
    OutboxEvent.objects.filter(id=rows[2].id).update(status=SENT, attempts=1)
    staff = make_staff()

    def ids(**variables) -> list[str]:
        return [n["eventId"] for n in nodes(gql(DELIVERIES, variables, as_=staff))]

    assert ids(status=["DEAD"]) == [str(rows[0].event_id)]
    assert ids(retrying=True) == [str(rows[1].event_id)]
    assert set(ids(retrying=False)) == {str(r.event_id) for r in (rows[0], rows[2], rows[3])}
    assert ids(status=["PENDING"], retrying=False) == [str(rows[3].event_id)]
    assert ids(status=["PENDING", "DEAD"], ids=[str(rows[0].event_id), str(rows[2].event_id)]) == [
        str(rows[0].event_id)
    ]
    assert ids(status=["SENT"], retrying=True) == []


def test_deliveries_page_with_cursors(gql):
    rows = emitted(5)
    staff = make_staff()
    first = gql(DELIVERIES, {"first": 2}, as_=staff)["data"]["eventDeliveries"]
    assert first["pageInfo"]["hasNextPage"] and first["totalCount"] == 5
    rest = gql(DELIVERIES, {"first": 10, "after": first["pageInfo"]["endCursor"]}, as_=staff)
    seen = [n["node"]["eventId"] for n in first["edges"]] + [n["eventId"] for n in nodes(rest)]
    assert seen == [str(r.event_id) for r in reversed(rows)]


def test_too_many_event_ids_are_refused_with_a_code(gql):
    import uuid

    ids = [str(uuid.uuid4()) for _ in range(101)]
    result = gql(DELIVERIES, {"ids": ids}, as_=make_staff(), expect_errors=True)
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["argument"] == "eventIds"


def test_a_page_of_deliveries_costs_the_same_queries_whatever_its_size(gql):
    staff = make_staff()

    def queries_for(n: int) -> int:
        OutboxEvent.objects.all().delete()
        emitted(n)
        drain(bus=RecordingBus(fail=lambda d, call: True))
        make_all_due()
        drain(bus=RecordingBus())
        with CaptureQueriesContext(connection) as queries:
            result = gql(DELIVERIES, {"first": 50}, as_=staff)
        assert len(nodes(result)) == n
        assert all(len(node["attempts"]) == 2 for node in nodes(result))
        return len(queries)

    assert queries_for(2) == queries_for(20)


@pytest.mark.parametrize(
    "caller,code",
    [
        (lambda: None, "UNAUTHENTICATED"),
        (make_driver, "FORBIDDEN"),
        (lambda: api_key("EVENTS"), "FORBIDDEN"),
    ],
)
def test_only_staff_see_deliveries_and_stats(gql, caller, code):
    emitted(1)
    result = gql(DELIVERIES, as_=caller(), expect_errors=True)
    assert result.error_codes == [code] and result["data"] is None
    since = iso(timezone.now() - timedelta(minutes=5))
    result = gql(STATS, {"since": since, "bucketSeconds": 60}, as_=caller(), expect_errors=True)
    assert result.error_codes == [code] and result["data"] is None


def test_node_finds_a_delivery_for_staff_only(gql):
    (row,) = emitted(1)
    global_id = str(relay.GlobalID("EventDelivery", str(row.event_id)))
    query = "query N($id: ID!) { node(id: $id) { ... on EventDelivery { eventId } } }"
    found = gql(query, {"id": global_id}, as_=make_staff())["data"]["node"]
    assert found == {"eventId": str(row.event_id)}
    assert gql(query, {"id": global_id}, as_=make_driver())["data"]["node"] is None


def test_attempts_are_priced_by_their_first_or_its_default():
    rules = rules_for(schema._schema)

    def cost(document: str) -> int:
        from graphql import parse
        from graphql.utilities import get_operation_ast

        ast = parse(document)
        operation = get_operation_ast(ast)
        assert operation is not None
        return requested_cost(rules, operation, {}, {}).cost

    base = "{ eventDeliveries(first: 10) { edges { node { eventId %s } } } }"
    # The connection, then each of its 10 edges and nodes, and each node's attempts.
    assert cost(base % "attempts { outcome }") == 1 + 10 * (2 + 10)  # the default, 10
    assert cost(base % "attempts(first: 2) { outcome }") == 1 + 10 * (2 + 2)
    assert cost(base % "") == 1 + 10 * 2


# --- eventStats -----------------------------------------------------------------------------------


def stats(gql, since: datetime, bucket_seconds: int, **kwargs):
    variables = {"since": iso(since), "bucketSeconds": bucket_seconds}
    return gql(STATS, variables, as_=make_staff(), **kwargs)


def away_from_a_bucket_end(seconds: int, margin: float = 3) -> datetime:
    """Now, at least `margin` seconds before the current bucket ends (waits if needed), so that
    a window counted here is the one the server counts."""
    left = seconds - time.time() % seconds
    if left < margin:
        time.sleep(left + 0.1)
    return timezone.now()


@pytest.mark.parametrize("seconds,allowed", [(9, False), (10, True), (3600, True), (3601, False)])
def test_bucket_seconds_edges(gql, seconds, allowed):
    result = stats(gql, timezone.now() - timedelta(seconds=30), seconds, expect_errors=not allowed)
    if allowed:
        assert result["data"]["eventStats"]["bucketSeconds"] == seconds
    else:
        assert result.error_codes == ["BAD_USER_INPUT"]
        extensions = result["errors"][0]["extensions"]
        assert extensions["argument"] == "bucketSeconds"
        assert (extensions["min"], extensions["max"]) == (10, 3600)


@pytest.mark.parametrize("count,allowed", [(360, True), (361, False)])
def test_at_most_360_buckets(gql, settings, count, allowed):
    settings.EVENT_STATS_MAX_WINDOW_SECONDS = 400 * 60
    now = away_from_a_bucket_end(60)
    current = int(now.timestamp()) // 60 * 60
    since = datetime.fromtimestamp(current - (count - 1) * 60, tz=UTC)
    result = stats(gql, since, 60, expect_errors=not allowed)
    if allowed:
        assert len(result["data"]["eventStats"]["buckets"]) == count
    else:
        assert result.error_codes == ["BAD_USER_INPUT"]
        assert result["errors"][0]["extensions"]["maxBuckets"] == 360


def test_since_in_the_future_or_too_long_ago_is_refused(gql, settings):
    settings.EVENT_STATS_MAX_WINDOW_SECONDS = 3600
    future = stats(gql, timezone.now() + timedelta(minutes=1), 60, expect_errors=True)
    assert future.error_codes == ["BAD_USER_INPUT"]
    assert future["errors"][0]["extensions"]["argument"] == "since"
    old = stats(gql, timezone.now() - timedelta(seconds=3700), 60, expect_errors=True)
    assert old.error_codes == ["BAD_USER_INPUT"]
    assert old["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "since",
        "maxWindowSeconds": 3600,
    }
    assert stats(gql, timezone.now() - timedelta(seconds=3500), 60)["data"]["eventStats"]


def test_buckets_are_aligned_oldest_first_and_the_last_holds_now(gql):
    now = away_from_a_bucket_end(60)
    result = stats(gql, now - timedelta(minutes=5, seconds=1), 60)["data"]["eventStats"]
    starts = [datetime.fromisoformat(b["start"]) for b in result["buckets"]]
    assert all(int(s.timestamp()) % 60 == 0 for s in starts)
    assert starts == sorted(starts)
    assert all(b - a == timedelta(seconds=60) for a, b in itertools.pairwise(starts))
    assert starts[-1] <= now < starts[-1] + timedelta(seconds=60)
    assert len(starts) in (6, 7)  # 5 minutes and a second back, aligned
    assert all(
        b["emitted"] == [] and b["pendingEvents"] == 0 and b["oldestPendingEventAge"] is None
        for b in result["buckets"]
    )


def test_stats_count_emitted_deliveries_and_the_backlog_per_bucket():
    base = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # bucket k starts at base + k minutes
    now = base + timedelta(minutes=4, seconds=30)

    def event(n: int, created: float, sent: float | None = None, status: str = PENDING) -> None:
        row = emit(weighed(n))
        OutboxEvent.objects.filter(id=row.id).update(
            created_at=base + timedelta(minutes=created),
            sent_at=None if sent is None else base + timedelta(minutes=sent),
            status=status,
        )
        if sent is not None:
            DeliveryAttempt.objects.create(
                event=row, attempted_at=base + timedelta(minutes=sent), outcome="SENT"
            )

    with transaction.atomic():
        event(1, created=-3, sent=1.5, status=SENT)  # before the window, waited until bucket 1
        event(2, created=0.2, sent=0.3, status=SENT)  # sent within its bucket: never pending
        event(3, created=0.5, sent=2.5, status=SENT)  # pending at the ends of buckets 0 and 1
        event(4, created=2.2)  # still pending
        event(5, created=3.1, status=DEAD)  # dead now: never counts
        failed = emit(weighed(6))
    OutboxEvent.objects.filter(id=failed.id).update(
        created_at=base + timedelta(minutes=4.1), status=SENT, sent_at=base + timedelta(minutes=4.2)
    )
    DeliveryAttempt.objects.create(
        event=failed, attempted_at=base + timedelta(minutes=4.15), outcome="FAILED"
    )
    DeliveryAttempt.objects.create(
        event=failed, attempted_at=base + timedelta(minutes=4.2), outcome="SENT"
    )

    with CaptureQueriesContext(connection) as queries:
        result = event_stats(since=base + timedelta(seconds=20), bucket_seconds=60, now=now)
    assert len(queries) == 4

    buckets = result.buckets
    assert [b.start for b in buckets] == [base + timedelta(minutes=k) for k in range(5)]
    assert [sum(b.emitted.values()) for b in buckets] == [2, 0, 1, 1, 1]
    assert buckets[0].emitted == {"ParcelWeighed": 2}
    assert [b.deliveries_sent for b in buckets] == [1, 1, 1, 0, 1]
    assert [b.deliveries_failed for b in buckets] == [0, 0, 0, 0, 1]
    # At each end: #1 until 1.5, #3 from 0.5 to 2.5, #4 from 2.2 on; #5 is dead.
    assert [b.pending_events for b in buckets] == [2, 1, 1, 1, 1]
    ages = [b.oldest_pending_event_age for b in buckets]
    assert ages[0] == pytest.approx(4 * 60)  # #1, created at -3, at the end of bucket 0 (+1)
    assert ages[1] == pytest.approx(1.5 * 60)  # #3, created at 0.5, at 2
    assert ages[2] == pytest.approx(0.8 * 60)  # #4, created at 2.2, at 3
    assert ages[4] == pytest.approx(2.3 * 60)  # #4 at now (4.5)


def test_stats_take_the_same_queries_for_10_or_360_buckets(gql, settings):
    settings.EVENT_STATS_MAX_WINDOW_SECONDS = 86400
    emitted(3)
    drain(bus=RecordingBus())
    now = away_from_a_bucket_end(60)

    def queries_for(since: datetime, seconds: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            stats(gql, since, seconds)
        return len(queries)

    assert queries_for(now - timedelta(minutes=9), 60) == queries_for(
        now - timedelta(minutes=359), 60
    )


# --- systemStatus ---------------------------------------------------------------------------------


def test_system_status_lists_relay_workers_fresh_and_stale(gql, settings):
    settings.RELAY_WORKER_STALE_SECONDS = 30
    settings.RELAY_WORKER_FORGET_SECONDS = 3600
    now = timezone.now()
    for name, seen in (
        ("a:1", now - timedelta(seconds=5)),
        ("b:2", now - timedelta(seconds=40)),
        ("c:3", now - timedelta(seconds=4000)),  # forgotten: not shown, purged by housekeeping
    ):
        RelayWorker.objects.create(
            name=name, started_at=seen, last_seen_at=seen, published=7, failed=1
        )
    workers = gql(STATUS, as_=make_staff())["data"]["systemStatus"]["relayWorkers"]
    assert [(w["name"], w["stale"], w["published"], w["failed"]) for w in workers] == [
        ("a:1", False, 7, 1),
        ("b:2", True, 7, 1),
    ]


def test_a_real_relay_run_shows_in_system_status(gql, recording_bus):
    from django.core.management import call_command

    emitted(2)
    call_command("relay_events", "--once")
    (worker,) = gql(STATUS, as_=make_staff())["data"]["systemStatus"]["relayWorkers"]
    assert (worker["published"], worker["failed"], worker["stale"]) == (2, 0, False)


def test_system_status_shows_the_last_heartbeats_tasks(gql):
    staff = make_staff()
    assert gql(STATUS, as_=staff)["data"]["systemStatus"]["lastHeartbeatTasks"] == []
    heartbeat_record(received_at=timezone.now(), tasks={"sentEventsPurged": 3, "deadEvents": 0})
    assert gql(STATUS, as_=staff)["data"]["systemStatus"]["lastHeartbeatTasks"] == [
        {"name": "deadEvents", "count": 0},  # by name
        {"name": "sentEventsPurged", "count": 3},
    ]


def test_the_heartbeat_reports_attempts_purged_and_workers_forgotten(gql, settings):
    from tests.events.test_ops import HEARTBEAT, tasks_of

    settings.EVENTS_DELIVERY_RETENTION_DAYS = 7
    (row,) = emitted(1)
    DeliveryAttempt.objects.create(
        event=row, attempted_at=timezone.now() - timedelta(days=8), outcome="FAILED"
    )
    long_ago = timezone.now() - timedelta(days=1)
    RelayWorker.objects.create(name="gone:1", started_at=long_ago, last_seen_at=long_ago)
    tasks = tasks_of(gql(HEARTBEAT, as_=api_key("HEARTBEAT")))
    assert tasks["deliveryAttemptsPurged"] == 1 and tasks["relayWorkersForgotten"] == 1
    status = gql(STATUS, as_=make_staff())["data"]["systemStatus"]
    assert {"name": "deliveryAttemptsPurged", "count": 1} in status["lastHeartbeatTasks"]


def test_without_sockets_the_counts_are_zero(gql):
    status = gql(STATUS, as_=make_staff())["data"]["systemStatus"]
    assert (status["websocketConnections"], status["activeSubscriptions"]) == (0, 0)
