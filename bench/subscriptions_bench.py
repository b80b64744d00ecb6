"""Live subscriptions: N websocket subscribers, 100 events, on one uvicorn process.

`python -m bench.subscriptions_bench` (also run by `make bench`). Prints figures only, per N:
delivery latency p50/p99 (from the moment the relay would publish to the moment a client has the
message), events/s delivered (messages to all clients per second), server memory per connection,
and the largest N held without errors (no failed connection, dropped event or missing message).
Each side's CPU while the events are delivered, as a share of one core: the servers' (summed, with
CPU ms per event) and this process's (the clients and the publishing call). A side near 100 % is
the bottleneck; both well below it means the latency is each event's fan-out time, not queueing.

The server is `tests.live.app` (the real app plus a test-only publish endpoint that calls
events.fanout.publish from a worker thread, exactly as the relay does), on a throwaway SQLite
database and the in-memory channel layer (`make run`'s set-up). Clients run in this process, on
the same 2-core machine, so the figures include their share of the CPU.

Environment: BENCH_WS_STEPS (default "100,250,500,1000,1500,2000"), BENCH_WS_EVENTS (100),
BENCH_WS_COMPRESSION (1: clients accept permessage-deflate, like browsers), BENCH_WS_RATE (events
per second the publisher keeps, default 5; 0 publishes them all at once, which measures how long
a burst takes to drain rather than how long one event takes to reach everybody), BENCH_WS_ROUNDS
(rounds per N, default 1; with more, a line of medians follows each N: p50, p99 and CPU are the
medians of the rounds' figures; memory per connection counts in the first round only, as later ones
reuse what the first freed).

Several processes: BENCH_WS_PROCESSES=2 BENCH_REDIS_URL=redis://127.0.0.1:6379/7 starts that many
uvicorn processes on the Redis channel layer (production's set-up), spreads the subscribers over
them, and publishes through the first: every event reaches the others through Redis. Memory per
connection is then the servers' RSS growth summed over the processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.live.client import GraphQLWebSocket
from tests.live.server import LiveServer, live_database

STEPS = [int(n) for n in os.environ.get("BENCH_WS_STEPS", "100,250,500,1000,1500,2000").split(",")]
EVENTS = int(os.environ.get("BENCH_WS_EVENTS", "100"))
COMPRESSION = os.environ.get("BENCH_WS_COMPRESSION", "1") == "1"
PROCESSES = int(os.environ.get("BENCH_WS_PROCESSES", "1"))
RATE = float(os.environ.get("BENCH_WS_RATE", "5"))
ROUNDS = int(os.environ.get("BENCH_WS_ROUNDS", "1"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "")
SUBSCRIPTION = 'subscription { domainEvents(detailTypes: ["Bench"]) { eventId detail } }'
OPEN_AT_ONCE = 50
RECEIVE_TIMEOUT = 60.0


@dataclass
class Round:
    subscribers: int
    connect_errors: int = 0
    receive_errors: int = 0
    latencies: list[float] = field(default_factory=list)
    first_publish: float = 0.0
    last_receive: float = 0.0
    memory_per_connection_kib: float = 0.0
    server_cpu_seconds: float = 0.0  # while the events were delivered, all servers together
    client_cpu_seconds: float = 0.0  # this process (clients, publishing call) meanwhile
    delivery_seconds: float = 0.0  # from the first publish to the last message received

    @property
    def delivered(self) -> int:
        return len(self.latencies)

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def p99_ms(self) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000

    @property
    def server_cpu_share(self) -> float:
        return self.server_cpu_seconds / max(self.delivery_seconds, 1e-9)

    @property
    def client_cpu_share(self) -> float:
        return self.client_cpu_seconds / max(self.delivery_seconds, 1e-9)

    @property
    def server_cpu_ms_per_event(self) -> float:
        return self.server_cpu_seconds * 1000 / EVENTS

    @property
    def ok(self) -> bool:
        return (
            not self.connect_errors
            and not self.receive_errors
            and self.delivered == self.subscribers * EVENTS
        )


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far (/proc/<pid>/stat)."""
    # The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def open_subscriber(
    server: LiveServer, authorization: str, gate: asyncio.Semaphore
) -> GraphQLWebSocket:
    async with gate:
        ws = await GraphQLWebSocket.signed_in(
            server.ws_url,
            authorization,
            compression="deflate" if COMPRESSION else None,
            ping_interval=None,
            max_queue=None,
        )
        await ws.subscribe("bench", SUBSCRIPTION)
        return ws


async def receive_all(ws: GraphQLWebSocket, result: Round) -> None:
    for _ in range(EVENTS):
        try:
            raw = await asyncio.wait_for(ws.connection.recv(), RECEIVE_TIMEOUT)
        except Exception:  # timeout or closed: counted, the round then fails
            result.receive_errors += 1
            return
        now = time.time()
        message = json.loads(raw)
        payload = message.get("payload") or {}
        if message.get("type") != "next" or payload.get("errors"):
            result.receive_errors += 1  # e.g. EVENTS_DROPPED: this client fell behind
            continue
        sent_at = payload["data"]["domainEvents"]["detail"]["data"]["sentAt"]
        result.latencies.append(now - sent_at)
        result.last_receive = max(result.last_receive, now)


async def wait_for_subscriptions(server: LiveServer, count: int, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await asyncio.to_thread(server.live))["subscriptions"] == count:
            return True
        await asyncio.sleep(0.2)
    return False


async def run_round(servers: list[LiveServer], authorization: str, subscribers: int) -> Round:
    result = Round(subscribers)
    server = servers[0]  # publishes; the others hear its events through Redis
    before = sum(rss_kib(s.pid) for s in servers)
    gate = asyncio.Semaphore(OPEN_AT_ONCE)
    opened = await asyncio.gather(
        *(
            open_subscriber(servers[i % len(servers)], authorization, gate)
            for i in range(subscribers)
        ),
        return_exceptions=True,
    )
    sockets = [ws for ws in opened if isinstance(ws, GraphQLWebSocket)]
    result.connect_errors = subscribers - len(sockets)
    for index, each in enumerate(servers):
        held = sum(isinstance(ws, GraphQLWebSocket) for ws in opened[index :: len(servers)])
        if not await wait_for_subscriptions(each, held):
            result.connect_errors += 1
    after = sum(rss_kib(s.pid) for s in servers)
    result.memory_per_connection_kib = (after - before) / max(1, len(sockets))

    readers = [asyncio.create_task(receive_all(ws, result)) for ws in sockets]
    server_cpu = sum(cpu_seconds(s.pid) for s in servers)
    client_cpu = time.process_time()
    result.first_publish = time.time()
    # Published one by one from a server thread, as the relay does; the call returns when all went.
    payload = {
        "count": EVENTS,
        "detailType": "Bench",
        "padding": 200,
        "interval": 1 / RATE if RATE else 0,
    }
    await asyncio.to_thread(
        httpx.post, f"{server.url}/test-only/publish", json=payload, timeout=600
    )
    await asyncio.gather(*readers)
    result.server_cpu_seconds = sum(cpu_seconds(s.pid) for s in servers) - server_cpu
    result.client_cpu_seconds = time.process_time() - client_cpu
    result.delivery_seconds = max(result.last_receive, time.time()) - result.first_publish

    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    for each in servers:
        await wait_for_subscriptions(each, 0)
    return result


def report(result: Round) -> None:
    if result.latencies:
        elapsed = max(result.last_receive - result.first_publish, 1e-9)
        rate = result.delivered / elapsed
    else:
        rate = float("nan")
    print(
        f"  N={result.subscribers:>5}"
        f"  delivered {result.delivered:>7}/{result.subscribers * EVENTS:<7}"
        f"  p50 {result.p50_ms:8.1f} ms  p99 {result.p99_ms:8.1f} ms  {rate:9.0f} events/s"
        f"  {result.memory_per_connection_kib:6.1f} KiB/conn"
        f"  CPU: server {result.server_cpu_share:4.0%}"
        f" ({result.server_cpu_ms_per_event:.0f} ms/event)"
        f", client {result.client_cpu_share:4.0%}"
        f"  errors: connect {result.connect_errors}, receive {result.receive_errors}"
        f"  {'ok' if result.ok else 'FAILED'}",
        flush=True,
    )


def report_medians(rounds: list[Round]) -> None:
    def median(figure: str) -> float:
        return statistics.median(getattr(r, figure) for r in rounds)

    print(
        f"  N={rounds[0].subscribers:>5}  median of {len(rounds)} rounds:"
        f"  p50 {median('p50_ms'):.1f} ms  p99 {median('p99_ms'):.1f} ms"
        f"  (p99 by round: {', '.join(f'{r.p99_ms:.0f}' for r in rounds)})"
        f"  CPU: server {median('server_cpu_share'):.0%}"
        f" ({median('server_cpu_ms_per_event'):.0f} ms/event),"
        f" client {median('client_cpu_share'):.0%}"
        f"  {rounds[0].memory_per_connection_kib:.1f} KiB/conn (first round)",
        flush=True,
    )


async def bench(servers: list[LiveServer]) -> None:
    authorization = f"Bearer {servers[0].make_user('staff')['token']}"
    held = 0
    for subscribers in STEPS:
        rounds: list[Round] = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            try:
                result = await run_round(servers, authorization, subscribers)
            except Exception as exc:  # a round that breaks the server or harness is a failed one
                elapsed = time.perf_counter() - started
                print(f"  N={subscribers:>5}  FAILED after {elapsed:.0f} s: {exc!r}")
                break
            report(result)
            if not result.ok:
                break
            rounds.append(result)
        if len(rounds) < ROUNDS:
            break
        if ROUNDS > 1:
            report_medians(rounds)
        held = subscribers
    print(f"  largest N held without errors: {held} (goal 1,000; steps {STEPS})")


def main() -> None:
    # One file descriptor per connection on each side: lift the soft limit for both processes.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if PROCESSES > 1 and not REDIS_URL:
        raise SystemExit("BENCH_WS_PROCESSES > 1 needs BENCH_REDIS_URL (the processes share Redis)")
    layer = f"Redis {REDIS_URL}" if REDIS_URL else "in-memory layer"
    print(
        f"{EVENTS} events to N subscribers of domainEvents on {PROCESSES} uvicorn process(es)"
        f" ({layer}, SQLite; {RATE:g} events/s; compression {'on' if COMPRESSION else 'off'};"
        f" {ROUNDS} round(s) per N; {os.cpu_count()} cores; load average"
        f" {os.getloadavg()[0]:.1f})"
    )
    os.environ.pop("DATABASE_URL", None)  # a throwaway SQLite database, whatever the shell says
    os.environ.pop("REDIS_URL", None)
    redis = {"REDIS_URL": REDIS_URL, "CHANNEL_LAYER_PREFIX": f"bench{os.getpid()}."}
    with tempfile.TemporaryDirectory() as workdir, live_database(Path(workdir)) as url:
        servers = [
            LiveServer(
                url,
                Path(workdir) / f"server{i}.log",
                GRAPHQL_WS_REAUTHENTICATE_SECONDS="3600",
                **(redis if REDIS_URL else {}),
            ).start()
            for i in range(PROCESSES)
        ]
        try:
            asyncio.run(bench(servers))
        finally:
            for server in servers:
                server.close()


if __name__ == "__main__":
    main()
