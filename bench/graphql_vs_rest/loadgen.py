"""A small HTTP/1.1 load generator: fixed concurrency, fixed duration, loopback only.

Run as its own process (`python -m bench.graphql_vs_rest.loadgen SPEC_JSON`) so that it never
shares a core's time slices with the server's interpreter. Each connection sends one request,
reads the whole response, and sends the next (keep-alive). Prints one JSON line of results.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import urlsplit

QUERY_COUNT_HEADER = b"x-bench-queries"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Spec:
    url: str
    method: str = "GET"
    body: str = ""
    authorization: str = ""
    concurrency: int = 4
    seconds: float = 8.0
    warmup_seconds: float = 2.0
    max_requests: int = 100_000  # a bound, whatever the duration


class State(TypedDict):
    """What the workers of one run share: the clock bounds, counters and samples."""

    measure_from: float
    end: float
    sent: int
    completed: int
    errors: int
    latencies: list[float]
    queries: list[int]


def request_bytes(spec: Spec) -> tuple[str, int, bytes]:
    parts = urlsplit(spec.url)
    if parts.hostname not in LOOPBACK:
        raise SystemExit(f"refusing to load {parts.hostname}: loopback addresses only")
    body = spec.body.encode()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [
        f"{spec.method} {target} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Accept: application/json",
        "Connection: keep-alive",
        f"Content-Length: {len(body)}",
    ]
    if body:
        lines.append("Content-Type: application/json")
    if spec.authorization:
        lines.append(f"Authorization: {spec.authorization}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return parts.hostname or "127.0.0.1", parts.port or 80, head + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].split(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            chunks.append(chunk[:-2])
        body = b"".join(chunks)
    else:
        raise RuntimeError("response without a length")
    return status, headers, body


async def worker(spec: Spec, request: bytes, host: str, port: int, state: State) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < state["end"] and state["sent"] < spec.max_requests:
            state["sent"] += 1
            started = time.perf_counter()
            writer.write(request)
            status, headers, _ = await read_response(reader)
            finished = time.perf_counter()
            state["completed"] += 1
            if finished < state["measure_from"]:
                continue
            if status != 200:
                state["errors"] += 1
                continue
            state["latencies"].append(finished - started)
            state["queries"].append(int(headers.get(QUERY_COUNT_HEADER, b"-1")))
    finally:
        writer.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


async def run(spec: Spec) -> dict:
    host, port, request = request_bytes(spec)
    now = time.perf_counter()
    state: State = {
        "measure_from": now + spec.warmup_seconds,
        "end": now + spec.warmup_seconds + spec.seconds,
        "sent": 0,
        "completed": 0,
        "errors": 0,
        "latencies": [],
        "queries": [],
    }
    await asyncio.gather(
        *(worker(spec, request, host, port, state) for _ in range(spec.concurrency))
    )
    latencies = state["latencies"]
    return {
        "requests": len(latencies),
        "completed": state["completed"],  # warm-up included, for CPU time per request
        "errors": state["errors"],
        "requests_per_second": len(latencies) / spec.seconds,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "queries_per_request": sorted(state["queries"])[len(state["queries"]) // 2]
        if state["queries"]
        else -1,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(Spec(**json.loads(sys.argv[1]))))))
