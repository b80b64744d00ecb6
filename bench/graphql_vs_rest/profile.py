"""In-process CPU cost per request of each variant, and where Strawberry's time goes.

    python -m bench.graphql_vs_rest.profile [--query items|transports] [--no-gc]
        [--cprofile [--sort tottime]]

No server, no network: Django's test client calls each variant in turn, and the figure is the
process's CPU time per request (the best of a few rounds), which stays readable on a busy machine
where wall-clock rates swing. "Strawberry, no shortcuts" runs the same endpoint inside
`schema.engine.ordinary_execution()`; both must give byte-identical bodies. `--cprofile` prints
the functions where the Strawberry endpoint spends its time (cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import time
from collections.abc import Callable

from bench.graphql_vs_rest import documents
from bench.graphql_vs_rest.run import DEFAULT_DATABASE_URL, environment


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--query", choices=list(documents.GRAPHQL_QUERIES), default=documents.ITEMS)
    parser.add_argument("--requests", type=int, default=0, help="per round (default: 20 for items)")
    # Many short rounds, interleaved: on a shared machine the best round is the steady figure.
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="collect garbage between rounds, not during them (steadier: (b) allocates ~11,000\n"
        "rows per request, and a full collection lands in whichever variant runs then)",
    )
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="pstats order (e.g. tottime)")
    parser.add_argument("--lines", type=int, default=40, help="functions to print")
    parser.add_argument(
        "--callers", nargs="*", default=[], help="also print who calls these functions"
    )
    parser.add_argument(
        "--callees", nargs="*", default=[], help="also print what these functions call"
    )
    args = parser.parse_args()
    requests = args.requests or (20 if args.query == documents.ITEMS else 2)
    os.environ.update(
        environment(os.environ.get("GRAPHQL_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    )

    from bench.graphql_vs_rest.prepare import create_database

    create_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from bench.graphql_vs_rest.seed import Size, seed
    from modules.auth.api import access_token_for
    from schema.engine import ordinary_execution

    call_command("migrate", verbosity=0, interactive=False)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {access_token_for(seed(Size()))}")
    body = {"query": documents.GRAPHQL_QUERIES[args.query]}

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
        return lambda: client.get(f"/bench/{kind}/{args.query}").content

    assert strawberry() == ordinary(), "the shortcuts changed the answer"
    variants = {
        "hand-written view": rest("hand"),
        "DRF serializers": rest("drf"),
        "Strawberry, no shortcuts": ordinary,
        "Strawberry (ours)": strawberry,
    }
    for call in variants.values():
        call()
    best = dict.fromkeys(variants, float("inf"))
    if args.no_gc:
        gc.disable()
    for _ in range(args.rounds):
        for name, call in variants.items():
            if args.no_gc:
                gc.collect()
            started = time.process_time()
            for _ in range(requests):
                call()
            best[name] = min(best[name], (time.process_time() - started) * 1000 / requests)
    gc.enable()
    hand = best["hand-written view"]
    print(f"{args.query}: CPU ms per request, in process (best of {args.rounds} x {requests})")
    for name, cost in best.items():
        print(f"  {name:<26} {cost:8.2f} ms   {hand / cost:5.2f}x the hand-written view's rate")

    if args.cprofile:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [strawberry() for _ in range(requests)])
        stats = pstats.Stats(profiler).sort_stats(args.sort)
        stats.print_stats(args.lines)
        for function in args.callers:
            stats.print_callers(function)
        for function in args.callees:
            stats.print_callees(function)


if __name__ == "__main__":
    main()
