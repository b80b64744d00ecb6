"""Tracing: off by default (nothing of OpenTelemetry runs), and on with OTEL_TRACES_EXPORTER set.

The traced tests (tests/tracing/traced_flow.py) run in a pytest process of their own started with
OTEL_TRACES_EXPORTER=console: tracing sets process-wide state up (a global tracer provider, the
request middleware), which this process, untraced, checks is absent.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from events.models import OutboxEvent
from events.relay import drain
from tests.events.test_local_flows import CREATE_CENTER, CREATE_ITEM, call
from tests.factories import make_staff

ROOT = Path(__file__).resolve().parents[2]
untraced = pytest.mark.skipif(
    settings.TRACING_ENABLED, reason="this process traces (OTEL_TRACES_EXPORTER is set)"
)


def _traced_environment() -> dict[str, str]:
    environment = {**os.environ, "OTEL_TRACES_EXPORTER": "console"}
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        # Its own database: pytest-django makes test_<name>, which this process holds already.
        environment["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1] + "_otel"
    return environment


def test_the_traced_flow_in_a_process_with_otel_traces_exporter_set():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/tracing/traced_flow.py", "-q", "-s"],
        cwd=ROOT,
        env=_traced_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "4 passed" in result.stdout
    # The console exporter printed the spans as JSON on standard output.
    assert '"name": "GraphQL Query: D"' in result.stdout
    assert '"trace_id": "0x' in result.stdout


@untraced
@pytest.mark.django_db
def test_nothing_is_traced_when_otel_traces_exporter_is_unset(gql, monkeypatch):
    import opentelemetry.trace
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    import events.tracing
    from infra.functions.heartbeat.app import handler as heartbeat
    from schema.kit.tracing import TracedOperations
    from schema.root import schema

    touched: list[str] = []

    def forbidden(name):
        def record(*args, **kwargs):
            touched.append(name)
            raise AssertionError(f"{name} ran with tracing off")

        return record

    for name in ("get_tracer", "get_current_span", "use_span", "get_tracer_provider"):
        monkeypatch.setattr(opentelemetry.trace, name, forbidden(name))
    monkeypatch.setattr(TraceContextTextMapPropagator, "inject", forbidden("inject"))
    monkeypatch.setattr(TraceContextTextMapPropagator, "extract", forbidden("extract"))

    staff = make_staff()
    for code in ("NYC01", "BOS01"):
        call(
            gql,
            CREATE_CENTER,
            {"input": {"centerCode": code, "name": code}},
            staff,
            "createDistributionCenter",
        )
    call(gql, CREATE_ITEM, {"sku": "SKU-1"}, staff, "createShippingItem")
    assert drain().sent == 3  # the relay's PutEvents to the local bus
    # A function's invocation and its callback through the in-process gateway client.
    assert heartbeat({"id": "tick-1", "detail": {}}, None)["status"] == "ok"

    assert touched == []
    assert not events.tracing.enabled()
    assert not any(
        isinstance(e, type) and issubclass(e, TracedOperations) for e in schema.extensions
    )
    assert not DjangoInstrumentor().is_instrumented_by_opentelemetry
    assert not any("opentelemetry" in m for m in settings.MIDDLEWARE)
    assert all(w.__module__ != "config.tracing" for w in connection.execute_wrappers)
    assert all("traceparent" not in row.detail for row in OutboxEvent.objects.all())


@untraced
def test_configure_tracing_does_nothing_when_unset():
    from config.tracing import configure_tracing

    assert configure_tracing() is False


@pytest.mark.parametrize(
    "value,kinds",
    [
        ("otlp", ["BatchSpanProcessor"]),
        ("console", ["SimpleSpanProcessor"]),
        ("otlp, console", ["BatchSpanProcessor", "SimpleSpanProcessor"]),
        ("none", []),
    ],
)
def test_the_exporters_are_the_ones_otel_traces_exporter_names(settings, value, kinds):
    from config.tracing import processors_from_settings

    settings.OTEL_TRACES_EXPORTER = value
    processors = processors_from_settings()
    try:
        assert [type(p).__name__ for p in processors] == kinds
    finally:
        for processor in processors:
            processor.shutdown()


def test_an_unknown_exporter_is_a_start_up_error(settings):
    from config.tracing import processors_from_settings

    settings.OTEL_TRACES_EXPORTER = "jaeger"
    with pytest.raises(ImproperlyConfigured, match="'jaeger' is not one of otlp, console, none"):
        processors_from_settings()


def test_the_functions_run_untraced_without_opentelemetry_installed():
    # A clean interpreter where `import opentelemetry` fails, as in a package that lacks it.
    script = textwrap.dedent(
        """
        import os, sys
        sys.modules["opentelemetry"] = None  # every `import opentelemetry...` raises ImportError
        os.environ["OTEL_TRACES_EXPORTER"] = "console"
        os.environ["AWS_LAMBDA_FUNCTION_NAME"] = "distribution"
        from infra.functions.shared import tracing
        assert not tracing.enabled()
        assert tracing.trace_headers() == {}
        with tracing.call_span("RecordArrival"):
            pass
        handler = tracing.traced_handler("distribution")(lambda event, context: "done")
        traceparent = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
        event = {"detail": {"eventId": "e1", "traceparent": traceparent}}
        assert handler(event, None) == "done"
        monolith = ("django", "events", "schema", "modules", "config")
        assert not any(m.startswith(monolith) for m in sys.modules)
        print("untraced ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "untraced ok" in result.stdout
