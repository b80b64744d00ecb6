"""Read (a) served by gunicorn (config/gunicorn.py) with 1 and with 2 uvicorn workers: the ratio.

`make bench BENCH=gunicorn_workers` (installs the bench extras first), or
`.venv/bin/python -m bench.gunicorn_workers [--seconds 8] [--rounds 3] [--concurrency 8]`. Seeds the
database of bench/graphql_vs_rest (PostgreSQL, 10,000 items; `--database-url` or
GRAPHQL_BENCH_DATABASE_URL), with the project's own settings (this bench needs none of the REST
baseline's packages), then, each round, starts the production server
(the Procfile's `web` command, DJANGO_ENV=production, the in-process relay off) with
WEB_CONCURRENCY=1 and with 2, the order alternating by round, and drives read (a)
(`shippingItems(first: 100)` with batches and centers) from the load generator's own process.
Prints req/s and p50/p99 per worker count (median of rounds), the ratio of 2 workers to 1 (of
the medians) and each round's ratio (1 and 2 workers measured back to back).
With two cores, the load generator and PostgreSQL share them with the workers: the ratio says
how much a second worker buys on this machine, not on a dedicated one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.graphql_vs_rest import documents
from bench.graphql_vs_rest.run import DEFAULT_DATABASE_URL

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def web_command() -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            words = shlex.split(line.partition(":")[2])
            return [sys.executable, "-m", *words]
    raise SystemExit("Procfile has no web process")


def production_environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "AUTH_TEST_PHONE_NUMBERS"}}
    env.update(
        {
            "DJANGO_ENV": "production",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "EVENTS_SEALING_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "EVENTS_RELAY_IN_PROCESS": "0",
            "AUTH_PRINT_VERIFICATION_CODES": "0",
            "NOTIFICATIONS_FILE": "",
            "LOG_LEVEL": "WARNING",
            "PYTHONWARNINGS": "ignore",
            "GUNICORN_CMD_ARGS": "--log-level warning",
            # Budgets sized for a load test: the bench measures serving, not throttling.
            "GRAPHQL_MAX_COST": "1000000000",
            "GRAPHQL_COST_BUCKET_SIZE": "100000000",
            "GRAPHQL_COST_RESTORE_RATE": "100000000",
        }
    )
    return env


def staff_token(env: dict[str, str]) -> str:
    """A token for the bench's staff user, signed with this run's production key."""
    script = (
        "from modules.auth.api import access_token_for; from modules.user.models import User;"
        "print(access_token_for(User.objects.filter(is_staff=True).order_by('id').first()))"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        web_command(),
        cwd=ROOT,
        env={**env, "WEB_CONCURRENCY": str(workers), "HOST": "127.0.0.1", "PORT": str(port)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{base}/healthz", timeout=2) as response,
            ):
                if response.status == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        time.sleep(1)  # /healthz answers once one worker serves: let the others boot too
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def drive(base: str, token: str, args: argparse.Namespace, env: dict[str, str]) -> dict:
    spec = {
        "url": f"{base}/graphql/",
        "method": "POST",
        "body": json.dumps({"query": documents.GRAPHQL_QUERIES[documents.ITEMS]}),
        "authorization": f"Bearer {token}",
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup,
    }
    output = subprocess.run(
        [sys.executable, "-m", "bench.graphql_vs_rest.loadgen", json.dumps(spec)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict = json.loads(output)
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.gunicorn_workers", description=__doc__)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 8)))
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    parser.add_argument(
        "--database-url",
        default=os.environ.get("GRAPHQL_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    seed_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": args.database_url,
        # The project's settings: the bench settings add the REST baseline (DRF), which seeding
        # and serving read (a) do not need.
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "AUTH_PRINT_VERIFICATION_CODES": "false",
        "EVENTS_RELAY_IN_PROCESS": "false",
        "PYTHONWARNINGS": "ignore",
    }
    print("Seeding (bench/graphql_vs_rest: 10,000 items) ...", flush=True)
    seeded = subprocess.run(
        [sys.executable, "-m", "bench.graphql_vs_rest.prepare"],
        cwd=ROOT,
        env=seed_env,
        check=False,
        capture_output=True,
        text=True,
    )
    if seeded.returncode:
        # Its output is captured (it ends with a token): say why it failed, not just that it did.
        raise SystemExit(f"Seeding failed (exit {seeded.returncode}):\n{seeded.stderr[-3000:]}")
    env = production_environment(args.database_url)
    token = staff_token(env)
    runs: dict[int, list[dict]] = {1: [], 2: []}
    for round_number in range(args.rounds):
        for workers in (1, 2) if round_number % 2 == 0 else (2, 1):
            with gunicorn(env, workers) as base:
                result = drive(base, token, args, env)
            if result["errors"]:
                raise SystemExit(f"{result['errors']} failed requests with {workers} worker(s)")
            runs[workers].append(result)
            print(
                f"  round {round_number + 1}, {workers} worker(s): "
                f"{result['requests_per_second']:7.1f} req/s",
                flush=True,
            )
    print(
        f"\nRead (a), gunicorn + uvicorn workers, {args.concurrency} connections, "
        f"{args.seconds:g} s measured, median of {args.rounds} rounds, {os.cpu_count()} cores"
    )
    print(f"{'workers':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    medians = {}
    for workers, results in runs.items():
        medians[workers] = statistics.median(r["requests_per_second"] for r in results)
        p50 = statistics.median(r["p50_ms"] for r in results)
        p99 = statistics.median(r["p99_ms"] for r in results)
        print(f"{workers:>8} {medians[workers]:9.1f} {p50:8.1f} {p99:8.1f}")
    print(f"\nratio, 2 workers / 1 worker: {medians[2] / medians[1]:.2f}x (of the medians)")
    by_round = [
        two["requests_per_second"] / one["requests_per_second"]
        for one, two in zip(runs[1], runs[2], strict=True)
    ]
    print(
        "round by round: "
        + ", ".join(f"{ratio:.2f}x" for ratio in by_round)
        + f" (median {statistics.median(by_round):.2f}x)"
    )


if __name__ == "__main__":
    main()
