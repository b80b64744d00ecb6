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
            # eventStats: what was emitted in a window, and what was sent in it.
            models.Index(fields=["created_at"], name="outbox_created_idx"),
            models.Index(fields=["status", "sent_at"], name="outbox_status_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.detail_type} {self.event_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One publish attempt of one outbox event, written by the relay with the batch's outcome.

    Kept EVENTS_DELIVERY_RETENTION_DAYS (housekeeping purges older ones); `error` is stored as
    `last_error` is, redacted and truncated (events.relay.delivery_error)."""

    class Outcome(models.TextChoices):
        SENT = "SENT"
        FAILED = "FAILED"

    event = models.ForeignKey(
        OutboxEvent,
        on_delete=models.CASCADE,
        related_name="delivery_attempts",
        db_index=False,  # delivery_attempt_event_idx leads with it
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    error = models.TextField(blank=True)
    # How long the bus call that carried the event took (the whole batch's PutEvents).
    duration_ms = models.FloatField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)  # the relay's name (RelayWorker.name)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [
            models.Index(fields=["event", "-attempted_at"], name="delivery_attempt_event_idx"),
            models.Index(fields=["attempted_at"], name="delivery_attempt_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} at {self.attempted_at:%Y-%m-%d %H:%M:%S}"


class RelayWorker(models.Model):
    """A relay loop (a `relay_events` worker or a server's in-process relay), as it last said."""

    name = models.CharField(max_length=200, unique=True)  # host:pid
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    published = models.BigIntegerField(default=0)  # events delivered since it started
    failed = models.BigIntegerField(default=0)  # failed deliveries (retrying or dead) since then

    def __str__(self) -> str:
        return f"{self.name} (seen {self.last_seen_at:%Y-%m-%d %H:%M:%S})"


class Heartbeat(models.Model):
    """When housekeeping last ran (one row, `name="housekeeping"`), for systemStatus."""

    name = models.CharField(max_length=32, unique=True)
    received_at = models.DateTimeField()
    tasks = models.JSONField(default=dict)  # task name -> count, from the last run

    def __str__(self) -> str:
        return f"{self.name} at {self.received_at:%Y-%m-%d %H:%M:%S}"
