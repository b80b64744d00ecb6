"""Housekeeping: what the scheduled heartbeat runs.

Housekeeping spans modules (auth's expired credentials, the outbox, and whatever each module
contributes), so it is orchestrated here, through each module's api.py: a module adds its own
tasks as `HOUSEKEEPING` there (shipping reports its stale items), so ops names no module it does
not need. Each task is idempotent, so a retried heartbeat does no harm.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from events import camel_case, fanout
from events.relay import relay_pending_events
from events.selectors import dead_event_count
from events.services import (
    delivery_attempts_purge,
    heartbeat_record,
    relay_workers_forget,
    sent_events_purge,
)
from modules.auth import api as auth_api

logger = logging.getLogger("majestic.ops")

# The heartbeat relays one batch itself: a safety net should no relay be running.
HEARTBEAT_RELAY_BATCH = 10


@dataclass(frozen=True)
class Housekeeping:
    received_at: datetime
    tasks: dict[str, int]  # camelCase task name -> how many things it handled


def housekeeping_run() -> Housekeeping:
    """Run every housekeeping task; each is safe to repeat."""
    received_at = timezone.now()
    tasks: dict[str, int] = {}
    for kind, count in auth_api.purge_expired().items():
        tasks[f"{camel_case(kind)}Purged"] = int(count)
    tasks["sentEventsPurged"] = sent_events_purge(now=received_at)
    tasks["deliveryAttemptsPurged"] = delivery_attempts_purge(now=received_at)
    tasks["relayWorkersForgotten"] = relay_workers_forget(now=received_at)
    tasks["dueEventsRedriven"] = relay_pending_events(
        max_rounds=1, claim_size=HEARTBEAT_RELAY_BATCH
    ).sent
    tasks["deadEvents"] = dead_event_count()
    for name, task in module_housekeeping().items():
        tasks[name] = int(task())
    heartbeat_record(received_at=received_at, tasks=tasks)
    _announce_status()
    logger.info("Heartbeat housekeeping: %s", tasks)
    return Housekeeping(received_at=received_at, tasks=tasks)


def module_housekeeping() -> dict[str, Callable[[], int]]:
    """Every module's `HOUSEKEEPING` (in its api.py, its public place), in `MODULES` order."""
    found: dict[str, Callable[[], int]] = {}
    for module in settings.MODULES:
        name = f"modules.{module}.api"
        if importlib.util.find_spec(name) is None:
            continue  # a module without an api.py contributes nothing
        declared: Mapping[str, Callable[[], int]] = getattr(
            importlib.import_module(name), "HOUSEKEEPING", {}
        )
        for task, run in declared.items():
            if task in found:
                raise ImproperlyConfigured(f"{name}.HOUSEKEEPING: task {task} is declared twice")
            found[task] = run
    return found


def _announce_status() -> None:
    try:
        fanout.publish_status_changed()
    except Exception:  # live status is best effort; the heartbeat itself is recorded
        logger.exception("Could not announce the heartbeat to live subscribers")
