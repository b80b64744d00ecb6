"""What auth stores: verification codes, refresh-token sessions, API keys and rate-limit windows.

Users are referenced by uuid (a plain column): user data belongs to the user module. Secrets
(codes, refresh tokens, API keys) are stored only as digests.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class VerificationPurpose(models.TextChoices):
    SIGN_IN = "SIGN_IN", "Sign in"
    SIGN_UP = "SIGN_UP", "Sign up"


class VerificationCode(models.Model):
    """One code sent to a phone number. Rows are kept for 24 h: they are the daily-limit count."""

    # Keyed digest of the E.164 number: auth keeps no phone numbers in clear.
    phone_digest = models.CharField(max_length=64)
    purpose = models.CharField(max_length=8, choices=VerificationPurpose.choices)
    code_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    # Set when the code signed someone in or up, or when a newer code replaced it.
    used_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["phone_digest", "created_at"], name="auth_code_phone_created_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(purpose__in=["SIGN_IN", "SIGN_UP"]),
                name="auth_code_purpose_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} code of {self.created_at:%Y-%m-%d %H:%M}"


class PhoneNumberLock(models.Model):
    """A row per number that asked for a code lately, locked so the daily limit resists races."""

    phone_digest = models.CharField(max_length=64, unique=True)
    last_requested_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"lock {self.phone_digest[:12]}"


class RateLimitWindow(models.Model):
    """A fixed-window request counter; `key` names the limit and the caller (IP or digest)."""

    key = models.CharField(max_length=128, unique=True)
    window_start = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.count} since {self.window_start:%H:%M:%S}"


class RefreshTokenFamily(models.Model):
    """A sign-in session: every refresh token rotated from one sign-in belongs to one family."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user_uuid = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name_plural = "refresh token families"

    def __str__(self) -> str:
        return f"session {self.uuid} of {self.user_uuid}"


class RefreshToken(models.Model):
    family = models.ForeignKey(RefreshTokenFamily, on_delete=models.CASCADE, related_name="tokens")
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    # Set when this token was exchanged for its successor; presenting it again is reuse.
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token {self.pk} of {self.family}"


class ApiScope(models.TextChoices):
    HEARTBEAT = "HEARTBEAT", "Heartbeat"
    DISTRIBUTION = "DISTRIBUTION", "Distribution"
    NOTIFICATION = "NOTIFICATION", "Notification"
    # Watching the domainEvents stream: a scope of its own, so no other key reads every event.
    EVENTS = "EVENTS", "Events"
    # Sending query text where GRAPHQL_TRUSTED_DOCUMENTS=require runs registered documents only.
    FREE_TEXT_OPERATIONS = "FREE_TEXT_OPERATIONS", "Free-text operations"


class ApiKey(models.Model):
    """A machine client's key: only its prefix (for lookup) and a digest of the key are kept."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16, unique=True)
    key_digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by_uuid = models.UUIDField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
