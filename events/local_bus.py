"""The local bus: EventBridge's routing, in-process, on the embedded default (EVENTS_BACKEND=local).

It reads the rules of `infra/template.yaml` (settings.EVENTS_TEMPLATE_PATH), matches each event
against their patterns with EventBridge semantics (events.patterns) and calls the handler each
rule targets (the function's Handler under its CodeUri): the very code the Lambdas run, given the
event as EventBridge would give it. The handlers reach the gateway through their shared client,
which in-process means settings.LOCAL_GATEWAY_CLIENT. Schedule rules (`rate(...)`) fire from the
in-process relay.

A delivery fails when any target's handler raises; the relay then retries the whole event with
backoff, and the handlers, idempotent on detail.eventId, do each piece of work once.
"""

from __future__ import annotations

import importlib
import logging
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from events.delivery import DELIVERED, Delivery, DeliveryResult
from events.envelope import eventbridge_event
from events.template import Function, Routing, Rule, read_routing
from request_state import correlation_id

logger = logging.getLogger("majestic.events.local_bus")

LOCAL_REGION = "local"
LOCAL_ACCOUNT = "000000000000"
Handler = Callable[[dict[str, Any], Any], Any]


def local_routing() -> Routing:
    """The template's routing as deployed with this process's settings (re-read on change)."""
    path = Path(settings.EVENTS_TEMPLATE_PATH)
    parameters = (
        ("EventSourcePrefix", settings.EVENTS_SOURCE_PREFIX),
        ("EventBusName", settings.EVENTBRIDGE_BUS_NAME),
    )
    key = (str(path), path.stat().st_mtime_ns, parameters)
    cached = _routing_cache.get("current")
    if cached is None or cached[0] != key:
        cached = (key, read_routing(path, parameters=dict(parameters)))
        _routing_cache["current"] = cached
    return cached[1]


_routing_cache: dict[str, tuple[Any, Routing]] = {}


@dataclass
class LocalInvocationContext:
    """The parts of a Lambda context object that handlers use."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = ""

    def __post_init__(self) -> None:
        if not self.invoked_function_arn:
            self.invoked_function_arn = (
                f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{self.function_name}"
            )

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def handler_for(function: Function) -> Handler:
    """Import the function's handler as Lambda would: Handler is a dotted path under CodeUri."""
    module_path, _, attribute = function.handler.rpartition(".")
    base_dir = Path(settings.BASE_DIR).resolve()
    try:
        package = function.code_dir.relative_to(base_dir).parts
    except ValueError:
        package = None
    if package is not None:
        dotted = ".".join((*package, module_path))
    else:
        # Code outside the project: import it the way Lambda does, from the code folder.
        if str(function.code_dir) not in sys.path:
            sys.path.append(str(function.code_dir))
        dotted = module_path
    handler = getattr(importlib.import_module(dotted), attribute)
    if not callable(handler):
        raise TypeError(f"{function.logical_id}: {function.handler} is not callable")
    checked: Handler = handler
    return checked


def invoke(function: Function, event: dict[str, Any]) -> Any:
    return handler_for(function)(event, LocalInvocationContext(function_name=function.logical_id))


class LocalBus:
    def __init__(self, routing: Routing | None = None, *, bus_name: str | None = None) -> None:
        self.routing = routing if routing is not None else local_routing()
        self.bus_name = bus_name or settings.EVENTBRIDGE_BUS_NAME

    def rules_for(self, event: dict[str, Any]) -> list[Rule]:
        return [
            r for r in self.routing.rules_matching(event) if r.event_bus in (None, self.bus_name)
        ]

    def put_events(self, deliveries: Sequence[Delivery]) -> list[DeliveryResult]:
        return [self.deliver(d) for d in deliveries]

    def deliver(self, delivery: Delivery) -> DeliveryResult:
        event = eventbridge_event(
            source=delivery.source,
            detail_type=delivery.detail_type,
            detail=delivery.detail,
            region=LOCAL_REGION,
            account=LOCAL_ACCOUNT,
        )
        failures = []
        token = correlation_id.set(delivery.correlation_id)
        try:
            for rule in self.rules_for(event):
                try:
                    invoke(rule.function, event)
                except Exception as exc:  # a failing target must not stop the other targets
                    logger.exception(
                        "%s failed on %s %s", rule.name, delivery.detail_type, delivery.event_id
                    )
                    failures.append(f"{rule.name}: {type(exc).__name__}: {exc}"[:500])
        finally:
            correlation_id.reset(token)
        return DeliveryResult(ok=False, error="; ".join(failures)) if failures else DELIVERED


# --- schedules -----------------------------------------------------------------------------------

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_interval(expression: str) -> timedelta | None:
    """The interval of a `rate(...)` expression; None for cron, which runs only in AWS."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    count, unit = int(match.group(1)), match.group(2).rstrip("s")
    return timedelta(seconds=count * _UNITS[unit])


def scheduled_event(rule: Rule) -> dict[str, Any]:
    """The event EventBridge Scheduler hands a function on a schedule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": LOCAL_REGION,
        "resources": [f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:rule/{rule.name}"],
        "detail": {},
    }


class LocalSchedules:
    """Fires the template's `rate(...)` schedules in-process, first one interval after start."""

    def __init__(
        self, routing: Routing | None = None, *, started_at: datetime | None = None
    ) -> None:
        self.routing = routing if routing is not None else local_routing()
        started_at = started_at or timezone.now()
        self.next_run: dict[str, datetime] = {}
        self.rules: dict[str, tuple[Rule, timedelta]] = {}
        for rule in self.routing.schedule_rules():
            interval = rate_interval(rule.schedule or "")
            if interval is None:
                logger.info("Schedule %s (%s) runs only in AWS", rule.name, rule.schedule)
                continue
            self.rules[rule.name] = (rule, interval)
            self.next_run[rule.name] = started_at + interval

    def next_due(self) -> datetime | None:
        return min(self.next_run.values(), default=None)

    def fire_due(self, now: datetime | None = None) -> int:
        now = now or timezone.now()
        fired = 0
        for name, (rule, interval) in self.rules.items():
            if self.next_run[name] > now:
                continue
            self.next_run[name] = now + interval
            try:
                invoke(rule.function, scheduled_event(rule))
                fired += 1
            except Exception:  # the next tick comes anyway, as with EventBridge's retries exhausted
                logger.exception("Scheduled %s failed", rule.name)
        return fired
