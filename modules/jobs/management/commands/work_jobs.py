"""`python manage.py work_jobs`: a worker process for bulk jobs (either backend).

With JOBS_BACKEND=sqs it long-polls JOBS_SQS_QUEUE_URL; with `local` it looks in the database
every JOBS_POLL_SECONDS. Run by hand on a terminal, it shows each job's progress (tqdm).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import uuid
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections
from tqdm import tqdm

from modules.jobs import queue, selectors, worker
from modules.jobs.models import BulkJob

logger = logging.getLogger("majestic.jobs")


class Command(BaseCommand):
    help = "Work bulk jobs: from SQS (JOBS_BACKEND=sqs) or from the database (local)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Exit when no job is waiting (local backend)."
        )
        parser.add_argument(
            "--requeue",
            action="store_true",
            help="Send every unfinished job nobody holds to the queue again, then exit (sqs: for "
            "a job whose message was lost; a duplicate message is harmless).",
        )
        parser.add_argument(
            "--progress",
            choices=["auto", "always", "never"],
            default="auto",
            help="Progress bars: auto shows them on a terminal.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["requeue"]:
            sent = 0
            for job_uuid in selectors.jobs_nobody_holds():
                queue.job_queue().send(job_uuid)
                sent += 1
            self.stdout.write(f"requeued {sent} jobs")
            return
        stop = threading.Event()

        def finish(signum: int, frame: FrameType | None) -> None:
            stop.set()  # after the current chunk, and the job given back for the next worker

        signal.signal(signal.SIGTERM, finish)
        signal.signal(signal.SIGINT, finish)
        show = options["progress"] == "always" or (
            options["progress"] == "auto" and sys.stderr.isatty()
        )
        bars = _ProgressBars() if show else None
        name = worker.worker_name()
        self.stderr.write(f"jobs worker {name} ({settings.JOBS_BACKEND})")
        on_progress = bars.update if bars is not None else None
        try:
            if settings.JOBS_BACKEND == "sqs":
                sqs = queue.SqsQueue(settings.JOBS_SQS_QUEUE_URL)
                while not stop.is_set():
                    try:
                        for message in sqs.receive(settings.JOBS_SQS_WAIT_SECONDS):
                            worker.work_message(sqs, message, name, on_progress, stop)
                    except Exception:  # SQS or the database away for a moment: try again
                        logger.exception("jobs worker %s: a round failed", name)
                        stop.wait(settings.JOBS_RETRY_SECONDS)
                    connections.close_all()
            else:
                while not stop.is_set():
                    try:
                        ran = worker.work_available(name, on_progress=on_progress, stopping=stop)
                    except Exception:  # the database away for a moment: try again
                        logger.exception("jobs worker %s: a round failed", name)
                        ran = 0
                    connections.close_all()
                    if options["once"] and not ran:
                        return
                    if not ran:
                        stop.wait(settings.JOBS_POLL_SECONDS)
        finally:
            if bars is not None:
                bars.close()


class _ProgressBars:
    def __init__(self) -> None:
        self._bars: dict[uuid.UUID, tqdm[Any]] = {}

    def update(self, job: BulkJob) -> None:
        bar = self._bars.get(job.uuid)
        if bar is None:
            bar = self._bars[job.uuid] = tqdm(
                total=job.total, desc=f"{job.kind} {str(job.uuid)[:8]}", unit="row"
            )
        bar.n = job.processed
        bar.set_postfix(failed=job.failed, status=job.status, refresh=False)
        bar.refresh()
        if job.finished:
            bar.close()
            del self._bars[job.uuid]

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
