"""Workers: take a job's lease, apply its chunks until it ends, and hand it on if they die.

- `manage.py work_jobs` (any backend): a worker process; with `sqs` it long-polls the queue;
- in the server process on the embedded default (JOBS_WORKER_IN_PROCESS): `start_in_process_worker`
  runs a thread that is nudged right after a job is started and looks again every
  JOBS_POLL_SECONDS for jobs whose worker's lease ran out;
- tests call `work_available()` to run queued jobs in their own thread.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import connections

from modules.jobs import services
from modules.jobs.models import UNFINISHED_STATUSES, BulkJob
from modules.jobs.queue import Message, SqsQueue, on_local_send

logger = logging.getLogger("majestic.jobs")

Progress = Callable[[BulkJob], None]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_job(
    job_uuid: uuid.UUID,
    worker: str,
    on_progress: Progress | None = None,
    stopping: threading.Event | None = None,
) -> BulkJob:
    """Apply the chunks of a job this worker has claimed until it ends; raises `LeaseLost`.
    When `stopping` is set (the worker is shutting down) it gives the job back after the current
    chunk, so another worker resumes it at once rather than after the lease."""
    while True:
        job = services.job_run_chunk(job_uuid=job_uuid, worker=worker)
        if on_progress is not None:
            on_progress(job)
        if job.finished:
            return job
        if stopping is not None and stopping.is_set():
            services.job_release(job_uuid=job_uuid, worker=worker, failed=False)
            return job


def work_available(
    worker: str | None = None,
    *,
    on_progress: Progress | None = None,
    stopping: threading.Event | None = None,
) -> int:
    """Run claimable jobs (queued, or left by a worker whose lease ran out) until none is left
    (or `stopping` is set); how many it took."""
    worker = worker or worker_name()
    done = 0
    while stopping is None or not stopping.is_set():
        job_uuid = services.job_claim(worker=worker)
        if job_uuid is None:
            return done
        try:
            run_job(job_uuid, worker, on_progress, stopping)
        except services.LeaseLost:
            logger.warning("Lost the lease of job %s; another worker has it", job_uuid)
        except Exception:  # a bug in a kind, the database gone: this job waits, the worker goes on
            logger.exception("Job %s failed in worker %s", job_uuid, worker)
            with contextlib.suppress(Exception):
                services.job_release(job_uuid=job_uuid, worker=worker)
            return done
        done += 1
    return done


def work_message(
    queue: SqsQueue,
    message: Message,
    worker: str,
    on_progress: Progress | None = None,
    stopping: threading.Event | None = None,
) -> None:
    """Handle one SQS message: run its job, then delete the message. A job another worker holds
    leaves the message to come back; a failure hands it back after JOBS_RETRY_SECONDS, and SQS
    dead-letters it after the queue's maxReceiveCount."""
    if message.job_uuid is None:
        queue.delete(message)
        return
    job_uuid = services.job_claim(worker=worker, job_uuid=message.job_uuid)
    if job_uuid is None:
        held = BulkJob.objects.filter(
            uuid=message.job_uuid, status__in=UNFINISHED_STATUSES, lease_expires_at__isnull=False
        )
        if not held.exists():
            queue.delete(message)  # finished, cancelled or gone: nothing left to do
        return

    def progressed(job: BulkJob) -> None:
        queue.hide(message, settings.JOBS_SQS_VISIBILITY_SECONDS)  # still ours while it runs
        if on_progress is not None:
            on_progress(job)

    try:
        job = run_job(job_uuid, worker, progressed, stopping)
    except services.LeaseLost:
        return  # whoever holds the job now has its own message
    except Exception:
        logger.exception("Job %s failed in worker %s", job_uuid, worker)
        services.job_release(job_uuid=job_uuid, worker=worker)
        queue.hide(message, settings.JOBS_RETRY_SECONDS)
        return
    if not job.finished:  # given back on shutdown: the next worker takes it at once
        queue.hide(message, 0)
        return
    queue.delete(message)


# --- the in-process worker (embedded default) ----------------------------------------------------


class InProcessWorker:
    """One background thread per server process that runs jobs right after they are started."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="majestic-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def nudge(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        name = worker_name()
        while not self._stop.is_set():
            self._wake.clear()
            try:
                work_available(name, stopping=self._stop)
            except Exception:  # e.g. the database is away, or a bug in a kind: look again later
                logger.exception("In-process jobs worker round failed")
            finally:
                connections.close_all()  # this thread's connections only
            self._wake.wait(timeout=settings.JOBS_POLL_SECONDS)


_in_process = InProcessWorker()


def start_in_process_worker() -> InProcessWorker:
    """Start this process's jobs thread (idempotent); its first round takes any backlog. At exit
    it finishes its chunk and gives the job back (a daemon thread would die mid-chunk and leave
    the job held until its lease ran out)."""
    on_local_send(work_soon)
    if not _in_process.running:
        atexit.register(stop_in_process_worker)
    _in_process.start()
    return _in_process


def stop_in_process_worker(timeout: float = 10) -> None:
    _in_process.stop(timeout)


def work_soon() -> None:
    """Wake the in-process worker (after a job was started); a no-op where none runs."""
    if _in_process.running:
        _in_process.nudge()
