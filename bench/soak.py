"""Soak: mixed reads, writes and bad requests against one server, 50 live subscribers, and one
Redis freeze in the middle.

`python -m bench.soak` (also run by `make bench`). Prints figures only, nothing asserted:
throughput, p50/p99 per operation kind, 5xx and INTERNAL_SERVER_ERROR counts, the outbox backlog
while Redis was frozen, events emitted versus received per subscriber (with what EVENTS_DROPPED
notices announced, and what vanished without one), and the server's RSS at start and end.

Everything runs on loopback: one uvicorn process (`tests.live.app`, the real app) with its
in-process relay and the local bus, a Redis server of the bench's own (started here, frozen with
SIGSTOP and thawed with SIGCONT; never the shared one), on a throwaway database: PostgreSQL when
BENCH_DATABASE_URL (or DATABASE_URL) names a server, else SQLite. Clients run in this process.

Environment: BENCH_SOAK_SECONDS (total load, default 120), BENCH_SOAK_FREEZE_SECONDS (20, from the
middle), BENCH_SOAK_SUBSCRIBERS (50), BENCH_SOAK_WORKERS (8 concurrent HTTP clients).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.live.client import GraphQLWebSocket
from tests.live.server import LiveServer, live_database
from tests.redis_process import own_redis

SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "120"))
FREEZE_SECONDS = float(os.environ.get("BENCH_SOAK_FREEZE_SECONDS", "20"))
SUBSCRIBERS = int(os.environ.get("BENCH_SOAK_SUBSCRIBERS", "50"))
WORKERS = int(os.environ.get("BENCH_SOAK_WORKERS", "8"))
SETTLE_SECONDS = 60.0  # after the load: how long subscribers may take to catch up

WATCH = 'subscription { domainEvents(detailTypes: ["ShippingItemCreated"]) { eventId detail } }'
# kind -> (share of the mix, body); None bodies are built per request.
OPERATIONS: dict[str, tuple[int, Any]] = {
    "me": (30, {"query": "{ me { uuid fullName } }"}),
    "transports": (
        15,
        {
            "query": "{ transports(first: 20) { totalCount edges { node { id uuid status"
            " sourceCenter { name } destinationCenter { name } driver { fullName }"
            " batches(first: 5) { totalCount edges { node { id alias"
            " items(first: 10) { edges { node { id trackingNumber status } } } } } } } } } }"
        },
    ),
    "items": (
        20,
        {"query": "{ shippingItems(first: 50) { edges { node { id trackingNumber status } } } }"},
    ),
    "write": (
        25,
        {
            "query": "mutation($sku: String!) { createShippingItem(input: {sku: $sku}) {"
            " shippingItem { trackingNumber } errors { code } } }"
        },
    ),
    "bad": (10, None),
}
BAD_REQUESTS = [
    {"query": "{ me { uuid "},  # syntax
    {"query": "{ noSuchField }"},  # validation
    {"query": "{ shippingItems(first: 1000) { edges { node { id } } } }"},  # over the page limit
    {"query": "query($n: Int!) { transports(first: $n) { totalCount } }", "variables": {"n": "x"}},
]


@dataclass
class Figures:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    internal_errors: int = 0
    transport_errors: int = 0
    emitted: set[str] = field(default_factory=set)  # tracking numbers of created items
    backlog_while_frozen: list[int] = field(default_factory=list)


@dataclass
class Subscriber:
    received: set[str] = field(default_factory=set)  # tracking numbers
    announced_dropped: int = 0
    notices: int = 0
    closed: str = ""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def watch(server: LiveServer, authorization: str, subscriber: Subscriber) -> None:
    try:
        async with await GraphQLWebSocket.signed_in(server.ws_url, authorization) as ws:
            await ws.subscribe("watch", WATCH)
            while True:
                message = await ws.receive_for("watch", timeout=3600)
                payload = message.get("payload") or {}
                errors = payload.get("errors") if isinstance(payload, dict) else payload
                if errors:
                    subscriber.notices += 1
                    subscriber.announced_dropped += int(
                        (errors[0].get("extensions") or {}).get("dropped", 0)
                    )
                    continue
                event = payload["data"]["domainEvents"]
                subscriber.received.add(event["detail"]["data"]["trackingNumber"])
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a figure, not a crash: the bench reports closed subscribers
        subscriber.closed = f"{type(exc).__name__}: {exc}"


async def load(
    client: httpx.AsyncClient, authorization: str, figures: Figures, until: float
) -> None:
    kinds = list(OPERATIONS)
    weights = [OPERATIONS[k][0] for k in kinds]
    headers = {"Authorization": authorization}
    while time.monotonic() < until:
        kind = random.choices(kinds, weights)[0]
        body = OPERATIONS[kind][1]
        if kind == "write":
            body = {**body, "variables": {"sku": f"SOAK-{uuid.uuid4().hex[:6]}"}}
        elif kind == "bad":
            body = random.choice(BAD_REQUESTS)
        started = time.perf_counter()
        try:
            response = await client.post("/graphql/", json=body, headers=headers)
        except httpx.HTTPError:
            figures.transport_errors += 1
            continue
        figures.latencies[kind].append(time.perf_counter() - started)
        figures.statuses[response.status_code] += 1
        with contextlib.suppress(ValueError):
            result = response.json()
            codes = [(e.get("extensions") or {}).get("code") for e in result.get("errors") or []]
            figures.internal_errors += codes.count("INTERNAL_SERVER_ERROR")
            if kind == "write" and result.get("data"):
                item = result["data"]["createShippingItem"]["shippingItem"]
                if item:
                    figures.emitted.add(item["trackingNumber"])


async def pending_events(client: httpx.AsyncClient, authorization: str) -> int | None:
    with contextlib.suppress(httpx.HTTPError, KeyError, TypeError, ValueError):
        response = await client.post(
            "/graphql/",
            json={"query": "{ systemStatus { pendingEvents } }"},
            headers={"Authorization": authorization},
            timeout=10,
        )
        return int(response.json()["data"]["systemStatus"]["pendingEvents"])
    return None


async def soak(server: LiveServer, redis: Any) -> None:
    staff = server.make_user("staff")
    authorization = f"Bearer {staff['token']}"
    subscribers = [Subscriber() for _ in range(SUBSCRIBERS)]
    watchers = [asyncio.create_task(watch(server, authorization, s)) for s in subscribers]
    for _ in range(300):  # until every subscription is in the hub
        if server.live()["subscriptions"] >= SUBSCRIBERS:
            break
        await asyncio.sleep(0.1)
    rss_start = rss_kib(server.pid)
    figures = Figures()
    limits = httpx.Limits(max_connections=WORKERS * 2)
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client:
        started = time.monotonic()
        until = started + SECONDS
        workers = [
            asyncio.create_task(load(client, authorization, figures, until)) for _ in range(WORKERS)
        ]
        await asyncio.sleep(max(0.0, SECONDS / 2 - FREEZE_SECONDS / 2))
        redis.freeze()
        frozen_at = time.monotonic()
        try:
            while time.monotonic() - frozen_at < FREEZE_SECONDS:
                backlog = await pending_events(client, authorization)
                if backlog is not None:
                    figures.backlog_while_frozen.append(backlog)
                await asyncio.sleep(1)
        finally:
            redis.thaw()
        await asyncio.gather(*workers)
        elapsed = time.monotonic() - started
        settle_until = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < settle_until and any(
            not figures.emitted <= s.received for s in subscribers if not s.closed
        ):
            await asyncio.sleep(0.5)
        backlog_end = await pending_events(client, authorization)
    rss_end = rss_kib(server.pid)
    live = server.live()
    for task in watchers:
        task.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    report(figures, subscribers, elapsed, rss_start, rss_end, backlog_end, live)


def report(
    figures: Figures,
    subscribers: list[Subscriber],
    elapsed: float,
    rss_start: int,
    rss_end: int,
    backlog_end: int | None,
    live: dict[str, Any],
) -> None:
    total = sum(len(v) for v in figures.latencies.values())
    print(
        f"soak: {elapsed:.0f} s, {WORKERS} HTTP clients, {SUBSCRIBERS} subscribers, "
        f"Redis frozen {FREEZE_SECONDS:.0f} s in the middle"
    )
    print(f"throughput: {total / elapsed:.1f} requests/s ({total} requests)")
    for kind in OPERATIONS:
        values = figures.latencies.get(kind, [])
        print(
            f"  {kind:<11} n={len(values):<6} p50={percentile(values, 0.5) * 1000:7.1f} ms"
            f"  p99={percentile(values, 0.99) * 1000:7.1f} ms"
        )
    server_errors = sum(n for status, n in figures.statuses.items() if status >= 500)
    print(f"status codes: {dict(sorted(figures.statuses.items()))}")
    print(
        f"5xx: {server_errors}  INTERNAL_SERVER_ERROR: {figures.internal_errors}  "
        f"transport errors: {figures.transport_errors}"
    )
    frozen = figures.backlog_while_frozen
    print(
        "outbox pending while Redis was frozen: "
        + (f"max {max(frozen)}, last {frozen[-1]} ({len(frozen)} samples)" if frozen else "n/a")
        + f"; at the end: {backlog_end}"
    )
    emitted = len(figures.emitted)
    per = [len(figures.emitted & s.received) for s in subscribers]
    silent = [
        max(0, emitted - got - s.announced_dropped) for got, s in zip(per, subscribers, strict=True)
    ]
    print(
        f"events emitted: {emitted}; received per subscriber: min {min(per)}, "
        f"median {statistics.median(per):.0f}, max {max(per)}; "
        f"subscribers with every event: {sum(p == emitted for p in per)}/{len(per)}"
    )
    print(
        f"EVENTS_DROPPED notices: {sum(s.notices for s in subscribers)} "
        f"(announcing {sum(s.announced_dropped for s in subscribers)} events); "
        f"missed without a notice: {sum(silent)} events over "
        f"{sum(1 for n in silent if n)} subscribers; "
        f"closed: {sum(1 for s in subscribers if s.closed)}"
    )
    print(
        f"hub: {live.get('received')} messages received, {live.get('dropped')} announced to "
        f"subscribers as dropped, {live.get('lost', 'n/a')} lost on the way"
    )
    print(f"publisher: {live.get('publisher')}")
    print(f"server RSS: start {rss_start / 1024:.1f} MiB, end {rss_end / 1024:.1f} MiB")


def main() -> None:
    database = os.environ.get("BENCH_DATABASE_URL")
    if database:
        os.environ["DATABASE_URL"] = database  # live_database makes a throwaway one beside it
    with tempfile.TemporaryDirectory(prefix="majestic-soak-") as scratch:
        workdir = Path(scratch)
        with own_redis() as redis, live_database(workdir) as url:
            server = LiveServer(
                url,
                workdir / "server.log",
                REDIS_URL=redis.url,
                CHANNEL_LAYER_PREFIX=f"majestic.soak{next(itertools.count())}{os.getpid()}.",
                EVENTS_RELAY_IN_PROCESS="1",
                LOG_LEVEL="ERROR",
            ).start()
            try:
                asyncio.run(soak(server, redis))
            finally:
                server.close()
                print("server log, last lines:")
                print(server.log_tail(8))


if __name__ == "__main__":
    main()
