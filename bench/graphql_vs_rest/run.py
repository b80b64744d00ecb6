"""Runs the comparison: database, seed, the two servers, the JSON check, the load, the table.

This process stays out of Django; it only starts processes and talks HTTP to them:
- `python -m bench.graphql_vs_rest.prepare` creates, migrates and seeds the PostgreSQL database
  and prints a staff token;
- uvicorn (one worker) serves the project (`config.asgi:application`, bench settings adding the
  REST views and the query counter) and, from bench/.venv-graphene, graphene-django;
- `python -m bench.graphql_vs_rest.loadgen` drives one variant at a time from its own process.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.graphql_vs_rest import documents

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PROJECT_PYTHON = Path(sys.executable)
GRAPHENE_VENV = ROOT / "bench" / ".venv-graphene"
GRAPHENE_REQUIREMENTS = HERE / "graphene_app" / "requirements.txt"
RESULTS = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/majestic_bench"


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    server: str  # "project" | "graphene"
    graphql_path: str | None = None  # GraphQL endpoint; REST variants answer /bench/<key>/<query>


VARIANTS = (
    Variant("hand", "hand-written view", "project"),
    Variant("drf", "DRF serializers", "project"),
    Variant("graphene", "graphene-django", "graphene", "/graphql/"),
    Variant("ordinary", "Strawberry, no shortcuts", "project", "/bench/graphql-ordinary/"),
    Variant("strawberry", "Strawberry (ours)", "project", "/graphql/"),
)
QUERY_LABELS = {
    documents.ITEMS: "(a) shippingItems(first: 100) + batches + currentCenter",
    documents.TRANSPORTS: "(b) transports(50) > batches(20) > items(50) + centers, driver",
    documents.ARRIVALS: "(c) transports(filter, order, 20) + totalCounts > batches(5); node(id:)",
}

# Each read's variables (GraphQL), or query parameters (REST): {query: {name: value}}.
Variables = dict[str, dict[str, Any]]


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "bench.graphql_vs_rest.settings",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "EVENTS_RELAY_IN_PROCESS": "false",
        "AUTH_PRINT_VERIFICATION_CODES": "false",
        "PYTHONWARNINGS": "ignore",
    }


def ensure_graphene_venv() -> Path:
    """bench/.venv-graphene with the pinned requirements (re-installed when they change)."""
    python = GRAPHENE_VENV / "bin" / "python"
    stamp = GRAPHENE_VENV / ".requirements-sha256"
    wanted = hashlib.sha256(GRAPHENE_REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(
        "Creating bench/.venv-graphene (graphene-django needs graphql-core < 3.3) ...", flush=True
    )
    subprocess.run(["python3.11", "-m", "venv", "--clear", str(GRAPHENE_VENV)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(GRAPHENE_REQUIREMENTS),
        ],
        check=True,
    )
    stamp.write_text(wanted)
    return python


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, *, authorization: str = "", body: str = "") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url, data=body.encode() or None, method="POST" if body else "GET"
    )
    request.add_header("Accept", "application/json")
    if body:
        request.add_header("Content-Type", "application/json")
    if authorization:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@contextlib.contextmanager
def uvicorn(python: Path, app: str, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """One uvicorn worker serving `app`; yields (base url, pid) once /healthz answers."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(python),
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--no-access-log",
            "--no-proxy-headers",  # as `make run`: the app alone reads X-Forwarded-*
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if get(f"{base}/healthz")[0] == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not start")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def target(
    variant: Variant, query: str, bases: dict[str, str], variables: Variables
) -> tuple[str, str]:
    """(url, body) for `variant` serving `query`."""
    base = bases[variant.server]
    values = variables.get(query, {})
    if variant.graphql_path:
        request: dict[str, Any] = {"query": documents.GRAPHQL_QUERIES[query]}
        if values:
            request["variables"] = values
        return f"{base}{variant.graphql_path}", json.dumps(request)
    parameters = f"?{urlencode(values)}" if values else ""
    return f"{base}/bench/{variant.key}/{query}{parameters}", ""


def check_same_json(
    bases: dict[str, str],
    authorization: str,
    queries: list[str],
    variables: Variables,
    variants: list[Variant],
) -> None:
    """Every variant must serve the same data before anything is timed."""
    for query in queries:
        answers = {}
        for variant in variants:
            url, body = target(variant, query, bases, variables)
            status, _, content = get(url, authorization=authorization, body=body)
            payload = json.loads(content)
            if status != 200 or payload.get("errors"):
                raise SystemExit(f"{variant.label} failed on {query}: {status} {content[:500]!r}")
            answers[variant.key] = payload["data"]
        reference = answers["hand"]
        edges = len(next(iter(reference.values()))["edges"])
        for key, data in answers.items():
            if data != reference:
                raise SystemExit(
                    f"{key} does not serve the same JSON as the hand-written view for {query}"
                )
        print(
            f"  {query}: all {len(answers)} variants serve the same JSON ({edges} top-level edges)"
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(spec: dict, env: dict[str, str], pid: int) -> dict:
    before = cpu_seconds(pid)
    output = subprocess.run(
        [str(PROJECT_PYTHON), "-m", "bench.graphql_vs_rest.loadgen", json.dumps(spec)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(output)
    result["server_cpu_ms"] = (cpu_seconds(pid) - before) * 1000 / max(1, result["completed"])
    return result


def summarise(runs: list[dict]) -> dict:
    return {
        "requests_per_second": statistics.median(r["requests_per_second"] for r in runs),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "queries_per_request": runs[0]["queries_per_request"],
        "server_cpu_ms": statistics.median(r["server_cpu_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "runs": runs,
    }


def print_table(
    results: dict[str, dict[str, dict]], variants: list[Variant], args: argparse.Namespace
) -> None:
    print()
    print(
        f"{args.concurrency} connections, {args.seconds:g} s per run after {args.warmup:g} s "
        f"warm-up, median of {args.rounds} round(s); one uvicorn worker per server; PostgreSQL."
    )
    header = (
        f"{'variant':<26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'SQL/req':>8} "
        f"{'CPU ms/req':>11} {'vs hand':>8}"
    )
    for query, rows in results.items():
        print(f"\n{QUERY_LABELS[query]}")
        print(header)
        print("-" * len(header))
        hand = rows["hand"]["requests_per_second"]
        for variant in variants:
            row = rows[variant.key]
            print(
                f"{variant.label:<26} {row['requests_per_second']:>8.1f} "
                f"{row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
                f"{row['queries_per_request']:>8} {row['server_cpu_ms']:>11.1f} "
                f"{row['requests_per_second'] / hand:>7.2f}x"
            )
    print(
        "\nreq/s and latencies are wall-clock figures from the load generator's process; "
        "CPU ms/req is the serving process's own CPU time per request (steadier on a busy "
        "machine)."
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.graphql_vs_rest", description=__doc__)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 8)))
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 2)))
    parser.add_argument("--query", choices=list(documents.GRAPHQL_QUERIES), action="append")
    parser.add_argument("--variant", choices=[v.key for v in VARIANTS], action="append")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("GRAPHQL_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="a PostgreSQL database of the bench's own (created when missing; its shipping "
        "data is replaced)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    queries = args.query or list(documents.GRAPHQL_QUERIES)
    env = environment(args.database_url)
    print("Seeding (10,000 items, 1,000 batches, 100 transports) ...", flush=True)
    item_id, token = (
        subprocess.run(
            [str(PROJECT_PYTHON), "-m", "bench.graphql_vs_rest.prepare"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-2:]
    )
    authorization = f"Bearer {token}"
    variables: Variables = {documents.ARRIVALS: {documents.ARRIVALS_ITEM: item_id}}
    variants = [v for v in VARIANTS if not args.variant or v.key in args.variant or v.key == "hand"]

    with (
        uvicorn(PROJECT_PYTHON, "config.asgi:application", env) as (project_base, project_pid),
        contextlib.ExitStack() as stack,
    ):
        bases = {"project": project_base}
        pids = {"project": project_pid}
        # graphene-django's server (and its virtualenv) only when one of its variants runs: the
        # project's variants can be compared without it.
        if any(v.server == "graphene" for v in variants):
            graphene_python = ensure_graphene_venv()
            graphene_env = {
                **env,
                "DJANGO_SETTINGS_MODULE": "bench.graphql_vs_rest.graphene_app.settings",
            }
            bases["graphene"], pids["graphene"] = stack.enter_context(
                uvicorn(
                    graphene_python,
                    "bench.graphql_vs_rest.graphene_app.asgi:application",
                    graphene_env,
                )
            )
        print("Checking that every variant serves the same JSON ...", flush=True)
        check_same_json(bases, authorization, queries, variables, variants)
        runs: dict[str, dict[str, list[dict]]] = {q: {v.key: [] for v in variants} for q in queries}
        for round_number in range(args.rounds):
            # Rotate the order each round: no variant always runs first (or last) on a busy machine.
            order = (
                variants[round_number % len(variants) :] + variants[: round_number % len(variants)]
            )
            for query in queries:
                for variant in order:
                    url, body = target(variant, query, bases, variables)
                    spec = {
                        "url": url,
                        "method": "POST" if body else "GET",
                        "body": body,
                        "authorization": authorization,
                        "concurrency": args.concurrency,
                        "seconds": args.seconds,
                        "warmup_seconds": args.warmup,
                    }
                    result = load(spec, env, pids[variant.server])
                    runs[query][variant.key].append(result)
                    print(
                        f"  round {round_number + 1} {query:<10} {variant.label:<26} "
                        f"{result['requests_per_second']:7.1f} req/s",
                        flush=True,
                    )
    results = {q: {k: summarise(v) for k, v in rows.items()} for q, rows in runs.items()}
    print_table(results, variants, args)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"graphql_vs_rest-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"args": vars(args), "results": results}, indent=2))
    print(f"\nRaw figures: {path.relative_to(ROOT)}")
