"""The registered documents: each is run when a request names its id."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class TrustedDocument(models.Model):
    # "sha256:" and 64 lowercase hex digits of the body's UTF-8 bytes (services check it).
    document_id = models.CharField(max_length=71, unique=True)
    operation_name = models.CharField(max_length=200, blank=True)
    operation_type = models.CharField(max_length=12, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["operation_name", "document_id"]

    def __str__(self) -> str:
        return f"{self.operation_name or 'anonymous'} ({self.document_id[:19]}…)"
