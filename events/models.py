"""The transactional outbox: an event row is written in the same transaction as the change."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING"
        SENT = "SENT"
        DEAD = "DEAD"

    event_id = models.UUIDField(unique=True)
    source = models.CharField(max_length=128)
    detail_type = models.CharField(max_length=128)
    detail = models.JSONField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the row is next due; while a relay holds it, the end of that relay's lease.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["status", "created_at"], name="outbox_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.detail_type} {self.event_id} ({self.status})"


class Heartbeat(models.Model):
    """When housekeeping last ran (one row, `name="housekeeping"`), for systemStatus."""

    name = models.CharField(max_length=32, unique=True)
    received_at = models.DateTimeField()
    tasks = models.JSONField(default=dict)  # task name -> count, from the last run

    def __str__(self) -> str:
        return f"{self.name} at {self.received_at:%Y-%m-%d %H:%M:%S}"
