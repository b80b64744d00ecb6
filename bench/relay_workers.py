"""Relay throughput with one and with two `manage.py relay_events` workers on PostgreSQL.

`BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> python -m bench.relay_workers`.
Prints figures only: per round, events per second delivered to EventBridge by 1 and by 2 relay
processes draining the same outbox (the order alternates between rounds), their ratio, and how
many events any relay sent more than once (a row claimed twice: attempts > 1), which must be 0.

The bus (BENCH_RELAY_BUS): `local` (default), the local bus with no rule matching the bench's
events, so the figures are the relays' own work (claiming, leases, building entries, recording
what was sent, live publishing); or `eventbridge`, a moto server in this process (AWS emulated at
the boto3 boundary, as in the tests), where the single emulator soon limits both. Throughput is
measured from the first batch recorded as sent to the last, start-up left out. Environment:
BENCH_RELAY_EVENTS (events per round, default 5000), BENCH_RELAY_ROUNDS (3).
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

from bench._django import setup_django

EVENTS = int(os.environ.get("BENCH_RELAY_EVENTS", "5000"))
ROUNDS = int(os.environ.get("BENCH_RELAY_ROUNDS", "3"))
ROOT = Path(__file__).resolve().parent.parent
BUS = "majestic-bench"


def fill_outbox(count: int) -> None:
    from events.models import OutboxEvent

    OutboxEvent.objects.all().delete()
    OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(
                event_id=uuid.uuid4(),
                source="majestic.bench",
                detail_type="BenchEvent",
                detail={"eventId": str(uuid.uuid4()), "data": {"n": n, "padding": "x" * 200}},
            )
            for n in range(count)
        ],
        batch_size=1000,
    )


def drain_with(workers: int, environment: dict[str, str]) -> tuple[float, int, int]:
    """Seconds `workers` relays took to send everything, from the first batch recorded as sent
    to the last (their start-up left out); events sent; events sent more than once."""
    from django.db.models import Max, Min

    from events.models import OutboxEvent

    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "relay_events", "--once"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.wait()
    window = OutboxEvent.objects.aggregate(first=Min("sent_at"), last=Max("sent_at"))
    elapsed = max((window["last"] - window["first"]).total_seconds(), 1e-3)
    sent = OutboxEvent.objects.filter(status=OutboxEvent.Status.SENT).count()
    twice = OutboxEvent.objects.filter(attempts__gt=1).count()
    return elapsed, sent, twice


def main() -> None:
    if not os.environ.get("BENCH_DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("needs BENCH_DATABASE_URL naming a PostgreSQL database of your own")
    backend = os.environ.get("BENCH_RELAY_BUS", "local")
    setup_django(EVENTS_BACKEND=backend)
    environment = {**os.environ, "EVENTS_BACKEND": backend, "LOG_LEVEL": "WARNING"}
    moto = None
    if backend == "eventbridge":
        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        aws = {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "EVENTBRIDGE_BUS_NAME": BUS,
        }
        os.environ.update(aws)
        environment.update(aws)
        boto3.client("events", endpoint_url=aws["AWS_ENDPOINT_URL"]).create_event_bus(Name=BUS)
    print(f"{EVENTS} outbox events per round, relay_events --once, {backend} bus")
    rates: dict[int, list[float]] = {1: [], 2: []}
    try:
        for round_number in range(ROUNDS):
            for workers in (1, 2) if round_number % 2 == 0 else (2, 1):
                fill_outbox(EVENTS)
                elapsed, sent, twice = drain_with(workers, environment)
                rates[workers].append(sent / elapsed)
                print(
                    f"  round {round_number + 1}, {workers} relay(s): {sent}/{EVENTS} sent in"
                    f" {elapsed:.1f} s = {sent / elapsed:.0f} events/s; sent twice: {twice}",
                    flush=True,
                )
    finally:
        if moto is not None:
            moto.stop()
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    print(f"median: 1 relay {one:.0f} events/s, 2 relays {two:.0f} events/s, ratio {two / one:.2f}")


if __name__ == "__main__":
    main()
