"""Bulk jobs: items/s of a 10,000-row importShippingItems job (local backend), beside the same
items created one service call at a time, and the gaps between progress updates a watcher sees.

`python -m bench.jobs_bench` (also run by `make bench`); BENCH_DATABASE_URL for PostgreSQL.
Prints figures only:
- the job: rows per second from claim to its end, worked in this process as a worker does;
- the baseline: `shipping_item_create` called once per item (what N createShippingItem mutations
  cost without HTTP), rows per second, and the ratio job / baseline;
- progress: the gaps between changes of `processed` seen by a reader looking every 50 ms, as
  bulkJobUpdates does (median, p99, max): how often a watcher can see the job move.
"""

from __future__ import annotations

import itertools
import os
import statistics
import threading
import time

if __name__ == "__main__":
    from bench._django import setup_django

    setup_django(JOBS_WORKER_IN_PROCESS="false")

ROWS = int(os.environ.get("BENCH_JOB_ROWS", "10000"))
BASELINE_ROWS = int(os.environ.get("BENCH_JOB_BASELINE_ROWS", "2000"))
LOOK_EVERY_SECONDS = 0.05


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def job_run() -> tuple[float, list[float]]:
    from django.db import connections

    from modules.jobs import api, selectors
    from modules.jobs.worker import work_available

    started = api.start_job(
        kind="shipping.importItems", rows=[{"sku": f"BENCH-{n}"} for n in range(ROWS)]
    )
    changes: list[float] = []
    done = threading.Event()

    def watch() -> None:
        last = -1
        try:
            while not done.is_set():
                job = selectors.job_progress(started.uuid)
                if job is not None and job.processed != last:
                    changes.append(time.perf_counter())
                    last = job.processed
                time.sleep(LOOK_EVERY_SECONDS)
        finally:
            connections.close_all()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    began = time.perf_counter()
    work_available("bench-worker")
    elapsed = time.perf_counter() - began
    done.set()
    watcher.join()
    return elapsed, [b - a for a, b in itertools.pairwise(changes)]


def baseline_run() -> float:
    from modules.shipping.services import shipping_item_create

    began = time.perf_counter()
    for n in range(BASELINE_ROWS):
        shipping_item_create(sku=f"BASE-{n}")
    return time.perf_counter() - began


def main() -> None:
    from django.conf import settings
    from django.db import connection

    elapsed, gaps = job_run()
    job_rate = ROWS / elapsed
    baseline_rate = BASELINE_ROWS / baseline_run()
    print(
        f"jobs bench on {connection.vendor}, chunks of {settings.JOBS_CHUNK_SIZE} "
        f"(local backend, one worker)"
    )
    print(f"  import job, {ROWS} rows:          {job_rate:8.0f} rows/s ({elapsed:.1f} s)")
    print(f"  one call per item, {BASELINE_ROWS} items: {baseline_rate:8.0f} items/s")
    print(f"  ratio job / one call per item:  {job_rate / baseline_rate:8.2f}")
    if gaps:
        print(
            f"  gaps between progress updates: median {statistics.median(gaps) * 1000:.0f} ms, "
            f"p99 {_percentile(gaps, 0.99) * 1000:.0f} ms, max {max(gaps) * 1000:.0f} ms "
            f"({len(gaps)} gaps)"
        )


if __name__ == "__main__":
    main()
