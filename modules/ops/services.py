"""Housekeeping: what the scheduled heartbeat runs.

Housekeeping spans modules (auth's expired credentials, shipping's stale items, the outbox), so it
is orchestrated here, through each module's api.py; each task is idempotent, so a retried
heartbeat does no harm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from events import camel_case, fanout
from events.relay import relay_pending_events
from events.selectors import dead_event_count
from events.services import heartbeat_record, sent_events_purge
from modules.auth import api as auth_api
from modules.shipping import api as shipping_api

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
    tasks["dueEventsRedriven"] = relay_pending_events(
        max_rounds=1, claim_size=HEARTBEAT_RELAY_BATCH
    ).sent
    tasks["deadEvents"] = dead_event_count()
    tasks["staleItemsReported"] = shipping_api.stale_items_report()
    heartbeat_record(received_at=received_at, tasks=tasks)
    _announce_status()
    logger.info("Heartbeat housekeeping: %s", tasks)
    return Housekeeping(received_at=received_at, tasks=tasks)


def _announce_status() -> None:
    try:
        fanout.publish_status_changed()
    except Exception:  # live status is best effort; the heartbeat itself is recorded
        logger.exception("Could not announce the heartbeat to live subscribers")
