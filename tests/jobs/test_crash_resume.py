"""Real worker processes: one is killed (SIGKILL) in the middle of a job, another takes the job
over when the lease runs out and finishes it; no row applied twice, no event emitted twice."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live.server import ROOT, base_environment, live_database

pytestmark = pytest.mark.live

ROWS = 1200
START_JOB = (
    "from modules.jobs import api\n"
    f"rows = [{{'sku': f'CRASH-{{n}}'}} for n in range({ROWS})]\n"
    "print(api.start_job(kind='shipping.importItems', rows=rows).uuid)\n"
)


@contextlib.contextmanager
def database(url: str) -> Iterator[Any]:
    if url.startswith("sqlite:///"):
        connection: Any = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
    else:
        import psycopg

        connection = psycopg.connect(url, autocommit=True)
    try:
        yield connection
    finally:
        connection.close()


def one(url: str, sql: str) -> tuple[Any, ...]:
    with database(url) as connection:
        cursor = connection.cursor()
        cursor.execute(sql)
        row: tuple[Any, ...] = cursor.fetchone()
        if isinstance(connection, sqlite3.Connection):
            connection.rollback()
        return row


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "work_jobs", "--progress", "never"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(condition: Any, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds}s; worker log:\n{log.read_text()[-3000:]}")


def test_a_killed_worker_loses_nothing_and_the_next_one_resumes_after_its_last_chunk(tmp_path):
    with live_database(tmp_path) as url:
        env = {
            **base_environment(),
            "DATABASE_URL": url,
            "JOBS_BACKEND": "local",
            "JOBS_CHUNK_SIZE": "20",
            "JOBS_LEASE_SECONDS": "2",
            "JOBS_POLL_SECONDS": "0.2",
        }
        started = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", START_JOB],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        job_uuid = started.stdout.decode().strip().splitlines()[-1]
        log = tmp_path / "workers.log"
        progress = "SELECT status, processed, failed, attempts FROM jobs_bulkjob"

        first = start_worker(env, log)
        try:
            wait_for(lambda: one(url, progress)[1] >= 100, log)
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        finally:
            first.kill()
        status, processed_at_kill, _failed, _attempts = one(url, progress)
        assert status == "RUNNING" and 0 < processed_at_kill < ROWS, (status, processed_at_kill)

        second = start_worker(env, log)
        try:
            wait_for(lambda: one(url, progress)[0] != "RUNNING", log)
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                second.wait(30)
            except subprocess.TimeoutExpired:
                second.kill()
        # attempts counts claims since the last committed chunk: the second worker's only.
        assert one(url, progress) == ("SUCCEEDED", ROWS, 0, 1)
        items, distinct_skus = one(
            url, "SELECT count(*), count(DISTINCT sku) FROM shipping_shippingitem"
        )
        assert (items, distinct_skus) == (ROWS, ROWS)
        (events,) = one(
            url, "SELECT count(*) FROM events_outboxevent WHERE detail_type = 'ShippingItemCreated'"
        )
        assert events == ROWS
        assert json.dumps(job_uuid)  # the job the script started is the one that finished
