"""The outbox's and relay's Prometheus metrics (served with the gateway's at /metrics).

The relay counts what it sends as it sends it; the outbox's state is read from the database at
scrape time (OutboxCollector), so it is right whichever process relays and however many do.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from events.selectors import outbox_status

RELAY_PUBLISHED = Counter(
    "majestic_relay_events_published",
    "Events the relay delivered to the bus.",
)
RELAY_FAILED = Counter(
    "majestic_relay_events_failed",
    "Deliveries that failed, by what became of the event: retrying (sent again later) or dead "
    "(out of retries, waiting for redriveEvents).",
    ["outcome"],
)


def count_relayed(*, sent: int, retrying: int, dead: int) -> None:
    RELAY_PUBLISHED.inc(sent)
    RELAY_FAILED.labels("retrying").inc(retrying)
    RELAY_FAILED.labels("dead").inc(dead)


class OutboxCollector(Collector):
    """The outbox as it is now: events pending, dead, and the age of the oldest pending one."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        status = outbox_status()
        yield GaugeMetricFamily(
            "majestic_outbox_pending_events",
            "Events written and not yet delivered (retrying ones included).",
            value=status.pending_events,
        )
        yield GaugeMetricFamily(
            "majestic_outbox_dead_events",
            "Events out of retries, waiting for redriveEvents.",
            value=status.failed_events,
        )
        yield GaugeMetricFamily(
            "majestic_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending event (0 when none is pending).",
            value=status.oldest_pending_event_age or 0.0,
        )
