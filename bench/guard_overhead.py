"""What the guard (schema/guard/) costs on a read: cost analysis and the client's bucket.

    python -m bench.guard_overhead [--query items|transports|arrivals] [--rounds 9]
        [--requests 30] [--redis]

In process, on the bench database of bench/graphql_vs_rest (PostgreSQL, 10,000 items; made when
missing): read (a), or the --query given, through the GraphQL endpoint with the guard as it runs,
and with its admission and settlement replaced by no-ops, interleaved round by round. Prints the
median wall-clock ms per request of each and the overhead as a share of the median latency (the
issue's target: under 5 %). `--redis` keeps the buckets in Redis (REDIS_URL, default the local
one), as several gateway processes would.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--query", choices=["items", "transports", "arrivals"], default="items", help="the read"
    )
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--requests", type=int, default=None, help="per round and variant (30; transports: 3)"
    )
    parser.add_argument("--redis", action="store_true", help="buckets in Redis (REDIS_URL)")
    args = parser.parse_args()
    requests = args.requests or (3 if args.query == "transports" else 30)

    from bench.graphql_vs_rest.run import DEFAULT_DATABASE_URL, environment

    os.environ.update(
        environment(os.environ.get("GRAPHQL_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    )
    if args.redis:
        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    else:
        os.environ["REDIS_URL"] = ""
    from bench.graphql_vs_rest.prepare import create_database

    create_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from bench.graphql_vs_rest import documents
    from bench.graphql_vs_rest.seed import Size, arrivals_item_id, seed
    from modules.auth.api import access_token_for
    from schema.guard import extension

    call_command("migrate", verbosity=0, interactive=False)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {access_token_for(seed(Size()))}")
    variables = (
        {documents.ARRIVALS_ITEM: arrivals_item_id()} if args.query == documents.ARRIVALS else {}
    )
    body = {"query": documents.GRAPHQL_QUERIES[args.query], "variables": variables}

    def read() -> None:
        response = client.post("/graphql/", body, content_type="application/json")
        assert response.status_code == 200 and b'"errors"' not in response.content

    @contextmanager
    def guard_off() -> Any:
        admit, settle = extension.admit, extension.settle
        extension.admit = lambda *a, **k: extension.Admission()
        extension.settle = lambda admission, data: None
        try:
            yield
        finally:
            extension.admit, extension.settle = admit, settle

    @contextmanager
    def guard_on() -> Any:
        yield

    variants: dict[str, Callable[[], Any]] = {"guard off": guard_off, "guard on": guard_on}
    for switch in variants.values():
        with switch():
            for _ in range(5):
                read()
    times: dict[str, list[float]] = {name: [] for name in variants}
    gc.disable()
    try:
        for round_ in range(args.rounds):
            order = list(variants.items())
            if round_ % 2:
                order.reverse()
            for name, switch in order:
                gc.collect()
                with switch():
                    started = time.perf_counter()
                    for _ in range(requests):
                        read()
                times[name].append((time.perf_counter() - started) * 1000 / requests)
    finally:
        gc.enable()
    off, on = (statistics.median(times[name]) for name in ("guard off", "guard on"))
    store = "Redis" if args.redis else "process memory"
    print(
        f"{args.query}, in process, buckets in {store}: median of {args.rounds} interleaved "
        f"rounds x {requests} requests"
    )
    for name in variants:
        print(f"  {name:<10} {statistics.median(times[name]):7.2f} ms/request")
    print(f"  overhead   {on - off:+7.2f} ms/request, {100 * (on - off) / on:+.1f} % of the median")


if __name__ == "__main__":
    main()
