"""Reads of the jobs module. Who may see a job: staff every job, anybody else the jobs they
started."""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet
from django.utils import timezone

from modules.jobs.models import UNFINISHED_STATUSES, BulkJob, BulkJobResult, BulkJobRowError


def jobs_visible(
    queryset: QuerySet[BulkJob] | None = None, *, is_staff: bool, user_uuid: uuid.UUID | None
) -> QuerySet[BulkJob]:
    queryset = BulkJob.objects.all() if queryset is None else queryset
    if is_staff:
        return queryset
    if user_uuid is not None:
        return queryset.filter(created_by_uuid=user_uuid)
    return queryset.none()


def job_row_errors(job: BulkJob) -> QuerySet[BulkJobRowError]:
    return BulkJobRowError.objects.filter(job=job).order_by("row_number", "id")


def job_results(job: BulkJob) -> QuerySet[BulkJobResult]:
    return BulkJobResult.objects.filter(job=job).order_by("row_number", "id")


def job_progress(job_uuid: uuid.UUID) -> BulkJob | None:
    """The job's counters and times, without its payload (which may hold 10,000 rows)."""
    return BulkJob.objects.defer("payload").filter(uuid=job_uuid).first()


def jobs_nobody_holds() -> list[uuid.UUID]:
    """Unfinished jobs no worker holds a live lease on, oldest first (to queue again)."""
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=timezone.now())
    return list(
        BulkJob.objects.filter(free, status__in=UNFINISHED_STATUSES)
        .order_by("id")
        .values_list("uuid", flat=True)
    )
