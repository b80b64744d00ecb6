"""`manage.py relay_events`: a relay worker; `--once` drains what is due and exits.

Run as many workers as you like: they share the outbox through SKIP LOCKED claims. SIGTERM or
SIGINT lets the batch in hand finish (its handlers run to the end, its rows are marked), releases
the rest of the worker's claim for the other workers at once, and exits: nothing is left claimed.
A worker killed outright (SIGKILL, a lost host) leaves its claim to expire after
EVENTS_RELAY_LEASE_SECONDS; then another worker sends those rows, and the handlers, idempotent on
the event id, do their work once.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections

from events.relay import RelayReport, RelayWorkerRecord, relay_pending_events


class Command(BaseCommand):
    help = "Relay pending outbox events to the configured bus (EVENTS_BACKEND)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Drain what is due, then exit.")
        parser.add_argument(
            "--poll-seconds",
            type=float,
            default=None,
            help="How long an idle worker waits between looks (default EVENTS_RELAY_POLL_SECONDS).",
        )

    def handle(
        self, *args: Any, once: bool = False, poll_seconds: float | None = None, **options: Any
    ) -> None:
        worker = RelayWorkerRecord()  # systemStatus lists it (relayWorkers)
        if once:
            report = relay_pending_events(worker=worker)
            worker.save()
            self._print(report)
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        poll = poll_seconds if poll_seconds is not None else settings.EVENTS_RELAY_POLL_SECONDS
        schedules = self._local_schedules()
        self.stdout.write(
            f"Relaying to {settings.EVENTS_BACKEND} (poll every {poll:g}s); Ctrl-C stops."
        )
        while not stop.is_set():
            try:
                report = relay_pending_events(should_stop=stop.is_set, worker=worker)
                worker.save_if_due()  # seen while idle too
                if report.sent or report.retrying or report.dead:
                    self._print(report)
                if schedules is not None and not stop.is_set():
                    schedules.fire_due()
            except Exception as exc:  # the database or the bus is away: try again after a pause
                self.stderr.write(f"Relay round failed: {type(exc).__name__}: {exc}")
            finally:
                connections.close_all()
            stop.wait(poll)
        try:
            worker.save()  # its final totals
        except Exception as exc:
            self.stderr.write(f"Could not record the relay's totals: {type(exc).__name__}: {exc}")
        finally:
            connections.close_all()
        self.stdout.write("Relay stopped.")

    def _local_schedules(self) -> Any:
        if settings.EVENTS_BACKEND != "local":
            return None  # in AWS, EventBridge runs the schedules
        from events.local_bus import LocalSchedules

        return LocalSchedules()

    def _print(self, report: RelayReport) -> None:
        self.stdout.write(f"sent {report.sent}, retrying {report.retrying}, dead {report.dead}")
