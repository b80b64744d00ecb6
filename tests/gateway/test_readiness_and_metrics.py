"""/readyz names the check that fails; /metrics is served to its token only and counts what the
gateway does. Failures here are real: a migration unrecorded, a Redis that does not answer, an
outbox event left pending."""

from __future__ import annotations

import re
import socket
import uuid
from datetime import timedelta

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.utils import timezone

from events.models import OutboxEvent
from tests.factories import make_staff
from tests.redis_process import own_redis

pytestmark = pytest.mark.django_db


def _ready(client: Client) -> tuple[int, dict]:
    response = client.get("/readyz")
    return response.status_code, response.json()


def _pending_event(age_seconds: float) -> OutboxEvent:
    return OutboxEvent.objects.create(
        event_id=uuid.uuid4(),
        source="majestic.test",
        detail_type="Probe",
        detail={},
        created_at=timezone.now() - timedelta(seconds=age_seconds),
    )


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_healthy_gateway_is_ready(client):
    status, body = _ready(client)
    assert status == 200, body
    assert body["status"] == "ready"
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "migrations", "redis", "outbox"}


def test_an_unapplied_migration_makes_it_unready(client):
    MigrationRecorder.Migration.objects.filter(app="shipping").latest("id").delete()
    status, body = _ready(client)
    assert status == 503
    assert body["failing"] == ["migrations"]
    assert body["checks"]["migrations"] == "1 migrations not applied"


def test_a_redis_that_refuses_connections_makes_it_unready(client, settings):
    port = _unused_port()
    settings.REDIS_URL = f"redis://:hunter2-secret@127.0.0.1:{port}/0"
    status, body = _ready(client)
    assert status == 503
    assert body["failing"] == ["redis"]
    assert body["checks"]["redis"] == "failed (ConnectionError)"  # not the URL, nor its password


def test_a_redis_that_hangs_makes_it_unready_within_the_timeout(client, settings):
    settings.READINESS_TIMEOUT_SECONDS = 1
    with own_redis() as redis:
        settings.REDIS_URL = redis.url
        assert _ready(client)[0] == 200
        redis.freeze()
        status, body = _ready(client)
    assert status == 503
    assert body["failing"] == ["redis"]
    assert body["checks"]["redis"] == "failed (TimeoutError)"


def test_an_outbox_event_pending_past_the_limit_makes_it_unready(client, settings):
    settings.READINESS_MAX_OUTBOX_AGE_SECONDS = 600
    _pending_event(age_seconds=590)
    assert _ready(client)[0] == 200
    _pending_event(age_seconds=610)
    status, body = _ready(client)
    assert status == 503
    assert body["failing"] == ["outbox"]
    assert body["checks"]["outbox"].startswith("oldest pending event is 61")


def test_a_limit_of_zero_leaves_the_outbox_out(client, settings):
    settings.READINESS_MAX_OUTBOX_AGE_SECONDS = 0
    _pending_event(age_seconds=10_000)
    assert _ready(client)[0] == 200


# --- /metrics ----------------------------------------------------------------------------------


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    match = re.search(r"^" + pattern + r"$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_do_not_exist_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", "metrics-token-1234", "Bearer metrics-token-12345"],
    ids=["none", "wrong", "no scheme", "longer"],
)
def test_metrics_are_refused_without_the_right_token(client, settings, authorization):
    settings.METRICS_TOKEN = "metrics-token-1234"
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401
    assert b"metrics-token-1234" not in response.content


def test_metrics_count_operations_errors_and_the_outbox(client, settings, gql):
    settings.METRICS_TOKEN = "metrics-token-1234"

    def scrape() -> str:
        response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-1234")
        assert response.status_code == 200
        return response.content.decode()

    before = scrape()
    staff = make_staff()
    gql("{ shippingItems(first: 1) { totalCount } }", as_=staff)
    gql("{ shippingItems(first: 1) { totalCount } }", expect_errors=True)  # anonymous: refused
    client.post(
        "/graphql/", {"query": "{ __typename }"}, "application/json", HTTP_AUTHORIZATION="Bearer x"
    )
    _pending_event(age_seconds=30)
    after = scrape()

    def grew(name: str, **labels: str) -> float:
        return _metric(after, name, **labels) - _metric(before, name, **labels)

    assert grew("majestic_graphql_operations_total", operation_type="query", outcome="success") == 1
    assert grew("majestic_graphql_operations_total", operation_type="query", outcome="error") == 1
    assert grew("majestic_graphql_errors_total", code="UNAUTHENTICATED") == 1
    assert grew("majestic_graphql_operation_duration_seconds_count", operation_type="query") == 2
    assert grew("majestic_graphql_requests_refused_total", code="UNAUTHENTICATED") == 1
    assert _metric(after, "majestic_outbox_pending_events") == 1
    assert _metric(after, "majestic_outbox_oldest_pending_age_seconds") >= 30
    assert "majestic_websocket_connections" in after
    assert "majestic_relay_events_published_total" in after
