"""In-process CPU cost per request of each variant, and where Strawberry's time goes.

    python -m bench.graphql_vs_rest.profile [--query items|transports|arrivals] [--no-gc]
        [--asgi] [--ablation [--modes MODE ...]] [--cprofile [--sort tottime]]

No server, no network: Django's test client calls each variant in turn, and the figure is the
process's CPU time per request (median and best of interleaved rounds), which stays readable on a
busy machine where wall-clock rates swing. "Strawberry, no shortcuts" runs the same endpoint inside
`schema.engine.ordinary_execution()`; both must give byte-identical bodies. `--ablation` runs
the Strawberry endpoint once per switch of ablation.py (one part of the engine off at a time)
beside the hand-written view, checks each gives the same body and SQL count, and prints each
part's share. `--cprofile` prints the functions where the Strawberry endpoint spends its time.
`--asgi` calls the project's ASGI application instead of the test client, as the server does
(the view in asgiref's thread, the startup objects frozen): what a request leaves to the cyclic
garbage collector then costs what it costs the server.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from typing import Any

from bench.graphql_vs_rest import documents
from bench.graphql_vs_rest.run import DEFAULT_DATABASE_URL, environment


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--query", choices=list(documents.GRAPHQL_QUERIES), default=documents.ITEMS)
    parser.add_argument(
        "--cut",
        action="append",
        default=[],
        metavar="PATH",
        help="run the read without the field at PATH (response keys: node, or\n"
        "transports.edges.node.batches), to see what a part costs; repeatable. The REST views\n"
        "still serve the whole read",
    )
    parser.add_argument("--requests", type=int, default=0, help="per round (default: 20 for items)")
    # Many short rounds, interleaved: on a shared machine the best round is the steady figure.
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="collect garbage between rounds, not during them (steadier: (b) allocates ~11,000\n"
        "rows per request, and a full collection lands in whichever variant runs then)",
    )
    parser.add_argument(
        "--ablation", action="store_true", help="one part of the engine off at a time"
    )
    parser.add_argument(
        "--parts",
        action="store_true",
        help="also time, within ours, the plans' completion (at the root) and the guard's\n"
        "actual-cost walk (CPU ms per request, over the same requests)",
    )
    parser.add_argument(
        "--modes", nargs="*", default=None, help="the ablation modes to run (default: all)"
    )
    parser.add_argument(
        "--asgi",
        action="store_true",
        help="call the project's ASGI application (config.asgi), as uvicorn does, instead of\n"
        "Django's test client: the sync view runs in asgiref's thread, after the server's\n"
        "gc.freeze(), so garbage left to the cyclic collector costs what it costs a server",
    )
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument(
        "--cprofile-mode", default=None, help="profile under this ablation mode (default: ours)"
    )
    parser.add_argument(
        "--cprofile-hand", action="store_true", help="profile the hand-written view instead"
    )
    parser.add_argument(
        "--cprofile-dump", default=None, help="also write the raw profile to this file (pstats)"
    )
    parser.add_argument("--sort", default="cumulative", help="pstats order (e.g. tottime)")
    parser.add_argument("--lines", type=int, default=40, help="functions to print")
    parser.add_argument(
        "--callers", nargs="*", default=[], help="also print who calls these functions"
    )
    parser.add_argument(
        "--callees", nargs="*", default=[], help="also print what these functions call"
    )
    args = parser.parse_args()
    if args.asgi and (args.cprofile or args.no_gc):
        # cProfile sees the calling thread only (not asgiref's); --no-gc removes what --asgi shows.
        parser.error("--asgi goes with neither --cprofile nor --no-gc")
    requests = args.requests or (2 if args.query == documents.TRANSPORTS else 20)
    os.environ.update(
        environment(os.environ.get("GRAPHQL_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    )

    from bench.graphql_vs_rest.prepare import create_database

    create_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.graphql_vs_rest import ablation
    from bench.graphql_vs_rest.counting import QUERY_COUNT_HEADER
    from bench.graphql_vs_rest.seed import Size, arrivals_item_id, seed
    from modules.auth.api import access_token_for
    from schema.engine import ordinary_execution

    call_command("migrate", verbosity=0, interactive=False)
    authorization = f"Bearer {access_token_for(seed(Size()))}"
    client: Any = (
        AsgiClient(authorization) if args.asgi else Client(HTTP_AUTHORIZATION=authorization)
    )
    variables = (
        {documents.ARRIVALS_ITEM: arrivals_item_id()} if args.query == documents.ARRIVALS else {}
    )
    query = documents.GRAPHQL_QUERIES[args.query]
    if args.cut:
        query = documents.without_fields(query, args.cut)
        print(f"the Strawberry variants run:\n{query}")
    body = {"query": query, "variables": variables}

    def strawberry() -> bytes:
        response = client.post("/graphql/", body, content_type="application/json")
        assert response.status_code == 200 and b'"errors"' not in response.content, (
            response.content[:300]
        )
        return response.content

    def ordinary() -> bytes:
        with ordinary_execution():
            return strawberry()

    def rest(kind: str) -> Callable[[], bytes]:
        return lambda: client.get(f"/bench/{kind}/{args.query}", variables).content

    def sql_per_request(call: Callable[[], bytes]) -> int:
        if args.asgi:  # the queries run in asgiref's thread: the bench's middleware counts them
            call()
            return int(client.last_headers[QUERY_COUNT_HEADER])
        with CaptureQueriesContext(connection) as queries:
            call()
        return len(queries.captured_queries)

    reference = strawberry()
    assert reference == ordinary(), "the shortcuts changed the answer"
    # name -> (call, the switch it runs under: None for the REST views)
    Switch = Callable[[], AbstractContextManager[None]]
    variants: dict[str, tuple[Callable[[], bytes], Switch | None]] = {
        "hand-written view": (rest("hand"), None)
    }
    if args.ablation:
        for name in args.modes or list(ablation.MODES):
            variants[name] = (strawberry, partial(ablation.mode, name))
    else:
        variants["DRF serializers"] = (rest("drf"), None)
        variants["Strawberry, no shortcuts"] = (ordinary, None)
        variants["Strawberry (ours)"] = (strawberry, lambda: ablation.mode(ablation.OURS))
    queries: dict[str, int] = {}
    first_switched = next(name for name, (_, switch) in variants.items() if switch is not None)
    for name, (call, switch) in variants.items():
        with switch() if switch is not None else nullcontext():
            call()
            queries[name] = sql_per_request(call)
            if switch is not None:
                assert call() == reference, f"{name} changed the answer"
                assert queries[name] == queries[first_switched], (
                    f"{name} ran {queries[name]} queries, {first_switched} "
                    f"{queries[first_switched]}"
                )
    costs: dict[str, list[float]] = {name: [] for name in variants}
    if args.no_gc:
        gc.disable()
    for _ in range(args.rounds):
        for name, (call, switch) in variants.items():
            with switch() if switch is not None else nullcontext():
                if switch is not None:
                    call()  # kept stores and plans made again (dropped as the switch changed)
                if args.no_gc:
                    gc.collect()
                started = time.process_time()
                for _ in range(requests):
                    call()
                costs[name].append((time.process_time() - started) * 1000 / requests)
    gc.enable()
    medians = {name: statistics.median(rounds) for name, rounds in costs.items()}
    hand = medians["hand-written view"]
    print(
        f"{args.query}: CPU ms per request, in process (median and best of {args.rounds} "
        f"interleaved rounds x {requests} requests; gc {'off' if args.no_gc else 'on'})"
    )
    ours = medians.get(ablation.OURS)
    header = f"  {'variant':<30} {'median':>8} {'best':>8} {'SQL':>4} {'vs hand':>8}"
    print(header + (f" {'- ours':>8}" if args.ablation and ours is not None else ""))
    for name, median in medians.items():
        line = (
            f"  {name:<30} {median:8.2f} {min(costs[name]):8.2f} {queries[name]:>4} "
            f"{hand / median:7.2f}x"
        )
        if args.ablation and ours is not None and name != "hand-written view":
            line += f" {median - ours:+8.2f}"
        print(line)
    if args.ablation:
        print(
            "  (- ours: the median's difference to everything on, in ms per request: what the "
            "part saves)"
        )

    if args.parts:
        print_parts(strawberry, requests, args.rounds)

    if args.cprofile:
        profiler = cProfile.Profile()
        profiled = rest("hand") if args.cprofile_hand else strawberry
        with ablation.mode(args.cprofile_mode or ablation.OURS):
            profiled()
            profiler.runcall(lambda: [profiled() for _ in range(requests)])
        if args.cprofile_dump:
            profiler.dump_stats(args.cprofile_dump)
        stats = pstats.Stats(profiler).sort_stats(args.sort)
        stats.print_stats(args.lines)
        for function in args.callers:
            stats.print_callers(function)
        for function in args.callees:
            stats.print_callees(function)


class AsgiClient:
    """The calls the variants make (`get`, `post`), sent to config.asgi's application through
    httpx's ASGI transport on one event loop, as uvicorn would send them."""

    def __init__(self, authorization: str) -> None:
        import asyncio

        import httpx

        from config.asgi import application

        # Channels types its router with its own scope types, httpx with plain mappings.
        http_application: Any = application
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=http_application),
            base_url="http://127.0.0.1",
            headers={"Authorization": authorization},
        )
        self.last_headers: Any = {}

    def _send(self, request: Any) -> Any:
        response = self.loop.run_until_complete(request)
        self.last_headers = response.headers
        return response

    def get(self, path: str, params: dict[str, Any]) -> Any:
        return self._send(self.client.get(path, params=params))

    def post(self, path: str, body: dict[str, Any], content_type: str) -> Any:
        return self._send(self.client.post(path, json=body, headers={"Content-Type": content_type}))


def print_parts(call: Callable[[], bytes], requests: int, rounds: int) -> None:
    """CPU ms per request of ours spent in two parts that walk every object of the result: the
    plans' completion (PlannedExecution.complete_object_value, outermost calls) and the guard's
    actual-cost walk (the `actual_cost` the guard's extension calls), timed by wrapping both."""
    from unittest.mock import patch

    import schema.guard.extension as guard
    from bench.graphql_vs_rest import ablation
    from schema.engine import plans
    from schema.guard.cost import actual_cost  # the function the guard's extension imported

    spent = {"completion by plans": 0.0, "actual-cost walk": 0.0}
    depth = 0
    complete = plans.PlannedExecution.complete_object_value

    def timed_completion(self: Any, *args: Any) -> Any:
        nonlocal depth
        if depth:
            return complete(self, *args)
        depth += 1
        started = time.process_time()
        try:
            return complete(self, *args)
        finally:
            spent["completion by plans"] += time.process_time() - started
            depth -= 1

    def timed_walk(*args: Any) -> Any:
        started = time.process_time()
        try:
            return actual_cost(*args)
        finally:
            spent["actual-cost walk"] += time.process_time() - started

    with (
        patch.object(plans.PlannedExecution, "complete_object_value", timed_completion),
        patch.object(guard, "actual_cost", timed_walk),
        ablation.mode(ablation.OURS),
    ):
        call()
        gc.collect()
        gc.disable()
        started = time.process_time()
        for _ in range(requests * rounds):
            call()
        total = time.process_time() - started
        gc.enable()
    count = requests * rounds
    figures = "; ".join(f"{name} {seconds * 1000 / count:.2f}" for name, seconds in spent.items())
    whole = total * 1000 / count
    print(f"  parts of ours ({count} requests, gc off): whole {whole:.2f} ms; {figures}")


if __name__ == "__main__":
    main()
