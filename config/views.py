"""The operational endpoints: /healthz (liveness), /readyz (readiness), /metrics (Prometheus).

They answer anonymous load balancers and scrapers, so they name what fails and never why:
exception texts can hold connection strings, and those go to the log (by type) only.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable
from functools import cache

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess

from events.metrics import OutboxCollector
from events.selectors import outbox_status

logger = logging.getLogger("majestic.ops")


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness plus a database round trip, for load balancers."""
    try:
        _database_answers()
    except Exception:  # any database failure means unhealthy; the details stay in the logs
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


# --- readiness ------------------------------------------------------------------------------------


def _database_answers() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


@cache
def _migrations_on_disk() -> frozenset[tuple[str, str]]:
    """The project's migrations, read from disk once: the files do not change under a running
    process; only which of them are applied does."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def _migrations_applied() -> str | None:
    applied = MigrationRecorder(connections[DEFAULT_DB_ALIAS]).applied_migrations()
    unapplied = _migrations_on_disk() - set(applied)
    return f"{len(unapplied)} migrations not applied" if unapplied else None


def _redis_answers() -> str | None:
    if not settings.REDIS_URL:
        return None
    timeout = settings.READINESS_TIMEOUT_SECONDS
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        client.ping()
    finally:
        client.close()
    return None


def _outbox_moving() -> str | None:
    limit = settings.READINESS_MAX_OUTBOX_AGE_SECONDS
    if limit <= 0:
        return None
    age = outbox_status().oldest_pending_event_age
    if age is not None and age > limit:
        return f"oldest pending event is {int(age)} s old (limit {limit} s)"
    return None


# Checked in this order; a check that raises fails with the exception's type only.
READINESS_CHECKS: dict[str, Callable[[], str | None]] = {
    "database": _database_answers,
    "migrations": _migrations_applied,
    "redis": _redis_answers,
    "outbox": _outbox_moving,
}


def readyz(request: HttpRequest) -> JsonResponse:
    """200 when this process can serve: database, migrations, Redis (if configured), outbox;
    503 naming each check that fails. A check after a failed database check is not run."""
    checks: dict[str, str] = {}
    for name, check in READINESS_CHECKS.items():
        if checks.get("database", "ok") != "ok":
            checks[name] = "not checked"
            continue
        try:
            problem = check()
        except Exception as exc:  # the name of what failed is the answer; details to the log
            logger.warning("Readiness check %s failed: %s", name, type(exc).__name__)
            problem = f"failed ({type(exc).__name__})"
        checks[name] = problem or "ok"
    failing = [name for name, state in checks.items() if state not in ("ok", "not checked")]
    body = {"status": "unavailable" if failing else "ready", "failing": failing, "checks": checks}
    return JsonResponse(body, status=503 if failing else 200)


# --- metrics --------------------------------------------------------------------------------------


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, to `Authorization: Bearer <METRICS_TOKEN>` only; 404 while no
    token is set, so that an unconfigured deployment shows no endpoint at all."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse(status=404)
    presented = request.headers.get("Authorization", "")
    if not hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("A metrics token is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every process writes its values to files there; this sums them (gunicorn's workers).
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    outbox = CollectorRegistry()
    outbox.register(OutboxCollector())
    return HttpResponse(
        generate_latest(registry) + generate_latest(outbox), content_type=CONTENT_TYPE_LATEST
    )
