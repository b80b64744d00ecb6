"""Writes of the jobs module: create, cancel, claim (the lease) and apply one chunk.

Only the worker that holds a job's lease commits its chunks. A claim is one conditional UPDATE
(taken only when nobody holds the job or the holder's lease ran out), so two workers never hold
one job; each chunk locks the job row, checks the lease is still its own, applies the rows and
advances `next_row` in the same transaction, so a row is applied, and its events emitted, once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from modules.jobs import queue
from modules.jobs.errors import JobsErrorCode as Code
from modules.jobs.kinds import kind_named
from modules.jobs.models import (
    FINISHED_STATUSES,
    UNFINISHED_STATUSES,
    BulkJob,
    BulkJobResult,
    BulkJobRowError,
    BulkJobStatus,
)
from modules.jobs.selectors import jobs_visible
from request_state import correlation_id, current_actor

logger = logging.getLogger("majestic.jobs")

MESSAGE_MAX_LENGTH = 500


class LeaseLost(Exception):
    """This worker no longer holds the job (its lease ran out and another took it, or it ended)."""


def max_rows() -> int:
    return int(settings.JOBS_MAX_ROWS)


def job_create(
    *, kind: str, rows: Sequence[dict[str, Any]], options: dict[str, Any], field: str = "items"
) -> BulkJob:
    if not rows:
        raise ValidationError({field: ValidationError("Give at least one row.", code=Code.NO_ROWS)})
    limit = max_rows()
    if len(rows) > limit:
        raise ValidationError(
            {
                field: ValidationError(
                    f"A job takes at most {limit} rows; this one has {len(rows)}.",
                    code=Code.TOO_MANY_ROWS,
                )
            }
        )
    actor = current_actor.get()
    created_by = None
    if actor and actor.get("type") == "user":
        created_by = uuid.UUID(str(actor["uuid"]))
    with transaction.atomic():
        job = BulkJob.objects.create(
            kind=kind,
            payload=list(rows),
            options=options,
            total=len(rows),
            created_by_uuid=created_by,
            actor=actor,
            correlation_id=correlation_id.get(),
        )
        job_uuid = job.uuid
        transaction.on_commit(lambda: _enqueue(job_uuid))
    return job


def _enqueue(job_uuid: uuid.UUID) -> None:
    queue.job_queue().send(job_uuid)


def job_cancel(*, job_uuid: uuid.UUID, is_staff: bool, user_uuid: uuid.UUID | None) -> BulkJob:
    """Cancel a job: a queued one at once, a running one after its current chunk."""
    with transaction.atomic():
        job = _visible(job_uuid, is_staff=is_staff, user_uuid=user_uuid).select_for_update().first()
        if job is None:
            raise ValidationError({"id": ValidationError("No such job.", code=Code.JOB_NOT_FOUND)})
        if job.status in FINISHED_STATUSES:
            raise ValidationError(f"The job is already {job.status}.", code=Code.JOB_FINISHED)
        job.cancel_requested = True
        fields = ["cancel_requested"]
        if job.status == BulkJobStatus.QUEUED:
            job.status = BulkJobStatus.CANCELLED
            job.finished_at = timezone.now()
            fields += ["status", "finished_at"]
        job.save(update_fields=fields)
    return job


def _visible(
    job_uuid: uuid.UUID, *, is_staff: bool, user_uuid: uuid.UUID | None
) -> QuerySet[BulkJob]:
    return jobs_visible(is_staff=is_staff, user_uuid=user_uuid).filter(uuid=job_uuid)


def _claimable(now: Any) -> Q:
    return Q(status__in=UNFINISHED_STATUSES) & (
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    )


def job_claim(*, worker: str, job_uuid: uuid.UUID | None = None) -> uuid.UUID | None:
    """Take the lease of that job (or of the oldest claimable one); None when none is free."""
    now = timezone.now()
    candidates = BulkJob.objects.filter(_claimable(now))
    if job_uuid is not None:
        candidates = candidates.filter(uuid=job_uuid)
    for pk, found_uuid in candidates.order_by("id").values_list("pk", "uuid")[:5]:
        taken = (
            BulkJob.objects.filter(_claimable(now), pk=pk).update(
                lease_owner=worker,
                lease_expires_at=now + timedelta(seconds=settings.JOBS_LEASE_SECONDS),
                attempts=F("attempts") + 1,
                status=BulkJobStatus.RUNNING,
            )
            == 1
        )
        if taken:
            BulkJob.objects.filter(pk=pk, started_at__isnull=True).update(started_at=now)
            return found_uuid
    return None


def job_release(*, job_uuid: uuid.UUID, worker: str, failed: bool = True) -> None:
    """Give up this worker's lease so that the next worker may claim the job at once: after a
    failed chunk (rolled back: nothing of it stays), or, `failed=False`, on shutdown, when the
    claim's attempt is given back too (a job outlives any number of clean restarts)."""
    BulkJob.objects.filter(uuid=job_uuid, lease_owner=worker).update(
        lease_owner="",
        lease_expires_at=None,
        attempts=F("attempts") if failed else F("attempts") - 1,
    )


def job_run_chunk(*, job_uuid: uuid.UUID, worker: str) -> BulkJob:
    """Apply the job's next chunk (JOBS_CHUNK_SIZE rows) in one transaction, as the job's
    creator; stop it when cancelled; finish it after its last row. Raises `LeaseLost`."""
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().filter(uuid=job_uuid).first()
        if job is None or job.lease_owner != worker or job.status in FINISHED_STATUSES:
            raise LeaseLost(str(job_uuid))
        now = timezone.now()
        if job.cancel_requested:
            return _finish(job, BulkJobStatus.CANCELLED, now)
        if job.attempts > settings.JOBS_MAX_ATTEMPTS:
            BulkJobRowError.objects.create(
                job=job,
                row_number=job.next_row + 1,
                code="WORKER_FAILED",
                message=f"Workers failed on this row's chunk {job.attempts - 1} times; "
                "the job stopped here.",
            )
            return _finish(job, BulkJobStatus.FAILED, now)
        kind = kind_named(job.kind)
        if kind is None:
            raise RuntimeError(f"Job kind {job.kind!r} is not registered in this process")
        start = job.next_row
        rows = job.payload[start : start + settings.JOBS_CHUNK_SIZE]
        errors: list[BulkJobRowError] = []
        results: list[BulkJobResult] = []
        actor_token = current_actor.set(job.actor)
        correlation_token = correlation_id.set(job.correlation_id)
        try:
            for offset, row in enumerate(rows):
                number = start + offset + 1
                try:
                    with transaction.atomic():
                        result = kind.apply_row(row if isinstance(row, dict) else {}, job.options)
                except Exception as exc:
                    refusal = row_refusal(exc)
                    if refusal is None:
                        raise  # a bug: the chunk rolls back and this attempt fails
                    code, message = refusal
                    errors.append(
                        BulkJobRowError(job=job, row_number=number, code=code, message=message)
                    )
                    continue
                if result is not None:
                    results.append(
                        BulkJobResult(
                            job=job, row_number=number, type_name=result.type_name, key=result.key
                        )
                    )
        finally:
            correlation_id.reset(correlation_token)
            current_actor.reset(actor_token)
        BulkJobRowError.objects.bulk_create(errors)
        BulkJobResult.objects.bulk_create(results)
        job.next_row = start + len(rows)
        job.processed = job.next_row
        job.failed += len(errors)
        job.lease_expires_at = timezone.now() + timedelta(seconds=settings.JOBS_LEASE_SECONDS)
        # JOBS_MAX_ATTEMPTS counts failures of one chunk: a chunk done, the count starts again
        # (this claim being the one attempt so far).
        job.attempts = 1
        if job.next_row >= job.total:
            status = BulkJobStatus.PARTIALLY_FAILED if job.failed else BulkJobStatus.SUCCEEDED
            if job.failed == job.total:
                status = BulkJobStatus.FAILED
            return _finish(job, status, timezone.now())
        job.save(update_fields=["next_row", "processed", "failed", "lease_expires_at", "attempts"])
    return job


def _finish(job: BulkJob, status: str, now: Any) -> BulkJob:
    job.status = status
    job.finished_at = now
    job.lease_owner = ""
    job.lease_expires_at = None
    job.save(
        update_fields=[
            "status",
            "finished_at",
            "lease_owner",
            "lease_expires_at",
            "next_row",
            "processed",
            "failed",
            "attempts",
        ]
    )
    return job


def row_refusal(exc: Exception) -> tuple[str, str] | None:
    """A row's expected failure as (code, message), the way a mutation's payload shows it;
    None for anything else (a bug)."""
    if isinstance(exc, ValidationError):
        first = _first_error(exc)
        message = first.message % first.params if first.params else first.message
        return str(first.code or Code.INVALID), str(message)[:MESSAGE_MAX_LENGTH]
    if isinstance(exc, PermissionDenied):
        return Code.FORBIDDEN, (str(exc) or "Not allowed.")[:MESSAGE_MAX_LENGTH]
    if isinstance(exc, ObjectDoesNotExist):
        return Code.NOT_FOUND, (str(exc) or "Not found.")[:MESSAGE_MAX_LENGTH]
    if isinstance(exc, IntegrityError):
        return Code.INVALID, "Conflicting change; try again."
    if isinstance(exc, DataError):
        return Code.INVALID, "Invalid value."  # the database's message may quote the value
    return None


def _first_error(exc: ValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        for errors in exc.error_dict.values():
            for error in errors:
                return _first_error(error) if error is not exc else error
    if hasattr(exc, "error_list") and exc.error_list and exc.error_list[0] is not exc:
        return _first_error(exc.error_list[0])
    return exc
