"""Bulk jobs: a request's rows kept in the database, worked through in chunks by a worker.

The rows (the payload) stay here, so a queue message carries only the job's uuid. `next_row` is the
first row no committed chunk has applied: each chunk commits its rows' effects, its row errors and
the job's counters in one transaction, so a worker that dies loses at most an uncommitted chunk,
which the next worker applies again from `next_row`. The lease (`lease_owner`, `lease_expires_at`)
says which worker may commit the next chunk; it is renewed by each chunk.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class BulkJobStatus(models.TextChoices):
    QUEUED = "QUEUED", "Queued"
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    PARTIALLY_FAILED = "PARTIALLY_FAILED", "Partially failed"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


FINISHED_STATUSES = frozenset(
    {
        BulkJobStatus.SUCCEEDED,
        BulkJobStatus.PARTIALLY_FAILED,
        BulkJobStatus.FAILED,
        BulkJobStatus.CANCELLED,
    }
)
UNFINISHED_STATUSES = frozenset({BulkJobStatus.QUEUED, BulkJobStatus.RUNNING})


class BulkJob(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=64, db_index=True)
    status = models.CharField(
        max_length=20,
        choices=BulkJobStatus.choices,
        default=BulkJobStatus.QUEUED,
        db_index=True,
    )
    # The rows as the request gave them (JSON objects), and what the kind needs besides them.
    payload = models.JSONField(default=list)
    options = models.JSONField(default=dict)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    next_row = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    # Who started it (a user's uuid; null for an API key or the system) and as which actor.
    created_by_uuid = models.UUIDField(null=True, blank=True, db_index=True)
    actor = models.JSONField(null=True, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=100, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Claims so far: a job whose workers keep dying fails after JOBS_MAX_ATTEMPTS of them.
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="bulkjob_newest_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BulkJobStatus.values), name="bulkjob_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(processed__lte=F("total")) & Q(failed__lte=F("processed")),
                name="bulkjob_counters_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.uuid} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class BulkJobRowError(models.Model):
    """A row that failed: its number (1-based, as a person counts rows), code and message."""

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    code = models.CharField(max_length=64)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["row_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="bulkjob_row_error_once")
        ]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.code}"


class BulkJobResult(models.Model):
    """What a row created, named as a Relay node (type name and key) of the module that made it."""

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="results")
    row_number = models.PositiveIntegerField()
    type_name = models.CharField(max_length=64)
    key = models.CharField(max_length=100)

    class Meta:
        ordering = ["row_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="bulkjob_result_once")
        ]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.type_name} {self.key}"
