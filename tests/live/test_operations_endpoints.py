"""What operators run against a real server process: /readyz when the database goes away,
/metrics summed over gunicorn's workers, and LOG_FORMAT=json lines in the server's own output."""

from __future__ import annotations

import json
import os
import re
import socket
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import pytest

from tests.live.server import GunicornServer, LiveServer, live_database

pytestmark = pytest.mark.live

TOKEN = "metrics-token-for-the-live-test"


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_json_logs_are_one_object_per_line_with_the_correlation_id(live_database_url, tmp_path):
    log = tmp_path / "server.log"
    dead_redis = f"redis://:redis-password-xyz@127.0.0.1:{_unused_port()}/0"
    server = LiveServer(
        live_database_url, log, LOG_FORMAT="json", REDIS_URL=dead_redis, CHANNEL_LAYER_PREFIX="x."
    ).start()
    correlation_id = uuid.uuid4().hex
    try:
        response = httpx.get(f"{server.url}/readyz", headers={"X-Correlation-ID": correlation_id})
    finally:
        server.close()
    assert response.status_code == 503
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    warning = next(line for line in lines if line["message"].startswith("Readiness check redis"))
    assert warning["level"] == "WARNING"
    assert warning["logger"] == "majestic.ops"
    assert warning["correlation_id"] == correlation_id
    assert "redis-password-xyz" not in log.read_text()


def test_readiness_names_the_database_when_it_goes_away(tmp_path):
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        pytest.skip("drops a PostgreSQL database under a running server")
    import psycopg

    with live_database(tmp_path) as url:
        server = LiveServer(url, tmp_path / "server.log", CHANNEL_LAYER_PREFIX="y.").start()
        try:
            assert httpx.get(f"{server.url}/readyz").status_code == 200
            parsed = urlparse(url)
            admin = urlunparse(parsed._replace(path="/postgres"))
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE "{parsed.path.strip("/")}" WITH (FORCE)')
            response = httpx.get(f"{server.url}/readyz")
            health = httpx.get(f"{server.url}/healthz")
        finally:
            server.close()
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database"]
    assert body["checks"]["migrations"] == "not checked"
    assert health.status_code == 503


def _sample(text: str, name: str, labels: str) -> float:
    match = re.search(rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_sum_every_gunicorn_worker(live_database_url, tmp_path):
    samples = tmp_path / "prometheus"
    samples.mkdir()
    server = GunicornServer(
        live_database_url,
        tmp_path / "gunicorn.log",
        WEB_CONCURRENCY="2",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(samples),
        CHANNEL_LAYER_PREFIX="z.",
    ).start()
    sent = 0
    try:
        # A new connection per request: the workers take turns accepting them.
        while sent < 400:
            for _ in range(20):
                response = httpx.post(f"{server.url}/graphql/", json={"query": "{ __typename }"})
                assert response.status_code == 200
                sent += 1
            if len(_processes_with_samples(samples)) >= 2:
                break
        assert len(_processes_with_samples(samples)) >= 2, "one worker answered every request"
        scrape = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        server.close()
    assert scrape.status_code == 200
    counted = _sample(
        scrape.text,
        "majestic_graphql_operations_total",
        'operation_type="query",outcome="success"',
    )
    assert counted == sent


def _processes_with_samples(directory: Path) -> set[str]:
    """The processes that counted operations (prometheus-client keeps one counter_<pid>.db each;
    the master's holds only the samples created at import)."""
    from prometheus_client.multiprocess import MultiProcessCollector

    served = set()
    for path in directory.glob("counter_*.db"):
        metrics = MultiProcessCollector.merge([str(path)], accumulate=False)
        if any(
            sample.value > 0
            for metric in metrics
            if metric.name == "majestic_graphql_operations"
            for sample in metric.samples
        ):
            served.add(path.stem.removeprefix("counter_"))
    return served
