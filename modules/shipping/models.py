"""Shipping items, the batches they travel in, and the transports that carry batches between
centers.

Centers and drivers belong to other modules: they are referred to by center code and user uuid
(no foreign keys), checked through those modules' `api.py`.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# A center code as distribution spells it (upper case, 2-16 characters).
CENTER_CODE_MAX_LENGTH = 16
TRACKING_NUMBER_MAX_LENGTH = 20
ALIAS_MAX_LENGTH = 20
SKU_MAX_LENGTH = 20

SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
ALIAS_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")

# Crockford's base32: no I, L, O or U, so a tracking number read aloud or typed is unambiguous.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _random_code(length: int) -> str:
    bits = secrets.randbits(5 * length)  # one draw, five bits per character
    return "".join(_CROCKFORD[(bits >> (5 * i)) & 31] for i in range(length))


def new_tracking_number() -> str:
    """`YYYYMMDD-` (UTC) + 10 random base32 characters (32**10 a day), e.g. 20260314-7KQ2M9XH4D."""
    return f"{datetime.now(UTC):%Y%m%d}-{_random_code(10)}"


def new_batch_alias() -> str:
    """`B` + `YYYYMMDD-` (UTC) + 10 random base32 characters (20 characters in all)."""
    return f"B{datetime.now(UTC):%Y%m%d}-{_random_code(10)}"


class ShippingItemStatus(models.TextChoices):
    CREATED = "CREATED", "Created"
    MOVING = "MOVING", "Moving"
    COMPLETED = "COMPLETED", "Completed"
    DAMAGED = "DAMAGED", "Damaged"
    LOST = "LOST", "Lost"


class TransportStatus(models.TextChoices):
    CREATED = "CREATED", "Created"
    IN_TRANSIT = "IN_TRANSIT", "In transit"
    ARRIVED = "ARRIVED", "Arrived"


class Transport(models.Model):
    """A trip of batches from one center to another: CREATED → IN_TRANSIT → ARRIVED."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=16,
        choices=TransportStatus.choices,
        default=TransportStatus.CREATED,
        db_index=True,
    )
    source_center_code = models.CharField(max_length=CENTER_CODE_MAX_LENGTH, db_index=True)
    destination_center_code = models.CharField(max_length=CENTER_CODE_MAX_LENGTH, db_index=True)
    driver_uuid = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    departed_at = models.DateTimeField(null=True, blank=True, editable=False)
    arrived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        # Newest first by key: the key is always loaded, so cursors of nested pages (which the
        # optimizer prefetches with only the requested columns) never need a query per row.
        ordering = ["-id"]
        # Prefetches and related lookups use the base manager: keep it the referencing one.
        indexes = [models.Index(fields=["-created_at", "-id"], name="transport_newest_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source_center_code=F("destination_center_code")),
                name="transport_source_not_destination",
                violation_error_message="Source and destination must be different centers.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=TransportStatus.values), name="transport_status_valid"
            ),
            # The timestamps follow the status, so a row can never claim a step it did not take.
            models.CheckConstraint(
                condition=(
                    Q(
                        status=TransportStatus.CREATED,
                        departed_at__isnull=True,
                        arrived_at__isnull=True,
                    )
                    | Q(
                        status=TransportStatus.IN_TRANSIT,
                        departed_at__isnull=False,
                        arrived_at__isnull=True,
                    )
                    | Q(
                        status=TransportStatus.ARRIVED,
                        departed_at__isnull=False,
                        arrived_at__isnull=False,
                    )
                ),
                name="transport_timestamps_match_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_center_code} → {self.destination_center_code} ({self.status})"

    @property
    def claim_holder(self) -> str:
        """How this transport names itself when it claims centers in distribution."""
        return f"transport:{self.uuid}"


class ShippingBatch(models.Model):
    """A group of items that travels as one; completed when its transport arrives."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    alias = models.CharField(
        max_length=ALIAS_MAX_LENGTH,
        unique=True,
        validators=[RegexValidator(ALIAS_PATTERN, "1-20 letters, digits, '.', '_' or '-'.")],
    )
    completed = models.BooleanField(default=False, db_index=True)
    # PROTECT: a batch's trip is history; the transport cannot vanish from under it.
    transport = models.ForeignKey(
        Transport, on_delete=models.PROTECT, null=True, blank=True, related_name="batches"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    transport_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]  # newest first (see Transport.Meta)
        verbose_name_plural = "shipping batches"
        indexes = [models.Index(fields=["-created_at", "-id"], name="batch_newest_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed=False, completed_at__isnull=True)
                | Q(completed=True, completed_at__isnull=False),
                name="batch_completed_at_matches_completed",
            ),
            models.CheckConstraint(
                condition=Q(transport__isnull=True, transport_assigned_at__isnull=True)
                | Q(transport__isnull=False, transport_assigned_at__isnull=False),
                name="batch_assigned_at_matches_transport",
            ),
            # Only arrival completes a batch, and arrival needs a transport.
            models.CheckConstraint(
                condition=Q(completed=False) | Q(transport__isnull=False),
                name="batch_completed_only_on_transport",
            ),
        ]

    def __str__(self) -> str:
        return self.alias


class ShippingItem(models.Model):
    """A parcel: CREATED → MOVING (first batch) → COMPLETED (arrival), or DAMAGED / LOST."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tracking_number = models.CharField(
        max_length=TRACKING_NUMBER_MAX_LENGTH, unique=True, editable=False
    )
    sku = models.CharField(
        max_length=SKU_MAX_LENGTH,
        validators=[RegexValidator(SKU_PATTERN, "1-20 letters, digits, '.', '_' or '-'.")],
    )
    status = models.CharField(
        max_length=16,
        choices=ShippingItemStatus.choices,
        default=ShippingItemStatus.CREATED,
        db_index=True,
    )
    # Null while the item is at no known center (before its first arrival); a code is looked up.
    current_center_code = models.CharField(  # noqa: DJ001
        max_length=CENTER_CODE_MAX_LENGTH, null=True, blank=True, db_index=True, editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    batches = models.ManyToManyField(
        ShippingBatch, through="BatchMembership", related_name="items", blank=True
    )

    class Meta:
        ordering = ["-id"]  # newest first (see Transport.Meta)
        indexes = [models.Index(fields=["-created_at", "-id"], name="item_newest_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ShippingItemStatus.values), name="item_status_valid"
            ),
            # MMD's ShippingItem.clean(), as a constraint: only a completed item has completed_at.
            models.CheckConstraint(
                condition=Q(status=ShippingItemStatus.COMPLETED, completed_at__isnull=False)
                | (~Q(status=ShippingItemStatus.COMPLETED) & Q(completed_at__isnull=True)),
                name="item_completed_at_matches_status",
                violation_error_message="Only a COMPLETED item has a completion time.",
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_number


class BatchMembership(models.Model):
    """An item's place in a batch. `batch_open` mirrors `not batch.completed` so the database
    itself can refuse a second open batch for the same item (a partial unique index)."""

    batch = models.ForeignKey(ShippingBatch, on_delete=models.PROTECT, related_name="memberships")
    item = models.ForeignKey(ShippingItem, on_delete=models.PROTECT, related_name="memberships")
    batch_open = models.BooleanField(default=True)
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "item"], name="batch_membership_unique"),
            models.UniqueConstraint(
                fields=["item"], condition=Q(batch_open=True), name="item_in_one_open_batch"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} in {self.batch_id}"
